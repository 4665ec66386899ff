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
from storage.tables import InboundMessage, Referral

SAMPLES = ROOT / "samples" / "maildir" / "new"
REFERRALS = ("0001.police", "0002.health", "0003.school", "0006.forwarded")
BACKLOG = 200
KILLS = 10


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
    env = intake_env(tmp_path, dovecot_mailbox, smtp_server, poll_interval=1)
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
    distinct = Counter(
        str(m["In-Reply-To"]) for m in {str(m["Message-ID"]): m for m in acks}.values()
    )
    # One acknowledgement per referral: one email, one Message-ID. The same email can be
    # handed over twice only when a kill lands between the SMTP server's "250" and our
    # commit (at-least-once delivery; the alternative, at-most-once, could lose an
    # acknowledgement). A redelivery carries the same Message-ID, so mail clients show
    # it once; at most one can happen per kill.
    assert max(distinct.values()) == 1
    redelivered = len(acks) - BACKLOG
    print(f"crash test: {KILLS} kills, {redelivered} redeliveries of the same email")
    assert 0 <= redelivered <= KILLS
