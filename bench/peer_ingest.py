"""django-mailbox's getmail vs our worker on one Dovecot backlog: `.venv/bin/python bench/peer_ingest.py [--n 1000] [--rounds 2] [--quick]`."""  # noqa: E501

from __future__ import annotations

import argparse
import compileall
import contextlib
import getpass
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # bench/ingest_mail.py: the backlog generator and the SMTP handler

import ingest_mail  # noqa: E402  (puts the project root and tests/ on sys.path too)
from child_run import Child, check, run_child  # noqa: E402

from servers.dovecot import DovecotServer, find_dovecot  # noqa: E402
from servers.intake_config import intake_env, settings_for  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402
from storage.db import make_engine  # noqa: E402

ROOT = ingest_mail.ROOT
# What `pip install django django-mailbox` gave on 2026-12-01, pinned so that every run
# measures the same code (issue #16 measured django-mailbox 4.10).
PEER_PINS = ("Django==5.2.19", "django-mailbox==4.10.1")
VENVS = ROOT / "var" / "bench-venvs"
PACKAGES = ("intake", "parsers", "storage", "notifications", "review")
PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "peer_bench"
ARCHIVE = "Processed"  # django-mailbox copies each message here, as our worker files it

PEER_SETTINGS = """\
SECRET_KEY = "peer-bench-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django_mailbox"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
MEDIA_ROOT = {media!r}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING_CONFIG = None
"""

