"""Running it for months: the dead-man alert, `intake status`, retention with legal holds."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from intake.runner import run_once
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from servers import free_port
from servers.dovecot import DovecotServer
from servers.intake_config import intake_env, run_intake, settings_for
from servers.smtp import SmtpServer
from storage import workflow
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import raw_bytes
from storage.tables import AuditEvent, Referral, ReferralStatusChange

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new"


def test_the_admin_hears_once_when_the_mailbox_is_down_and_once_when_it_is_back(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    down = intake_env(
        tmp_path,
        dovecot_mailbox,
        smtp_server,
        imap_port=free_port(),
        imap_reconnect_attempts=0,
        admin_email="ops@lscp.test",
        alert_after_minutes=0,
    )
    for _ in range(3):  # three failed passes: one incident
        assert run_intake(down, "run", "--once").returncode == 2
    (alert,) = smtp_server.wait_for(1)
    assert alert.rcpt_tos == ["ops@lscp.test"]
    assert "cannot be read" in alert.message["Subject"]

    status = run_intake(down, "status", "--json", "--no-mailbox")
    assert status.returncode == 1  # a failing worker makes the status check fail
    report = json.loads(status.stdout)
    assert report["database"] == "ok" and report["workers"][0]["failing_since"]

    up = intake_env(
        tmp_path, dovecot_mailbox, smtp_server, admin_email="ops@lscp.test", alert_after_minutes=0
    )
    assert run_intake(up, "run", "--once").returncode == 0
    assert run_intake(up, "run", "--once").returncode == 0
    got = smtp_server.wait_for(2)
    assert len(got) == 2 and "can be read again" in got[1].message["Subject"]
    healthy = json.loads(run_intake(up, "status", "--json").stdout)
    assert healthy["waiting_in_mailbox"] == 0 and healthy["workers"][0]["failing_since"] is None
    assert healthy["workers"][0]["last_success"]


def close(session, referral: Referral, days_ago: int) -> None:
    now = utcnow()
    for step in (workflow.READY, workflow.NFA, workflow.CLOSED):
        workflow.change_status(session, referral, step, "test", now.date(), "officer", now)
    for change in session.exec(select(ReferralStatusChange)).all():
        if change.referral_id == referral.id:
            change.at = now - timedelta(days=days_ago)
            session.add(change)


def test_purge_dry_run_then_real_run_respects_legal_hold(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    source = MaildirSource(settings.resolved_maildir)
    for name in ("0001.police", "0002.health", "0003.school"):
        shutil.copyfile(SAMPLES / name, source.path / "new" / name)
    engine = open_database(settings)
    run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        old, held, recent = session.exec(select(Referral).order_by(Referral.id)).all()
        close(session, old, 400)
        close(session, held, 400)
        close(session, recent, 10)
    env = intake_env(tmp_path)
    assert run_intake(env, "hold", held.reference).returncode == 0

    dry = run_intake(env, "purge", "--older-than", "365", "--dry-run")
    assert dry.returncode == 0
    assert f"{old.reference}: would be purged" in dry.stdout
    assert held.reference not in dry.stdout and recent.reference not in dry.stdout
    with session_scope(engine) as session:
        assert session.get(Referral, old.id).child_name  # a dry run changes nothing

    real = run_intake(env, "purge", "--older-than", "365")
    assert real.returncode == 0 and "1 referral(s) were purged" in real.stdout
    with session_scope(engine) as session:
        purged = session.get(Referral, old.id)
        assert purged.purged_at and purged.child_name is None and purged.record == {}
        assert raw_bytes(session, purged.message_id) == b""
        assert session.get(Referral, held.id).child_name  # on hold: untouched
        assert session.get(Referral, recent.id).child_name  # too recent: untouched
        trail = [
            e.action
            for e in session.exec(select(AuditEvent))
            if e.entity_id == old.id and e.entity == "referral"
        ]
        assert "created" in trail and "purged" in trail  # the audit trail stays

    again = run_intake(env, "purge", "--older-than", "365")
    assert "0 referral(s) were purged" in again.stdout
    assert run_intake(env, "hold", held.reference, "--release").returncode == 0
    assert held.reference in run_intake(env, "purge", "--older-than", "365").stdout
