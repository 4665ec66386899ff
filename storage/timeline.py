"""A referral's timeline: every email in and out, status change, correction and record
version, newest first, with who and when. One list for the review page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from parsers.formdef import load_form
from storage.duplicates import merged_into
from storage.tables import (
    Attachment,
    InboundMessage,
    LinkEffect,
    LinkHow,
    Referral,
    ReferralCorrection,
    ReferralMessage,
    ReferralNote,
    ReferralStatusChange,
)
from storage.workflow import messages_for, status_label

EFFECT_WORDS = {
    LinkEffect.CREATED: "made this referral",
    LinkEffect.VERSION: "a new version of the form",
    LinkEffect.SIBLING: "a form for another child (a new, linked referral)",
    LinkEffect.FOLLOW_UP: "added to the referral",
    LinkEffect.AUTOMATIC: "an automatic reply or bounce (not answered)",
    LinkEffect.MERGED: "from a duplicate referral merged into this one",
}
HOW_WORDS = {
    LinkHow.FIRST: "",
    LinkHow.REPLY: "a reply in the thread",
    LinkHow.SUBJECT: "by the reference in its subject",
    LinkHow.BY_HAND: "linked by hand",
    LinkHow.MERGED: "",  # the effect says it
}
KIND_WORDS = {
    "ack": "acknowledgement",
    "needs_info": "request for information (automatic)",
    "rejected": "could not read the email",
    "alert": "alert to a SIRG representative",
    "complete": "thanks: the referral is now complete",
    "follow_up": "reply to a follow-up",
    "new_mail": "note of new mail to the officer or team",
    "officer_ask": "officer asked for information",
    "officer_email": "officer email to the referrer",
    "decision": "SIRG's decision",
    "decision_withdrawn": "SIRG's decision withdrawn",
}


FILE_COLUMNS = (
    col(Attachment.id),
    col(Attachment.message_id),
    col(Attachment.filename),
    col(Attachment.size),
    col(Attachment.outcome),
)


class EntryKind(StrEnum):
    """What a timeline line is."""

    EMAIL_IN = "email_in"
    EMAIL_OUT = "email_out"
    STATUS = "status"
    CORRECTION = "correction"
    NOTE = "note"


@dataclass(frozen=True)
class FileRef:
    """An attached file of an email in the timeline (its content stays in storage)."""

    id: int
    filename: str
    size: int
    outcome: str


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    kind: EntryKind
    who: str
    summary: str
    message_id: int | None = None  # for an email in: the stored email
    files: list[FileRef] = field(default_factory=list)
    note: str = ""
    sender_check: str | None = None  # for an email in: the receiving server's verdict


def _emails_in(session: Session, referral_id: int) -> list[Entry]:
    rows = session.exec(
        select(ReferralMessage, InboundMessage)
        .join(InboundMessage, col(InboundMessage.id) == col(ReferralMessage.message_id))
        .where(ReferralMessage.referral_id == referral_id)
    ).all()
    ids = [m.id for _link, m in rows]
    files: dict[int, list[FileRef]] = {}
    for a in session.execute(  # columns only: the content may be megabytes
        sa_select(*FILE_COLUMNS)
        .where(col(Attachment.message_id).in_(ids))
        .order_by(col(Attachment.position))
    ).all():
        files.setdefault(a[1], []).append(FileRef(int(a[0] or 0), a[2], a[3], a[4]))
    out = []
    for link, message in rows:
        assert message.id is not None
        how = HOW_WORDS.get(LinkHow(link.how), "")
        what = EFFECT_WORDS.get(LinkEffect(link.effect), link.effect)
        if link.version:
            what += f" (version {link.version})"
        who = message.sender or "unknown sender"
        if link.how == LinkHow.BY_HAND:
            who += f"; linked by {link.actor}"
        out.append(
            Entry(
                at=message.received_at,
                kind=EntryKind.EMAIL_IN,
                who=who,
                summary=f"Email in: {what}" + (f", {how}" if how else ""),
                message_id=message.id,
                files=files.get(message.id, []),
                sender_check=message.sender_check,
            )
        )
    return out


def timeline(session: Session, referral: Referral) -> list[Entry]:
    """Everything that happened to a referral, newest first."""
    assert referral.id is not None
    form = load_form(referral.form_id)
    entries = _emails_in(session, referral.id)
    for m in messages_for(session, referral):
        entries.append(
            Entry(
                at=m.sent_at or m.created_at,
                kind=EntryKind.EMAIL_OUT,
                who=f"to {m.to_addr}",
                summary=f"Email out: {KIND_WORDS.get(m.kind, m.kind.replace('_', ' '))}",
                note=f"{m.status}: {m.subject}",
            )
        )
    for c in session.exec(
        select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
    ).all():
        entries.append(
            Entry(
                at=c.at,
                kind=EntryKind.STATUS,
                who=c.actor,
                summary=f"{status_label(c.from_status)} → {status_label(c.to_status)}",
                note=c.note or "",
            )
        )
    for k in session.exec(
        select(ReferralCorrection).where(ReferralCorrection.referral_id == referral.id)
    ).all():
        verb = "Filled" if k.before in (None, "", []) else "Changed"
        label = form.plain_label(k.key)
        entries.append(
            Entry(
                at=k.at,
                kind=EntryKind.CORRECTION,
                who=k.actor,
                summary=f"{verb} “{label}”",
                note=k.note or "",
            )
        )
    for n in session.exec(select(ReferralNote).where(ReferralNote.referral_id == referral.id)):
        entries.append(
            Entry(at=n.at, kind=EntryKind.NOTE, who=n.actor, summary="Case note", note=n.text or "")
        )
    # The case notes of referrals merged into this one are part of its story (their emails
    # joined it as links); the rows stay with the referral they were written on.
    for other in merged_into(session, referral.id):
        for n in session.exec(select(ReferralNote).where(ReferralNote.referral_id == other.id)):
            summary = f"Case note (on {other.reference}, merged into this one)"
            entries.append(
                Entry(at=n.at, kind=EntryKind.NOTE, who=n.actor, summary=summary, note=n.text or "")
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
