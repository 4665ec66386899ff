"""`intake backfill` stores old mail silently; `intake reprocess` retries the quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from servers.dovecot import DovecotServer
from servers.intake_config import intake_env, run_intake, settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import InboundMessage, OutboxMessage, Referral

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "maildir" / "new"


def test_backfill_stores_old_referrals_tells_nobody_and_moves_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    for name in ("0001.police", "0002.health", "0004.needs-info"):
        dovecot_mailbox.append((SAMPLES / name).read_bytes())
    env = intake_env(tmp_path, dovecot_mailbox, smtp_server)
    result = run_intake(env, "backfill", "--since", "2000-01-01")
    assert result.returncode == 0, result.stderr
    assert "3 messages: 3 new" in result.stdout
    assert len(dovecot_mailbox.messages("INBOX")) == 3  # nothing moved
    assert smtp_server.messages == []  # nobody written to
    settings = Settings(data_dir=tmp_path)
    engine = open_database(settings)
    with session_scope(engine) as session:
        assert len(session.exec(select(Referral)).all()) == 3
        assert session.exec(select(OutboxMessage)).all() == []

    again = run_intake(env, "backfill", "--since", "2000-01-01")
    assert "0 new, 3 already stored" in again.stdout
    # The normal worker later finds them stored: moved on, still not answered twice.
    run = run_intake(env, "run", "--once")
    assert run.returncode == 0 and "new 0, already stored 3" in run.stdout
    assert dovecot_mailbox.messages("INBOX") == [] and smtp_server.messages == []


def test_a_date_after_every_message_backfills_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer
) -> None:
    dovecot_mailbox.append((SAMPLES / "0001.police").read_bytes())
    env = intake_env(tmp_path, dovecot_mailbox)
    result = run_intake(env, "backfill", "--since", "2999-01-01")
    assert result.returncode == 0 and "0 messages" in result.stdout


def test_reprocess_turns_a_quarantined_message_into_a_referral(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    source = MaildirSource(settings.resolved_maildir)
    (settings.resolved_maildir / "new" / "m").write_bytes((SAMPLES / "0003.school").read_bytes())
    import intake.pipeline.read as read_stage

    def broken(ctx):  # fault injection: a reader bug quarantines the message
        raise RuntimeError("reader bug")

    engine = open_database(settings)
    with monkeypatch.context() as patch:
        patch.setattr(read_stage, "run", broken)
        first = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert first.outcomes == {"quarantined": 1}

    env = intake_env(tmp_path)
    result = run_intake(env, "reprocess")
    assert result.returncode == 0, result.stderr
    assert "processed: referral" in result.stdout
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        assert message.state == "processed" and message.outcome == "referral"
        assert len(session.exec(select(Referral)).all()) == 1
        assert [o.kind for o in session.exec(select(OutboxMessage))] == ["ack"]
    assert "not quarantined" in run_intake(env, "reprocess", str(message.id)).stdout
