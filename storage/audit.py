"""The audit trail: one line per view, change, download, sign-in or pipeline step."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.tables import AuditEvent


def record_event(
    session: Session,
    actor: str,
    entity: str,
    entity_id: int,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Add one audit line in the caller's transaction."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor[:100],
            entity=entity[:30],
            entity_id=entity_id,
            action=action[:50],
            detail=detail or None,
        )
    )
