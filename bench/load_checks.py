"""The load run's record (`Run`) and what is made of it at the end: the report, the checks."""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
from collections import Counter
from dataclasses import dataclass, field

import load_support as support  # puts the project root and tests/ on the path
from ingest_mail import percentile
from load_officers import Stats
from sqlalchemy import Engine, text

FOLDERS = ("INBOX", "Referrals-B", "Referrals-C")
# What must never appear in any process's log.
LOCK_TROUBLE = re.compile(
    r"deadlock detected|DeadlockDetected|could not serialize|SerializationFailure|"
    r"serialization failure",
    re.IGNORECASE,
)


@dataclass
class Run:
    """Everything the report and the checks need."""

    args: argparse.Namespace
    database: str
    engine: Engine
    seeded: dict[str, int]  # highest id per table before the run
    officers: list[str]
    children: support.Children
    handler: support.CaptureHandler
    stats: Stats = field(default_factory=Stats)
    arrivals: dict[str, float] = field(default_factory=dict)
    setup: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    finished_in_time: bool = False
    hwm: dict[str, float] = field(default_factory=dict)  # child name -> VmHWM seen running
    load_before: float = 0.0  # 1-minute load average when the mail began to arrive
    pg_before: dict[int, float] = field(default_factory=dict)  # backend pid -> CPU s
    pg_cpu: float = 0.0  # CPU s of this database's backends during the run (still open at end)
    machine: tuple[float, float] = (0.0, 0.0)  # busy, idle CPU s of the machine in the run


# -- report ---------------------------------------------------------------------------------


def report(run: Run) -> None:
    """Page times, throughput, latency, memory and CPU per process kind."""
    args = run.args
    print(
        f"\n== load run: {args.n} emails over {len(FOLDERS)} mailbox folders, "
        f"{args.referrals} referrals before, {args.officers} officers"
    )
    print(
        f"PostgreSQL database {run.database} on 127.0.0.1:5432 (dropped at the end); "
        f"{os.cpu_count()} CPUs; load average {run.load_before:.1f} when mail began, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"set-up: {args.officers} users {run.setup['users']:.1f} s; {args.referrals} "
        f"referrals {run.setup['referrals']:.1f} s (5 by the pipeline, the rest bulk copies)"
    )
    print(
        f"run: {run.finished - run.started:.1f} s from the first APPEND to the end"
        + ("" if run.finished_in_time else "   (NOT finished: cut short)")
    )
    print(f"\n{'page (client-side ms)':<22}{'count':>7}{'p50':>9}{'p95':>9}{'max':>9}")
    kinds = sorted({k for k, _, _ in run.stats.hits})
    for kind in [*kinds, "overall"]:
        ms = [m for k, m, _ in run.stats.hits if kind in (k, "overall")]
        print(
            f"{kind:<22}{len(ms):>7}{percentile(ms, 50):>9.0f}{percentile(ms, 95):>9.0f}"
            f"{max(ms, default=float('nan')):>9.0f}"
        )
    mine = [c for c in run.handler.captured]
    if run.arrivals and mine:
        first, last = min(run.arrivals.values()), max(c.at for c in mine)
        print(
            f"\nemails/s: {args.n / (last - first):.2f}  ({args.n} emails, first arrival to "
            f"last reply accepted by SMTP: {last - first:.1f} s; offered at "
            f"{args.rate:g}/s, all appended in "
            f"{max(run.arrivals.values()) - first:.1f} s)"
        )
        acked = {c.in_reply_to: c.at for c in mine}
        lat = [acked[m] - at for m, at in run.arrivals.items() if m in acked]
        print(
            f"latency arrival -> reply at SMTP: p50 {percentile(lat, 50):.1f} s, "
            f"p95 {percentile(lat, 95):.1f} s ({len(lat)} replies)"
        )
    # VmHWM read every second while running (wait4's figure counts the bench's memory,
    # copied at fork, for children it started); CPU from wait4, forked readers included.
    print(f"\n{'process kind':<10}{'n':>3}{'peak RSS MB (max)':>19}{'CPU s (sum)':>13}")
    for kind in ("worker", "sender", "web"):
        group = [c for c in run.children.all if c.kind == kind]
        rss = max(run.hwm.get(c.name, 0.0) for c in group)
        cpu = sum(c.cpu for c in group)
        print(f"{kind:<10}{len(group):>3}{rss:>19.0f}{cpu:>13.0f}")
    print(
        f"{'postgres':<10}{'':>3}{'':>19}{run.pg_cpu:>13.0f}   (backends of this database "
        "open at the end, CPU during the run)"
    )
    busy, idle = run.machine
    print(
        f"machine: {busy:.0f} CPU-s busy, {idle:.0f} idle during the run "
        f"({100 * busy / max(busy + idle, 1e-9):.0f}% busy; other work on it included)"
    )
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{'bench':<10}{1:>3}{own.ru_maxrss / 1024:>19.0f}"
        f"{own.ru_utime + own.ru_stime:>13.0f}   (officers, SMTP server, APPEND, seeding)"
    )


