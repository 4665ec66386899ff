"""A new referral row from a checked record: one place that numbers it and fills the
columns the queue sorts and searches by.

The intake pipeline (a form read from an attachment) and the review queue (a form keyed
in by hand from the quarantine page) both create referrals here, so the two can never
disagree about what a referral row holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from storage.clock import utcnow
from storage.references import next_reference
from storage.tables import (
    Attachment,
    InboundMessage,
    MessageState,
    Outcome,
    RawMessage,
    Referral,
)

# Record keys copied into referral columns, so the queue can sort and search on them.
COLUMN_FOR_KEY = {
    "child.name": "child_name",
    "child.dob": "child_dob",
    "child.incident_date": "incident_date",
    "referrer.name": "referrer_name",
    "referrer.email": "referrer_email",
    "referrer.agency": "referrer_agency",
}
DATE_COLUMNS = ("child_dob", "incident_date")


@dataclass(frozen=True)
class NewReferral:
    """Everything a referral is made from; the record is already checked against its form."""

    message_id: int
    attachment_id: int
    form_id: str
    record: dict[str, Any]
    problems: list[dict[str, str]]
    provenance: dict[str, dict[str, str]]
    complete: bool
    urgent: bool
    received_at: datetime
    reference_year: int  # the UK calendar year of receipt
    panel_due: date | None
    rapid_review_due: date | None


def column_value(column: str, value: Any) -> Any:
    """A record value as its referral column holds it (dates parsed, blanks as None)."""
    if value in (None, "", []):
        return None
    if column in DATE_COLUMNS:
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
    return value


def add_referral(session: Session, new: NewReferral) -> Referral:
    """Number and add the referral in the caller's transaction (flushed: it has an id)."""
    columns = {
        column: column_value(column, new.record.get(key)) for key, column in COLUMN_FOR_KEY.items()
    }
    referral = Referral(
        reference=next_reference(session, new.reference_year),
        message_id=new.message_id,
        attachment_id=new.attachment_id,
        status="new" if new.complete else "needs_info",
        complete=new.complete,
        urgent=new.urgent,
        received_at=new.received_at,
        panel_due=new.panel_due,
        rapid_review_due=new.rapid_review_due,
        record=new.record,
        problems=new.problems,
        provenance=new.provenance,
        form_id=new.form_id,
        created_at=utcnow(),
        **columns,
    )
    session.add(referral)
    session.flush()
    assert referral.id is not None
    return referral


# --------------------------------------------------------------------------- keyed by hand


def keying_sources(session: Session, message_id: int) -> list[Attachment]:
    """A message's stored files that no referral was made from (and whose content is
    kept): what a referral may be keyed in from, besides the email itself."""
    taken = select(Referral.attachment_id)
    rows = session.exec(
        select(Attachment)
        .where(Attachment.message_id == message_id, col(Attachment.id).not_in(taken))
        .order_by(col(Attachment.position))
    ).all()
    return [a for a in rows if a.content]


def email_attachment(session: Session, message: InboundMessage) -> int:
    """An attachment row holding the email itself, for a referral keyed in from its body
    (every referral points at the document it came from). The stored email is already
    sealed, so its bytes are copied as they are."""
    assert message.id is not None
    raw = session.get(RawMessage, message.id)
    if raw is None or not raw.content:
        raise LookupError("the email is not kept")
    last = session.exec(
        select(func.max(Attachment.position)).where(Attachment.message_id == message.id)
    ).one()
    row = Attachment(
        message_id=message.id,
        position=0 if last is None else int(last) + 1,
        filename=f"message-{message.id}.eml",
        content_type="message/rfc822",
        sha256=message.sha256,
        size=message.size,
        outcome="referral",
        reason="keyed in by hand from the email",
        content=raw.content,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def mark_keyed(message: InboundMessage, actor: str) -> None:
    """A message that made no referral now has one, keyed in by a person."""
    was = message.outcome_reason or message.outcome or "no referral"
    message.outcome = Outcome.REFERRAL
    message.outcome_reason = f"keyed in by hand by {actor} (was: {was})"
    if message.state == MessageState.QUARANTINED:
        message.state = MessageState.PROCESSED
