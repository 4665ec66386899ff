"""Removing a closed referral's personal data: the record, its files, every email of its
conversation (kept here and, by the worker, on the mail server) and what was written about
it. Its reference, dates, status history and audit trail stay."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.audit import record_event
from storage.tables import (
    Attachment,
    InboundMessage,
    MeetingDecision,
    RawMessage,
    Referral,
    ReferralCorrection,
    ReferralMessage,
    ReferralMilestone,
    ReferralNote,
    ReferralScanPage,
    ReferralStatusChange,
)
from storage.workflow import CLOSED, WorkflowError, messages_for


def _still_needed(session: Session, message_id: int, purging: int) -> bool:
    """True when another referral not yet purged holds this email in its conversation."""
    found = session.exec(
        select(Referral.id)
        .join(ReferralMessage, col(ReferralMessage.referral_id) == col(Referral.id))
        .where(
            ReferralMessage.message_id == message_id,
            col(Referral.id) != purging,
            col(Referral.purged_at).is_(None),
        )
    ).first()
    return found is not None


def _forget_email(session: Session, message_id: int) -> None:
    """Empty a stored email and its files; the worker then removes the server's copy."""
    raw = session.get(RawMessage, message_id)
    if raw is not None:
        raw.content = b""
        session.add(raw)
    for attachment in session.exec(select(Attachment).where(Attachment.message_id == message_id)):
        attachment.content = b""
        attachment.filename = "(purged)"
        session.add(attachment)
    copies = session.exec(
        select(InboundMessage).where(
            (col(InboundMessage.id) == message_id) | (InboundMessage.duplicate_of == message_id)
        )
    ).all()
    for message in copies:  # the email, and any second copy of it kept as a duplicate
        if message.id != message_id:
            copy = session.get(RawMessage, message.id)
            if copy is not None:
                copy.content = b""
                session.add(copy)
        message.sender = None
        message.server_purge = True
        session.add(message)


def purge(session: Session, referral: Referral, actor: str, now: datetime) -> None:
    """Remove a closed referral's personal data, in the caller's transaction."""
    assert referral.id is not None
    if referral.status != CLOSED:
        raise WorkflowError("only a closed referral can be purged")
    if referral.legal_hold:
        raise WorkflowError("this referral is on legal hold and cannot be purged")
    if referral.purged_at is not None:
        raise WorkflowError("this referral has been purged already")
    referral.record = {}
    referral.provenance = {}
    referral.problems = []
    referral.child_name = referral.referrer_name = referral.referrer_email = None
    referral.child_dob = referral.incident_date = None
    referral.purged_at = referral.updated_at = now
    session.add(referral)
    for correction in session.exec(
        select(ReferralCorrection).where(ReferralCorrection.referral_id == referral.id)
    ):
        correction.before = correction.after = correction.note = None
        session.add(correction)
    for note in session.exec(select(ReferralNote).where(ReferralNote.referral_id == referral.id)):
        note.text = None
        session.add(note)
    for decision in session.exec(
        select(MeetingDecision).where(MeetingDecision.referral_id == referral.id)
    ):
        decision.reason = decision.undo_reason = None  # the decision itself stays on file
        session.add(decision)
    for milestone in session.exec(
        select(ReferralMilestone).where(ReferralMilestone.referral_id == referral.id)
    ):
        # Who made a notification is a person's name; its date and the Panel's reference
        # are the statutory history, which stays.
        milestone.notified_by = milestone.clear_reason = None
        session.add(milestone)
    for change in session.exec(
        select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
    ):
        change.note = None
        session.add(change)
    for mail in messages_for(session, referral):
        mail.body_text = "(purged)"
        mail.body_html = None
        mail.subject = "(purged)"
        mail.to_addr = "(purged)"
        session.add(mail)
    emails = set(
        session.exec(
            select(ReferralMessage.message_id).where(ReferralMessage.referral_id == referral.id)
        )
    )
    emails.add(referral.message_id)
    for message_id in sorted(emails):
        if not _still_needed(session, message_id, referral.id):
            _forget_email(session, message_id)
    # The form itself goes even when its email stays for another referral: every file of
    # it (photos of a form's pages are several).
    scanned = session.exec(
        select(ReferralScanPage.attachment_id).where(ReferralScanPage.referral_id == referral.id)
    ).all()
    for attachment_id in {referral.attachment_id, *scanned}:
        attachment = session.get(Attachment, attachment_id)
        if attachment is not None:
            attachment.content = b""
            attachment.filename = "(purged)"
            session.add(attachment)
    record_event(session, actor, "referral", referral.id, "purged", now)


def pending_server_purges(session: Session) -> list[InboundMessage]:
    """Emails purged here whose copy on the mail server has still to be removed."""
    return list(
        session.exec(
            select(InboundMessage)
            .where(col(InboundMessage.server_purge).is_(True))
            .order_by(col(InboundMessage.id))
        )
    )
