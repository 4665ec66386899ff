"""The outbox queue: rows written with the record, sent later by notifications.sender.

Handing a message to an SMTP server and recording that it was handed over can never be
one atomic step: a crash can fall between the server's "250" and our commit. So the
hand-over is bracketed. `claim_next` takes a due row (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several senders never take the same row) and commits the time its
hand-over started *before* anyone talks to the server; `record_sent` / `record_failure`
clear it. A row still marked after `lease` has passed had its sender die mid-hand-over:
it comes back `in_doubt`, and the sender asks the mail system whether the message got
there (the Sent folder) before sending it again. A notification is never lost; it is
sent twice only if the crash came at that instant and the mail system cannot tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, or_, text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.audit import record_event
from storage.clock import utcnow
from storage.db import session_scope
from storage.tables import OutboxMessage

PENDING = "pending"
SENT = "sent"
DEAD = "dead"
BOUNCED = "bounced"  # accepted by our server, then reported undeliverable
# How long a hand-over may take before it counts as interrupted: well over the SMTP
# timeouts of connecting, signing in and sending one message.
HANDOVER_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    """A row taken for sending; `in_doubt` when an earlier hand-over of it never ended."""

    row: OutboxMessage
    in_doubt: bool


def claim_next(
    engine: Engine, now: datetime | None = None, lease: timedelta = HANDOVER_LEASE
) -> Claim | None:
    """Take the next due row, marking (and committing) that its hand-over starts now.

    Rows whose hand-over started less than `lease` ago are left alone: another sender
    may be talking to the server about them right now.
    """
    moment = now or utcnow()
    with session_scope(engine) as session:
        if engine.dialect.name == "sqlite":
            # SQLite has no row locks: take its write lock first (waiting as long as
            # busy_timeout allows), so two processes can never read the same due row.
            session.execute(text("UPDATE outbox SET id = id WHERE 0"))
        row = session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= moment,
                or_(
                    col(OutboxMessage.handover_started_at).is_(None),
                    col(OutboxMessage.handover_started_at) < moment - lease,
                ),
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        in_doubt = row.handover_started_at is not None
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id)
            .values(handover_started_at=moment)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(row, "handover_started_at", moment)
    return Claim(row, in_doubt)


_SENT = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id) == bindparam("sent_id"))
    .values(
        status=SENT,
        attempts=col(OutboxMessage.attempts) + 1,
        sent_at=bindparam("sent_time"),
        last_error=None,
        handover_started_at=None,
    )
)


def record_sent(engine: Engine, row_id: int, confirmed: bool = False) -> None:
    """The server has the message; `confirmed`: found there after an interrupted hand-over."""
    with session_scope(engine) as session:
        # On the session's connection: one plain UPDATE (this runs for every email sent).
        done = session.connection().execute(_SENT, {"sent_id": row_id, "sent_time": utcnow()})
        if not done.rowcount:
            raise LookupError(f"outbox row {row_id} vanished while it was being sent")
        if confirmed:
            detail = "found in the Sent folder after an interrupted hand-over"
            record_event(session, "system", "outbox", row_id, "confirmed sent", utcnow(), detail)


def record_failure(
    engine: Engine, row_id: int, error: str, retry_in: timedelta | None
) -> OutboxMessage:
    """The hand-over failed: retry after `retry_in`, or never (dead) when it is None."""
    with session_scope(engine) as session:
        row = _ended(session, row_id)
        mark_failed(row, error, retry_in)
        return row


def _ended(session: Session, row_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise LookupError(f"outbox row {row_id} vanished while it was being sent")
    row.handover_started_at = None
    session.add(row)
    return row


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


def replies_since(to_addr: str, kinds: Sequence[str], since: datetime) -> SelectOfScalar[int]:
    """How many emails of these kinds went to `to_addr` (any case) since `since`: answered
    from the index ix_outbox_recipient_time, however large the outbox."""
    return (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            func.lower(OutboxMessage.to_addr) == to_addr.lower(),
            col(OutboxMessage.kind).in_(kinds),
            col(OutboxMessage.created_at) >= since,
        )
    )
