"""The worker's heartbeat: when it last read the mailbox, and which incidents were reported.

An incident is reported once: when the mailbox has been unreadable for the allowed time
(and once more when it recovers), and when new dead outbox rows appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import func, select

from storage.db import session_scope
from storage.outbox import DEAD
from storage.tables import InboundMessage, MessageState, OutboxMessage, WorkerHeartbeat


@dataclass(frozen=True)
class Incidents:
    """What an operator must now be told after one pass."""

    down_since: datetime | None = None  # unreadable for too long: report it
    recovered: bool = False  # was reported down, now reads again
    new_dead_rows: int = 0  # outbox rows newly given up on


def record_pass(
    engine: Engine,
    mailbox: str,
    now: datetime,
    error: str | None,
    down_after: timedelta,
    token_expires_at: datetime | None = None,
) -> Incidents:
    """Store one pass's result and say which incidents to report now."""
    with session_scope(engine) as session:
        beat = session.get(WorkerHeartbeat, mailbox) or WorkerHeartbeat(mailbox=mailbox)
        beat.last_pass_at = now
        beat.token_expires_at = token_expires_at or beat.token_expires_at
        down_since = None
        recovered = False
        if error is None:
            recovered = beat.down_alert_sent_at is not None
            beat.last_ok_at = now
            beat.last_error = None
            beat.failing_since = None
            beat.down_alert_sent_at = None
        else:
            beat.last_error = error
            beat.failing_since = beat.failing_since or now
            if beat.down_alert_sent_at is None and now - beat.failing_since >= down_after:
                beat.down_alert_sent_at = now
                down_since = beat.failing_since
        dead = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == DEAD)
        ).one()
        new_dead = max(0, dead - beat.dead_rows_alerted)
        # Fewer dead rows than before (an operator retried them): count from there.
        beat.dead_rows_alerted = dead
        session.add(beat)
    return Incidents(down_since=down_since, recovered=recovered, new_dead_rows=new_dead)


def heartbeats(engine: Engine) -> list[WorkerHeartbeat]:
    """Every mailbox's heartbeat."""
    with session_scope(engine) as session:
        return list(session.exec(select(WorkerHeartbeat)))


def health_report(engine: Engine, waiting: int | None = None) -> dict[str, Any]:
    """Everything `intake status` and /health show; counts and times only."""
    report: dict[str, Any] = {"database": "ok"}
    try:
        with session_scope(engine) as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            counts = dict(
                session.exec(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
            quarantined = session.exec(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.state == MessageState.QUARANTINED)
            ).one()
    except Exception as exc:
        return {"database": f"unreachable ({type(exc).__name__})"}
    report["outbox"] = {k: counts.get(k, 0) for k in ("pending", "sent", "dead", "bounced")}
    report["quarantined"] = quarantined
    report["waiting_in_mailbox"] = waiting
    report["workers"] = [
        {
            "mailbox": beat.mailbox,
            "last_pass": _iso(beat.last_pass_at),
            "last_success": _iso(beat.last_ok_at),
            "failing_since": _iso(beat.failing_since),
            "last_error": beat.last_error,
            "token_expires": _iso(beat.token_expires_at),
        }
        for beat in heartbeats(engine)
    ]
    return report


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
