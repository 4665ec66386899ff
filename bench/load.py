"""Load run (#16): the whole service on one PostgreSQL while officers work and mail arrives.

It prints figures and checks; it is not a test. On 127.0.0.1 only, it starts:

- a throwaway PostgreSQL database `intake_load_<pid>` (127.0.0.1:5432, user root, trust
  auth) holding `--referrals` referrals before the run: five made by the real pipeline from
  the sample emails, the rest copied from those as bulk rows (see load_support.seed);
- a throwaway Dovecot with three mailbox folders (INBOX, Referrals-B, Referrals-C) and an
  in-process aiosmtpd server that records every message it accepts;
- one worker process per folder (`intake run`: IMAP IDLE, it also sends after each
  message), three outbox sender processes (`deliver_due` in a loop: the CLI has no
  sender-only command) and four review web processes (`intake serve` on four ports);
- `--officers` simulated officers (httpx, each signed in as its own review user, 0.5-2 s
  think time, every request to one of the four web processes at random) browsing the
  queue, the dashboard and referral pages, correcting a field, assigning, adding a note;
- while `--n` copies of samples/maildir/new/* (own Message-ID and sender +tag, as
  bench/ingest.py makes them) are appended round-robin to the three folders.

It stops when every email is stored and moved and every reply has reached the SMTP
server, or at `--max-seconds`. It prints page times, emails/s, latency, peak RSS and CPU
per process kind, then CHECKS (exit 1 when one fails). Everything it made is removed at the
end, on Ctrl-C and on SIGTERM (the database is dropped).

    .venv/bin/python bench/load.py                 # 1,000 emails, 10,000 referrals, 50 officers
    .venv/bin/python bench/load.py --quick         # smoke run: 30 emails, 100 referrals, 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402
import load_support as support  # noqa: E402  (puts the project root and tests/ on the path)
from ingest import load_samples, make_copy, percentile  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from servers import free_port  # noqa: E402
from servers.dovecot import DovecotServer, find_dovecot  # noqa: E402
from servers.intake_config import intake_env, settings_for  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402

FOLDERS = ("INBOX", "Referrals-B", "Referrals-C")
WEB_PROCESSES = 4
SENDERS = 3
PASSWORD = "load run password 16"
CORRECTED = "child.aliases"  # a free-text field every form has; a new value each time
# What must never appear in any process's log.
LOCK_TROUBLE = re.compile(
    r"deadlock detected|DeadlockDetected|could not serialize|SerializationFailure|"
    r"serialization failure",
    re.IGNORECASE,
)
REFERENCE = re.compile(r'href="/referrals/(SIRG-\d{4}-\d{4,})"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- officers -------------------------------------------------------------------------------


@dataclass
class Stats:
    """What the officers saw: (kind, ms, status) per request, failures, accepted changes."""

    hits: list[tuple[str, float, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # no answer (refused, timed out)
    server_errors: list[str] = field(default_factory=list)  # 5xx: "kind path status"
    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (officer, action)
    signed_in: int = 0


@dataclass
class Officer:
    """One simulated officer with its own cookies and the references it has seen."""

    name: str
    client: httpx.AsyncClient
    ports: list[int]
    stats: Stats
    rng: random.Random
    refs: list[str] = field(default_factory=list)
    csrf: str = ""
    done: int = 0

    async def call(self, method: str, path: str, kind: str, **kw: object) -> httpx.Response | None:
        """One request to a web process chosen at random; timed and counted."""
        url = f"http://127.0.0.1:{self.rng.choice(self.ports)}{path}"
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.stats.failures.append(f"{kind} {type(exc).__name__}")
            return None
        ms = (time.perf_counter() - started) * 1000
        self.stats.hits.append((kind, ms, response.status_code))
        if response.status_code >= 500:
            self.stats.server_errors.append(f"{kind} {path} {response.status_code}")
        found = CSRF.search(response.text) if method == "GET" else None
        if found:
            self.csrf = found.group(1)
        return response

    async def sign_in(self) -> bool:
        """The sign-in form, as a browser fills it."""
        await self.call("GET", "/login", "login form")
        response = await self.call(
            "POST", "/login", "sign in",
            data={"name": self.name, "password": PASSWORD, "csrf_token": self.csrf, "next": "/"},
        )  # fmt: skip
        if response is None or response.status_code != 303:
            return False
        self.stats.signed_in += 1
        return await self.queue() is not None

    async def queue(self) -> httpx.Response | None:
        """A queue page: usually the first, sometimes another order, filter or page."""
        query = self.rng.choice(
            ["", "", "?sort=due", "?sort=received", "?page=2", "?page=5", "?status=new",
             "?urgency=urgent", f"?assignee={self.name}", "?q=lily"]
        )  # fmt: skip
        response = await self.call("GET", "/" + query, "queue")
        if response is not None and response.status_code == 200:
            self.refs = REFERENCE.findall(response.text) or self.refs
        return response

    async def post(self, action: str, ref: str, path: str, data: dict[str, str]) -> None:
        """A form POST with the session's CSRF token; then the page it leads to."""
        response = await self.call("POST", path, action, data={**data, "csrf_token": self.csrf})
        if response is None:
            return
        if response.status_code == 303:
            self.stats.accepted[(self.name, action)] += 1
            await self.call("GET", f"/referrals/{ref}", "referral")

    async def act(self) -> None:
        """One step of work, chosen at random (browsing more often than changing)."""
        action = self.rng.choices(
            ["queue", "dashboard", "referral", "correct", "assign", "note"],
            weights=[30, 10, 30, 10, 10, 10],
        )[0]
        if action == "queue" or not self.refs:
            await self.queue()
            return
        if action == "dashboard":
            await self.call("GET", "/dashboard", "dashboard")
            return
        ref = self.rng.choice(self.refs)
        self.done += 1
        tag = f"{self.name}-{self.done}"
        if action == "referral":
            await self.call("GET", f"/referrals/{ref}", "referral")
        elif action == "correct":
            form = await self.call(
                "GET", f"/referrals/{ref}/correct?key={CORRECTED}", "correct form"
            )
            if form is not None and form.status_code == 200:
                data = {"key": CORRECTED, "value": f"Alias {tag}", "note": "load run"}
                await self.post("correct", ref, f"/referrals/{ref}/correct", data)
        elif action == "assign":
            await self.post("assign", ref, f"/referrals/{ref}/assign", {"assignee": self.name})
        else:
            await self.post("note", ref, f"/referrals/{ref}/notes", {"text": f"Note {tag}"})


