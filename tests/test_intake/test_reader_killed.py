"""A message whose reading kills the worker itself is quarantined after three starts.

Issue #12: when the kernel's OOM killer (or anything else) SIGKILLs the worker while it
reads a message, nothing in the worker can record it; the message is still unprocessed on
the next pass, and runs first again. Each start of reading is counted (committed) before
the reader starts, so after INTAKE_MAX_READ_STARTS starts (3) that did not finish, the
next pass quarantines it unread, with a reason a person can understand, and goes on with
the good mail behind it in the same pass.

Here the kills are real: the real worker (`intake run --once`, its own process) is
SIGKILLed from outside as soon as its reader process is reading the poison message. The
poison is an honest but slow email (sixty copies of a 5-page PDF form: seconds to read),
so there is time to see the reader start and kill the worker mid-read, every time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing, suppress
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import select

from intake.handling import stopped_worker
from intake.wiring import open_database
from parsers.mime import parse_message
from servers.intake_config import ROOT, intake_env, run_intake, settings_for
from storage.db import session_scope
from storage.tables import InboundMessage, Referral, ReferralMessage

SAMPLES = ROOT / "samples" / "maildir" / "new"
FORM_PDF = ROOT / "samples" / "forms" / "pdf-rows-long-neglect-sibling-group.pdf"
POISON_ID = "<killer@merseyside.police.uk>"
POISON_FILE = "1.poison"  # sorted first: read first on every pass, ahead of the good mail
GOOD_FILES = {"2.police": "0001.police", "3.health": "0002.health"}
WAIT = 60.0  # seconds: longest we wait for the worker to start reading the poison


def slow_email(copies: int = 60) -> bytes:
    """One email carrying `copies` different copies of a 5-page PDF form: every file is an
    honest form, but reading them all takes seconds (time to kill the worker mid-read)."""
    pdf = FORM_PDF.read_bytes()
    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@merseyside.police.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referrals"
    msg["Message-ID"] = POISON_ID
    msg.set_content("All our referrals from this year.")
    for n in range(copies):  # a comment after %%EOF makes each file different
        data = pdf + b"\n%% copy %d\n" % n
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"{n}.pdf")
    return bytes(msg)


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and brackets, so split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _poison_attempts(db: Path) -> int:
    """The poison's committed count of reading starts, read from outside the worker."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        (attempts,) = conn.execute(
            "SELECT attempts FROM inbound_message WHERE uid = ?", (POISON_FILE,)
        ).fetchone()
    return int(attempts)


def kill_worker_mid_read(env: dict[str, str], db: Path, start: int, log: Path) -> None:
    """Start the real worker and SIGKILL it as soon as its reader child for the poison
    runs, as the OOM killer would: the worker gets no chance to record anything."""
    with log.open("wb") as err:
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "run", "--once"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group: the reader child is in it
        )
    try:
        deadline = time.monotonic() + WAIT
        reader = None
        while reader is None:
            assert worker.poll() is None, f"the worker ended first:\n{log.read_text()}"
            assert time.monotonic() < deadline, "the worker never started reading"
            # The reader is a fork of the worker: same command line, the worker its parent.
            own = _cmdline(worker.pid)
            reader = next((c for c in _children(worker.pid) if _cmdline(c) == own), None)
            if reader is None:
                time.sleep(0.02)
        # The start was counted and committed before the fork: this reader is the poison's
        # (the first message of the Maildir), at its `start`-th start.
        assert _poison_attempts(db) == start
        assert reader in _children(worker.pid), "the reading finished before the kill"
        os.kill(worker.pid, signal.SIGKILL)  # the worker itself, mid-read
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        # The orphaned reader (and anything else of the worker's) goes too.
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


