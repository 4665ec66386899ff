"""Ingest benchmark: N referral emails through a real Dovecot and a real SMTP server.

It prints figures; it is not a test. Steps:

1. start a throwaway Dovecot (tests/servers/dovecot.py) and an in-process aiosmtpd server
   (tests/servers/smtp.py) whose handler timestamps every delivered message;
2. APPEND N copies of the sample emails in samples/maildir/new/ over one IMAP connection,
   round-robin, so referrals, the needs-info email and the auto-reply keep their natural
   proportions (4 : 1 : 1). Each copy gets its own Message-ID, an X-Bench-Copy header and
   (unless --same-sender) a +tag on its sender address, as a day's mail has many senders;
3. run the worker's pass (`run_once` with an ImapSource) until the INBOX is empty and every
   reply the outbox holds has reached the SMTP server;
4. print total seconds, messages/s, p50/p95 arrival -> acknowledgement latency, outcome
   counts and the peak RSS of this process, with the targets of the issue (<= 60 s and
   <= 300 MB for 1,000 emails).

With --idle it runs the daemon's Worker (IMAP IDLE) in a thread instead, APPENDs the emails
one at a time (--gap seconds apart) and prints each email's APPEND -> reply latency (p50 /
p95 / max, targets 0.3 s / 1 s) with the median time of each step on the way.

Run from the project root:

    .venv/bin/python bench/ingest.py                 # 1,000 emails, SQLite in a temp folder
    .venv/bin/python bench/ingest.py --n 300 \\
        --database-url postgresql+psycopg://root@127.0.0.1:5432/intake_bench
    .venv/bin/python bench/ingest.py --profile ingest.prof   # cProfile of the timed part
    .venv/bin/python bench/ingest.py --idle          # IDLE latency: 60 emails, 1 s apart

The PostgreSQL database must exist and be empty (create it before, drop it after).
Everything the bench starts or creates is removed at the end, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import logging
import os
import re
import resource
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from types import FrameType
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, func
from sqlmodel import Session as DbSession
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the `servers` package: real Dovecot and SMTP helpers
sys.path.insert(0, str(ROOT))

from intake.runner import RunReport, make_transport, open_database, run_once  # noqa: E402
from intake.settings import Settings  # noqa: E402
from intake.sources.imap import ImapSource  # noqa: E402
from servers.dovecot import DovecotServer, find_dovecot  # noqa: E402
from servers.intake_config import settings_for  # noqa: E402
from servers.smtp import CapturingHandler, SmtpServer  # noqa: E402
from storage.tables import InboundMessage, OutboxMessage  # noqa: E402

SAMPLES = ROOT / "samples" / "maildir" / "new"
TARGET_SECONDS_PER_1000 = 60.0
TARGET_RSS_MB = 300.0

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)
_FROM = re.compile(rb"^From:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)
_ADDRESS_LOCAL = re.compile(rb"([A-Za-z0-9._%'-]+)@")


# -- mail -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One sample email: its file name (e.g. ``0004.needs-info``) and LF-normalised bytes."""

    name: str
    raw: bytes


def load_samples() -> list[Sample]:
    """The sample emails in file-name order (4 referrals, 1 needs-info, 1 auto-reply)."""
    samples = [
        Sample(path.name, path.read_bytes().replace(b"\r\n", b"\n"))
        for path in sorted(SAMPLES.iterdir())
        if path.is_file()
    ]
    if not samples:
        raise SystemExit(f"no sample emails in {SAMPLES}")
    return samples


