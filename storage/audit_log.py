"""The audit log as the audit page reads it: filters, pages, the CSV export, choices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from storage.queue import PAGE_SIZE
from storage.tables import AuditEvent, Referral


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters; times are UTC (the caller turns UK days into them)."""

    actor: str = ""
    entity: str = ""
    action: str = ""
    since: datetime | None = None
    before: datetime | None = None
    page: int = 1


def _audit_conditions(flt: AuditFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.actor:
        where.append(col(AuditEvent.actor) == flt.actor)
    if flt.entity:
        where.append(col(AuditEvent.entity) == flt.entity)
    if flt.action:
        where.append(col(AuditEvent.action) == flt.action)
    if flt.since is not None:
        where.append(col(AuditEvent.at) >= flt.since)
    if flt.before is not None:
        where.append(col(AuditEvent.at) < flt.before)
    return where


def audit_page(
    session: Session, flt: AuditFilter, page_size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int]:
    """One page of audit events, newest first, and the number matching."""
    where = _audit_conditions(flt)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*where)).one()
    rows = session.exec(
        select(AuditEvent)
        .where(*where)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(page_size)
        .offset((max(flt.page, 1) - 1) * page_size)
    ).all()
    return list(rows), int(total)


def audit_all(session: Session, flt: AuditFilter, batch: int = 1000) -> Iterator[AuditEvent]:
    """Every matching audit event, newest first, read in batches (for the CSV export)."""
    where = _audit_conditions(flt)
    last: tuple[datetime, int] | None = None
    while True:
        query = select(AuditEvent).where(*where)
        if last is not None:
            # Keyset paging: steady speed however far into a long log we are.
            query = query.where(
                or_(
                    col(AuditEvent.at) < last[0],
                    and_(col(AuditEvent.at) == last[0], col(AuditEvent.id) < last[1]),
                )
            )
        rows = session.exec(
            query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        tail = rows[-1]
        assert tail.id is not None
        last = (tail.at, tail.id)


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """Distinct entities and actions in the log, for the audit page's filters."""
    return (
        list(session.exec(select(AuditEvent.entity).distinct().order_by(col(AuditEvent.entity)))),
        list(session.exec(select(AuditEvent.action).distinct().order_by(col(AuditEvent.action)))),
    )


def references_for(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Reference numbers of referral ids (for the audit page's links)."""
    if not ids:
        return {}
    return {
        int(i): ref
        for i, ref in session.exec(
            select(Referral.id, Referral.reference).where(col(Referral.id).in_(list(ids)))
        )
        if i is not None
    }
