"""MIME to candidate documents: forwards, winmail.dat, odd names, inline images, repeats."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from parsers.mime import candidates, parse_message, safe_filename

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "mail-corpus"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORM = b"PK\x03\x04 pretend docx bytes"


def referral_email(filename: str = "form.docx", data: bytes = FORM) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "A Sender <a@police.test>"
    msg["To"] = "sirg@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg.set_content("Please see attached.")
    msg.add_attachment(data, maintype="application", subtype=DOCX.split("/")[1], filename=filename)
    return msg


def test_a_plain_attachment_is_found_and_the_body_is_not() -> None:
    found = candidates(parse_message(bytes(referral_email())))
    assert [(c.filename, c.content_type, c.data) for c in found] == [("form.docx", DOCX, FORM)]


def test_forwards_of_forwards_are_opened() -> None:
    inner = referral_email("deep.docx")
    middle = EmailMessage()
    middle["Subject"] = "FW: SIRG referral"
    middle.set_content("Forwarding.")
    middle.add_attachment(inner)  # message/rfc822
    outer = EmailMessage()
    outer["Subject"] = "FW: FW: SIRG referral"
    outer.set_content("Forwarding again.")
    outer.add_attachment(middle)
    found = candidates(parse_message(bytes(outer)))
    assert [c.filename for c in found] == ["deep.docx"]


def test_the_same_file_attached_twice_counts_once() -> None:
    msg = referral_email()
    msg.add_attachment(FORM, maintype="application", subtype="octet-stream", filename="copy.docx")
    assert [c.filename for c in candidates(parse_message(bytes(msg)))] == ["form.docx"]


def test_inline_signature_images_are_ignored_but_attached_images_are_kept() -> None:
    msg = referral_email()
    msg.add_attachment(
        b"\x89PNG logo",
        maintype="image",
        subtype="png",
        disposition="inline",
        filename="logo.png",
        cid="<logo@x>",
    )
    msg.add_attachment(b"\x89PNG scan", maintype="image", subtype="png", filename="scan.png")
    assert [c.filename for c in candidates(parse_message(bytes(msg)))] == ["form.docx", "scan.png"]


def test_rfc2231_and_rfc2047_names_are_decoded() -> None:
    raw = (
        b"From: a@b.test\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''Zo%C3%AB%20referral.docx\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?=C5=81ukasz=2Epdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
    )
    names = [c.filename for c in candidates(parse_message(raw))]
    assert names == ["Zoë referral.docx", "Łukasz.pdf"]


def test_filenames_can_never_name_a_path() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\form.docx") == "form.docx"
    assert safe_filename("evil\x00name\r\n.docx") == "evilname.docx"
    assert safe_filename("..hidden") == "hidden"
    assert safe_filename("") == "attachment"


def test_winmail_dat_is_opened() -> None:
    tnef = (CORPUS / "mimekit" / "attachments.tnef").read_bytes()
    msg = referral_email()
    msg.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    names = [c.filename for c in candidates(parse_message(bytes(msg)))]
    assert names == ["form.docx", "zappa_av1.jpg", "bookmark.htm"]


def test_a_damaged_winmail_dat_is_passed_on_not_dropped() -> None:
    msg = referral_email()
    msg.add_attachment(
        b"\x78\x9f\x3e\x22garbage",
        maintype="application",
        subtype="ms-tnef",
        filename="winmail.dat",
    )
    found = candidates(parse_message(bytes(msg)))
    assert [c.filename for c in found] == ["form.docx", "winmail.dat"]


def test_an_attached_outlook_msg_is_opened_for_its_files() -> None:
    item = (CORPUS / "email-outlook-message-perl" / "plain_jpeg_attached.msg").read_bytes()
    msg = referral_email()
    msg.add_attachment(
        item, maintype="application", subtype="vnd.ms-outlook", filename="FW referral.msg"
    )
    found = candidates(parse_message(bytes(msg)))
    assert [c.filename for c in found] == ["form.docx", "test.jpg"]


def test_an_old_word_doc_is_not_mistaken_for_an_outlook_item() -> None:
    doc = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    msg = referral_email()
    msg.add_attachment(doc, maintype="application", subtype="msword", filename="old form.doc")
    found = candidates(parse_message(bytes(msg)))
    assert [c.filename for c in found] == ["form.docx", "old form.doc"]


def test_a_damaged_msg_is_passed_on_not_dropped() -> None:
    bad = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"garbage" * 100
    msg = referral_email()
    msg.add_attachment(bad, maintype="application", subtype="octet-stream", filename="x.msg")
    assert [c.filename for c in candidates(parse_message(bytes(msg)))] == ["form.docx", "x.msg"]


def test_replies_go_to_the_sender_not_a_stranger_s_reply_to() -> None:
    from parsers.mime import reply_address

    def msg(**headers: str) -> EmailMessage:
        m = EmailMessage()
        for name, value in headers.items():
            m[name.replace("_", "-")] = value
        return m

    sender = "Pat <pat.jones@liverpool.gov.uk>"
    assert reply_address(msg(From=sender)) == "pat.jones@liverpool.gov.uk"
    # Another organisation's Reply-To is ignored: the reply goes to the sender.
    assert reply_address(msg(From=sender, Reply_To="x@attacker.example")) == (
        "pat.jones@liverpool.gov.uk"
    )
    # The sender's own team mailbox (same domain or a subdomain) is honoured.
    team = msg(From=sender, Reply_To="safeguarding@liverpool.gov.uk")
    assert reply_address(team) == "safeguarding@liverpool.gov.uk"
    sub = msg(From=sender, Reply_To="ehub@ehub.liverpool.gov.uk")
    assert reply_address(sub) == "ehub@ehub.liverpool.gov.uk"
    assert reply_address(msg(Reply_To="x@y.example")) is None  # no sender: nobody to answer
