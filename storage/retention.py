"""Retention (UK GDPR): which closed referrals are past their time, and legal holds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, func, select

from storage.clock import utcnow
from storage.db import session_scope
from storage.purge import purge
from storage.tables import Referral, ReferralStatusChange
from storage.workflow import CLOSED, by_reference, record_event

ACTOR = "retention"


def due_for_purge(engine: Engine, days: int) -> list[str]:
    """References of closed referrals, closed over `days` ago, not held, not purged yet."""
    cutoff = utcnow() - timedelta(days=days)
    closed_at = (
        select(
            ReferralStatusChange.referral_id,
            func.max(ReferralStatusChange.at).label("closed_at"),
        )
        .where(ReferralStatusChange.to_status == CLOSED)
        .group_by(col(ReferralStatusChange.referral_id))
        .subquery()
    )
    with session_scope(engine) as session:
        rows = session.exec(
            select(Referral.reference)
            .join(closed_at, closed_at.c.referral_id == Referral.id)
            .where(
                Referral.status == CLOSED,
                col(Referral.legal_hold).is_(False),
                col(Referral.purged_at).is_(None),
                closed_at.c.closed_at < cutoff,
            )
            .order_by(col(Referral.id))
        ).all()
    return list(rows)


def purge_referral(engine: Engine, reference: str) -> None:
    """Purge one referral's personal data (the workflow's purge, as the retention job)."""
    with session_scope(engine) as session:
        referral = by_reference(session, reference)
        if referral is None:
            raise LookupError(reference)
        purge(session, referral, ACTOR, utcnow())


def set_legal_hold(engine: Engine, reference: str, on: bool) -> bool:
    """Set or lift a legal hold; False when there is no such referral."""
    with session_scope(engine) as session:
        referral = by_reference(session, reference)
        if referral is None or referral.id is None:
            return False
        referral.legal_hold = on
        session.add(referral)
        record_event(
            session,
            "admin",
            "referral",
            referral.id,
            "legal hold" if on else "hold lifted",
            utcnow(),
        )
    return True
