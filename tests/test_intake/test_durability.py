"""The worker's SQLite commits reach the disk at barriers: before anything leaves it."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
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


def _wal_syncs(monkeypatch: pytest.MonkeyPatch, wal: Path, then: Callable[[], None]) -> None:
    """Call `then` after each fsync of `wal` (the write-ahead log)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        real(fd)
        if Path(os.readlink(f"/proc/self/fd/{fd}")) == wal:
            then()

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
    _wal_syncs(monkeypatch, tmp_path / "w.db-wal", lambda: events.append("sync"))
    make_durable(worker)
    make_durable(web)  # its commits were on the disk already: nothing to do
    assert events == ["sync"]
    worker.dispose()
    web.dispose()


class _Watched:
    """The transport, noting the Message-ID of each email it hands over."""

    def __init__(self, inner: Transport, sent: list[str]) -> None:
        self._inner, self._sent = inner, sent

    def send(self, message: Message) -> None:
        self._sent.append(str(message["Message-ID"]))
        self._inner.send(message)

    def delivered(self, message_id: str) -> bool | None:
        return self._inner.delivered(message_id)

    def close(self) -> None:
        self._inner.close()


class _WatchedSource:
    """The IMAP source, noting the UIDs of the messages it moves on the server."""

    def __init__(self, inner: MailSource, moved: list[str]) -> None:
        self._inner, self._moved = inner, moved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def finish_all(self, moves: Sequence[tuple[ServerIdentity, Any]]) -> list[str]:
        self._moved.extend(identity.uid for identity, _ in moves)
        return self._inner.finish_all(moves)


def test_nothing_leaves_the_worker_before_what_it_tells_of_is_on_the_disk(
    tmp_path: Path,
    dovecot_mailbox: DovecotServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each email sent was queued, and each message moved on the mail server was kept and
    filed, in commits that were synced to the disk before it left: a power cut can never
    leave a referrer holding a reference the database lost, nor take a message out of
    the mailbox that was never kept. (Commits after the sync, such as "sent" marks, may
    be lost to a power cut: then an email is sent again, never lost.)"""
    for sample in sorted(SAMPLES.iterdir()):
        dovecot_mailbox.append(sample.read_bytes().replace(b"\n", b"\r\n"))
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, routing_file=ROUTING)
    engine = open_database(settings, Durability.AT_BARRIERS)
    reader = make_engine(settings.resolved_database_url)
    on_disk: dict[str, set[str]] = {"replies": set(), "filed": set()}
    syncs: list[str] = []
    commits = [0]
    event.listen(engine, "commit", lambda _connection: commits.__setitem__(0, commits[0] + 1))

    def synced() -> None:
        # What was committed when the log was synced: it is on the disk from now on.
        with reader.connect() as connection:
            replies = connection.exec_driver_sql("SELECT header_message_id FROM outbox")
            on_disk["replies"] |= {row[0] for row in replies}
            filed = connection.exec_driver_sql(
                "SELECT uid FROM inbound_message WHERE state != 'received'"
            )
            on_disk["filed"] |= {row[0] for row in filed}
        syncs.append("sync")

    _wal_syncs(monkeypatch, settings.data_dir / "intake.db-wal", synced)
    sent: list[str] = []
    moved: list[str] = []
    early: list[str] = []  # what left before it was on the disk

    class _Checked(_Watched):
        def send(self, message: Message) -> None:
            if str(message["Message-ID"]) not in on_disk["replies"]:
                early.append(f"email {message['Message-ID']}")
            super().send(message)

    class _CheckedSource(_WatchedSource):
        def finish_all(self, moves: Sequence[tuple[ServerIdentity, Any]]) -> list[str]:
            early.extend(f"move of {i.uid}" for i, _ in moves if i.uid not in on_disk["filed"])
            return super().finish_all(moves)

    source = _CheckedSource(make_source(settings), moved)
    report = run_once(engine, settings, source, _Checked(make_transport(settings), sent))
    source.close()
    engine.dispose()
    reader.dispose()

    messages = len(list(SAMPLES.iterdir()))
    assert report.delivery.sent == len(sent) > 0 and report.moved == len(moved) == messages
    assert early == []
    # The worker's commits are not each synced: a sync serves several.
    assert 0 < len(syncs) < commits[0] / 2