# -- checks ---------------------------------------------------------------------------------


def checks(run: Run) -> list[tuple[bool, str]]:
    """Every check as (passed, line)."""
    return [
        run_finished(run),
        no_lost_email(run),
        no_duplicate_referral(run),
        replies_once(run),
        no_duplicate_audit(run),
        officer_changes_once(run),
        no_lock_trouble(run),
        no_server_error(run),
    ]


def run_finished(run: Run) -> tuple[bool, str]:
    # uvicorn ends with the SIGTERM it was stopped by, after its clean shutdown.
    clean = {"worker": (0,), "sender": (0,), "web": (0, -signal.SIGTERM)}
    codes = {c.name: c.code for c in run.children.all if c.code not in clean[c.kind]}
    ok = run.finished_in_time and not codes and not run.stats.failures
    return ok, (
        f"run finished within --max-seconds, every process exited 0 (else: {codes or 'none'}), "
        f"no request went unanswered ({len(run.stats.failures)} did: "
        f"{Counter(run.stats.failures).most_common(3)})"
    )


def stored_by_message_id(run: Run) -> dict[str, list[tuple[int, str, str, int]]]:
    """Run's stored emails by Message-ID: [(id, state, outcome, referrals made)]."""
    with run.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.message_id, m.id, m.state, coalesce(m.outcome, ''), "
                "(SELECT count(*) FROM referral r WHERE r.message_id = m.id) "
                "FROM inbound_message m WHERE m.id > :m"
            ),
            {"m": run.seeded["inbound_message"]},
        ).all()
    out: dict[str, list[tuple[int, str, str, int]]] = {}
    for message_id, *rest in rows:
        out.setdefault(str(message_id), []).append(tuple(rest))  # type: ignore[arg-type]
    return out


def no_lost_email(run: Run) -> tuple[bool, str]:
    stored = stored_by_message_id(run)
    once = [m for m in run.arrivals if len(stored.get(m, [])) == 1]
    twice = [m for m in run.arrivals if len(stored.get(m, [])) > 1]
    stray = [m for m in stored if m not in run.arrivals]
    quarantined = sum(1 for rows in stored.values() for r in rows if r[1] != "processed")
    ok = len(once) == len(run.arrivals) == run.args.n and not stray and not quarantined
    return ok, (
        f"no lost email: {len(once)} of {run.args.n} appended stored exactly once by "
        f"Message-ID ({len(twice)} more than once, {len(stray)} stored not appended, "
        f"{quarantined} not processed)"
    )


def no_duplicate_referral(run: Run) -> tuple[bool, str]:
    stored = stored_by_message_id(run)
    rows = [r for rs in stored.values() for r in rs]
    forms = [r for r in rows if r[2] in ("referral", "needs_info")]
    wrong = [r for r in forms if r[3] != 1] + [r for r in rows if r not in forms and r[3]]
    outcomes = Counter(r[2] for r in rows)
    return not wrong and bool(forms), (
        f"no duplicate referral: {len(forms)} referral emails made "
        f"{sum(r[3] for r in forms)} referrals, {len(wrong)} emails with not exactly one "
        f"(outcomes {dict(outcomes)})"
    )