def test_a_reader_killed_three_times_is_quarantined_and_the_mail_behind_it_goes_on(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    assert settings.max_read_starts == 3  # the default, not set here
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / POISON_FILE).write_bytes(slow_email())
    good_ids = set()
    for name, sample in GOOD_FILES.items():
        raw = (SAMPLES / sample).read_bytes()
        good_ids.add(str(parse_message(raw)["Message-ID"]))
        (new / name).write_bytes(raw)
    # No reading limit may stop the poison first: only the kills cut its reading short.
    env = intake_env(tmp_path, read_timeout_seconds=600, max_attachments=100)
    db = tmp_path / "intake.db"
    assert settings.resolved_database_url == f"sqlite:///{db}"

    started = time.monotonic()
    for start in range(1, settings.max_read_starts + 1):
        kill_worker_mid_read(env, db, start, tmp_path / f"worker-{start}.log")
        # Each killed pass left exactly this: the poison stored, unread, its start counted;
        # the good mail behind it unread, no start of reading counted for it, still waiting
        # in the Maildir. (The worker may have kept the next email while the reader read
        # the poison: it is stored, but its reading starts only after the poison's.)
        engine = open_database(settings)
        with session_scope(engine) as session:
            rows = session.exec(select(InboundMessage)).all()
            states = {r.uid: (r.state, r.attempts) for r in rows}
            assert states.pop(POISON_FILE) == ("received", start)
            assert set(states) <= set(GOOD_FILES)
            assert all(state == ("received", 0) for state in states.values()), states
            assert session.exec(select(Referral)).all() == []
        engine.dispose()
        assert sorted(p.name for p in new.iterdir()) == sorted([POISON_FILE, *GOOD_FILES])
    killed = time.monotonic() - started

    # The fourth pass: the poison is quarantined without being read, and the good mail
    # behind it is processed in the same pass.
    started = time.monotonic()
    result = run_intake(env, "run", "--once", timeout=300)
    fourth = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "quarantined (stopped the worker)" in result.stderr

    engine = open_database(settings)
    with session_scope(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        referrals = session.exec(select(Referral)).all()
        links = session.exec(select(ReferralMessage)).all()
    by_id = {r.message_id: r for r in rows}
    # Exactly one row per message: none stored twice by the repeated passes.
    assert Counter(r.message_id for r in rows) == Counter([POISON_ID, *good_ids])
    poison = by_id[POISON_ID]
    assert poison.state == "quarantined" and poison.outcome == "quarantined"
    assert poison.attempts == settings.max_read_starts + 1  # the fourth start, not read
    assert poison.outcome_reason == stopped_worker(settings)
    assert "cut short 3 times" in poison.outcome_reason
    assert "killed" in poison.outcome_reason and "reprocessed" in poison.outcome_reason
    assert poison.error is None  # no traceback: nothing failed in this worker
    assert poison.server_folder == "Quarantine"
    for mid in good_ids:
        good = by_id[mid]
        assert (good.state, good.outcome, good.attempts) == ("processed", "referral", 1), mid
        assert good.server_folder == "Processed"
    # One referral per good email, none from the poison, none made twice.
    assert len(referrals) == len(good_ids)
    made_from = Counter(r.message_id for r in referrals)
    assert set(made_from) == {by_id[mid].id for mid in good_ids}
    assert made_from.most_common(1)[0][1] == 1
    assert all(link.message_id != poison.id for link in links)
    # The Maildir agrees: the inbox is empty, the poison in Quarantine, the rest processed.
    maildir = settings.resolved_maildir
    assert list(new.iterdir()) == []
    assert [p.name for p in (maildir / ".Quarantine" / "cur").iterdir()] == [f"{POISON_FILE}:2,S"]
    assert sorted(p.name for p in (maildir / ".Processed" / "cur").iterdir()) == sorted(
        f"{name}:2,S" for name in GOOD_FILES
    )

    # A fifth pass finds nothing to do: the poison is never started again.
    again = run_intake(env, "run", "--once", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    with session_scope(engine) as session:
        after = session.exec(select(InboundMessage)).all()
        assert len(after) == len(rows)
        assert {r.message_id: r.attempts for r in after}[POISON_ID] == poison.attempts
        assert len(session.exec(select(Referral)).all()) == len(good_ids)
    engine.dispose()
    print(
        f"reader killed: {settings.max_read_starts} kills in {killed:.1f}s, "
        f"fourth pass {fourth:.1f}s"
    )
