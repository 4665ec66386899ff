"""A first start killed at any moment, or run twice at once, leaves a database that starts."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import intake.runner  # noqa: F401  (imported here once, not by each forked child)
from intake.cli import app
from servers import free_port as _free_port
from servers.intake_config import ROOT, intake_env
from servers.postgres import fresh_postgres_url
from storage.db import alembic_config

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() and SIGKILL")

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
TABLES = set(SQLModel.metadata.tables) | {"alembic_version"}
SEED = 20261130


def _start(env: dict[str, str], log: Path, *args: str) -> int:
    """Fork a child that runs `intake ARGS` exactly as the console script does.

    The modules are imported once, here, so a child is in its start-up work within
    milliseconds and a kill lands where it matters (not in Python's imports), which keeps
    30 kills to seconds. Returns the child's process id.
    """
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        out = open(log, "w", encoding="utf-8")  # noqa: SIM115 (the child ends with os._exit)
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        sys.stdout = sys.stderr = out
        os.environ.update(env)
        try:
            app([*args], prog_name="intake")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        os._exit(code)


def _wait(pid: int, timeout: float = 60) -> int:
    """The child's exit code; -signal when it was killed; fails the test if it hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"`intake` (process {pid}) did not finish within {timeout:.0f}s")


def _env(url: str) -> dict[str, str]:
    # An explicit empty URL also beats any .env file in the working folder.
    return {"INTAKE_DATABASE_URL": url}


def _sqlite_state(db: Path) -> tuple[list[str], set[str]]:
    with sqlite3.connect(db) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
        versions = (
            [row[0] for row in connection.execute("select version_num from alembic_version")]
            if "alembic_version" in tables
            else []
        )
    return versions, tables


def _postgres_state(url: str) -> tuple[list[str], set[str]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            versions = (
                list(connection.execute(text("select version_num from alembic_version")).scalars())
                if "alembic_version" in tables
                else []
            )
    finally:
        engine.dispose()
    return versions, tables


def _clean_start_seconds(tmp_path: Path) -> float:
    """How long a whole first start takes in a forked child on this machine (best of 3)."""
    took = []
    for n in range(3):
        log = tmp_path / f"timing{n}.log"
        started = time.monotonic()
        pid = _start(
            _env("") | {"INTAKE_DATA_DIR": str(tmp_path / f"timing{n}")}, log, "db", "upgrade"
        )
        assert _wait(pid) == 0, log.read_text()
        took.append(time.monotonic() - started)
    return min(took)


def _kill_then_start(env: dict[str, str], where: Path, delay: float) -> tuple[int, int, str]:
    """SIGKILL a first start after `delay` seconds, then start again normally."""
    pid = _start(env, where / "killed.log", "db", "upgrade")
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)  # harmless if it has already finished
    killed = _wait(pid)
    again = _start(env, where / "again.log", "db", "upgrade")
    code = _wait(again)
    return killed, code, (where / "again.log").read_text()


def test_a_first_start_killed_at_any_moment_starts_next_time(tmp_path: Path) -> None:
    window = _clean_start_seconds(tmp_path)
    rng = random.Random(SEED)
    killed_midway = 0
    for attempt in range(30):
        folder = tmp_path / f"try{attempt:02d}"
        folder.mkdir()
        env = _env("") | {"INTAKE_DATA_DIR": str(folder / "data")}
        killed, code, output = _kill_then_start(env, folder, rng.uniform(0, window))
        killed_midway += killed == -signal.SIGKILL
        assert code == 0, f"try {attempt}: the start after the kill failed:\n{output}"
        versions, tables = _sqlite_state(folder / "data" / "intake.db")
        assert versions == [HEAD], f"try {attempt}"
        assert tables >= TABLES, f"try {attempt}: missing {TABLES - tables}"
    # Most kills must really have landed during start-up, not after it (a busy machine
    # makes some starts slower than the fastest clean one measured).
    assert killed_midway >= 15


def test_a_killed_intake_process_starts_next_time(tmp_path: Path) -> None:
    """The same with the real `python -m intake` (its imports take a second or two)."""
    rng = random.Random(SEED)
    for attempt in range(2):
        data = tmp_path / f"try{attempt}"
        env = intake_env(data)
        child = subprocess.Popen(
            [sys.executable, "-m", "intake", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not (data / "intake.db").exists() and child.poll() is None:
            assert time.monotonic() < deadline, "the database file never appeared"
            time.sleep(0.002)
        time.sleep(rng.uniform(0.02, 0.2))  # the schema is being made: kill it there
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        again = subprocess.run(
            [sys.executable, "-m", "intake", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        versions, tables = _sqlite_state(data / "intake.db")
        assert versions == [HEAD] and tables >= TABLES


def test_first_starts_at_the_same_moment_make_the_schema_once(tmp_path: Path) -> None:
    for round_ in range(3):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        env = _env("") | {"INTAKE_DATA_DIR": str(folder / "data")}
        pids = [_start(env, folder / f"{n}.log", "db", "upgrade") for n in range(4)]
        codes = [_wait(pid) for pid in pids]
        logs = "\n".join((folder / f"{n}.log").read_text() for n in range(4))
        assert codes == [0, 0, 0, 0], logs
        versions, tables = _sqlite_state(folder / "data" / "intake.db")
        assert versions == [HEAD] and tables >= TABLES


def test_postgresql_first_start_killed_or_doubled_starts_next_time(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    with fresh_postgres_url() as url:
        started = time.monotonic()
        pid = _start(
            _env(url) | {"INTAKE_DATA_DIR": str(tmp_path)}, tmp_path / "t.log", "db", "upgrade"
        )
        assert _wait(pid) == 0, (tmp_path / "t.log").read_text()
        window = (time.monotonic() - started) * 1.2
    for attempt in range(8):
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        with fresh_postgres_url() as url:
            env = _env(url) | {"INTAKE_DATA_DIR": str(folder)}
            if attempt % 2:
                # Two first starts together: both must succeed, the schema made once.
                pids = [_start(env, folder / f"{n}.log", "db", "upgrade") for n in range(3)]
                codes = [_wait(p) for p in pids]
                logs = "\n".join((folder / f"{n}.log").read_text() for n in range(3))
                assert codes == [0, 0, 0], logs
            else:
                _, code, output = _kill_then_start(env, folder, rng.uniform(0, window))
                assert code == 0, f"try {attempt}:\n{output}"
            versions, tables = _postgres_state(url)
            assert versions == [HEAD] and tables >= TABLES, f"try {attempt}"


def _half_made(data: Path) -> None:
    """What a first start killed by an older version left: tables, but no revision."""
    data.mkdir()
    with sqlite3.connect(data / "intake.db") as connection:
        connection.execute("create table audit_event (id integer primary key)")


def _not_a_database(data: Path) -> None:
    data.mkdir()
    (data / "intake.db").write_text("these are someone's notes, not a database\n" * 200)


PASSWORD = "s3cret-Pa55word"


@pytest.mark.parametrize(
    ("case", "args", "said"),
    [
        ("half_made", ["status", "--no-mailbox"], "cannot open the database at "),
        ("not_a_database", ["serve", "--port", "0"], "cannot open the database at "),
        ("postgres_down", ["db", "upgrade"], "cannot open the database at postgresql"),
        ("no_routing_file", ["digest"], "cannot read routing file"),
        ("bad_setting", ["db", "upgrade"], "INTAKE_IMAP_PORT"),
    ],
)
def test_a_start_that_fails_says_why_and_what_to_do_in_one_line(
    tmp_path: Path, case: str, args: list[str], said: str
) -> None:
    data = tmp_path / "data"
    overrides: dict[str, object] = {}
    if case == "half_made":
        _half_made(data)
    elif case == "not_a_database":
        _not_a_database(data)
    elif case == "postgres_down":
        port = _free_port()
        overrides["database_url"] = f"postgresql+psycopg://intake:{PASSWORD}@127.0.0.1:{port}/x"
    elif case == "no_routing_file":
        overrides["routing_file"] = tmp_path / "routing.toml"
    elif case == "bad_setting":
        overrides["imap_port"] = "nine-nine-three"
    result = subprocess.run(
        [sys.executable, "-m", "intake", *args],
        env=intake_env(data, **overrides),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = result.stderr.strip()
    assert result.returncode == 1, result.stderr
    assert "\n" not in line and line.startswith("intake: "), line
    assert said in line and "What to do: " in line, line
    assert PASSWORD not in line and "Traceback" not in line