def replies_once(run: Run) -> tuple[bool, str]:
    with run.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT header_message_id, in_reply_to, status FROM outbox WHERE id > :o"),
            {"o": run.seeded["outbox"]},
        ).all()
    captured = Counter(c.message_id for c in run.handler.captured)
    answers = Counter(c.in_reply_to for c in run.handler.captured if c.in_reply_to)
    ids = {r[0] for r in rows}
    not_once = [r[0] for r in rows if captured[r[0]] != 1]
    unknown = [m for m in captured if m not in ids]
    unsent = [r for r in rows if r[2] != "sent"]
    twice = [m for m, n in answers.items() if n > 1]
    ok = bool(rows) and not (not_once or unknown or unsent or twice)
    return ok, (
        f"every reply sent exactly once: {len(rows)} outbox rows, {len(run.handler.captured)} "
        f"messages at SMTP; {len(not_once)} rows not received exactly once, {len(unknown)} "
        f"received with no row, {len(unsent)} rows not 'sent', {len(twice)} In-Reply-To twice"
    )


def no_duplicate_audit(run: Run) -> tuple[bool, str]:
    with run.engine.connect() as conn:
        total, dupes = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM audit_event WHERE id > :a), count(*) FROM "
                "(SELECT 1 FROM audit_event WHERE id > :a GROUP BY at, actor, entity, "
                "entity_id, action, coalesce(detail, '') HAVING count(*) > 1) d"
            ),
            {"a": run.seeded["audit_event"]},
        ).one()
    return not dupes, (
        f"no duplicate audit row: {total} audit rows written in the run, {dupes} written "
        "twice (same time, actor, entity, action and detail)"
    )


def officer_changes_once(run: Run) -> tuple[bool, str]:
    accepted = Counter()
    for (_name, action), n in run.stats.accepted.items():
        accepted[action] += n
    with run.engine.connect() as conn:
        audit = dict(
            conn.execute(
                text(
                    "SELECT action, count(*) FROM audit_event WHERE id > :a AND actor "
                    "LIKE 'officer%' AND action IN ('note added', 'value corrected', "
                    "'assigned') GROUP BY action"
                ),
                {"a": run.seeded["audit_event"]},
            ).all()
        )
        notes = conn.execute(text("SELECT count(*) FROM referral_note")).scalar()
        fixes = conn.execute(text("SELECT count(*) FROM referral_correction")).scalar()
    ok = (
        audit.get("note added", 0) == accepted["note"] == notes
        and audit.get("value corrected", 0) == accepted["correct"] == fixes
        and audit.get("assigned", 0) <= accepted["assign"]
    )
    return ok, (
        f"each officer change stored and audited once: notes {accepted['note']} posted / "
        f"{notes} stored / {audit.get('note added', 0)} audited; corrections "
        f"{accepted['correct']} / {fixes} / {audit.get('value corrected', 0)}; assignments "
        f"{accepted['assign']} posted / {audit.get('assigned', 0)} audited (the rest were "
        "already theirs)"
    )


def no_lock_trouble(run: Run) -> tuple[bool, str]:
    found: list[str] = []
    errors = Counter()
    for child in run.children.all:
        for line in child.log.read_text(errors="replace").splitlines():
            if LOCK_TROUBLE.search(line):
                found.append(f"{child.name}: {line.strip()[:160]}")
            if " ERROR " in line or "Traceback" in line:
                errors[child.name] += 1
    for line in found[:5]:
        print(f"   {line}")
    return not found, (
        f"no deadlock or serialization failure in any process's log: {len(found)} lines "
        f"({len(run.children.all)} logs read; ERROR lines: {dict(errors) or 'none'})"
    )


def no_server_error(run: Run) -> tuple[bool, str]:
    logged = 0
    for child in run.children.all:
        if child.kind == "web":
            text_ = child.log.read_text(errors="replace")
            logged += len(re.findall(r"review\.access: \S+ \S+ 5\d\d ", text_))
    seen = Counter(run.stats.server_errors)
    for line, n in seen.most_common(5):
        print(f"   {n} x {line}")
    bad = Counter(s for _, _, s in run.stats.hits if s >= 400)
    return not seen and not logged, (
        f"no HTTP 5xx: {len(run.stats.server_errors)} seen by officers, {logged} in the web "
        f"access logs, of {len(run.stats.hits)} requests (4xx: {dict(bad) or 'none'})"
    )
