"""Engine, sessions and schema upgrades; the same code serves SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session, SQLModel, create_engine

from storage import tables  # noqa: F401  (registers the tables the half-made check looks for)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: every intake process that upgrades a PostgreSQL schema takes this lock.
_PG_UPGRADE_LOCK = 7_425_163_001


class DatabaseStartError(RuntimeError):
    """The database cannot be opened, created or brought up to date; says what to do."""

    def __init__(self, where: str, reason: str, what_to_do: str) -> None:
        self.where = where
        super().__init__(
            f"cannot open the database at {where}: {reason.rstrip('.')}. What to do: {what_to_do}"
        )


class Durability(Enum):
    """When a commit reaches the disk (SQLite; PostgreSQL commits always wait for it)."""

    EVERY_COMMIT = "every commit"  # each commit is on disk when it returns
    # The worker's: commits survive a crash of intake at once (they are in the operating
    # system's hands), and reach the disk at `make_durable`, which the worker calls before
    # anything leaves it (an email sent, a message moved on the mail server) and at the
    # end of each pass. Only a power cut could lose the commits since the last barrier,
    # and nothing outside has been told of them: the emails are still in the mailbox.
    AT_BARRIERS = "at barriers"


# SQLite engines made with Durability.AT_BARRIERS, and the write-ahead log each syncs.
_BARRIER_LOGS: WeakKeyDictionary[Engine, Path] = WeakKeyDictionary()


def _sqlite_pragmas(durability: Durability, dbapi_connection: Any, _record: Any) -> None:
    # busy_timeout first, so that even the switch to WAL waits for a process that holds the
    # file (two first starts at once) rather than failing at once; WAL lets the review
    # queue read while the worker writes; foreign keys are off by default in SQLite and we
    # rely on them. synchronous=NORMAL in WAL mode leaves out the wait for the disk at each
    # commit, never the log's safety: a power cut can lose the newest commits, not corrupt.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    sync = "NORMAL" if durability is Durability.AT_BARRIERS else "FULL"
    cursor.execute(f"PRAGMA synchronous={sync}")
    cursor.close()


def make_durable(engine: Engine) -> None:
    """Put every commit made so far on the disk (see Durability.AT_BARRIERS); a no-op
    for engines whose commits wait for the disk themselves."""
    log = _BARRIER_LOGS.get(engine)
    if log is None:
        return
    try:
        fd = os.open(log, os.O_RDONLY)
    except FileNotFoundError:
        return  # no log: everything was checkpointed into the database, which SQLite synced
    try:
        # fsync flushes the file, whichever descriptor wrote it: this is the sync that
        # synchronous=FULL makes at each commit, made once for all commits since the last.
        os.fsync(fd)
    finally:
        os.close(fd)


def place_of(url: URL) -> str:
    """The database's place for messages: the file, or the URL without password or options."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.set(query={}).render_as_string(hide_password=True)


def make_engine(url: str, durability: Durability = Durability.EVERY_COMMIT) -> Engine:
    """Create an engine for `url`, creating the SQLite folder (private: 0700) when needed."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The URL itself is not repeated: it may hold a password.
        raise DatabaseStartError(
            "the URL in INTAKE_DATABASE_URL",
            "it is not a database URL",
            "give a URL like postgresql+psycopg://user@host/db, or leave it empty for SQLite "
            "in INTAKE_DATA_DIR",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseStartError(
                    parsed.database,
                    f"its folder cannot be made ({exc.strerror})",
                    f"make sure {folder} (INTAKE_DATA_DIR) can be created and written by the "
                    "user intake runs as",
                ) from exc
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", partial(_sqlite_pragmas, durability))
        if durability is Durability.AT_BARRIERS and parsed.database not in (None, "", ":memory:"):
            _BARRIER_LOGS[engine] = Path(f"{parsed.database}-wal").absolute()
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseStartError(
            place_of(parsed),
            f"its driver cannot be loaded ({type(exc).__name__})",
            "use postgresql+psycopg:// or sqlite:/// in INTAKE_DATABASE_URL",
        ) from None


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations, without an alembic.ini on disk."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for configparser (a password may contain one).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to call at every start).

    All or nothing: every migration runs in one transaction on one connection, so a
    process killed part-way leaves the database as it was, and the next start begins
    again. The transaction takes the database's write lock first (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: an advisory lock), so of two processes starting at once one makes the
    schema and the other waits, then finds it made. Any failure is a DatabaseStartError.
    """
    place = place_of(engine.url)
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise DatabaseStartError(place, _reason(exc), _advice(engine, exc, True)) from exc
    if _at_head(connection):
        connection.close()
        return  # the usual start: nothing to migrate, and Alembic is not even loaded
    from alembic.util import CommandError

    try:
        with connection:
            if connection.dialect.name == "sqlite":
                _upgrade_sqlite(connection, place)
            else:
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK}
                        )
                    _migrate(connection, place)
    except DBAPIError as exc:
        raise DatabaseStartError(place, _reason(exc), _advice(engine, exc, False)) from exc
    except CommandError as exc:  # a revision we do not know: a newer intake upgraded it
        raise DatabaseStartError(
            place,
            f"its schema is not one this version of intake knows ({exc})",
            "run the version of intake that last upgraded it, or restore a backup made "
            "before that upgrade",
        ) from exc


