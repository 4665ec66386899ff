"""Sample referral e-mails written to a Maildir (``samples/maildir``).

Messages are built with the stdlib ``email`` package (``EmailMessage``, default policy). Dates,
Message-IDs and MIME boundaries are fixed so that the files are reproducible.
"""

from __future__ import annotations

import json
import mailbox
import shutil
import struct
import zlib
from collections.abc import Callable
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

LSCP = "LSCP SIRG Referrals <sirg.referrals@liverpool.gov.uk>"
# Outlook's "Surname, Forename" display name (needs quoting: it contains a comma)
GRAINNE = Address("Moriarty, Gráinne", addr_spec="Grainne.Moriarty@liverpool.gov.uk")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def tiny_png(width: int = 96, height: int = 24) -> bytes:
    """A small valid PNG: a navy badge with a lighter stripe (e-mail signature logo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        colour = b"\x1f\x38\x64" if y < height - 5 else b"\x9d\xc3\xe6"
        rows.append(b"\x00" + colour * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def received(msg: EmailMessage, relay: str, relay_ip: str, smtp: str, when: str) -> None:
    msg["Received"] = (
        f"from {relay} ({relay} [{relay_ip}]) by mx1.liverpool.gov.uk (Postfix) with ESMTPS "
        f"id 4X{hash_str(relay + when) % 10**8:08d} for <sirg.referrals@liverpool.gov.uk>; {when}"
    )
    msg["Received"] = f"from [10.64.12.30] (unknown [10.64.12.30]) by {smtp} with ESMTPSA; {when}"


def hash_str(s: str) -> int:
    """A stable (unsalted) string hash for made-up queue ids."""
    h = 0
    for ch in s.encode():
        h = (h * 131 + ch) % 2**61
    return h


def outlook_headers(
    msg: EmailMessage,
    sender: str | Address,
    to: str,
    subject: str,
    when: str,
    msgid: str,
    attach: bool,
) -> None:
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Thread-Topic"] = subject
    msg["Thread-Index"] = f"AdsT{hash_str(msgid):016X}Q=="
    msg["Date"] = when
    msg["Message-ID"] = msgid
    msg["Accept-Language"] = "en-GB, en-US"
    msg["X-MS-Has-Attach"] = "yes" if attach else ""
    msg["X-MS-TNEF-Correlator"] = ""
    msg["MIME-Version"] = "1.0"


def outlook_html(paragraphs: list[str], logo_cid: str | None = None) -> str:
    """Outlook-flavoured HTML body: one MsoNormal paragraph per line, empty lines as &nbsp;."""
    out = [
        "<html><head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">',
        "<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"
        '"Calibri",sans-serif;} --></style>',
        '</head><body lang="EN-GB" style="word-wrap:break-word"><div class="WordSection1">',
    ]
    for line in paragraphs:
        text = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(f'<p class="MsoNormal">{text or "<o:p>&nbsp;</o:p>"}</p>')
    if logo_cid:
        out.append(
            f'<p class="MsoNormal"><img width="96" height="24" style="width:1.0in;height:.25in"'
            f' id="Picture_x0020_1" src="cid:{logo_cid}" alt="Merseyside Police"></p>'
        )
    out.append("</div></body></html>")
    return "\n".join(out) + "\n"


def gmail_html(paragraphs: list[str]) -> str:
    divs = "".join(f"<div>{p or '<br>'}</div>" for p in paragraphs)
    return f'<div dir="ltr">{divs}</div>\n'


def fix_boundaries(msg: EmailMessage, token: str) -> None:
    """Fixed MIME boundaries (the email package would otherwise pick random ones)."""
    for i, part in enumerate(msg.walk()):
        if part.get_content_maintype() == "multipart":
            part.set_boundary(f"_{i:03d}_{token}_")


def attach_form(
    msg: EmailMessage, data: bytes, filename: str, ctype: tuple[str, str] = DOCX
) -> None:
    msg.add_attachment(data, maintype=ctype[0], subtype=ctype[1], filename=filename)


# ---------------------------------------------------------------------------
# The messages
# ---------------------------------------------------------------------------


def police_outlook(forms: dict[str, bytes]) -> EmailMessage:
    """(1) Outlook: multipart/mixed > related > alternative, inline signature logo."""
    msg = EmailMessage()
    when = "Thu, 14 Nov 2024 10:47:12 +0000"
    received(
        msg,
        "mail-lo4gbr01on2091.outbound.protection.outlook.com",
        "40.107.23.91",
        "smtp.merseyside.police.uk",
        when,
    )
    msgid = "<LO4P265MB6650C3F0D7A1B2E94F5A11C6D9422@LO4P265MB6650.GBRP265.PROD.OUTLOOK.COM>"
    outlook_headers(
        msg,
        "Siobhán Mulcahy <Siobhan.Mulcahy@merseyside.police.uk>",
        LSCP,
        "SIRG referral – L.K.",
        when,
        msgid,
        attach=True,
    )
    lines = [
        "Good morning,",
        "",
        "Please find attached a SIRG referral for L.K. (DOB 19/06/2020) following the incident "
        "on 06/11/2024. DI Fairbrother has authorised the referral.",
        "",
        "I am on rest days from Saturday; please copy in the VIT inbox if you need anything.",
        "",
        "Kind regards",
        "",
        "Siobhán Mulcahy",
        "Detective Sergeant | Vulnerability Investigation Team",
        "Merseyside Police",
        "Tel: 0151 496 0217",
    ]
    disclaimer = (
        "\n\nOFFICIAL - SENSITIVE\nThis e-mail and any attachments are confidential. If you "
        "have received it in error please tell the sender and delete it.\n"
    )
    cid = "image001.png@01DB3672.8E4C5B10"
    body = EmailMessage()
    body.set_content("\n".join(lines) + disclaimer, cte="quoted-printable")
    body.add_alternative(outlook_html(lines, cid), subtype="html", cte="quoted-printable")
    logo = EmailMessage()
    logo.set_content(
        tiny_png(),
        maintype="image",
        subtype="png",
        disposition="inline",
        filename="image001.png",
        cid=f"<{cid}>",
    )
    related = EmailMessage()
    related.make_related()
    related.attach(body)
    related.attach(logo)
    msg.make_mixed()
    msg.attach(related)
    attach_form(msg, forms["cc-police-window-fall.docx"], "SIRG referral LK 14.11.24.docx")
    return msg


def nhs_typed(forms: dict[str, bytes]) -> EmailMessage:
    """(2) NHSmail (Outlook on the web), non-ASCII attachment file name (RFC 2231)."""
    msg = EmailMessage()
    when = "Thu, 03 Oct 2024 17:20:41 +0000"
    received(
        msg, "mail-cwlgbr01on2107.outbound.protection.outlook.com", "40.107.11.107", "nhs.net", when
    )
    msgid = "<CWXP123MB5120E6A2C4F1D0B87AA3C92E5D1B7@CWXP123MB5120.GBRP123.PROD.OUTLOOK.COM>"
    outlook_headers(
        msg,
        '"VAUGHAN-JONES, Eleri (LIVERPOOL UNIVERSITY HOSPITALS NHS FOUNDATION TRUST)"'
        " <eleri.vaughan-jones@nhs.net>",
        LSCP,
        "SIRG referral - A.B. (LUHFT)",
        when,
        msgid,
        attach=True,
    )
    msg["Cc"] = "Qureshi Farhan <farhan.qureshi1@nhs.net>"
    lines = [
        "Dear SIRG colleagues,",
        "",
        "Please see the attached referral regarding A.B., a 14-year-old girl seen in our "
        "Emergency Department on 28/09/2024. Dr Qureshi (Named Doctor) has agreed it.",
        "",
        "Many thanks,",
        "Eleri",
        "",
        "Eleri Vaughan-Jones RGN RSCN",
        "Named Nurse, Safeguarding Children",
        "Liverpool University Hospitals NHS Foundation Trust",
        "+44 (0)151 496 0734",
    ]
    footer = (
        "\n\n********************************************************************\n"
        "This message originated from outside your organisation\n"
        "********************************************************************\n"
        "This message may contain confidential information. If you are not the intended "
        "recipient please inform the sender that you have received the message in error "
        "before deleting it.\n"
    )
    msg.set_content("\n".join(lines) + footer)
    msg.add_alternative(outlook_html(lines), subtype="html")
    attach_form(msg, forms["typed-nhs-delete-options.docx"], "SIRG referral – A.B – 03.10.24.docx")
    return msg


def school_gmail(forms: dict[str, bytes]) -> EmailMessage:
    """(3) Google Workspace; the form is sent as application/octet-stream."""
    msg = EmailMessage()
    when = "Fri, 08 Mar 2024 13:35:09 +0000"
    received(msg, "mail-wr1-f53.google.com", "209.85.221.53", "smtp.gmail.com", when)
    msg["MIME-Version"] = "1.0"
    msg["From"] = "Łukasz Zieliński <l.zielinski@dovecotpark.liverpool.sch.uk>"
    msg["Date"] = when
    msg["Message-ID"] = "<CAJx8tQ3vB7kQ0m2nW5rZfX1pL9cH4sD6yE8uA0iO2gT7jK3@mail.gmail.com>"
    msg["Subject"] = "SIRG referral – Z.A."
    msg["To"] = "sirg.referrals@liverpool.gov.uk"
    lines = [
        "Hello,",
        "",
        "Please find attached our SIRG referral for Z.A. in Year 9. The Headteacher has "
        "authorised it and Children's Services are aware.",
        "",
        "Thanks,",
        "",
        "Łukasz Zieliński",
        "Assistant Headteacher & DSL",
        "Dovecot Park High School",
    ]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(gmail_html(lines), subtype="html")
    attach_form(
        msg,
        forms["cc-school-overdose.docx"],
        "Referral form ZA.docx",
        ("application", "octet-stream"),
    )
    attachment = msg.get_payload()[-1]
    attachment["Content-ID"] = "<f_lt9k2w1m0>"
    attachment["X-Attachment-Id"] = "f_lt9k2w1m0"
    return msg


def early_help_incomplete(forms: dict[str, bytes]) -> EmailMessage:
    """(4) A form with mandatory fields left empty."""
    msg = EmailMessage()
    when = "Wed, 12 Jun 2024 11:24:50 +0000"
    received(
        msg,
        "mail-db8eur05on2129.outbound.protection.outlook.com",
        "40.107.20.129",
        "smtp.liverpool.gov.uk",
        when,
    )
    msgid = "<DB9PR02MB7213A94E1C6B0D2F3E8B71A4C0D5E@DB9PR02MB7213.eurprd02.prod.outlook.com>"
    outlook_headers(
        msg,
        GRAINNE,
        LSCP,
        "Referral form – K.M.",
        when,
        msgid,
        attach=True,
    )
    lines = [
        "Hi,",
        "",
        "I have been asked by my manager to send the attached referral for K.M. I haven't "
        "got all the details yet, I will send them on when I have them.",
        "",
        "Gráinne",
        "Early Help Practitioner, North Family Hub",
    ]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(outlook_html(lines), subtype="html")
    attach_form(msg, forms["cc-needs-info-early-help.docx"], "LSCP-SIRG-Referral-Form-2024 KM.docx")
    return msg


def out_of_office(forms: dict[str, bytes]) -> EmailMessage:
    """(5) An automatic reply to the LSCP's request for more information."""
    msg = EmailMessage()
    when = "Thu, 13 Jun 2024 09:02:33 +0000"
    received(
        msg,
        "mail-db8eur05on2130.outbound.protection.outlook.com",
        "40.107.20.130",
        "smtp.liverpool.gov.uk",
        when,
    )
    msgid = "<DB9PR02MB72130F7C2D94B1A6E5C38E0B9A21F@DB9PR02MB7213.eurprd02.prod.outlook.com>"
    outlook_headers(
        msg,
        GRAINNE,
        LSCP,
        "Automatic reply: SIRG referral – further information needed (K.M.)",
        when,
        msgid,
        attach=False,
    )
    original = "<LO2P265MB3841D0E5A7F2@LO2P265MB3841.GBRP265.PROD.OUTLOOK.COM>"
    msg["In-Reply-To"] = original
    msg["References"] = original
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-MS-Exchange-Inbox-Rules-Loop"] = "Grainne.Moriarty@liverpool.gov.uk"
    lines = [
        "Thank you for your email. I am on leave until Monday 24 June and will reply on my return.",
        "",
        "If your query is urgent please contact the North Family Hub on 0151 496 0700 or "
        "email northhub@liverpool.gov.uk.",
        "",
        "Gráinne Moriarty",
    ]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(outlook_html(lines), subtype="html")
    return msg