def make_copy(sample: Sample, copy: int, run_tag: str, tag_sender: bool) -> tuple[bytes, str]:
    """A distinct copy of `sample`: (CRLF bytes, its new Message-ID).

    Only the top-level header is edited (a forwarded message inside keeps its own): a new
    Message-ID, an ``X-Bench-Copy`` header and, if `tag_sender`, ``+b<copy>`` on the
    sender's address so that copies do not all count against one sender's reply limit.
    """
    split = _HEADER_END.search(sample.raw)
    if split is None:
        raise ValueError(f"{sample.name}: no end of header")
    header, body = sample.raw[: split.start()] + b"\n", sample.raw[split.start() :]
    message_id = f"<bench-{run_tag}-{copy:06d}.{sample.name}@bench.invalid>"
    new_id_line = f"Message-ID: {message_id}\n".encode()
    header, replaced = _MESSAGE_ID.subn(lambda _m: new_id_line, header, count=1)
    if not replaced:
        header += new_id_line
    if tag_sender:
        header = _FROM.sub(
            lambda m: _ADDRESS_LOCAL.sub(rb"\1+b%d@" % copy, m.group(0), count=1), header, count=1
        )
    header = f"X-Bench-Copy: {copy}\n".encode() + header
    raw = header.rstrip(b"\n") + body
    return raw.replace(b"\n", b"\r\n"), message_id


def append_all(dovecot: DovecotServer, n: int, tag_sender: bool) -> tuple[dict[str, float], float]:
    """APPEND `n` copies over one connection; return {Message-ID: arrival time} and seconds.

    Copies are built one at a time and not kept, so they do not swell the peak RSS.
    Arrival is taken when the server has confirmed the APPEND (time.perf_counter()).
    """
    samples = load_samples()
    run_tag = uuid.uuid4().hex[:8]
    arrivals: dict[str, float] = {}
    started = time.perf_counter()
    with dovecot.client() as client:
        for copy in range(n):
            raw, message_id = make_copy(samples[copy % len(samples)], copy, run_tag, tag_sender)
            client.append("INBOX", raw)
            arrivals[message_id] = time.perf_counter()
    return arrivals, time.perf_counter() - started


def expected_outcomes(n: int) -> Counter[str]:
    """How many of each outcome `n` round-robin copies should give (from EXPECTED.json)."""
    expected = json.loads((SAMPLES.parent / "EXPECTED.json").read_text(encoding="utf-8"))
    samples = load_samples()
    counts: Counter[str] = Counter()
    for copy in range(n):
        counts[expected[samples[copy % len(samples)].name]["outcome"]] += 1
    return counts


def inbox_count(dovecot: DovecotServer) -> int:
    """Messages left in the INBOX (own connection, read-only)."""
    with dovecot.client() as client:
        return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])


# -- SMTP -----------------------------------------------------------------------------------


class TimingHandler(CapturingHandler):
    """The tests' capturing handler, but it keeps only when each reply arrived.

    It records the time DATA was received for each ``In-Reply-To`` and counts deliveries;
    message bodies are not kept, so the peak RSS is the worker's, not the capture's.
    """

    def __init__(self) -> None:
        super().__init__()
        self.acked: dict[str, float] = {}
        self.delivered = 0
        self.first_at: float | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Timestamp the delivery and note which message it answers."""
        if self.data_reply is not None:
            return self.data_reply
        at = time.perf_counter()
        headers = BytesHeaderParser(policy=compat32).parsebytes(envelope.original_content or b"")
        answers = str(headers.get("In-Reply-To") or "").strip()
        with self._lock:
            self.delivered += 1
            if self.first_at is None:
                self.first_at = at
            if answers:
                self.acked.setdefault(answers, at)
        return "250 OK"


# -- the timed pass -------------------------------------------------------------------------


@dataclass
class Totals:
    """What the passes did, summed."""

    passes: int = 0
    fetched: int = 0
    errors: int = 0
    waiting: int = 0
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, report: RunReport) -> None:
        """Add one pass's report."""
        self.passes += 1
        self.fetched += report.fetched
        self.errors += report.errors
        self.waiting += report.waiting
        self.sent += report.delivery.sent
        self.outcomes.update(report.outcomes)


def outbox_total(engine: Engine) -> int:
    """Outbox rows written so far (each is a message that should reach the SMTP server)."""
    with DbSession(engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage)).one())


