"""`bench/ingest.py --idle`: the real daemon in IMAP IDLE, one email at a time, step by step."""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ingest_mail import (  # puts the project root and tests/ on sys.path
    MESSAGE_ID_FIELD,
    SAMPLES,
    TimingHandler,
    load_samples,
    make_copy,
    percentile,
    verdict,
)

from intake.settings import Settings
from intake.sources.imap import ImapSource
from servers.dovecot import DovecotServer

IDLE_TARGET_P50 = 0.3
IDLE_TARGET_P95 = 1.0
# The steps of one email, in the order they happen, as (key, label): each is timed from the
# APPEND confirmed; the breakdown prints the median of each step's delta from the one before.
IDLE_STEPS: tuple[tuple[str, str], ...] = (
    ("exists", "EXISTS seen (IDLE notice or recheck)"),
    ("woke", "IDLE ended, wait returned"),
    ("fetched", "pass start, SEARCH + FETCH (in hand)"),
    ("stored", "stored and committed"),
    ("counted", "start of reading counted (committed)"),
    ("decided", "decided (reader process)"),
    ("filed", "filed (outcome, outbox row committed)"),
    ("moved", "moved on the server"),
    ("handover", "outbox row claimed, SMTP hand-over starts"),
    ("smtp", "accepted by the SMTP server"),
)


class StepClock:
    """Time stamps of each email's steps through the daemon, taken by wrapping (in this
    process only, at run time) the functions the worker calls; product code is unchanged.

    In IDLE, with emails a second apart, the worker has one message in hand at a time, so
    the message in hand is the one `take` was last called with (the runner's overlap of
    two messages needs a backlog); IDLE wake-ups are given to the next message taken.
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
        import intake.handling as handling_module
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
            def wait_for_mail(source: ImapSource, timeout: float, recheck: float = 0.0) -> bool:
                with clock._lock:
                    clock.waiting_since = time.perf_counter()
                result = bool(original(source, timeout, recheck))
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

        def take_wrapper(original: Any) -> Any:
            def take(filing: Any, fetched: Any, *a: Any, **kw: Any) -> Any:
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
                return original(filing, fetched, *a, **kw)

            return take

        def after(step: str) -> Any:
            def wrapper_for(original: Any) -> Any:
                def wrapped(*a: Any, **kw: Any) -> Any:
                    result = original(*a, **kw)
                    clock.mark(step)
                    return result

                return wrapped

            return wrapper_for

        def send_wrapper(original: Any) -> Any:
            def send(transport: Any, message: Any, *rest: Any) -> None:
                answers = str(message.get("In-Reply-To") or "").strip() or None
                clock.mark("handover", answers)
                original(transport, message, *rest)

            return send

        patch(ImapSource, "wait_for_mail", wait_wrapper)
        patch(ImapSource, "_mail_in", lambda original: mail_in_wrapper(original))
        patch(runner_module, "take", take_wrapper)  # the runner's own name for it
        patch(messages_module, "receive", after("stored"))
        patch(messages_module, "count_attempt", after("counted"))
        patch(handling_module, "_collect", after("decided"))
        patch(file_module, "run", after("filed"))
        patch(ImapSource, "finish_all", lambda original: _method_after(original, clock, "moved"))
        patch(SmtpTransport, "_send", send_wrapper)  # `send` and `hand` both come here


def _method_after(original: Any, clock: StepClock, step: str) -> Any:
    def wrapped(self: object, *a: Any, **kw: Any) -> Any:
        result = original(self, *a, **kw)
        clock.mark(step)
        return result

    return wrapped


def _bench_message_id(raw: bytes) -> str | None:
    match = MESSAGE_ID_FIELD.search(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n")
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
    args: argparse.Namespace,
    run: IdleRun,
    handler: TimingHandler,
    clock: StepClock,
    recheck: float,
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
            f"  from the EXISTS     {p50_served:8.3f} s / {p95_served:.3f} s   p50 / p95 "
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
        "in its mailbox-watch.c;\n   the daemon asks with a NOOP every "
        f"INTAKE_IMAP_IDLE_RECHECK = {recheck:g} s while mail is arriving)"
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