PEER_MANAGE = """\
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""


# -- the backlog ----------------------------------------------------------------------------


def refill(dovecot: DovecotServer, n: int, samples: list[ingest_mail.Sample]) -> float:
    """Empty every folder, then APPEND the same `n` copies (same bytes every time)."""
    dovecot.empty_folders()
    started = time.perf_counter()
    with dovecot.client() as client:
        for copy in range(n):
            raw, _ = ingest_mail.make_copy(samples[copy % len(samples)], copy, "peer", True)
            client.append("INBOX", raw)
    seconds = time.perf_counter() - started
    if ingest_mail.inbox_count(dovecot) != n:
        raise SystemExit("the INBOX does not hold the backlog")
    return seconds


# -- their side: django-mailbox -------------------------------------------------------------


def peer_venv(fresh: bool, tmp: Path) -> Path:
    """A venv with the pinned Django and django-mailbox: var/bench-venvs/ reused, or a new one."""
    name = "-".join(pin.replace("==", "-").lower() for pin in reversed(PEER_PINS))
    venv = (tmp / "peer-venv") if fresh else VENVS / name
    marker = venv / "bench-pins.txt"
    if marker.exists() and marker.read_text() == "\n".join(PEER_PINS):
        print(f"peer venv (reused): {venv}")
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"peer venv: creating {venv} with {' '.join(PEER_PINS)} ...")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_PINS], check=True
    )
    marker.write_text("\n".join(PEER_PINS))
    return venv


def peer_versions(python: Path) -> str:
    """Django and django-mailbox versions as installed in the peer venv."""
    code = (
        "from importlib.metadata import version as v; "
        "print(f\"Django {v('django')}, django-mailbox {v('django-mailbox')}\")"
    )
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


class Peer:
    """A minimal Django project in a temp folder with one IMAP Mailbox pointing at Dovecot."""

    def __init__(self, python: Path, folder: Path, dovecot: DovecotServer, timeout: float):
        self.python = python
        self.folder = folder
        self.timeout = timeout
        self.db = folder / "db.sqlite3"
        self.template = folder / "migrated.sqlite3"
        self.media = folder / "media"
        folder.mkdir()
        (folder / "peer_settings.py").write_text(
            PEER_SETTINGS.format(db=str(self.db), media=str(self.media))
        )
        (folder / "manage.py").write_text(PEER_MANAGE)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
        user = quote(dovecot.user, safe="")
        uri = f"imap://{user}:{quote(dovecot.password, safe='')}@{dovecot.host}:{dovecot.port}"
        self.uri = f"{uri}?archive={ARCHIVE}"
        # Schema and mailbox once, untimed; each round starts from a copy of this database.
        check(self.manage("migrate", "--noinput"), "django migrate")
        create = (
            "from django_mailbox.models import Mailbox; "
            f"Mailbox.objects.create(name='referrals', uri={self.uri!r})"
        )
        check(self.manage("shell", "-c", create), "creating the Mailbox")
        shutil.move(self.db, self.template)

    def manage(self, *args: str) -> Child:
        """`python manage.py ARGS` in the peer venv."""
        cmd = [str(self.python), "manage.py", *args]
        return run_child(cmd, self.env, self.folder, self.folder / "last.log", self.timeout)

    def reset(self) -> None:
        """A fresh database (the migrated copy) and no attachment files."""
        shutil.copyfile(self.template, self.db)
        shutil.rmtree(self.media, ignore_errors=True)

    def stored(self) -> str:
        """How many messages and attachments django-mailbox stored."""
        code = (
            "from django_mailbox.models import Message, MessageAttachment; "
            "print(Message.objects.count(), MessageAttachment.objects.count())"
        )
        child = self.manage("shell", "-c", code)
        check(child, "counting django-mailbox's messages")
        messages, attachments = child.log.read_text().split()[-2:]
        return f"{messages} messages, {attachments} attachments stored"


# -- our side: the intake worker ------------------------------------------------------------


def postgres_answers() -> bool:
    """True when something accepts connections on 127.0.0.1:5432."""
    with contextlib.suppress(OSError), socket.create_connection((PG_HOST, PG_PORT), timeout=2):
        return True
    return False


def recreate_pg(drop_only: bool = False) -> None:
    """Drop the bench database and (unless `drop_only`) create it empty."""
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, dbname="postgres", user=getpass.getuser(), autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {PG_DB}")


def ours(tmp: Path, dovecot: DovecotServer, database_url: str, timeout: float) -> tuple[Child, str]:
    """`intake run --once` until the INBOX is empty and SMTP has every outbox row.

    A fresh data folder (and database) per run; the schema is made before the timer starts
    (`intake db upgrade`), as django-mailbox's `migrate` is. Replies go by SMTP to an
    in-process aiosmtpd server, so the worker does all of its own work, acknowledgements
    included. Runs from the temp folder so that no `.env` is read.
    """
    data = Path(tempfile.mkdtemp(prefix="ours-", dir=tmp))
    smtp = SmtpServer()
    handler = ingest_mail.TimingHandler()
    smtp.handler = handler
    smtp.start()
    try:
        env = intake_env(data, dovecot, smtp, database_url=database_url)
        if database_url:
            recreate_pg()
        intake = [sys.executable, "-m", "intake"]
        check(run_child([*intake, "db", "upgrade"], env, data, data / "up.log", 120), "upgrade")
        url = settings_for(data, dovecot, smtp, database_url=database_url, _env_file=None)
        engine = make_engine(url.resolved_database_url)
        seconds, rss, tree, passes = 0.0, 0.0, 0.0, 0
        try:
            deadline = time.perf_counter() + timeout
            while True:
                child = run_child([*intake, "run", "--once"], env, data, data / "run.log", timeout)
                check(child, "intake run --once")
                seconds += child.seconds
                rss = max(rss, child.rss_mb)
                tree = max(tree, child.tree_mb)
                passes += 1
                done = ingest_mail.inbox_count(dovecot) == 0
                if done and handler.delivered >= ingest_mail.outbox_total(engine):
                    break
                if time.perf_counter() > deadline:
                    print(f"!! gave up after {timeout:.0f} s: INBOX or outbox not empty")
                    break
            outcomes = ingest_mail.stored_outcomes(engine)
        finally:
            engine.dispose()
        note = (
            f"{passes} pass(es); referral/needs-info/ignored {outcomes['referral']}/"
            f"{outcomes['needs_info']}/{outcomes['ignored']}; {handler.delivered} replies by SMTP"
        )
        return Child(0, seconds, rss, data / "run.log", tree), note
    finally:
        smtp.stop()


# -- main -----------------------------------------------------------------------------------


@dataclass
class Result:
    """One timed run of one side."""

    side: str
    round: int
    seconds: float
    rss_mb: float
    tree_mb: float
    note: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="emails in the backlog (1000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, sides alternating (2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: --n 50")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL side")
    parser.add_argument(
        "--fresh-venv", action="store_true", help="install the peer in a temp venv, not var/"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="per side and round (s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = 50
    if args.n < 1 or args.rounds < 1:
        parser.error("--n and --rounds must be at least 1")
    return args


def report(args: argparse.Namespace, results: list[Result], sides: list[str]) -> None:
    """Per round and side, then medians, ratios and peak RSS."""
    n = args.n
    print(f"\n== {n} emails, {args.rounds} round(s); seconds from spawn to exit (imports too)")
    for r in results:
        print(
            f"round {r.round}  {r.side:<26} {r.seconds:7.2f} s {n / r.seconds:8.1f} emails/s"
            f"  peak RSS {r.rss_mb:6.1f} MB  tree PSS {r.tree_mb:6.1f} MB   {r.note}"
        )
    medians = {s: statistics.median(r.seconds for r in results if r.side == s) for s in sides}
    peaks = {s: max(r.rss_mb for r in results if r.side == s) for s in sides}
    trees = {s: max(r.tree_mb for r in results if r.side == s) for s in sides}
    print("\nmedian of rounds:")
    for side in sides:
        print(
            f"  {side:<26} {medians[side]:7.2f} s {n / medians[side]:8.1f} emails/s"
            f"  peak RSS {peaks[side]:6.1f} MB  tree PSS {trees[side]:6.1f} MB"
        )
    print(
        "(peak RSS: the largest process, from wait4; tree PSS: the largest sampled sum over "
        "the process and its children, e.g. our worker and its reader)"
    )
    theirs = medians[THEIRS]
    print(f"ratio ours/theirs, SQLite:     {medians[OURS_SQLITE] / theirs:.2f}")
    if OURS_PG in medians:
        print(f"ratio ours/theirs, PostgreSQL: {medians[OURS_PG] / theirs:.2f}")
    print(
        "(>1: our worker is slower. It parses the forms, stores encrypted copies, files and "
        "acknowledges; django-mailbox stores the message and its attachments only.)"
    )


OURS_SQLITE = "ours intake (SQLite)"
OURS_PG = "ours intake (PostgreSQL)"
THEIRS = "theirs django-mailbox"


def byte_compile() -> None:
    """Our packages byte-compiled, as `pip install` leaves them (and django-mailbox's):
    with PYTHONDONTWRITEBYTECODE set, as on this machine, every `intake run` would
    otherwise compile some 120 modules from source at start-up, about 0.3 s."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def run(args: argparse.Namespace) -> int:
    """Set up both sides once, then time them round by round on the same backlog."""
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)", file=sys.stderr)
        return 2
    use_pg = not args.no_postgres and postgres_answers()
    byte_compile()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peer-bench-")))
        venv = peer_venv(args.fresh_venv, tmp)
        versions = peer_versions(venv / "bin" / "python")
        dovecot = DovecotServer(binary)
        stack.callback(dovecot.stop)
        dovecot.start()
        if use_pg:
            stack.callback(recreate_pg, True)
        peer = Peer(venv / "bin" / "python", tmp / "peer", dovecot, args.timeout)
        pg_url = f"postgresql+psycopg://{getpass.getuser()}@{PG_HOST}:{PG_PORT}/{PG_DB}"

        def theirs() -> tuple[Child, str]:
            peer.reset()
            child = peer.manage("getmail")
            check(child, "manage.py getmail")
            left = ingest_mail.inbox_count(dovecot)
            return child, f"{peer.stored()}; {left} left in INBOX"

        sides: dict[str, Callable[[], tuple[Child, str]]] = {
            OURS_SQLITE: lambda: ours(tmp, dovecot, "", args.timeout),
            THEIRS: theirs,
        }
        if use_pg:
            sides[OURS_PG] = lambda: ours(tmp, dovecot, pg_url, args.timeout)
        order = list(sides)
        samples = ingest_mail.load_samples()
        print(f"peer: {versions}; Dovecot port {dovecot.port}")
        print(f"PostgreSQL: {f'database {PG_DB} on {PG_HOST}:{PG_PORT}' if use_pg else 'off'}")
        results: list[Result] = []
        for round_ in range(1, args.rounds + 1):
            for side in order if round_ % 2 else order[::-1]:
                appended = refill(dovecot, args.n, samples)
                print(f"round {round_}: {args.n} emails appended in {appended:.1f} s; {side} ...")
                child, note = sides[side]()
                results.append(
                    Result(side, round_, child.seconds, child.rss_mb, child.tree_mb, note)
                )
                print(
                    f"  {child.seconds:.2f} s, peak RSS {child.rss_mb:.1f} MB, "
                    f"tree PSS {child.tree_mb:.1f} MB; {note}"
                )
        report(args, results, order)
        print(f"\nversions: {versions}; intake from {ROOT}; Python {sys.version.split()[0]}")
        print(f"peer venv: {venv}" + (" (removed)" if args.fresh_venv else " (kept for reuse)"))
    return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point: clean up on Ctrl-C and SIGTERM too."""
    args = parse_args(argv)
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped and temp folders removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