def forwarded_referral(forms: dict[str, bytes]) -> EmailMessage:
    """(6) The safeguarding lead forwards the crew's e-mail as an attachment (message/rfc822)."""
    inner = EmailMessage()
    inner_when = "Mon, 21 Oct 2024 22:14:05 +0100"
    inner["From"] = "Grzegorz Wójcik <grzegorz.wojcik@nwas.nhs.uk>"
    inner["To"] = "Oksana Melnyk <oksana.melnyk@nwas.nhs.uk>"
    inner["Subject"] = "SIRG referral – L.F."
    inner["Date"] = inner_when
    inner["Message-ID"] = (
        "<PAXPR08MB6925B1E0C3D4A7F2E96D05B8A3C14@PAXPR08MB6925.eurprd08.prod.outlook.com>"
    )
    inner["MIME-Version"] = "1.0"
    inner_lines = [
        "Hi Oksana,",
        "",
        "Referral form for the little boy from last Tuesday's job attached, as discussed. "
        "Could you send it on to Liverpool?",
        "",
        "Cheers",
        "Greg",
    ]
    inner.set_content("\n".join(inner_lines) + "\n")
    attach_form(inner, forms["legacy-ambulance-service.docx"], "SIRG referral LF.docx")

    msg = EmailMessage()
    when = "Tue, 22 Oct 2024 08:03:44 +0000"
    received(
        msg,
        "mail-am7eur03on2110.outbound.protection.outlook.com",
        "40.107.105.110",
        "nwas.nhs.uk",
        when,
    )
    msgid = "<AM7PR08MB5381F2D6B0A9C4E7183D5A06E2B9C@AM7PR08MB5381.eurprd08.prod.outlook.com>"
    outlook_headers(
        msg,
        "Oksana Melnyk <oksana.melnyk@nwas.nhs.uk>",
        LSCP,
        "FW: SIRG referral – L.F.",
        when,
        msgid,
        attach=True,
    )
    lines = [
        "Good morning,",
        "",
        "Please see the attached e-mail from one of our paramedics, with a SIRG referral for "
        "L.F. (13 months). I have reviewed it as the authorising manager.",
        "",
        "Kind regards",
        "Oksana Melnyk",
        "Safeguarding Practitioner, North West Ambulance Service",
    ]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(outlook_html(lines), subtype="html")
    fix_boundaries(inner, "inner_PAXPR08MB6925")
    msg.add_attachment(inner, filename="SIRG referral – L.F..eml")
    return msg


