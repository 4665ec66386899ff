"""The one path that creates or changes a referral from a form: numbered, clocked, linked
to the emails of its conversation, and audited, in the caller's transaction.

The intake pipeline (a form read from an attachment, first or later in a conversation)
and the review queue (a form keyed in by hand) all come here, so they can never disagree
about what a referral holds. Replies and alerts are composed by `notifications` from what
these functions return, and added to the same transaction by the caller.
"""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from parsers.formdef import load_form
from parsers.schema import check_record
from parsers.statutory import UK, due_dates, is_urgent
from storage.audit import record_event
from storage.clock import utcnow
from storage.references import next_reference
from storage.scans import StoredPage, save_pages
from storage.tables import (
    Attachment,
    InboundMessage,
    LinkEffect,
    LinkHow,
    MessageState,
    Outcome,
    RawMessage,
    Referral,
    ReferralCorrection,
    ReferralMessage,
    ReferralStatusChange,
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
NEW = "new"
NEEDS_INFO = "needs_info"
CHECK_SCAN = "check_scan"  # read from a scan: waits for an officer's check (storage.workflow)


@dataclass(frozen=True)
class FormReading:
    """A form as read from a document or keyed in by hand, from one stored file."""

    message_id: int  # the stored email it came in
    attachment_id: int  # the stored file (or the email itself) it was read from
    form_id: str
    record: dict[str, Any]
    problems: list[dict[str, str]]
    provenance: dict[str, dict[str, str]]
    # Read from pixels (a scan or photo): the referral waits for an officer to check what
    # was read against these pages before anyone is asked for missing answers.
    scanned: bool = False
    scan_pages: tuple[StoredPage, ...] = ()


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


def _blank(value: Any) -> bool:
    return value in (None, "", [])


def open_mandatory(
    form_id: str, record: dict[str, Any], problems: list[dict[str, Any]]
) -> list[str]:
    """Mandatory keys still empty or not valid, in form order: what the referrer is asked for."""
    bad = {str(p.get("key")) for p in problems}
    return [k for k in load_form(form_id).mandatory_keys() if _blank(record.get(k)) or k in bad]


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    return {column: column_value(column, record.get(key)) for key, column in COLUMN_FOR_KEY.items()}


def link_message(
    session: Session,
    referral: Referral,
    message_id: int,
    how: LinkHow,
    effect: LinkEffect,
    actor: str,
    now: datetime,
) -> ReferralMessage:
    """Put an email in a referral's conversation (once; a second call returns the first).
    A referral made just now (effect CREATED) is in no conversation yet: its link is not
    looked for first."""
    assert referral.id is not None
    if effect != LinkEffect.CREATED:
        existing = session.exec(
            select(ReferralMessage).where(
                ReferralMessage.referral_id == referral.id,
                ReferralMessage.message_id == message_id,
            )
        ).first()
        if existing is not None:
            return existing
    link = ReferralMessage(
        referral_id=referral.id,
        message_id=message_id,
        how=how,
        effect=effect,
        version=referral.version if effect in (LinkEffect.CREATED, LinkEffect.VERSION) else None,
        actor=actor,
        at=now,
    )
    session.add(link)
    if effect in (LinkEffect.FOLLOW_UP, LinkEffect.VERSION, LinkEffect.SIBLING):
        referral.new_mail = True  # shown in the queue until an officer opens the referral
        session.add(referral)
    if how != LinkHow.FIRST:
        record_event(
            session,
            actor,
            "referral",
            referral.id,
            "email joined",
            now,
            f"message {message_id}: {effect}",
        )
    return link


def create_referral(
    session: Session,
    reading: FormReading,
    *,
    aware_at: datetime,
    actor: str,
    how: LinkHow = LinkHow.FIRST,
    sibling_of: Referral | None = None,
    now: datetime | None = None,
) -> Referral:
    """Number, clock and store a new referral (flushed: it has an id).

    `aware_at` is when the LSCP became aware: the arrival of the email the form came in,
    whenever it is filed or keyed, since the statutory clock started then.
    """
    # A value of the wrong shape is a reader (or keying) bug: fail here, so the message is
    # quarantined for a person rather than a wrong record stored.
    check_record(reading.form_id, reading.record)
    now = now or utcnow()
    complete = not open_mandatory(reading.form_id, reading.record, reading.problems)
    panel_due, rapid_due = due_dates(aware_at)
    referral = Referral(
        reference=next_reference(session, aware_at.astimezone(UK).year),
        message_id=reading.message_id,
        attachment_id=reading.attachment_id,
        status=CHECK_SCAN if reading.scanned else NEW if complete else NEEDS_INFO,
        complete=complete,
        urgent=is_urgent(reading.record),
        received_at=aware_at,
        panel_due=panel_due,
        rapid_review_due=rapid_due,
        record=reading.record,
        problems=reading.problems,
        provenance=reading.provenance,
        form_id=reading.form_id,
        created_at=now,
        sibling_of=sibling_of.id if sibling_of is not None else None,
        **_columns(reading.record),
    )
    session.add(referral)
    session.flush()
    assert referral.id is not None
    effect = LinkEffect.CREATED
    record_event(session, actor, "referral", referral.id, "created", now, referral.status)
    save_pages(session, referral.id, reading.scan_pages)
    link_message(session, referral, reading.message_id, LinkHow.FIRST, effect, actor, now)
    if sibling_of is not None:
        link_message(session, sibling_of, reading.message_id, how, LinkEffect.SIBLING, actor, now)
        record_event(
            session, actor, "referral", referral.id, "sibling of", now, sibling_of.reference
        )
    return referral


def _name_key(name: Any) -> str:
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().replace("-", " ").split())


