"""`intake run` as a long-running worker: new mail handled at once, one worker per mailbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from intake.lock import AlreadyRunning, MailboxLock
from servers.dovecot import DovecotServer
from servers.intake_config import intake_env, run_intake
from servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "maildir" / "new" / "0003.school"


def test_mail_arriving_while_the_worker_waits_is_acknowledged_within_seconds(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env = intake_env(tmp_path, dovecot_mailbox, smtp_server)
    worker = subprocess.Popen(
        [sys.executable, "-m", "intake", "run", "--interval", "300"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(3)  # started, first (empty) pass done, now idling for up to 300 s
        assert worker.poll() is None
        second = run_intake(env, "run", "--once")
        assert second.returncode == 2 and "already reading this mailbox" in second.stderr

        sent = time.monotonic()
        dovecot_mailbox.append(SAMPLE.read_bytes())
        (ack,) = smtp_server.wait_for(1, timeout=10)
        latency = time.monotonic() - sent
        assert "SIRG-" in ack.message["Subject"]
        assert latency < 5, f"acknowledged after {latency:.1f} s; IDLE should wake the worker"
        # The acknowledgement goes out as soon as the email is filed; the move on the
        # server follows it.
        deadline = time.monotonic() + 10
        while dovecot_mailbox.messages("INBOX") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert dovecot_mailbox.messages("INBOX") == []
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_the_lock_is_exclusive_and_freed_on_release(tmp_path: Path) -> None:
    first = MailboxLock(tmp_path, "imap://a@b/INBOX")
    first.acquire()
    try:
        other = MailboxLock(tmp_path, "imap://a@b/INBOX")
        try:
            other.acquire()
            raise AssertionError("a second lock on the same mailbox was granted")
        except AlreadyRunning as exc:
            assert str(os.getpid()) in str(exc)
        MailboxLock(tmp_path, "imap://a@b/Other").acquire()  # another mailbox is fine
    finally:
        first.release()
    with MailboxLock(tmp_path, "imap://a@b/INBOX"):
        pass


def test_a_killed_worker_leaves_no_lock_behind(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from intake.lock import MailboxLock; "
        f"MailboxLock(Path({str(tmp_path)!r}), 'm').acquire(); print('held', flush=True); "
        "time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    with MailboxLock(tmp_path, "m"):
        pass  # the kernel released the dead process's lock


def test_sigterm_mid_batch_exits_cleanly_and_loses_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    import signal

    from parsers.mime import parse_message

    count = 30
    for n in range(count):
        msg = parse_message(SAMPLE.read_bytes())
        del msg["Message-ID"]
        msg["Message-ID"] = f"<batch-{n}@school.example>"
        dovecot_mailbox.append(bytes(msg))
    env = intake_env(tmp_path, dovecot_mailbox, smtp_server)
    worker = subprocess.Popen(
        [sys.executable, "-m", "intake", "run", "--interval", "300"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        smtp_server.wait_for(3, timeout=60)  # at work: three referrers answered
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "worker stopped cleanly" in output
    inbox, processed = dovecot_mailbox.messages("INBOX"), dovecot_mailbox.messages("Processed")
    assert len(inbox) + len(processed) == count  # nothing lost
    assert len(inbox) > 0, "the stop came too late to test a stop mid-batch"

    again = run_intake(env, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert dovecot_mailbox.messages("INBOX") == []
    assert len(dovecot_mailbox.messages("Processed")) == count
    acks = smtp_server.wait_for(count, timeout=30)  # no routing file: replies only
    replied_to = sorted(m.message["In-Reply-To"] for m in acks)
    assert replied_to == sorted(set(replied_to)) and len(replied_to) == count  # once each