def stored_outcomes(engine: Engine) -> Counter[str]:
    """Stored messages by outcome."""
    with DbSession(engine) as session:
        rows = session.exec(
            select(InboundMessage.outcome, func.count()).group_by(col(InboundMessage.outcome))
        ).all()
    return Counter({str(outcome): int(count) for outcome, count in rows})


def ingest(
    engine: Engine,
    settings: Settings,
    dovecot: DovecotServer,
    handler: TimingHandler,
    timeout: float,
) -> Totals:
    """Run `run_once` until the INBOX is empty and the SMTP server has every outbox row."""
    totals = Totals()
    source = ImapSource(settings)
    transport = make_transport(settings)
    deadline = time.perf_counter() + timeout
    try:
        while True:
            totals.add(run_once(engine, settings, source, transport))
            if inbox_count(dovecot) == 0 and handler.delivered >= outbox_total(engine):
                return totals
            if time.perf_counter() > deadline:
                print(f"!! gave up after {timeout:.0f} s: INBOX or outbox not empty")
                return totals
            time.sleep(0.2)  # e.g. a delivery waiting for its retry time
    finally:
        source.close()


# -- reporting ------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], pct: int) -> float:
    """The `pct`-th percentile (inclusive method); NaN when there is nothing to measure."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


@dataclass
class Timing:
    """What the bench measured around the pass (perf_counter seconds, MB)."""

    append_seconds: float
    arrivals: dict[str, float]  # Message-ID -> APPEND confirmed
    started: float
    finished: float
    cpu: float
    rss_before: float


def report(
    args: argparse.Namespace,
    timing: Timing,
    totals: Totals,
    handler: TimingHandler,
    engine: Engine,
) -> None:
    """Print the figures next to the targets."""
    n = args.n
    arrivals, started = timing.arrivals, timing.started
    seconds = timing.finished - started
    target_seconds = TARGET_SECONDS_PER_1000 * n / 1000
    latencies = [handler.acked[m] - arrivals[m] for m in arrivals if m in handler.acked]
    from_start = [handler.acked[m] - started for m in arrivals if m in handler.acked]
    outcomes = stored_outcomes(engine)
    expected = expected_outcomes(n)
    rss = peak_rss_mb()
    first = handler.first_at
    processing = (first - started) if first is not None else seconds
    outbox = outbox_total(engine)
    other = {k: v for k, v in outcomes.items() if k not in ("referral", "needs_info", "ignored")}

    print()
    print(f"== ingest benchmark: {n} emails, {args.backend}")
    print(
        f"APPEND {n} messages over one IMAP connection: "
        f"{timing.append_seconds:.1f} s (not timed below)"
    )
    print(
        f"passes: {totals.passes} run_once, fetched {totals.fetched}, errors {totals.errors}, "
        f"waiting {totals.waiting}; SMTP received {handler.delivered} of {outbox} outbox rows"
    )
    print(
        f"  mailbox (fetch, store, decide, file, move): {processing:.1f} s; "
        f"outbox delivery: {seconds - processing:.1f} s"
    )
    print(
        f"total seconds         {seconds:8.1f} s   target <= {target_seconds:.0f} s   "
        f"{verdict(seconds <= target_seconds)}"
        + ("" if n == 1000 else f"   (60 s per 1,000 emails, scaled to {n})")
    )
    print(f"messages/s            {n / seconds:8.1f}")
    print(
        f"CPU time in the pass  {timing.cpu:8.1f} s   (this process, all threads; "
        "well below the total means waiting on servers or a busy machine)"
    )
    print(
        f"latency p50 / p95     {percentile(latencies, 50):8.1f} s / "
        f"{percentile(latencies, 95):.1f} s   (APPEND -> reply at SMTP, {len(latencies)} replies)"
    )
    print(
        f"  from pass start     {percentile(from_start, 50):8.1f} s / "
        f"{percentile(from_start, 95):.1f} s   (without the wait while the others were appended)"
    )
    print(
        f"referrals / needs-info / ignored   {outcomes['referral']} / {outcomes['needs_info']} / "
        f"{outcomes['ignored']}   (expected {expected['referral']} / {expected['needs_info']} / "
        f"{expected['ignored']}){'   other: ' + str(other) if other else ''}"
    )
    print(
        f"peak RSS              {rss:8.1f} MB  target <= {TARGET_RSS_MB:.0f} MB  "
        f"{verdict(rss <= TARGET_RSS_MB)}   (before the pass: {timing.rss_before:.1f} MB)"
    )
    missing = sum(expected[k] for k in ("referral", "needs_info")) - len(latencies)
    if missing:
        print(f"note: {missing} referral/needs-info emails got no reply at the SMTP server")


# -- IDLE mode: the real daemon, one email at a time ----------------------------------------

IDLE_TARGET_P50 = 0.3
IDLE_TARGET_P95 = 1.0
# The steps of one email, in the order they happen, as (key, label): each is timed from the
# APPEND confirmed; the breakdown prints the median of each step's delta from the one before.
IDLE_STEPS: tuple[tuple[str, str], ...] = (
    ("exists", "IDLE sees EXISTS (server notify)"),
    ("woke", "IDLE ended, wait returned"),
    ("fetched", "pass start, SEARCH + FETCH (in hand)"),
    ("stored", "stored and committed"),
    ("counted", "start of reading counted (committed)"),
    ("decided", "decided (forked reader)"),
    ("filed", "filed (outcome, outbox row committed)"),
    ("moved", "moved on the server"),
    ("handover", "outbox row claimed, SMTP hand-over starts"),
    ("smtp", "accepted by the SMTP server"),
)


class StepClock:
    """Time stamps of each email's steps through the daemon, taken by wrapping (in this
    process only, at run time) the functions the worker calls; product code is unchanged.

    The worker handles one message at a time in its thread, so the message in hand is the
    one `handle` was last called with; IDLE wake-ups are given to the next message handled.
    """

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, float]] = {}
        self.waiting_since: float | None = None  # the worker entered wait_for_mail
        self._exists: float | None = None
        self._woke: float | None = None
        self._current: str | None = None
        self._lock = threading.Lock()

    def mark(self, step: str, message_id: str | None = None) -> None:
        """Note that `step` just ended for `message_id` (default: the message in hand)."""
        at = time.perf_counter()
        with self._lock:
            key = message_id or self._current
            if key is not None:
                self.steps.setdefault(key, {}).setdefault(step, at)

    def install(self, stack: contextlib.ExitStack) -> None:
        """Wrap the worker's functions; the ExitStack puts the originals back."""
        import intake.pipeline.file as file_module
        import intake.runner as runner_module
        import storage.messages as messages_module
        from notifications.transport import SmtpTransport

        clock = self

        def patch(owner: object, name: str, wrapper_for: Any) -> None:
            original = getattr(owner, name)
            setattr(owner, name, wrapper_for(original))
            stack.callback(setattr, owner, name, original)

        def wait_wrapper(original: Any) -> Any:
            def wait_for_mail(source: ImapSource, timeout: float) -> bool:
                with clock._lock:
                    clock.waiting_since = time.perf_counter()
                result = bool(original(source, timeout))
                with clock._lock:
                    clock._woke = time.perf_counter()
                return result

            return wait_for_mail

        def mail_in_wrapper(original: Any) -> Any:
            def mail_in(responses: Any) -> bool:
                found = bool(original(responses))
                if found:
                    with clock._lock:
                        if clock._exists is None:
                            clock._exists = time.perf_counter()
                return found

            return staticmethod(mail_in)

        def handle_wrapper(original: Any) -> Any:
            def handle(
                filing: Any, settings: Any, source: Any, fetched: Any, *a: Any, **kw: Any
            ) -> Any:
                at = time.perf_counter()
                message_id = _bench_message_id(fetched.raw)
                with clock._lock:
                    clock._current = message_id
                    if message_id is not None:
                        steps = clock.steps.setdefault(message_id, {})
                        steps["fetched"] = at
                        if clock._exists is not None:
                            steps["exists"] = clock._exists
                        if clock._woke is not None:
                            steps["woke"] = clock._woke
                    clock._exists = clock._woke = None
                try:
                    return original(filing, settings, source, fetched, *a, **kw)
                finally:
                    with clock._lock:
                        clock._current = None

            return handle

        def after(step: str) -> Any:
            def wrapper_for(original: Any) -> Any:
                def wrapped(*a: Any, **kw: Any) -> Any:
                    result = original(*a, **kw)
                    clock.mark(step)
                    return result

                return wrapped

            return wrapper_for

        def send_wrapper(original: Any) -> Any:
            def send(transport: Any, message: Any) -> None:
                answers = str(message.get("In-Reply-To") or "").strip() or None
                clock.mark("handover", answers)
                original(transport, message)

            return send

        patch(ImapSource, "wait_for_mail", wait_wrapper)
        patch(ImapSource, "_mail_in", lambda original: mail_in_wrapper(original))
        patch(runner_module, "handle", handle_wrapper)
        patch(messages_module, "receive", after("stored"))
        patch(messages_module, "count_attempt", after("counted"))
        patch(runner_module, "decide_limited", after("decided"))
        patch(file_module, "run", after("filed"))
        patch(ImapSource, "finish", lambda original: _method_after(original, clock, "moved"))
        patch(SmtpTransport, "send", send_wrapper)


