"""Load run (#16): the whole service on one PostgreSQL while officers work and mail arrives.

It prints figures and checks; it is not a test. On 127.0.0.1 only, it starts:

- a throwaway PostgreSQL database `intake_load_<pid>` (127.0.0.1:5432, user root, trust
  auth) holding `--referrals` referrals before the run: five made by the real pipeline from
  the sample emails, the rest copied from those as bulk rows (see load_seed.seed);
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
import contextlib
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402
import load_seed  # noqa: E402
import load_support as support  # noqa: E402  (puts the project root and tests/ on the path)
from ingest_mail import load_samples, make_copy  # noqa: E402
from load_checks import FOLDERS, Run, checks, report  # noqa: E402
from load_officers import PASSWORD, run_officers  # noqa: E402
from sqlalchemy import text  # noqa: E402

from servers import free_port  # noqa: E402
from servers.dovecot import DovecotServer, find_dovecot  # noqa: E402
from servers.intake_config import intake_env, settings_for  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402

WEB_PROCESSES = 4
SENDERS = 3


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
    from intake.wiring import open_database
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
    seeded = load_seed.seed(engine, settings, run_args.referrals, officers)
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
