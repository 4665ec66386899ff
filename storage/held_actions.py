"""What officers do with held mail: dismiss it as not a referral (and undo that), or
attach it to a referral's thread. Each writes its audit lines in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.audit import record_event
from storage.insights import HeldMessage, held_message
from storage.referrals import link_message
from storage.tables import (
    InboundMessage,
    LinkEffect,
    LinkHow,
    MessageDismissal,
    MessageState,
    Outcome,
    Referral,
)

MAX_REASON = 2000  # characters of a dismissal reason


class HeldError(StrEnum):
    """Why an action on held mail was refused, for the page to say in its own words."""

    NOT_HELD = "not_held"  # not on the quarantine page (gone, or made a referral)
    INFECTED = "infected"  # held a virus: never joined to a referral
    PURGED = "purged"  # the referral's personal data was removed: it cannot change
    NOT_DISMISSED = "not_dismissed"  # an undo of a dismissal that is not there


class HeldActionError(ValueError):
    """An action on held mail that cannot be done."""

    def __init__(self, why: HeldError) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class Dismissed:
    """A message dismissed as not a referral, as the dismissed list shows it."""

    id: int
    received_at: datetime
    size: int
    outcome: str | None  # what the pipeline made of it before
    by: str
    at: datetime
    reason: str  # sealed at rest; shown to officers only


def dismiss(
    session: Session, message_id: int, reason: str, actor: str, now: datetime
) -> HeldMessage:
    """Take a held message off the quarantine page: not a referral, for `reason`.

    The reason stays with the message (sealed); the audit line only says what was done,
    because a reason may name a child or family and the audit log outlives purges.
    """
    held = held_message(session, message_id)
    row = session.get(InboundMessage, message_id)
    if held is None or row is None or session.get(MessageDismissal, message_id) is not None:
        raise HeldActionError(HeldError.NOT_HELD)
    session.add(
        MessageDismissal(
            message_id=message_id,
            reason=reason.strip()[:MAX_REASON],
            from_state=row.state,
            actor=actor,
            at=now,
        )
    )
    row.state = MessageState.DISMISSED
    session.add(row)
    record_event(session, actor, "message", message_id, "dismissed", now, "not a referral")
    return held


def undo_dismissal(session: Session, message_id: int, actor: str, now: datetime) -> None:
    """Put a dismissed message back where it was (the quarantine page); the reason goes,
    the audit log keeps that it was dismissed and brought back."""
    row = session.get(InboundMessage, message_id)
    dismissal = session.get(MessageDismissal, message_id)
    if row is None or dismissal is None or row.state != MessageState.DISMISSED:
        raise HeldActionError(HeldError.NOT_DISMISSED)
    row.state = dismissal.from_state
    session.add(row)
    session.delete(dismissal)
    record_event(session, actor, "message", message_id, "dismissal undone", now, "back on the page")


def dismissed(session: Session) -> list[Dismissed]:
    """Every dismissed message, the latest dismissal first."""
    rows = session.exec(
        select(InboundMessage, MessageDismissal)
        .join(MessageDismissal, col(MessageDismissal.message_id) == col(InboundMessage.id))
        .where(InboundMessage.state == MessageState.DISMISSED)
        .order_by(col(MessageDismissal.at).desc(), col(InboundMessage.id).desc())
    ).all()
    out = []
    for message, dismissal in rows:
        assert message.id is not None
        out.append(
            Dismissed(
                id=message.id,
                received_at=message.received_at,
                size=message.size,
                outcome=message.outcome_reason or message.outcome,
                by=dismissal.actor,
                at=dismissal.at,
                reason=str(dismissal.reason or ""),
            )
        )
    return out


def attach_to_referral(
    session: Session, message_id: int, referral: Referral, actor: str, now: datetime
) -> None:
    """Join a held message to a referral's thread by hand (through `link_message`, the
    one path that joins them): it is then on the referral's timeline, off this page."""
    assert referral.id is not None
    held = held_message(session, message_id)
    row = session.get(InboundMessage, message_id)
    if held is None or row is None:
        raise HeldActionError(HeldError.NOT_HELD)
    if held.infected:
        raise HeldActionError(HeldError.INFECTED)
    if referral.purged_at is not None:
        raise HeldActionError(HeldError.PURGED)
    link_message(session, referral, message_id, LinkHow.BY_HAND, LinkEffect.FOLLOW_UP, actor, now)
    was = row.outcome_reason or row.outcome or "no referral"
    row.state = MessageState.PROCESSED
    row.outcome = Outcome.FOLLOW_UP
    row.outcome_reason = f"attached by hand to {referral.reference} by {actor} (was: {was})"
    row.processed_at = now
    session.add(row)
    record_event(
        session, actor, "referral", referral.id, "linked by hand", now, f"message {message_id}"
    )
    record_event(
        session, actor, "message", message_id, "attached to referral", now, referral.reference
    )