def _upgrade_sqlite(connection: Connection, place: str) -> None:
    """The SQLite upgrade, made transactional.

    Python's sqlite3 driver opens a transaction only before INSERT, UPDATE and DELETE, so
    the CREATE TABLEs of a first start each committed on their own: a kill between them
    left tables without a revision, and every later start failed. Here the driver is put
    in autocommit mode (isolation_level None, as SQLAlchemy's pysqlite notes describe) and
    we issue BEGIN IMMEDIATE ourselves, so all DDL and the revision commit together.

    Alembic changes a table by copying it into a new one; with foreign keys enforced,
    dropping the old table fails as soon as other tables point at it. So they are switched
    off for the migration (a PRAGMA that only works outside a transaction) and checked
    before the commit.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    isolation = driver.isolation_level
    try:
        driver.isolation_level = None
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        with connection.begin():
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            _migrate(connection, place)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise DatabaseStartError(
                    place,
                    f"the upgrade would leave broken references ({len(broken)}, first in "
                    f"table {broken[0][0]}), so nothing was changed",
                    "restore the database from a backup, or ask the developers for help "
                    "with this upgrade",
                )
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        driver.isolation_level = isolation
    except BaseException:
        # Never hand the pool a connection left without foreign keys or in autocommit.
        connection.invalidate()
        raise


def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' `revision` and
    `down_revision` lines (importing Alembic to ask takes longer than a start should);
    None unless there is exactly one head."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text_ = script.read_text(encoding="utf-8")
        if (found := _REVISION.search(text_)) is not None:
            revisions.add(found[1])
        if (found := _DOWN_REVISION.search(text_)) is not None:
            parents.add(found[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


_REVISION = re.compile(r"""^revision(?::\s*str)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"""^down_revision(?::[^=]+)?=\s*["']([^"']+)["']""", re.MULTILINE)


def _at_head(connection: Connection) -> bool:
    """True when the schema is already at the newest migration (nothing to do)."""
    head = head_revision()
    try:
        rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        rows = []  # no such table yet: a first start
    connection.rollback()
    return head is not None and [tuple(row) for row in rows] == [(head,)]


def _migrate(connection: Connection, place: str) -> None:
    """Run the migrations on `connection`, inside its transaction, after a sanity check."""
    from alembic import command
    from alembic.migration import MigrationContext

    if MigrationContext.configure(connection).get_current_revision() is None:
        _refuse_a_half_made_schema(connection, place)
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _refuse_a_half_made_schema(connection: Connection, place: str) -> None:
    """Our tables without a revision: a first start stopped part-way by an older version.

    Upgrading would fail on the first CREATE TABLE, so say so plainly instead. Nothing is
    deleted here: whether the tables may go is for a person to decide.
    """
    ours = sorted(set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables))
    if not ours:
        return
    quote = connection.dialect.identifier_preparer.quote
    rows = sum(
        connection.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar_one()
        for name in ours
    )
    if rows:
        advice = (
            f"it holds {rows} rows, so do not delete it: restore the database from a backup, "
            "or ask the developers to mark its schema revision"
        )
    elif connection.dialect.name == "sqlite":
        advice = (
            f"they are all empty, so nothing is lost: delete {place} and the -wal and -shm "
            "files beside it, then start again"
        )
    else:
        advice = (
            "they are all empty, so nothing is lost: drop these tables (or drop and create "
            "the database again), then start again"
        )
    raise DatabaseStartError(
        place,
        f"it has {len(ours)} of intake's tables but no schema revision, so a first start "
        "was stopped part-way (by a version of intake from before first starts were all or "
        "nothing)",
        advice,
    )


def _reason(exc: DBAPIError) -> str:
    """The driver's own message, first line only.

    The driver's later lines and SQLAlchemy's text (the SQL and its parameters) are left
    out: they could quote stored data.
    """
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else type(exc.orig).__name__


def _advice(engine: Engine, exc: DBAPIError, connecting: bool) -> str:
    """What a person can do about a database that did not open (`connecting`) or upgrade."""
    said = _reason(exc).lower()
    if "not a database" in said or "malformed" in said:
        return (
            "check that INTAKE_DATABASE_URL or INTAKE_DATA_DIR point at intake's database; "
            "if they do, restore it from a backup"
        )
    if "locked" in said:
        return (
            "another process held the database for 30 seconds; check that no other intake "
            "command is stuck, then start again"
        )
    if "unable to open" in said or "readonly" in said or "read-only" in said:
        return "make sure the file and its folder can be written by the user intake runs as"
    if connecting and engine.dialect.name != "sqlite":
        return (
            "check INTAKE_DATABASE_URL (host, port, user, password, database name) and that "
            "the database server is running and lets this host connect"
        )
    return (
        "nothing was changed; put right the cause above (on PostgreSQL often the database "
        "user's rights), or restore the database from a backup, then start again"
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
