"""Read-only views for the review app: quarantined mail, possible duplicate referrals and
the dashboard's counts. Nothing here changes a row; the caller audits what was seen."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import crypto
from storage.messages import DEFANGED_MARK
from storage.tables import (
    AuditEvent,
    InboundMessage,
    MessageState,
    Outcome,
    RawMessage,
    Referral,
    ReferralMessage,
    ReferralStatusChange,
)
from storage.workflow import DECISIONS

NAME_RATIO = 0.85


# --------------------------------------------------------------------------- quarantine


@dataclass(frozen=True)
class HeldMessage:
    """A message that made no referral, as the quarantine page lists it (no content)."""

    id: int
    received_at: datetime
    outcome: str | None
    reason: str | None
    size: int
    kept: bool  # the original is stored (not purged)
    infected: bool  # stored defanged: never offered for download or reprocessing
    mentions: str | None = None  # a reference it quotes without being on that thread
    sender_check: str | None = None  # the receiving server's verdict on the sender
    pending: bool = False  # put back for the worker, which has not taken it yet


# The audit action `messages.reopen_quarantined` writes (the page or `intake reprocess`).
REOPENED = "reprocess"


def _held(session: Session, row: InboundMessage) -> HeldMessage:
    assert row.id is not None
    raw = session.get(RawMessage, row.id)
    stored = crypto.unseal(raw.content) if raw is not None and raw.content else b""
    return HeldMessage(
        id=row.id,
        received_at=row.received_at,
        outcome=row.outcome,
        reason=row.outcome_reason,
        size=row.size,
        kept=bool(stored),
        infected=stored.startswith(DEFANGED_MARK),
        mentions=row.mentions,
        sender_check=row.sender_check,
        pending=row.state == MessageState.RECEIVED,
    )


def quarantined(session: Session) -> list[HeldMessage]:
    """Every quarantined message, and those put back for the worker's next pass (so the
    page can say a reprocess is pending), oldest first."""
    reopened = select(AuditEvent.entity_id).where(
        AuditEvent.entity == "message", AuditEvent.action == REOPENED
    )
    rows = session.exec(
        select(InboundMessage)
        .where(
            (col(InboundMessage.state) == MessageState.QUARANTINED)
            | (
                (col(InboundMessage.state) == MessageState.RECEIVED)
                & col(InboundMessage.id).in_(reopened)
            )
        )
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    )
    return [_held(session, row) for row in rows]


def turned_away(session: Session) -> list[HeldMessage]:
    """Messages rejected or sent back for information that made no referral, oldest first."""
    # Mail in a referral's conversation (it made one, or joined one) is not turned away.
    made_referral = select(ReferralMessage.message_id)
    rows = session.exec(
        select(InboundMessage)
        .where(
            col(InboundMessage.outcome).in_([Outcome.REJECTED, Outcome.NEEDS_INFO]),
            col(InboundMessage.id).not_in(made_referral),
            col(InboundMessage.state) != MessageState.DISMISSED,
        )
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    )
    return [_held(session, row) for row in rows]


def held_message(session: Session, message_id: int) -> HeldMessage | None:
    """One message of the quarantine page (quarantined, or turned away without a
    referral); None for any other message, so the page never serves referral mail."""
    row = session.get(InboundMessage, message_id)
    if row is None:
        return None
    if row.state == MessageState.QUARANTINED:
        return _held(session, row)
    if row.state == MessageState.DISMISSED:
        return None  # on the dismissed list, worked from there
    if row.outcome in (Outcome.REJECTED, Outcome.NEEDS_INFO):
        made = session.exec(
            select(ReferralMessage.id).where(ReferralMessage.message_id == message_id)
        ).first()
        if made is None:
            return _held(session, row)
    return None


# --------------------------------------------------------------------------- duplicates


def name_key(name: str) -> str:
    """A name for comparing: no accents, case, hyphens, apostrophes or extra spaces."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['’‘`´-]", " ", plain)
    plain = re.sub(r"[^\w\s]", "", plain)
    return " ".join(plain.split())


def similar_names(a: str, b: str) -> bool:
    """True when two names are the same or nearly (difflib ratio ≥ 0.85, normalised)."""
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return False
    return ka == kb or difflib.SequenceMatcher(None, ka, kb).ratio() >= NAME_RATIO


def possible_duplicates(session: Session, referral: Referral) -> list[Referral]:
    """Other referrals that may be about the same child: the same date of birth and a
    similar name, or the same (normalised) name when either date of birth is missing."""
    if not referral.child_name:
        return []
    # Names and dates only: with thousands of referrals, loading each whole record to
    # compare two short strings would cost far more than the comparison.
    query = sa_select(col(Referral.id), col(Referral.child_name), col(Referral.child_dob)).where(
        col(Referral.id) != referral.id,
        col(Referral.child_name).is_not(None),
        col(Referral.purged_at).is_(None),
        col(Referral.duplicate_of_id).is_(None),  # already merged: it is not a question now
    )
    if referral.child_dob is not None:
        query = query.where(
            (col(Referral.child_dob) == referral.child_dob) | col(Referral.child_dob).is_(None)
        )
    matches = []
    own = name_key(referral.child_name)
    for other_id, name, dob in session.execute(query):
        if referral.child_dob is not None and dob is not None:
            if similar_names(referral.child_name, name):
                matches.append(other_id)
        elif own and name_key(name) == own:
            matches.append(other_id)
    if not matches:
        return []
    return list(
        session.exec(
            select(Referral)
            .where(col(Referral.id).in_(matches))
            .order_by(col(Referral.received_at), col(Referral.id))
        )
    )


# --------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class DashboardRow:
    """What the dashboard needs of one referral: no names, no record."""

    reference: str
    received_at: datetime
    agency: str | None
    status: str
    decision: str | None  # the SIRG decision, kept when the referral is closed after it
    decision_date: date | None


def dashboard_rows(session: Session, since: datetime | None = None) -> list[DashboardRow]:
    """Every referral (received at or after `since`), with its SIRG decision."""
    last_decision: dict[int, str] = {}
    for referral_id, to_status in session.exec(
        select(ReferralStatusChange.referral_id, ReferralStatusChange.to_status)
        .where(col(ReferralStatusChange.to_status).in_(DECISIONS))
        .order_by(col(ReferralStatusChange.at), col(ReferralStatusChange.id))
    ):
        last_decision[referral_id] = to_status
    query = sa_select(
        col(Referral.id),
        col(Referral.reference),
        col(Referral.received_at),
        col(Referral.referrer_agency),
        col(Referral.status),
        col(Referral.decision_date),
    )
    if since is not None:
        query = query.where(col(Referral.received_at) >= since)
    out = []
    for rid, reference, received, agency, status, decided in session.execute(
        query.order_by(col(Referral.received_at))
    ).all():
        decision = status if status in DECISIONS else last_decision.get(int(rid or 0))
        out.append(DashboardRow(reference, received, agency, status, decision, decided))
    return out
