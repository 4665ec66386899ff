"""Loop and bounce protection through a real IMAP server and a real SMTP server."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import select

from intake.runner import run_once
from intake.sources.imap import ImapSource
from intake.sources.maildir import MaildirSource
from intake.wiring import make_transport, open_database
from notifications.transport import FolderTransport
from servers.dovecot import DovecotServer
from servers.intake_config import settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import OutboxMessage, ReferralMessage

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir"


def automated_corpus_messages() -> list[bytes]:
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle, delimiter="\t")
            if r["category"] in ("bounce", "auto-reply")
        ]
    return [(CORPUS / r["path"]).read_bytes() for r in rows]


def test_auto_replies_and_bounces_produce_no_outgoing_mail(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    automated = automated_corpus_messages()
    assert len(automated) > 100
    for raw in automated:
        dovecot_mailbox.append(raw)
    dovecot_mailbox.append((SAMPLES / "new" / "0005.out-of-office").read_bytes())
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server)
    engine = open_database(settings)
    source = ImapSource(settings)
    try:
        report = run_once(engine, settings, source, make_transport(settings))
    finally:
        source.close()
    assert report.errors == 0 and report.fetched == len(automated) + 1
    assert smtp_server.messages == []  # asserted at the SMTP server: nothing went out
    assert dovecot_mailbox.messages("INBOX") == []


def delivery_report(our_id: str) -> bytes:
    """An RFC 3464 bounce of one of our messages, as a mail server writes it."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.partner.example>\r\n"
        "To: sirg@lscp.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.partner.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.partner.example\r\n\r\n"
        "Final-Recipient: rfc822; gone@partner.example\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {our_id}\r\nSubject: SIRG referral received\r\n"
        "--b--\r\n"
    ).encode()


def test_a_bounce_of_our_reply_is_linked_to_its_outbox_row(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    source = MaildirSource(settings.resolved_maildir)
    (settings.resolved_maildir / "new" / "ref").write_bytes(
        (SAMPLES / "new" / "0001.police").read_bytes()
    )
    engine = open_database(settings)
    run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        (ack,) = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ack")).all()
    assert ack.status == "sent"

    (settings.resolved_maildir / "new" / "bounce").write_bytes(
        delivery_report(ack.header_message_id)
    )
    outcome = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert outcome.outcomes == {"ignored": 1} and outcome.delivery.sent == 0
    with session_scope(engine) as session:
        linked = session.get(OutboxMessage, ack.id)
    assert linked.status == "bounced"
    assert "5.1.1" in (linked.last_error or "")
    # And the bounce is shown on the referral it is about, unanswered.
    with session_scope(engine) as session:
        (link,) = session.exec(
            select(ReferralMessage).where(ReferralMessage.effect == "automatic")
        ).all()
    assert link.referral_id == ack.referral_id


def copies(raw: bytes, n: int, tag: str) -> dict[str, bytes]:
    """`n` distinct messages (own Message-IDs) with the same content."""
    from parsers.mime import parse_message

    out = {}
    for i in range(n):
        msg = parse_message(raw)
        del msg["Message-ID"]
        msg["Message-ID"] = f"<{tag}-{i}@sender.example>"
        out[f"{tag}-{i:02d}"] = bytes(msg)
    return out


def test_requests_for_information_are_rate_limited_but_acknowledgements_never(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, reply_limit_per_day=3)
    source = MaildirSource(settings.resolved_maildir)
    gaps = copies((SAMPLES / "new" / "0004.needs-info").read_bytes(), 5, "gaps")
    complete = copies((SAMPLES / "new" / "0003.school").read_bytes(), 5, "full")
    for name, raw in (gaps | complete).items():
        (settings.resolved_maildir / "new" / name).write_bytes(raw)
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.outcomes == {"needs_info": 5, "referral": 5}
    with session_scope(engine) as session:
        kinds = [o.kind for o in session.exec(select(OutboxMessage))]
    assert kinds.count("needs_info") == 3  # the limit
    assert kinds.count("ack") == 5  # every distinct referral acknowledged
