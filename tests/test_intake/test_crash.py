"""Crash test: the worker is killed with SIGKILL at random points over a 200-message backlog.

Every message must end processed exactly once: none lost, no referral made twice, no
referral acknowledged twice (counted at the SMTP server).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlmodel import select

from intake.runner import open_database
from parsers.mime import parse_message
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, intake_env, run_intake, settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import AuditEvent, InboundMessage, Referral

SAMPLES = ROOT / "samples" / "maildir" / "new"
REFERRALS = ("0001.police", "0002.health", "0003.school", "0006.forwarded")
BACKLOG = 200
KILLS = 10
LEASE = 2  # seconds: one worker at a time here, so an unfinished hand-over is a killed one


def backlog(imap: DovecotServer) -> None:
    with imap.client() as client:
        for n in range(BACKLOG):
            msg = parse_message((SAMPLES / REFERRALS[n % len(REFERRALS)]).read_bytes())
            del msg["Message-ID"]
            msg["Message-ID"] = f"<crash-{n}@sender.example>"
            client.append("INBOX", bytes(msg))


def test_sigkill_at_random_points_loses_nothing_and_repeats_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    backlog(dovecot_mailbox)
    # The SMTP server files each message it accepts in Sent, as Microsoft 365 does; the
    # worker looks there after a hand-over it could not finish recording.
    smtp_server.handler.keep_sent_copy = lambda data: dovecot_mailbox.append(data, "Sent")
    env = intake_env(
        tmp_path,
        dovecot_mailbox,
        smtp_server,
        poll_interval=1,
        smtp_sent_folder="Sent",
        outbox_lease_seconds=LEASE,
    )
    rng = random.Random(20261125)  # seeded: the same kill points on every run
    for _ in range(KILLS):
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.0, 3.0))  # start-up takes about a second
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert dovecot_mailbox.messages("INBOX"), "the kills came too late to interrupt anything"
    time.sleep(LEASE + 1)  # a hand-over cut short by the last kill is now past its lease
    final = run_intake(env, "run", "--once", timeout=300)
    assert final.returncode == 0, final.stderr

    assert dovecot_mailbox.messages("INBOX") == []
    assert len(dovecot_mailbox.messages("Processed")) == BACKLOG  # none lost, none doubled
    engine = open_database(settings_for(tmp_path))
    with session_scope(engine) as session:
        stored = session.exec(select(InboundMessage)).all()
        referrals = session.exec(select(Referral)).all()
    originals = {m.message_id for m in stored if m.outcome == "referral"}
    assert len(originals) == BACKLOG
    assert Counter(r.message_id for r in referrals).most_common(1)[0][1] == 1
    assert len(referrals) == BACKLOG  # one form per sample email

    acks = [m.message for m in smtp_server.messages]
    by_original = Counter(str(m["In-Reply-To"]) for m in acks)
    assert len(by_original) == BACKLOG  # every referral acknowledged
    # Exactly one acknowledgement email per referral at the SMTP server: a kill between
    # the server's "250" and our commit is settled from the Sent folder, not by resending.
    assert len(acks) == BACKLOG, f"{len(acks) - BACKLOG} acknowledgement(s) sent twice"
    assert len({str(m["Message-ID"]) for m in acks}) == BACKLOG
    confirmed = _confirmed_from_sent(tmp_path)
    print(f"crash test: {KILLS} kills, {confirmed} hand-over(s) settled from the Sent folder")


def _confirmed_from_sent(data_dir: Path) -> int:
    engine = open_database(settings_for(data_dir))
    with session_scope(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "confirmed sent"))
        return len(events.all())
