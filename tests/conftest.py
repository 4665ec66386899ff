"""Shared fixtures: real Dovecot, SMTP, database and clamd servers (logic in tests/servers/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import unavailable
from servers.clamd import ClamdServer, find_clamd
from servers.dovecot import DovecotServer, find_dovecot
from servers.postgres import fresh_postgres_url
from servers.smtp import SmtpServer


@pytest.fixture(autouse=True)
def fresh_reader() -> None:
    """Each test's messages are read by a reader forked during that test, so that what the
    test changed in the worker (a stage made to fail) holds in the reader too."""
    from intake.pipeline.isolate import retire_reader

    retire_reader()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot IMAP server for the whole session (user referrals@example.test / secret)."""
    binary = find_dovecot()
    if binary is None:
        unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    with DovecotServer(binary) as server:
        yield server


@pytest.fixture
def dovecot_mailbox(dovecot: DovecotServer) -> DovecotServer:
    """The session Dovecot with INBOX, Processed, Quarantine and Ignored emptied first."""
    dovecot.empty_folders()
    return dovecot


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh capturing SMTP server per test."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the test."""
    with fresh_postgres_url() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/intake.db"
    else:
        with fresh_postgres_url() as url:
            yield url


@pytest.fixture(scope="session")
def clamd() -> Iterator[ClamdServer]:
    """One clamd for the whole session; its only signature matches ``clamd.eicar``."""
    binary = find_clamd()
    if binary is None:
        unavailable("clamd is not installed (apt-get install clamav-daemon)")
    sigtool = shutil.which("sigtool")
    if sigtool is None:
        unavailable("sigtool is not installed (apt-get install clamav)")
    with ClamdServer(binary, sigtool) as server:
        yield server