def same_child(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two records are about the same child: by NHS number when both give one,
    else by name when both give one, else by date of birth. A form that names no child at
    all is taken as the same child (it adds to the conversation; it cannot start a new one)."""
    for key, norm in (("child.nhs_number", str), ("child.name", _name_key), ("child.dob", str)):
        if not _blank(a.get(key)) and not _blank(b.get(key)):
            return norm(a[key]) == norm(b[key])
    return True


@dataclass
class Version:
    """What a later form did to a referral."""

    number: int
    filled: list[str] = field(default_factory=list)  # keys that were empty and now are not
    changed: list[str] = field(default_factory=list)  # keys whose value the form changed
    became_complete: bool = False


def add_version(
    session: Session,
    referral: Referral,
    reading: FormReading,
    *,
    how: LinkHow,
    where: str,
    actor: str = "system",
    now: datetime | None = None,
) -> Version:
    """A later form for the same child: its values fill the gaps, a changed value is kept as
    a change (before, after, and where it came from), and completeness is worked out again.

    A referral waiting for information that is now complete becomes New. Values the later
    form leaves empty are kept: a referrer who answers only what was asked removes nothing.
    """
    assert referral.id is not None
    check_record(reading.form_id, reading.record)
    now = now or utcnow()
    version = Version(number=referral.version + 1)
    record = copy.deepcopy(referral.record)
    provenance = dict(referral.provenance)
    note = f"version {version.number}, from {where}"
    for key, after in reading.record.items():
        before = record.get(key)
        if before == after:
            continue
        (version.filled if _blank(before) else version.changed).append(key)
        record[key] = after
        session.add(
            ReferralCorrection(
                referral_id=referral.id,
                key=key,
                before=before,
                after=after,
                note=note,
                actor=actor,
                at=now,
            )
        )
    for key, source in reading.provenance.items():
        provenance[key] = source
    # The later form's own problems replace the earlier ones for the keys it answers; a
    # "missing" flag goes once the merged record has a value there.
    given = set(reading.record)
    problems = [p for p in referral.problems if str(p.get("key")) not in given]
    problems += reading.problems
    problems = [
        p for p in problems if p.get("kind") != "missing" or _blank(record.get(str(p.get("key"))))
    ]
    check_record(referral.form_id, record)
    complete = not open_mandatory(referral.form_id, record, problems)
    referral.record = record
    referral.provenance = provenance
    referral.problems = problems
    referral.version = version.number
    referral.attachment_id = reading.attachment_id  # the newest form is shown beside the record
    referral.urgent = referral.urgent or is_urgent(record)
    referral.updated_at = now
    for key, column in COLUMN_FOR_KEY.items():
        setattr(referral, column, column_value(column, record.get(key)))
    if complete and not referral.complete and referral.status == NEEDS_INFO:
        version.became_complete = True
        referral.status = NEW
        session.add(
            ReferralStatusChange(
                referral_id=referral.id,
                from_status=NEEDS_INFO,
                to_status=NEW,
                note=f"completed by {where}",
                actor=actor,
                at=now,
            )
        )
    referral.complete = complete
    session.add(referral)
    link_message(session, referral, reading.message_id, how, LinkEffect.VERSION, actor, now)
    record_event(
        session,
        actor,
        "referral",
        referral.id,
        "new version",
        now,
        f"version {version.number}: {len(version.filled)} filled, {len(version.changed)} changed",
    )
    return version


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


def initials(name: str | None) -> str:
    """'Zoë Ahmed' -> 'Z.A.' (the most of a child's name we ever send or list)."""
    parts = [p for p in (name or "").replace("-", " ").split() if p[:1].isalpha()]
    return "".join(f"{p[0].upper()}." for p in parts[:3])
