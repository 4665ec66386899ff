"""One reader process reads message after message: forked once from the warmed worker,
replaced when it retires, breaks a limit or dies, and holding none of the worker's
sockets or pipes."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.pipeline import isolate, new_context, reader
from intake.pipeline.context import MessageContext
from intake.pipeline.isolate import ReadLimits, decide_limited
from intake.settings import Settings
from servers.intake_config import DOCX, ROOT, referrer_email

FORM = (ROOT / "samples" / "forms" / "cc-police-window-fall.docx").read_bytes()
SETTINGS = Settings(_env_file=None)


def _context(n: int) -> MessageContext:
    raw = referrer_email(f"reader-{n}", [("referral.docx", FORM, DOCX)])
    return new_context(raw, SETTINGS, datetime.now(UTC), None)


def _decide(n: int, limits: ReadLimits | None = None) -> str | None:
    return decide_limited(_context(n), limits or ReadLimits()).outcome


def _reader_pid() -> int:
    (current,) = isolate._READER
    return current.pid


def _fresh_reader() -> None:
    isolate.retire_reader()


def test_one_reader_reads_message_after_message() -> None:
    _fresh_reader()
    assert _decide(0) == "referral"
    pid = _reader_pid()
    assert pid != os.getpid()
    for n in range(1, 6):
        assert _decide(n) == "referral"
    assert _reader_pid() == pid


def test_a_reader_retires_after_its_readings_and_a_fresh_one_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fresh_reader()
    monkeypatch.setattr(reader, "MAX_READINGS", 2)  # read in the reader, forked after this
    pids = []
    for n in range(6):
        assert _decide(n) == "referral"
        pids.append(isolate._READER[0].pid if isolate._READER else None)
    # Every second reading ends a reader's life; the next message forks the next reader.
    assert pids[0] is not None and pids[1] is None
    assert len({p for p in pids if p is not None}) == 3
    time.sleep(0.2)
    assert _decide(6) == "referral"  # collects the retired readers
    assert isolate._RETIRED == []  # exited and collected: no zombies left behind


def test_a_reader_killed_between_messages_costs_no_message() -> None:
    _fresh_reader()
    assert _decide(0) == "referral"
    dead = _reader_pid()
    os.kill(dead, signal.SIGKILL)
    time.sleep(0.1)
    assert _decide(1) == "referral"  # read by a fresh reader, not quarantined
    assert _reader_pid() != dead


def test_a_reader_killed_while_reading_stops_that_message_with_the_reason() -> None:
    _fresh_reader()
    assert _decide(0) == "referral"
    pid = _reader_pid()
    # 40 long PDF forms take the reader over a second: killed a third of a second in.
    pdf = (ROOT / "samples" / "forms" / "pdf-rows-long-neglect-sibling-group.pdf").read_bytes()
    files = [(f"{n}.pdf", pdf + b"\n%% copy %d\n" % n, ("application", "pdf")) for n in range(40)]
    raw = referrer_email("reader-killed", files)
    ctx = new_context(raw, Settings(_env_file=None, max_attachments=100), datetime.now(UTC), None)
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
    killer.start()
    with pytest.raises(isolate.ReadingStopped, match=r"stopped by the system \(signal 9\)"):
        decide_limited(ctx, ReadLimits())
    killer.join()
    assert _decide(1) == "referral"  # the next message has a fresh reader
    assert _reader_pid() != pid


def test_a_reader_holds_none_of_the_workers_sockets(tmp_path: Path) -> None:
    _fresh_reader()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    try:
        assert _decide(0) == "referral"  # the reader is forked while the socket is open
        pid = _reader_pid()
        fds = {int(n): os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}
    finally:
        listening.close()
    inherited = {fd: target for fd, target in fds.items() if fd > 2}
    pipes = [t for t in inherited.values() if t.startswith("pipe:")]
    assert len(pipes) == 2  # its own two
    assert not [t for t in inherited.values() if t.startswith("socket:")]
    assert all(t.startswith("pipe:") or t == os.devnull for t in inherited.values())


def test_a_reading_nobody_came_back_for_is_stopped_and_the_next_is_read() -> None:
    _fresh_reader()
    first = isolate.start_reading(_context(0), ReadLimits())
    abandoned = _reader_pid()
    second = isolate.start_reading(_context(1), ReadLimits())  # before `first.result()`
    assert _reader_pid() != abandoned  # a fresh reader: the first one was stopped
    assert second.result().outcome == "referral"
    with pytest.raises(isolate.ReadingStopped, match="stopped before it ended"):
        first.result()
    assert _decide(2) == "referral"


def test_an_answer_waiting_past_the_deadline_still_counts() -> None:
    # The worker may come for the answer late (it was filing the message before); an
    # answer the reader gave in time is taken, not treated as a late reading.
    _fresh_reader()
    reading = isolate.start_reading(_context(0), ReadLimits(seconds=0.5))
    time.sleep(1.0)
    assert reading.result().outcome == "referral"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_the_workers_stop_signals_do_not_cut_a_reading_short(signum: int) -> None:
    # A service manager or Ctrl-C signals the whole process group: the worker finishes the
    # message in hand, and so must its reader.
    _fresh_reader()
    assert _decide(0) == "referral"
    pid = _reader_pid()
    pdf = (ROOT / "samples" / "forms" / "pdf-rows-long-neglect-sibling-group.pdf").read_bytes()
    files = [(f"{n}.pdf", pdf + b"\n%% copy %d\n" % n, ("application", "pdf")) for n in range(10)]
    raw = referrer_email("reader-signalled", files)
    ctx = new_context(raw, Settings(_env_file=None, max_attachments=100), datetime.now(UTC), None)
    reading = isolate.start_reading(ctx, ReadLimits())
    time.sleep(0.05)
    os.kill(pid, signum)
    decided = reading.result()
    assert len(decided.documents) == 10
    assert _reader_pid() == pid  # the same reader, still at work
