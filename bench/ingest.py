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
import logging
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from ingest_idle import StepClock, report_idle, run_idle
from ingest_mail import (  # puts the project root and tests/ on sys.path
    TimingHandler,
    append_all,
    expected_outcomes,
    inbox_count,
    outbox_total,
    percentile,
    stored_outcomes,
    verdict,
)
from sqlalchemy import Engine

from intake.runner import RunReport, run_once
from intake.settings import Settings
from intake.sources.imap import ImapSource
from intake.wiring import make_transport, open_database
from servers.dovecot import DovecotServer, find_dovecot
from servers.intake_config import settings_for
from servers.smtp import SmtpServer

TARGET_SECONDS_PER_1000 = 60.0
TARGET_RSS_MB = 300.0


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
    idle.add_argument(
        "--recheck",
        type=float,
        default=None,
        help="INTAKE_IMAP_IDLE_RECHECK for this run (default: the service's default)",
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
        chosen = {} if args.recheck is None else {"imap_idle_recheck": args.recheck}
        settings = settings_for(
            tmp, dovecot, smtp, database_url=args.database_url, _env_file=None, **chosen
        )
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
            report_idle(args, idle_run, handler, clock, settings.imap_idle_recheck)
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