def _method_after(original: Any, clock: StepClock, step: str) -> Any:
    def wrapped(self: object, *a: Any, **kw: Any) -> Any:
        result = original(self, *a, **kw)
        clock.mark(step)
        return result

    return wrapped


def _bench_message_id(raw: bytes) -> str | None:
    match = _MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n")
    if match is None:
        return None
    return match.group(0).split(b":", 1)[1].strip().decode("ascii", "replace")


@dataclass
class IdleRun:
    """What the IDLE run measured."""

    arrivals: dict[str, float]  # Message-ID -> APPEND confirmed
    expected_acks: set[str]  # Message-IDs whose sample should be answered
    seconds: float
    worker_error: str | None


def run_idle(
    args: argparse.Namespace,
    settings: Settings,
    dovecot: DovecotServer,
    handler: TimingHandler,
    clock: StepClock,
) -> IdleRun:
    """Start the daemon's Worker in a thread, let it settle in IDLE, then APPEND one email
    every `args.gap` seconds; stop the worker once the replies are in (or on timeout)."""
    from intake.daemon import Worker

    expected = json.loads((SAMPLES.parent / "EXPECTED.json").read_text(encoding="utf-8"))
    samples = load_samples()
    run_tag = uuid.uuid4().hex[:8]
    worker = Worker(settings, interval=args.interval)
    failure: list[str] = []

    def work() -> None:
        try:
            worker.run()
        except BaseException as exc:  # noqa: BLE001 - reported, not raised in a thread
            failure.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=work, name="intake-worker", daemon=True)
    thread.start()
    # Settled: the first (empty) pass is over and the worker has been waiting a moment.
    deadline = time.perf_counter() + 60
    while clock.waiting_since is None and thread.is_alive() and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(args.settle)

    arrivals: dict[str, float] = {}
    answered: set[str] = set()
    started = time.perf_counter()
    with dovecot.client() as client:
        for copy in range(args.n):
            sample = samples[copy % len(samples)]
            raw, message_id = make_copy(sample, copy, run_tag, not args.same_sender)
            next_at = time.perf_counter() + args.gap
            client.append("INBOX", raw)
            arrivals[message_id] = time.perf_counter()
            if expected[sample.name]["outcome"] in ("referral", "needs_info"):
                answered.add(message_id)
            time.sleep(max(0.0, next_at - time.perf_counter()))
        wait_until = time.perf_counter() + args.timeout
        while time.perf_counter() < wait_until and not answered <= handler.acked.keys():
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        # Stop as a signal would: the flag, then a last email to end the IDLE; the worker
        # leaves it on the server (should_stop) and returns.
        worker.stop_requested = True
        client.append("INBOX", make_copy(samples[-1], args.n, run_tag, False)[0])
    thread.join(timeout=60)
    if thread.is_alive():
        failure.append("the worker did not stop within 60 s")
    return IdleRun(arrivals, answered, seconds, failure[0] if failure else None)


