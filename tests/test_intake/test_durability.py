"""The worker's SQLite commits reach the disk at barriers: before anything leaves it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from intake.runner import run_once
from intake.sources.base import MailSource
from intake.wiring import make_source, make_transport, open_database
from notifications.transport import Transport
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, settings_for
from servers.smtp import SmtpServer
from storage.db import Durability, make_durable, make_engine
from storage.messages import ServerIdentity

SAMPLES = ROOT / "samples" / "maildir" / "new"
ROUTING = ROOT / "samples" / "routing.toml"


def _wal_syncs(monkeypatch: pytest.MonkeyPatch, wal: Path, events: list[str]) -> None:
    """Note each fsync of `wal` (the write-ahead log) as a "barrier"."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")) == wal:
            events.append("barrier")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_only_the_workers_engine_leaves_the_wait_for_the_disk_to_barriers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = make_engine(f"sqlite:///{tmp_path}/w.db", Durability.AT_BARRIERS)
    web = make_engine(f"sqlite:///{tmp_path}/web.db")
    with worker.connect() as a, web.connect() as b:
        assert a.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert b.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: every commit
        a.exec_driver_sql("CREATE TABLE t (x)")
        a.exec_driver_sql("INSERT INTO t VALUES (1)")
        a.commit()
    events: list[str] = []
    _wal_syncs(monkeypatch, tmp_path / "w.db-wal", events)
    make_durable(worker)
    make_durable(web)  # its commits were on the disk already: nothing to do
    assert events == ["barrier"]
    worker.dispose()
    web.dispose()


class _Watched:
    """The transport, noting each email it hands over."""

    def __init__(self, inner: Transport, events: list[str]) -> None:
        self._inner, self._events = inner, events

    def send(self, message: Message) -> None:
        self._events.append("send")
        self._inner.send(message)

    def delivered(self, message_id: str) -> bool | None:
        return self._inner.delivered(message_id)

    def close(self) -> None:
        self._inner.close()


class _WatchedSource:
    """The IMAP source, noting each batch it moves on the server."""

    def __init__(self, inner: MailSource, events: list[str]) -> None:
        self._inner, self._events = inner, events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def finish_all(self, moves: Sequence[tuple[ServerIdentity, object]]) -> list[str]:
        self._events.append("move")
        return self._inner.finish_all(moves)  # type: ignore[arg-type]


def test_nothing_leaves_the_worker_before_its_commits_are_on_the_disk(
    tmp_path: Path,
    dovecot_mailbox: DovecotServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every email sent and every move on the mail server comes after a sync of all that
    was committed before it, so a power cut can never leave a referrer holding a reference
    the database lost, nor a message moved out of the mailbox that was never kept."""
    for sample in sorted(SAMPLES.iterdir()):
        dovecot_mailbox.append(sample.read_bytes().replace(b"\n", b"\r\n"))
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, routing_file=ROUTING)
    engine = open_database(settings, Durability.AT_BARRIERS)
    events: list[str] = []
    event.listen(engine, "commit", lambda _connection: events.append("commit"))
    _wal_syncs(monkeypatch, settings.data_dir / "intake.db-wal", events)
    source = _WatchedSource(make_source(settings), events)
    transport = _Watched(make_transport(settings), events)
    report = run_once(engine, settings, source, transport)
    source.close()
    engine.dispose()

    assert report.delivery.sent > 0 and report.moved == len(list(SAMPLES.iterdir()))
    assert events.count("send") == report.delivery.sent and "move" in events
    unsynced = False
    for step in events:
        if step == "commit":
            unsynced = True
        elif step == "barrier":
            unsynced = False
        else:
            assert not unsynced, f"{step} before the commits before it were on the disk"
    assert events[-1] == "barrier"  # and the pass ends with everything on the disk
