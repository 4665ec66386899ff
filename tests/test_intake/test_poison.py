"""One email can never hold up the replies and alerts behind it.

A Message-ID that decodes to a line break (RFC 2047) used to be copied into the reply's
In-Reply-To; building that reply raised ValueError, the worker exited, and the row was
retried first on every pass. Headers from incoming mail are cleaned where they enter, and a
row that cannot be sent is marked dead with its reason while the sender goes on.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from intake.runner import run_once
from intake.wiring import make_source, make_transport, open_database
from notifications.sender import deliver_due
from notifications.transport import FolderTransport
from parsers.mime import parse_message
from servers.intake_config import ROOT, settings_for
from servers.smtp import SmtpServer
from storage.clock import utcnow
from storage.db import session_scope
from storage.tables import OutboxMessage

SAMPLES = ROOT / "samples" / "maildir" / "new"
ROUTING = ROOT / "samples" / "routing.toml"
POISON_ID = "=?utf-8?q?=3Cpoison=0A=40sender=2Eexample=3E?="  # "<poison\n@sender.example>"


def test_a_message_id_that_decodes_to_a_line_break_holds_up_nobody(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, None, smtp_server, routing_file=ROUTING)
    raw = (SAMPLES / "0004.needs-info").read_bytes()
    original = parse_message(raw)["Message-ID"]
    poison = raw.replace(f"Message-ID: {original}".encode(), f"Message-ID: {POISON_ID}".encode())
    assert "\n" in str(parse_message(poison)["Message-ID"])  # it decodes to a line break
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / "1.poison").write_bytes(poison)
    (new / "2.good").write_bytes((SAMPLES / "0001.police").read_bytes())
    engine = open_database(settings)

    report = run_once(engine, settings, make_source(settings), make_transport(settings))

    assert report.errors == 0 and report.delivery.dead == 0
    good = parse_message((SAMPLES / "0001.police").read_bytes())
    acks = [m for m in smtp_server.messages if m.message["In-Reply-To"] == good["Message-ID"]]
    assert len(acks) == 1  # the next referral's acknowledgement went out
    alerts = [m for m in smtp_server.messages if "New SIRG referral" in m.message["Subject"]]
    assert len(alerts) >= 2  # and its alerts (and the first one's)
    asked = [m for m in smtp_server.messages if "more information" in m.message["Subject"]]
    assert len(asked) == 1 and asked[0].message["In-Reply-To"] is None  # not threaded: unsafe
    engine.dispose()


def test_a_row_that_cannot_be_built_is_dead_and_the_rest_are_sent(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    engine = open_database(settings)
    now = utcnow()
    with session_scope(engine) as session:
        for n, reply_to in enumerate(["<a\nb@x>", None]):  # the first one is poison
            session.add(
                OutboxMessage(
                    kind="ack",
                    mail_from="sirg@lscp.test",
                    to_addr=f"r{n}@example.org",
                    subject="s",
                    body_text="t",
                    header_message_id=f"<row{n}@lscp.test>",
                    in_reply_to=reply_to,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    report = deliver_due(engine, FolderTransport(settings.outbox_mail_dir))
    assert (report.sent, report.dead) == (1, 1)
    with session_scope(engine) as session:
        poison = session.exec(
            select(OutboxMessage).where(OutboxMessage.header_message_id == "<row0@lscp.test>")
        ).one()
    assert poison.status == "dead" and "cannot be built" in (poison.last_error or "")
    assert poison.handover_started_at is None  # settled, not left in doubt
    # A second pass finds nothing due: the dead row is never tried first again.
    assert deliver_due(engine, FolderTransport(settings.outbox_mail_dir)).sent == 0
    engine.dispose()