async def officer_day(officer: Officer, stop: threading.Event, start_delay: float) -> None:
    """Sign in, then work with think times until told to stop."""
    await asyncio.sleep(start_delay)
    try:
        if not await officer.sign_in():
            officer.stats.failures.append(f"sign in failed for {officer.name}")
            return
        while not stop.is_set():
            await officer.act()
            pause = officer.rng.uniform(0.5, 2.0)
            while pause > 0 and not stop.is_set():
                await asyncio.sleep(min(pause, 0.25))
                pause -= 0.25
    finally:
        await officer.client.aclose()


def client_for(number: int) -> httpx.AsyncClient:
    """An officer's browser, at its own workstation address behind the TLS proxy.

    `intake serve` trusts X-Forwarded-For from 127.0.0.1 (uvicorn's proxy headers), as from
    the proxy in production. Without it all officers share one address, and sign-ins in
    flight at once count against it (see bench/README.md).
    """
    address = f"10.16.{number // 250}.{number % 250 + 1}"
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: at the same 5 s
    # (httpx's default) a request can go out on a connection the server is closing.
    limits = httpx.Limits(keepalive_expiry=2.0)
    headers = {"X-Forwarded-For": address}
    return httpx.AsyncClient(timeout=120, headers=headers, limits=limits)


def run_officers(names: list[str], ports: list[int], stop: threading.Event, stats: Stats) -> None:
    """Every officer in one event loop (this thread), each with its own client and cookies."""

    async def main() -> None:
        officers = [
            Officer(name, client_for(i), ports, stats, random.Random(i))
            for i, name in enumerate(names)
        ]
        # Sign-ins spread over the first seconds, as people arrive (argon2 is slow on purpose).
        await asyncio.gather(*(officer_day(o, stop, i * 0.2) for i, o in enumerate(officers)))

    asyncio.run(main())


# -- mail -----------------------------------------------------------------------------------


