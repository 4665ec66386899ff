"""A message too big to download is not fetched whole; the sender is told in plain words."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from intake.runner import run_once
from intake.sources.imap import ImapSource
from intake.wiring import make_transport, open_database
from parsers.mime import parse_message
from servers.dovecot import DovecotServer
from servers.intake_config import settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import Attachment, InboundMessage

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new" / "0001.police"


def test_an_oversize_message_is_rejected_from_its_headers_and_answered(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    raw = SAMPLE.read_bytes()
    dovecot_mailbox.append(raw)
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, max_message_bytes=len(raw) // 2)
    engine = open_database(settings)
    source = ImapSource(settings)
    try:
        report = run_once(engine, settings, source, make_transport(settings))
    finally:
        source.close()
    assert report.outcomes == {"rejected": 1}
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        assert session.exec(select(Attachment)).all() == []
    assert message.size >= len(raw) and "larger than" in (message.outcome_reason or "")
    (reply,) = smtp_server.wait_for(1)
    assert reply.rcpt_tos == [parse_message(raw)["From"].addresses[0].addr_spec]
    text = reply.message.get_body(("plain",)).get_content()
    assert "We could not read your email: the email is larger than" in text
    assert len(dovecot_mailbox.messages("Processed")) == 1  # kept whole on the server