# key -> (builder, outcome, sample forms attached in order)
MESSAGES: dict[str, tuple[Callable[[dict[str, bytes]], EmailMessage], str, list[str]]] = {
    "0001.police": (police_outlook, "referral", ["cc-police-window-fall.docx"]),
    "0002.health": (nhs_typed, "referral", ["typed-nhs-delete-options.docx"]),
    "0003.school": (school_gmail, "referral", ["cc-school-overdose.docx"]),
    "0004.needs-info": (early_help_incomplete, "needs_info", ["cc-needs-info-early-help.docx"]),
    "0005.out-of-office": (out_of_office, "ignored", []),
    "0006.forwarded": (forwarded_referral, "referral", ["legacy-ambulance-service.docx"]),
}


# ---------------------------------------------------------------------------
# Maildir
# ---------------------------------------------------------------------------


def docx_attachments(msg: EmailMessage) -> list[bytes]:
    """Every .docx attached anywhere in the message (including forwarded messages)."""
    found = []
    for part in msg.walk():
        name = part.get_filename() or ""
        if name.lower().endswith(".docx"):
            found.append(part.get_payload(decode=True))
    return found


def build_maildir(root: Path, forms: dict[str, bytes], missing: Callable[[str], list[str]]) -> None:
    if root.exists():
        shutil.rmtree(root)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)  # cur/ and tmp/ stay empty (git won't keep them)
    expected: dict[str, dict[str, object]] = {}
    for key, (builder, outcome, attached) in MESSAGES.items():
        msg = builder(forms)
        if "Thread-Topic" in msg:  # Outlook; added last, as make_mixed() etc. move Content-*
            msg["Content-Language"] = "en-GB"
        fix_boundaries(msg, key.replace(".", "_").upper())
        (root / "new" / key).write_bytes(msg.as_bytes(policy=policy.default))
        expected[key] = {
            "outcome": outcome,
            "forms": attached,
            "missing": missing(attached[0]) if outcome == "needs_info" else [],
        }
        print(f"maildir/new/{key:20} {outcome:10} {', '.join(attached)}")
    (root / "EXPECTED.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    check_maildir(root, forms, expected)


def check_maildir(root: Path, forms: dict[str, bytes], expected: dict[str, dict]) -> None:
    box = mailbox.Maildir(root, factory=None, create=False)
    assert sorted(box.keys()) == sorted(expected), sorted(box.keys())
    parser = BytesParser(policy=policy.default)
    for key, exp in expected.items():
        msg = parser.parsebytes((root / "new" / key).read_bytes())
        assert msg["Message-ID"] and msg["Date"], key
        attached = docx_attachments(msg)
        assert attached == [forms[name] for name in exp["forms"]], f"{key}: attachments differ"
        is_auto = msg.get("Auto-Submitted", "no").lower() != "no"
        assert is_auto == (exp["outcome"] == "ignored"), key
        assert (exp["outcome"] == "needs_info") == bool(exp["missing"]), key