def report_idle(
    args: argparse.Namespace, run: IdleRun, handler: TimingHandler, clock: StepClock
) -> None:
    """Print p50/p95/max latency against the targets, and the median of each step."""
    acked = [m for m in run.arrivals if m in handler.acked]
    latencies = [handler.acked[m] - run.arrivals[m] for m in acked]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print()
    print(f"== IDLE latency: {args.n} emails one at a time, {args.gap:.1f} s apart, {args.backend}")
    print(
        f"replies: {len(acked)} of {len(run.expected_acks)} expected "
        f"({args.n - len(run.expected_acks)} auto-replies get none and are not counted)"
        + (f"; worker: {run.worker_error}" if run.worker_error else "")
    )
    print(
        f"latency p50           {p50:8.3f} s   target <= {IDLE_TARGET_P50} s   "
        f"{verdict(p50 <= IDLE_TARGET_P50)}"
    )
    print(
        f"latency p95           {p95:8.3f} s   target <= {IDLE_TARGET_P95} s   "
        f"{verdict(p95 <= IDLE_TARGET_P95)}"
    )
    print(f"latency max           {max(latencies, default=float('nan')):8.3f} s")
    missing = len(run.expected_acks - handler.acked.keys())
    if missing:
        print(f"note: {missing} referral/needs-info emails got no reply at the SMTP server")
    served = [
        handler.acked[m] - clock.steps[m]["exists"]
        for m in acked
        if "exists" in clock.steps.get(m, {})
    ]
    if served:
        p50_served, p95_served = percentile(served, 50), percentile(served, 95)
        print(
            f"  from IDLE's EXISTS  {p50_served:8.3f} s / {p95_served:.3f} s   p50 / p95 "
            f"(the worker's share, {len(served)} emails woken by IDLE)"
        )
    filed = {m: clock.steps[m]["filed"] for m in acked if "filed" in clock.steps.get(m, {})}
    after_filing = [handler.acked[m] - at for m, at in filed.items()]
    if after_filing:
        print(
            f"  from the filing     {percentile(after_filing, 50):8.3f} s / "
            f"{percentile(after_filing, 95):.3f} s   p50 / p95 (outcome and outbox row "
            "committed -> reply at SMTP)"
        )
    print(
        "  (Dovecot holds a change 500 ms before it tells an IDLE client: NOTIFY_DELAY_MSECS "
        "in its mailbox-watch.c)"
    )
    print("where it goes (median of each step, from the step just before it in time):")
    deltas: dict[str, list[float]] = {key: [] for key, _label in IDLE_STEPS}
    places: dict[str, list[float]] = {key: [] for key, _label in IDLE_STEPS}
    for message_id in acked:
        marks = dict(clock.steps.get(message_id, {}))
        marks["smtp"] = handler.acked[message_id]
        # In the order this email went through them (the move may come before or after the
        # hand-over); an email that found the worker busy has no IDLE wake-up of its own.
        previous = run.arrivals[message_id]
        for key, at in sorted(marks.items(), key=lambda item: item[1]):
            if key in deltas:
                deltas[key].append(at - previous)
                places[key].append(at - run.arrivals[message_id])
                previous = at
    order = sorted(
        (key for key, _label in IDLE_STEPS if deltas[key]),
        key=lambda key: statistics.median(places[key]),
    )
    labels = dict(IDLE_STEPS)
    for key in order:
        median = statistics.median(deltas[key]) * 1000
        print(f"  {labels[key]:<44} {median:7.1f} ms  ({len(deltas[key])} emails)")


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--n", type=int, default=None, help="emails to ingest (default 1000; 60 with --idle)"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="SQLAlchemy URL of an EMPTY database (default: SQLite in a temp folder)",
    )
    parser.add_argument(
        "--same-sender",
        action="store_true",
        help="keep each sample's sender: then the per-sender reply limit holds needs-info replies",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up after this many seconds"
    )
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the timed part here")
    idle = parser.add_argument_group("IDLE mode: the daemon, one email at a time")
    idle.add_argument(
        "--idle",
        action="store_true",
        help="run the daemon's Worker (IMAP IDLE) and time each email's acknowledgement",
    )
    idle.add_argument(
        "--gap", type=float, default=1.0, help="seconds from one APPEND to the next (1.0)"
    )
    idle.add_argument(
        "--settle", type=float, default=2.0, help="seconds in IDLE before the first APPEND (2.0)"
    )
    idle.add_argument(
        "--interval",
        type=float,
        default=60.0,
        help="the worker's poll interval, as `intake run --interval` (60)",
    )
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = 60 if args.idle else 1000
    if args.idle and args.profile:
        parser.error("--profile is for the batch mode")
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start the servers, load the mailbox, time the pass, print, clean up."""
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="intake-bench-")))
        dovecot = DovecotServer(binary)
        stack.callback(dovecot.stop)
        dovecot.start()
        smtp = SmtpServer()
        handler = TimingHandler()
        smtp.handler = handler
        stack.callback(smtp.stop)
        smtp.start()

        # The service's defaults, pointed at the bench's servers: no INTAKE_* variable or
        # .env file of the caller changes what is measured.
        for name in [k for k in os.environ if k.startswith("INTAKE_")]:
            del os.environ[name]
        settings = settings_for(tmp, dovecot, smtp, database_url=args.database_url, _env_file=None)
        args.backend = (
            "SQLite (temp folder)"
            if not args.database_url
            else f"PostgreSQL ({settings.resolved_database_url.rsplit('@', 1)[-1]})"
        )
        engine = open_database(settings)
        stack.callback(engine.dispose)
        if sum(stored_outcomes(engine).values()) or outbox_total(engine):
            print("the database is not empty; use a fresh one", file=sys.stderr)
            return 2

        if args.idle:
            clock = StepClock()
            clock.install(stack)
            print(
                f"daemon in IDLE; appending {args.n} emails {args.gap:.1f} s apart "
                f"(Dovecot port {dovecot.port}) ..."
            )
            idle_run = run_idle(args, settings, dovecot, handler, clock)
            report_idle(args, idle_run, handler, clock)
            return 0
        print(f"appending {args.n} emails to {dovecot.user} on Dovecot port {dovecot.port} ...")
        arrivals, append_seconds = append_all(dovecot, args.n, not args.same_sender)
        rss_before = peak_rss_mb()
        print(f"appended in {append_seconds:.1f} s; running the worker ...")

        profiler = cProfile.Profile() if args.profile else None
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            totals = ingest(engine, settings, dovecot, handler, args.timeout)
        finally:
            if profiler is not None:
                profiler.disable()
        finished = time.perf_counter()
        cpu = cpu_seconds() - cpu_before
        if profiler is not None:
            profiler.dump_stats(args.profile)
            print(f"cProfile stats written to {args.profile}")
        timing = Timing(append_seconds, arrivals, started, finished, cpu, rss_before)
        report(args, timing, totals, handler, engine)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: clean up on Ctrl-C and SIGTERM too."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped and temp folders removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
