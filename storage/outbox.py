"""The outbox queue: rows written with the record, sent later by notifications.sender.

A row is claimed inside a transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several senders never take the same row), sent, and marked in that same transaction.
A crash between sending and the commit means one resend with the same Message-ID,
which the recipient's mail client recognises; it never means a lost notification.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage.clock import utcnow
from storage.db import session_scope
from storage.tables import OutboxMessage

PENDING = "pending"
SENT = "sent"
DEAD = "dead"
BOUNCED = "bounced"  # accepted by our server, then reported undeliverable


@contextmanager
def claim_next(engine: Engine, now: datetime | None = None) -> Iterator[OutboxMessage | None]:
    """Yield the next due pending row (locked) or None; changes to it commit on exit."""
    moment = now or utcnow()
    with session_scope(engine) as session:
        row = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= moment)
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        yield row


def mark_sent(row: OutboxMessage) -> None:
    """The server accepted the message."""
    row.status = SENT
    row.attempts += 1
    row.sent_at = utcnow()
    row.last_error = None


def mark_failed(row: OutboxMessage, error: str, retry_in: timedelta | None) -> None:
    """Record a failure; retry later, or give up (dead) when `retry_in` is None."""
    row.attempts += 1
    row.last_error = error
    if retry_in is None:
        row.status = DEAD
    else:
        row.next_attempt_at = utcnow() + retry_in


def rows(session: Session, status: str | None = None) -> list[OutboxMessage]:
    """Outbox rows, optionally of one status, oldest first."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.exec(query))


def requeue(session: Session, row_id: int) -> str:
    """Make a dead or waiting row due now; says what happened, in words for the CLI."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return "no such email"
    if row.status == SENT:
        # Sending it again would give the recipient a second copy; refuse.
        return "already sent; not queued again"
    row.status = PENDING
    row.next_attempt_at = utcnow()
    return "queued"