def append_paced(
    dovecot: DovecotServer, n: int, rate: float, arrivals: dict[str, float], stop: threading.Event
) -> None:
    """APPEND `n` copies round-robin to the three folders, `rate` a second at most."""
    samples = load_samples()
    tag = secrets.token_hex(4)
    with dovecot.client() as client:
        started = time.perf_counter()
        for copy in range(n):
            if stop.is_set():
                return
            wait = started + copy / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            raw, message_id = make_copy(samples[copy % len(samples)], copy, tag, True)
            # Each folder gets every kind of sample in turn, not always the same two.
            client.append(FOLDERS[(copy + copy // len(samples)) % len(FOLDERS)], raw)
            arrivals[message_id] = time.perf_counter()


def waiting_in_folders(dovecot: DovecotServer) -> int:
    """Messages still in the three watched folders."""
    with dovecot.client() as client:
        return sum(int(client.select_folder(f, readonly=True)[b"EXISTS"]) for f in FOLDERS)


# -- the run --------------------------------------------------------------------------------


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


def start_services(run: Run, env: dict[str, str], dovecot: DovecotServer) -> list[int]:
    """Web processes first (waited for), then the senders, then one worker per folder."""
    python = [sys.executable, "-m", "intake"]
    ports = [free_port() for _ in range(WEB_PROCESSES)]
    for i, port in enumerate(ports):
        run.children.start("web", f"web-{i + 1}", [*python, "serve", "--port", str(port)], env)
    for port in ports:
        wait_for_http(f"http://127.0.0.1:{port}/health", run.children)
    sender = [sys.executable, str(BENCH / "load_support.py"), "--sender-loop"]
    for i in range(SENDERS):
        run.children.start("sender", f"sender-{i + 1}", sender, env)
    for i, folder in enumerate(FOLDERS):
        worker_env = env | {"INTAKE_IMAP_FOLDER": folder}
        run.children.start("worker", f"worker-{i + 1}", [*python, "run"], worker_env)
    return ports


def wait_for_http(url: str, children: support.Children, timeout: float = 60.0) -> None:
    """Until `url` answers (any status); stop if a child died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=2)
            return
        children.alive()
        dead = [f"{c.name} (exit code {c.code})" for c in children.all if c.code is not None]
        if dead:
            raise SystemExit(f"{', '.join(dead)} exited during start-up; see its log")
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def all_done(run: Run, dovecot: DovecotServer) -> bool:
    """Every email appended, stored, decided and moved; every reply at the SMTP server."""
    if len(run.arrivals) < run.args.n or waiting_in_folders(dovecot):
        return False
    with run.engine.connect() as conn:
        open_mail, stored, unsent, rows = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM inbound_message WHERE id > :m AND "
                "(state = 'received' OR NOT server_done)), "
                "(SELECT count(*) FROM inbound_message WHERE id > :m), "
                "(SELECT count(*) FROM outbox WHERE id > :o AND status <> 'sent'), "
                "(SELECT count(*) FROM outbox WHERE id > :o)"
            ),
            {"m": run.seeded["inbound_message"], "o": run.seeded["outbox"]},
        ).one()
    captured = len(run.handler.captured)
    return stored >= run.args.n and not open_mail and not unsent and captured >= rows


def watch(run: Run, dovecot: DovecotServer, deadline: float, feeder: threading.Thread) -> None:
    """Until all is done, a child dies or the deadline passes; notes peak RSS meanwhile."""
    last_note = 0.0
    while time.perf_counter() < deadline:
        for child in run.children.all:
            run.hwm[child.name] = max(
                run.hwm.get(child.name, 0.0), support.vm_hwm_mb(child.process.pid)
            )
        alive = run.children.alive()
        if len(alive) < len(run.children.all):
            dead = [c.name for c in run.children.all if c.code is not None]
            print(f"!! {', '.join(dead)} exited during the run; stopping")
            return
        if not feeder.is_alive() and all_done(run, dovecot):
            run.finished_in_time = True
            return
        if time.perf_counter() - last_note > 15:
            last_note = time.perf_counter()
            print(
                f"  {time.perf_counter() - run.started:5.0f} s: appended {len(run.arrivals)}, "
                f"replies at SMTP {len(run.handler.captured)}, page requests "
                f"{len(run.stats.hits)}, 5xx {len(run.stats.server_errors)}",
                flush=True,
            )
        time.sleep(1.0)
    print(f"!! --max-seconds {run.args.max_seconds:.0f} reached; stopping")


def prepare(run_args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> tuple:
    """Database, Dovecot, SMTP, users and the referrals already there; the child env."""
    from intake.runner import open_database
    from review.users import add_user

    database = f"intake_load_{os.getpid()}"
    url = support.create_database(database)
    stack.callback(support.drop_database, database)
    binary = find_dovecot()
    if binary is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    dovecot = DovecotServer(binary)
    stack.callback(dovecot.stop)
    dovecot.start()
    with dovecot.client() as client:
        for folder in FOLDERS[1:]:
            client.create_folder(folder)
    smtp = SmtpServer()
    handler = support.CaptureHandler()
    smtp.handler = handler
    stack.callback(smtp.stop)
    smtp.start()
    for name in [k for k in os.environ if k.startswith("INTAKE_")]:
        del os.environ[name]  # the service's defaults, pointed at these servers only
    data = tmp / "data"
    extra = {"database_url": url, "review_secure_cookies": "false"}
    extra["review_secret"] = secrets.token_urlsafe(48)  # one key for the four web processes
    env = intake_env(data, dovecot, smtp, **extra)
    settings = settings_for(data, dovecot, smtp, _env_file=None, **extra)
    engine = open_database(settings)
    stack.callback(engine.dispose)
    setup: dict[str, float] = {}
    started = time.perf_counter()
    officers = [f"officer{i:02d}" for i in range(1, run_args.officers + 1)]
    for name in officers:
        add_user(engine, name, "officer", PASSWORD)
    setup["users"] = time.perf_counter() - started
    started = time.perf_counter()
    seeded = support.seed(engine, settings, run_args.referrals, officers)
    setup["referrals"] = time.perf_counter() - started
    return database, engine, dovecot, handler, env, seeded, officers, setup


def execute(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> Run:
    """Set up, start every process, let officers work while mail arrives, stop."""
    deadline = time.perf_counter() + args.max_seconds
    print(f"setting up: {args.referrals} referrals, {args.officers} officers ...", flush=True)
    database, engine, dovecot, handler, env, seeded, officers, setup = prepare(args, tmp, stack)
    logs = tmp / "logs"
    logs.mkdir()
    if args.keep_logs:
        stack.callback(lambda: print(f"child logs kept in {args.keep_logs}"))
        stack.callback(lambda: _copy_logs(logs, args.keep_logs))
    children = support.Children(logs)
    run = Run(args, database, engine, seeded, officers, children, handler, setup=setup)
    stack.callback(children.stop)
    print(f"set up in {sum(setup.values()):.0f} s; starting 3 workers, 3 senders, 4 web ...")
    ports = start_services(run, env, dovecot)
    stop = threading.Event()
    stack.callback(stop.set)
    people = threading.Thread(target=run_officers, args=(officers, ports, stop, run.stats))
    people.start()
    signing = time.perf_counter() + 60
    while run.stats.signed_in < len(officers) and time.perf_counter() < signing:
        time.sleep(0.5)
    if run.stats.signed_in < len(officers):
        print(f"!! only {run.stats.signed_in} of {len(officers)} officers signed in")
    run.load_before = os.getloadavg()[0]
    print(f"{run.stats.signed_in} officers at work; {args.n} emails arriving ...", flush=True)
    run.pg_before = support.backend_cpu(database)
    run.machine = support.machine_cpu()
    run.started = time.perf_counter()
    feeder = threading.Thread(
        target=append_paced, args=(dovecot, args.n, args.rate, run.arrivals, stop), daemon=True
    )
    feeder.start()
    try:
        watch(run, dovecot, deadline, feeder)
    finally:
        run.finished = time.perf_counter()
        busy, idle = support.machine_cpu()
        run.machine = (busy - run.machine[0], idle - run.machine[1])
        after = support.backend_cpu(database)  # before the children close their connections
        run.pg_cpu = sum(cpu - run.pg_before.get(pid, 0.0) for pid, cpu in after.items())
        stop.set()
        people.join(timeout=60)
        feeder.join(timeout=30)
        children.stop(("worker",))
        children.stop(("sender",))
        children.stop(("web",))
    return run


def _copy_logs(source: Path, target: Path) -> None:
    import shutil

    shutil.copytree(source, target, dirs_exist_ok=True)


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


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="emails arriving (1000)")
    parser.add_argument("--referrals", type=int, default=10_000, help="referrals before (10000)")
    parser.add_argument("--officers", type=int, default=50, help="simulated officers (50)")
    parser.add_argument("--rate", type=float, default=20.0, help="emails offered per second (20)")
    parser.add_argument(
        "--max-seconds", type=float, default=900.0, help="hard cap on the whole run (900)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 30 / 100 / 5")
    parser.add_argument("--keep-logs", type=Path, help="copy every child's log here")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.referrals, args.officers = 30, 100, 5
    if args.n < 1 or args.referrals < 5 or args.officers < 1 or args.rate <= 0:
        parser.error("--n, --officers >= 1, --referrals >= 5, --rate > 0")
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run, report, check; clean up on every way out (Ctrl-C and SIGTERM too)."""
    args = parse_args(argv)
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with contextlib.ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="intake-load-")))
            run = execute(args, tmp, stack)
            report(run)
            results = checks(run)
            print("\nCHECKS")
            for ok, line in results:
                print(f"{'PASS' if ok else 'FAIL'}  {line}")
            failed = sum(1 for ok, _ in results if not ok)
            print(f"{len(results) - failed} passed, {failed} failed")
        return 1 if failed else 0
    except KeyboardInterrupt:
        print(
            "\ninterrupted; processes stopped, database dropped, temp files removed",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
