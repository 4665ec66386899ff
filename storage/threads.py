"""Which referral an email belongs to: by the Message-IDs it answers, or by a reference
in its subject from someone already on that referral's thread.

A stranger who quotes a reference never joins a referral silently: the email is filed as
new, marked as mentioning the reference, and an officer may link it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from parsers.thread import ThreadClues
from storage.duplicates import kept_of, merged_into
from storage.tables import (
    InboundMessage,
    LinkHow,
    OutboxMessage,
    Referral,
    ReferralMessage,
    ReviewUser,
)


@dataclass(frozen=True)
class Joined:
    """The email joins these referrals' conversation (several when the email it answers
    carried several forms); the first is the one it answers most directly."""

    referrals: list[Referral]
    how: LinkHow


@dataclass(frozen=True)
class Mentioned:
    """The email quotes a reference, but its sender is not on that referral's thread."""

    reference: str


def referrals_of_message(session: Session, message_row_id: int) -> list[Referral]:
    """The referrals whose conversation holds this stored email, oldest first."""
    return list(
        session.exec(
            select(Referral)
            .join(ReferralMessage, col(ReferralMessage.referral_id) == col(Referral.id))
            .where(ReferralMessage.message_id == message_row_id)
            .order_by(col(Referral.id))
        )
    )


def _by_message_ids(session: Session, ids: Sequence[str]) -> list[Referral]:
    """The referrals of the newest of `ids` that is ours (sent or received for a referral)."""
    if not ids:
        return []
    sent = dict(
        session.exec(
            select(OutboxMessage.header_message_id, OutboxMessage.referral_id).where(
                col(OutboxMessage.header_message_id).in_(ids),
                col(OutboxMessage.referral_id).is_not(None),
            )
        ).all()
    )
    received: dict[str, list[int]] = {}
    rows = session.exec(
        select(InboundMessage.message_id, ReferralMessage.referral_id)
        .join(ReferralMessage, col(ReferralMessage.message_id) == col(InboundMessage.id))
        .where(col(InboundMessage.message_id).in_(ids))
        .order_by(col(ReferralMessage.referral_id))
    ).all()
    for header_id, referral_id in rows:
        if header_id is not None:
            received.setdefault(header_id, []).append(referral_id)
    for mid in ids:  # newest first: the message answered most directly wins
        chosen = received.get(mid, [])
        if mid in sent and sent[mid] is not None:
            chosen = [int(sent[mid] or 0), *(r for r in chosen if r != sent[mid])]
        found = [r for r in (session.get(Referral, i) for i in chosen) if r is not None]
        if found:
            # A merged referral's mail goes on in the one it was merged into (once).
            kept = {r.id: r for r in (kept_of(session, f) for f in found)}
            return list(kept.values())
    return []


def thread_addresses(session: Session, referral: Referral, team: Iterable[str]) -> set[str]:
    """Everyone already on a referral's thread: who emailed about it, who we wrote to about
    it, the referrer named on the form, and the LSCP team (with those of the referrals
    merged into it: their emails are in its conversation)."""
    assert referral.id is not None
    merged = merged_into(session, referral.id)
    ids = [referral.id, *(m.id for m in merged if m.id is not None)]
    senders = session.exec(
        select(InboundMessage.sender)
        .join(ReferralMessage, col(ReferralMessage.message_id) == col(InboundMessage.id))
        .where(ReferralMessage.referral_id == referral.id)
    ).all()
    written = session.exec(
        select(func.lower(OutboxMessage.to_addr)).where(col(OutboxMessage.referral_id).in_(ids))
    ).all()
    staff = session.exec(
        select(func.lower(ReviewUser.email)).where(col(ReviewUser.email).is_not(None))
    ).all()
    out = {a for a in (*senders, *written, *staff) if a}
    out.update(a.lower() for a in team)
    out.update(r.referrer_email.lower() for r in (referral, *merged) if r.referrer_email)
    return out


def find_thread(
    session: Session, clues: ThreadClues, team: Iterable[str] = ()
) -> Joined | Mentioned | None:
    """The conversation an email joins, a reference it only mentions, or None (a new one)."""
    by_id = _by_message_ids(session, clues.answers)
    if by_id:
        return Joined(by_id, LinkHow.REPLY)
    team = list(team)
    for reference in clues.references:
        referral = session.exec(select(Referral).where(Referral.reference == reference)).first()
        if referral is None:
            continue
        # A merged reference is answered by the referral it was merged into.
        referral = kept_of(session, referral)
        if clues.sender and clues.sender in thread_addresses(session, referral, team):
            return Joined([referral], LinkHow.SUBJECT)
        return Mentioned(referral.reference)
    return None


def message_ids_of(session: Session, referral_id: int) -> list[str]:
    """The Message-ID header of every email linked to a referral, the first email first."""
    rows = session.exec(
        select(InboundMessage.message_id)
        .join(ReferralMessage, col(ReferralMessage.message_id) == col(InboundMessage.id))
        .where(ReferralMessage.referral_id == referral_id)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    ).all()
    return [m for m in rows if m]


def mentioning(session: Session, reference: str) -> list[InboundMessage]:
    """Emails that quote a reference but were not joined to it, oldest first."""
    return list(
        session.exec(
            select(InboundMessage)
            .where(InboundMessage.mentions == reference)
            .where(
                col(InboundMessage.id).not_in(
                    select(ReferralMessage.message_id)
                    .join(Referral, col(Referral.id) == col(ReferralMessage.referral_id))
                    .where(Referral.reference == reference)
                )
            )
            .order_by(col(InboundMessage.id))
        )
    )


def referrer_address(session: Session, referral: Referral) -> str | None:
    """Where an officer's email to the referrer goes: whoever sent the email the referral
    was made from (a person we have heard from), else the address on the form."""
    assert referral.id is not None
    first = session.exec(
        select(InboundMessage.sender)
        .join(ReferralMessage, col(ReferralMessage.message_id) == col(InboundMessage.id))
        .where(ReferralMessage.referral_id == referral.id, ReferralMessage.how == LinkHow.FIRST)
    ).first()
    return first or referral.referrer_email


def latest_message_id(session: Session, referral: Referral) -> str | None:
    """The Message-ID of the newest email in a referral's conversation (sent or received),
    so an officer's email continues the thread the referrer's mail program shows."""
    assert referral.id is not None
    received = session.exec(
        select(InboundMessage.message_id, InboundMessage.received_at)
        .join(ReferralMessage, col(ReferralMessage.message_id) == col(InboundMessage.id))
        .where(
            ReferralMessage.referral_id == referral.id, col(InboundMessage.message_id).is_not(None)
        )
        .order_by(col(InboundMessage.received_at).desc())
    ).first()
    return received[0] if received else None
