"""A fresh, uniquely named PostgreSQL database per use, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from . import unavailable

HOST = "127.0.0.1"
PORT = 5432
# Trust auth on the test machines; the superuser is called root on some, postgres on others.
ADMIN_USERS = ("root", "postgres")


def _url(user: str, database: str) -> URL:
    return URL.create("postgresql+psycopg", username=user, host=HOST, port=PORT, database=database)


def _admin_engine() -> Engine:
    """An AUTOCOMMIT engine on the ``postgres`` database (CREATE/DROP DATABASE need that)."""
    errors = []
    for user in ADMIN_USERS:
        engine = create_engine(
            _url(user, "postgres"),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 3},
        )
        try:
            with engine.connect():
                return engine
        except OperationalError as exc:
            errors.append(f"{user}: {' '.join(str(exc.orig).split())}")
            engine.dispose()
    unavailable(f"PostgreSQL not reachable at {HOST}:{PORT} ({'; '.join(errors)})")


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """Create ``intake_test_<hex>``, yield its SQLAlchemy URL, then drop it.

    Skips the test when PostgreSQL is unreachable, unless env CI is set: then it fails.
    """
    admin = _admin_engine()
    name = f"intake_test_{secrets.token_hex(6)}"
    user = admin.url.username or ADMIN_USERS[0]
    try:
        with admin.connect() as conn:
            # The name is generated here from hex digits only, so quoting it is safe.
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield _url(user, name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                # Code under test may leave pooled connections open; DROP refuses while any exist.
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
