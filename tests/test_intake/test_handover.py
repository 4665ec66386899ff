"""A hand-over to SMTP cut short by a crash: the Sent folder (real Dovecot) says whether the
server already took the message, so the recipient never gets it twice and never misses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from intake.runner import run_once
from intake.sources.sent import SentFolder
from intake.wiring import make_source, make_transport, open_database
from notifications.sender import build_message, deliver_due
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, settings_for
from servers.smtp import SmtpServer
from storage import outbox
from storage.db import session_scope
from storage.tables import AuditEvent, OutboxMessage

SAMPLES = ROOT / "samples" / "maildir" / "new"
ROUTING = ROOT / "samples" / "routing.toml"


def _pending(engine: Engine, name: str) -> int:
    past = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(engine) as session:
        row = OutboxMessage(
            kind="ack",
            mail_from="sirg@lscp.example",
            to_addr="referrer@nhs.example",
            subject="SIRG referral received – SIRG-2026-0001",
            body_text="Thank you.",
            header_message_id=f"<{name}.ack@lscp.example>",
            next_attempt_at=past,
            created_at=past,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _interrupted(engine: Engine, count: int) -> list[OutboxMessage]:
    """Claim `count` rows as a sender does, then 'die': nothing is recorded after."""
    claims = [outbox.claim_next(engine) for _ in range(count)]
    assert all(c is not None and not c.in_doubt for c in claims)
    return [c.row for c in claims if c is not None]


def test_the_sent_folder_is_searched_by_message_id(
    tmp_path: Path, dovecot_mailbox: DovecotServer
) -> None:
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_sent_folder="Sent")
    dovecot_mailbox.append(b"Message-ID: <a.ack@lscp.example>\r\nSubject: t\r\n\r\nx\r\n", "Sent")
    sent = SentFolder(settings)
    assert sent.holds("<a.ack@lscp.example>")
    assert not sent.holds("<b.ack@lscp.example>")
    assert dovecot_mailbox.messages("INBOX") == []  # the watched folder was not touched


def test_a_message_the_server_took_before_the_crash_is_not_sent_again(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    # The SMTP server files what it accepts in Sent, as Microsoft 365 does.
    smtp_server.handler.keep_sent_copy = lambda data: dovecot_mailbox.append(data, "Sent")
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, smtp_sent_folder="Sent")
    engine = open_database(settings)
    reached, lost = _pending(engine, "reached"), _pending(engine, "lost")
    transport = make_transport(settings)
    first, _second = _interrupted(engine, 2)
    assert first.id == reached
    transport.send(build_message(first))  # "250", then the sender died before recording it
    assert len(smtp_server.messages) == 1

    # Within the lease nobody touches them (their sender might still be at work) ...
    assert deliver_due(engine, transport, lease=settings.handover_lease).sent == 0
    # ... after it, each is settled: one found in Sent, the other handed over now.
    report = deliver_due(engine, transport, lease=timedelta(0))
    transport.close()
    assert report.sent == 2
    ids = [str(m.message["Message-ID"]) for m in smtp_server.messages]
    assert sorted(ids) == ["<lost.ack@lscp.example>", "<reached.ack@lscp.example>"]
    with session_scope(engine) as session:
        rows = {r.id: r for r in outbox.rows(session)}
        events = [(e.entity_id, e.action) for e in session.exec(select(AuditEvent)).all()]
    assert rows[reached].status == rows[lost].status == "sent"
    assert rows[reached].handover_started_at is None and rows[lost].handover_started_at is None
    assert (reached, "confirmed sent") in events and (lost, "confirmed sent") not in events


def test_with_no_sent_folder_to_ask_the_message_is_sent_again_not_lost(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    # A folder that does not exist stands for a Sent folder we cannot read.
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, smtp_sent_folder="Nowhere")
    engine = open_database(settings)
    row_id = _pending(engine, "again")
    transport = make_transport(settings)
    (row,) = _interrupted(engine, 1)
    transport.send(build_message(row))
    report = deliver_due(engine, transport, lease=timedelta(0))
    transport.close()
    assert report.sent == 1
    # At least once: the same email (same Message-ID) a second time, never none.
    ids = [str(m.message["Message-ID"]) for m in smtp_server.messages]
    assert ids == ["<again.ack@lscp.example>", "<again.ack@lscp.example>"]
    with session_scope(engine) as session:
        stored = session.get(OutboxMessage, row_id)
    assert stored is not None and stored.status == "sent"


class _DiesOnSend:
    """A transport whose worker is killed as it starts the hand-over."""

    def send(self, message: object) -> None:
        raise SystemExit("killed")

    def delivered(self, message_id: str) -> bool | None:
        return None

    def close(self) -> None:
        pass


def test_replies_claimed_as_an_email_is_filed_are_sent_once_after_a_crash(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    # The runner sends an email's reply and alerts straight after filing it, so filing
    # claims them in its own commit. A worker killed before the hand-over leaves them in
    # doubt: untouched within the lease (no second sender takes them), then sent once.
    settings = settings_for(tmp_path, None, smtp_server, routing_file=ROUTING)
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / "1.police").write_bytes((SAMPLES / "0001.police").read_bytes())
    engine = open_database(settings)
    with pytest.raises(SystemExit):
        run_once(engine, settings, make_source(settings), _DiesOnSend())
    with session_scope(engine) as session:
        queued = outbox.rows(session)
    assert len(queued) >= 2  # the acknowledgement and the alerts
    assert all(r.status == "pending" and r.handover_started_at is not None for r in queued)

    transport = make_transport(settings)
    assert deliver_due(engine, transport, lease=settings.handover_lease).sent == 0
    assert smtp_server.messages == []
    report = deliver_due(engine, transport, lease=timedelta(0))
    assert report.sent == len(queued)
    assert deliver_due(engine, transport, lease=timedelta(0)).sent == 0
    transport.close()
    ids = sorted(str(m.message["Message-ID"]) for m in smtp_server.messages)
    assert ids == sorted(r.header_message_id for r in queued)  # each exactly once
    engine.dispose()


@pytest.mark.parametrize("data_reply", [None, "451 4.3.0 try later"], ids=["taken", "451"])
def test_every_answer_read_late_is_recorded_by_the_end_of_the_pass(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer, data_reply: str | None
) -> None:
    # The runner does not wait for the server's last answer to each reply (pipelining):
    # it is read as the next reply goes. By the end of the pass every row says what the
    # server answered, none is left mid-hand-over (to be checked again after its lease).
    smtp_server.handler.data_reply = data_reply
    for sample in sorted(SAMPLES.iterdir()):
        dovecot_mailbox.append(sample.read_bytes().replace(b"\n", b"\r\n"))
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, routing_file=ROUTING)
    engine = open_database(settings)
    report = run_once(engine, settings, make_source(settings), make_transport(settings))
    with session_scope(engine) as session:
        rows = outbox.rows(session)
    engine.dispose()
    assert len(rows) > 4 and all(r.handover_started_at is None for r in rows)
    if data_reply is None:
        assert {r.status for r in rows} == {"sent"} and report.delivery.sent == len(rows)
        assert len(smtp_server.messages) == len(rows)
    else:
        assert {r.status for r in rows} == {"pending"} and report.delivery.retrying == len(rows)
        assert all(r.attempts == 1 and "451" in (r.last_error or "") for r in rows)
