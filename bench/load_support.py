"""Helpers for bench/load.py: the throwaway PostgreSQL database, the child processes and
what they use (the outbox sender loop, the SMTP capture).

Run as a script (`python bench/load_support.py --sender-loop`) it is one outbox sender
process: the real `notifications.sender.deliver_due` in a loop, configured from INTAKE_*.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))  # bench/ingest_mail.py

import ingest_mail  # noqa: E402, F401  (puts the project root and tests/ on sys.path)
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from servers.smtp import CapturingHandler  # noqa: E402

PG_HOST, PG_PORT, PG_ADMIN = "127.0.0.1", 5432, "root"


# -- the throwaway database -----------------------------------------------------------------


def admin_engine() -> Engine:
    """AUTOCOMMIT on the `postgres` database (CREATE / DROP DATABASE need that)."""
    url = f"postgresql+psycopg://{PG_ADMIN}@{PG_HOST}:{PG_PORT}/postgres"
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(name: str) -> str:
    """Create `name` (digits and letters only, made by the caller); its SQLAlchemy URL."""
    with admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return f"postgresql+psycopg://{PG_ADMIN}@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(name: str) -> None:
    """Drop it, ending any connection a child left open."""
    with admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- SMTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    """One message the SMTP server accepted."""

    at: float  # time.perf_counter()
    message_id: str
    in_reply_to: str


class CaptureHandler(CapturingHandler):
    """Keeps Message-ID, In-Reply-To and the time of every accepted message (no bodies)."""

    def __init__(self) -> None:
        super().__init__()
        self.captured: list[Captured] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Note the message's ids and when it came."""
        at = time.perf_counter()
        headers = BytesHeaderParser(policy=compat32).parsebytes(envelope.original_content or b"")
        item = Captured(
            at,
            str(headers.get("Message-ID") or "").strip(),
            str(headers.get("In-Reply-To") or "").strip(),
        )
        with self._lock:
            self.captured.append(item)
        return "250 OK"


# -- child processes ------------------------------------------------------------------------


@dataclass
class Child:
    """A child process of the run, its log (stdout + stderr) and, once it ended, its figures."""

    kind: str
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    code: int | None = None
    rss_mb: float = 0.0
    cpu: float = 0.0  # user + system seconds, its reaped children included


class Children:
    """Every process the run started; stopped in reverse order with SIGTERM (then SIGKILL)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.all: list[Child] = []

    def start(self, kind: str, name: str, cmd: list[str], env: dict[str, str]) -> Child:
        """Start `cmd` in its own session (Ctrl-C reaches only the bench, which stops it)."""
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                cmd, env=env, cwd=self.folder, stdin=subprocess.DEVNULL,
                stdout=out, stderr=out, start_new_session=True,
            )  # fmt: skip
        child = Child(kind, name, process, log)
        self.all.append(child)
        return child

    def alive(self) -> list[Child]:
        """Children that have not exited (exited ones are reaped and measured here)."""
        for child in self.all:
            if child.code is None:
                self._reap(child, block=False)
        return [c for c in self.all if c.code is None]

    def stop(self, kinds: tuple[str, ...] | None = None, timeout: float = 20.0) -> None:
        """SIGTERM the children of `kinds` (all when None); SIGKILL what outlives `timeout`."""
        chosen = [c for c in reversed(self.all) if kinds is None or c.kind in kinds]
        for child in chosen:
            if child.code is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in chosen:
            while child.code is None and time.monotonic() < deadline:
                self._reap(child, block=False)
                time.sleep(0.05)
            if child.code is None:
                child.process.kill()
                self._reap(child, block=True)

    def _reap(self, child: Child, block: bool) -> None:
        pid, status, usage = os.wait4(child.process.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        child.code = os.waitstatus_to_exitcode(status)
        child.process.returncode = child.code
        child.rss_mb = usage.ru_maxrss / 1024  # its own peak, or its largest reaped child's
        child.cpu = usage.ru_utime + usage.ru_stime


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database`, by pid."""
    with admin_engine().connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}
        ).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone, or PostgreSQL is not on this machine's /proc
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all CPUs (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, idle / tick


def vm_hwm_mb(pid: int) -> float:
    """Peak RSS so far of a running process (VmHWM), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


# -- the outbox sender process --------------------------------------------------------------


def sender_loop() -> int:
    """One outbox sender: `deliver_due` (the code `intake run` sends with) until SIGTERM."""
    from intake.logsetup import configure
    from intake.settings import Settings
    from intake.wiring import make_transport, open_database
    from notifications.sender import deliver_due

    settings = Settings()
    configure(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine = open_database(settings)
    sent = 0
    while not stop.is_set():
        transport = make_transport(settings)
        try:
            report = deliver_due(engine, transport, lease=settings.handover_lease)
        finally:
            transport.close()
        sent += report.sent
        if not (report.sent or report.retrying or report.dead):
            stop.wait(0.25)  # nothing due: look again shortly
    engine.dispose()
    print(f"sender stopped; sent {sent}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--sender-loop"]:
        sys.exit(sender_loop())
    sys.exit(f"usage: {sys.argv[0]} --sender-loop (started by bench/load.py)")
