"""`intake backfill` stores old mail silently; `intake reprocess` retries the quarantine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from intake.runner import open_database, run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from notifications.transport import FolderTransport
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import InboundMessage, OutboxMessage, Referral

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "maildir" / "new"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backfill_stores_old_referrals_tells_nobody_and_moves_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    for name in ("0001.police", "0002.health", "0004.needs-info"):
        dovecot_mailbox.append((SAMPLES / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_DATA_DIR=str(tmp_path),
        INTAKE_MAIL_SOURCE="imap",
        INTAKE_IMAP_HOST=dovecot_mailbox.host,
        INTAKE_IMAP_PORT=str(dovecot_mailbox.port),
        INTAKE_IMAP_SECURITY="none",
        INTAKE_IMAP_USER=dovecot_mailbox.user,
        INTAKE_IMAP_PASSWORD=dovecot_mailbox.password,
        INTAKE_SMTP_HOST=smtp_server.host,
        INTAKE_SMTP_PORT=str(smtp_server.port),
        INTAKE_SMTP_SECURITY="none",
    )
    result = cli(env, "backfill", "--since", "2000-01-01")
    assert result.returncode == 0, result.stderr
    assert "3 messages: 3 new" in result.stdout
    assert len(dovecot_mailbox.messages("INBOX")) == 3  # nothing moved
    assert smtp_server.messages == []  # nobody written to
    settings = Settings(data_dir=tmp_path)
    engine = open_database(settings)
    with session_scope(engine) as session:
        assert len(session.exec(select(Referral)).all()) == 3
        assert session.exec(select(OutboxMessage)).all() == []

    again = cli(env, "backfill", "--since", "2000-01-01")
    assert "0 new, 3 already stored" in again.stdout
    # The normal worker later finds them stored: moved on, still not answered twice.
    run = cli(env, "run", "--once")
    assert run.returncode == 0 and "new 0, already stored 3" in run.stdout
    assert dovecot_mailbox.messages("INBOX") == [] and smtp_server.messages == []


def test_a_date_after_every_message_backfills_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer
) -> None:
    dovecot_mailbox.append((SAMPLES / "0001.police").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_DATA_DIR=str(tmp_path),
        INTAKE_MAIL_SOURCE="imap",
        INTAKE_IMAP_HOST=dovecot_mailbox.host,
        INTAKE_IMAP_PORT=str(dovecot_mailbox.port),
        INTAKE_IMAP_SECURITY="none",
        INTAKE_IMAP_USER=dovecot_mailbox.user,
        INTAKE_IMAP_PASSWORD=dovecot_mailbox.password,
    )
    result = cli(env, "backfill", "--since", "2999-01-01")
    assert result.returncode == 0 and "0 messages" in result.stdout


def test_reprocess_turns_a_quarantined_message_into_a_referral(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="", mail_source="maildir", smtp_host="")
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

    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_DATA_DIR=str(tmp_path))
    result = cli(env, "reprocess")
    assert result.returncode == 0, result.stderr
    assert "processed: referral" in result.stdout
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        assert message.state == "processed" and message.outcome == "referral"
        assert len(session.exec(select(Referral)).all()) == 1
        assert [o.kind for o in session.exec(select(OutboxMessage))] == ["ack"]
    assert "not quarantined" in cli(env, "reprocess", str(message.id)).stdout
