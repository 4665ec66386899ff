"""Two referrals for the same child joined: the duplicate merged into the one kept, or undone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.audit import record_event
from storage.milestones import LABELS, Milestone, current
from storage.referrals import initials, link_message
from storage.tables import (
    LinkEffect,
    LinkHow,
    Referral,
    ReferralMerge,
    ReferralMessage,
    ReferralMilestone,
    ReferralNote,
    ReferralStatusChange,
)
from storage.workflow import CLOCK_RUNNING, CLOSED, DECISIONS, WorkflowError, status_label

# Far more than any real chain (A into B, B into C): a loop in bad data must not hang a page.
MAX_CHAIN = 50


class Input(StrEnum):
    """The inputs of the merge forms, so an error can be tied to its field."""

    OTHER = "other"
    REASON = "reason"


class MergeError(ValueError):
    """What is wrong with a merge as asked: a message per input."""

    def __init__(self, errors: dict[Input, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass(frozen=True)
class Side:
    """One of the two referrals, as the confirmation page shows it (initials only)."""

    reference: str
    received_at: datetime
    agency: str | None
    initials: str
    status: str
    urgent: bool
    panel_due: date | None
    rapid_review_due: date | None


@dataclass(frozen=True)
class Plan:
    """What a merge will do, worked out before anyone confirms it."""

    keep: Side
    duplicate: Side
    received_at: datetime  # the earliest: the statutory clock started then
    panel_due: date | None
    rapid_review_due: date | None
    urgent: bool
    clock_from: str  # the reference whose clock wins
    emails: int  # emails of the duplicate's conversation that join the kept one
    notes: int
    milestones: tuple[Milestone, ...]  # recorded on the duplicate only: copied over


def kept_of(session: Session, referral: Referral) -> Referral:
    """The referral that `referral` was merged into (through a chain), or itself."""
    seen = {referral.id}
    while referral.duplicate_of_id is not None and len(seen) < MAX_CHAIN:
        kept = session.get(Referral, referral.duplicate_of_id)
        if kept is None or kept.id in seen:
            break
        seen.add(kept.id)
        referral = kept
    return referral


def merged_into(session: Session, referral_id: int) -> list[Referral]:
    """Every referral merged into this one, directly or through a chain, oldest first."""
    found: list[Referral] = []
    todo = [referral_id]
    while todo and len(found) < MAX_CHAIN:
        rows = session.exec(
            select(Referral)
            .where(col(Referral.duplicate_of_id).in_(todo))
            .order_by(col(Referral.id))
        ).all()
        found.extend(rows)
        todo = [r.id for r in rows if r.id is not None]
    return sorted(found, key=lambda r: (r.received_at, r.id or 0))


def _side(referral: Referral) -> Side:
    return Side(
        referral.reference,
        referral.received_at,
        referral.referrer_agency,
        initials(referral.child_name),
        referral.status,
        referral.urgent,
        referral.panel_due,
        referral.rapid_review_due,
    )


def _earliest(a: date | None, b: date | None) -> date | None:
    return min((d for d in (a, b) if d is not None), default=None)


def check(keep: Referral, duplicate: Referral) -> None:
    """MergeError (on the other referral's input) when these two cannot be merged."""
    said: str | None = None
    if keep.id == duplicate.id:
        said = "A referral cannot be merged with itself: enter the other referral’s reference"
    elif keep.purged_at is not None or duplicate.purged_at is not None:
        said = "Personal data was removed from one of these referrals; it cannot be merged"
    elif duplicate.duplicate_of_id is not None:
        said = f"{duplicate.reference} is already merged into another referral"
    elif keep.duplicate_of_id is not None:
        said = f"{keep.reference} was merged into another referral; merge into that one instead"
    elif duplicate.status not in CLOCK_RUNNING:
        # A decision is SIRG's record of the referral it was made on: that one is kept.
        said = (
            f"{duplicate.reference} is {status_label(duplicate.status)}: keep it, and mark "
            "the other referral as its duplicate instead"
        )
    if said:
        raise MergeError({Input.OTHER: said})


def plan(session: Session, keep: Referral, duplicate: Referral) -> Plan:
    """What merging `duplicate` into `keep` would do (MergeError when it cannot be done)."""
    check(keep, duplicate)
    assert keep.id is not None and duplicate.id is not None
    first = min((keep, duplicate), key=lambda r: (r.received_at, r.id or 0))
    theirs = set(_message_ids(session, duplicate.id)) - set(_message_ids(session, keep.id))
    notes = session.exec(
        select(ReferralNote.id).where(ReferralNote.referral_id == duplicate.id)
    ).all()
    done = current(session, [keep.id, duplicate.id])
    return Plan(
        keep=_side(keep),
        duplicate=_side(duplicate),
        received_at=first.received_at,
        panel_due=_earliest(keep.panel_due, duplicate.panel_due),
        rapid_review_due=_earliest(keep.rapid_review_due, duplicate.rapid_review_due),
        urgent=keep.urgent or duplicate.urgent,
        clock_from=first.reference,
        emails=len(theirs),
        notes=len(notes),
        milestones=tuple(
            k for k in Milestone if k in done[duplicate.id] and k not in done[keep.id]
        ),
    )


def _message_ids(session: Session, referral_id: int) -> list[int]:
    return list(
        session.exec(
            select(ReferralMessage.message_id)
            .where(ReferralMessage.referral_id == referral_id)
            .order_by(col(ReferralMessage.at), col(ReferralMessage.id))
        ).all()
    )


def _lock(session: Session, *ids: int) -> None:
    # Both rows locked (PostgreSQL), in id order so two officers merging the same pair the
    # other way round wait for each other instead of deadlocking or merging twice.
    for rid in sorted(ids):
        session.exec(select(Referral.id).where(Referral.id == rid).with_for_update()).first()


def _set_status(
    session: Session, referral: Referral, to: str, note: str, actor: str, now: datetime
) -> None:
    """A status change outside the review's transitions (a merge closes a referral from
    any running status, and its undo puts that status back), kept in the same history."""
    assert referral.id is not None
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=referral.status,
            to_status=to,
            note=note,
            actor=actor,
            at=now,
        )
    )
    referral.status = to
    referral.updated_at = now
    session.add(referral)


def merge(
    session: Session, keep: Referral, duplicate: Referral, actor: str, reason: str, now: datetime
) -> ReferralMerge:
    """Merge `duplicate` into `keep`: its emails (with their documents and form versions),
    case notes and milestones join the kept referral, whose clock becomes the earliest of
    the two and which is urgent if either was. Nothing is deleted: the duplicate stays,
    closed and read-only, as "merged into" the kept one, and its reference leads there.

    The audit lines name the two references and the dates only; the reason, which may name
    people, is sealed in the merge record."""
    assert keep.id is not None and duplicate.id is not None
    why = reason.strip()
    errors: dict[Input, str] = {}
    try:
        check(keep, duplicate)
    except MergeError as exc:
        errors.update(exc.errors)
    if not why:
        errors[Input.REASON] = "Say why these are referrals for the same child and incident"
    if errors:
        raise MergeError(errors)
    _lock(session, keep.id, duplicate.id)
    session.refresh(keep)
    session.refresh(duplicate)
    check(keep, duplicate)  # as they stand now the rows are locked
    planned = plan(session, keep, duplicate)
    before = {
        "received_at": keep.received_at.isoformat(),
        "panel_due": keep.panel_due.isoformat() if keep.panel_due else None,
        "rapid_review_due": keep.rapid_review_due.isoformat() if keep.rapid_review_due else None,
        "urgent": keep.urgent,
        "status": duplicate.status,
    }
    had = set(_message_ids(session, keep.id))
    added: list[ReferralMessage] = []
    for message_id in _message_ids(session, duplicate.id):
        if message_id not in had:
            added.append(
                link_message(
                    session, keep, message_id, LinkHow.MERGED, LinkEffect.MERGED, actor, now
                )
            )
    copied: list[ReferralMilestone] = []
    for row in session.exec(
        select(ReferralMilestone).where(
            ReferralMilestone.referral_id == duplicate.id,
            col(ReferralMilestone.cleared_at).is_(None),
            col(ReferralMilestone.kind).in_(list(planned.milestones)),
        )
    ):
        copy = ReferralMilestone(
            referral_id=keep.id,
            kind=row.kind,
            on_date=row.on_date,
            notified_by=row.notified_by,
            panel_reference=row.panel_reference,
            recorded_by=actor,
            recorded_at=now,
        )
        session.add(copy)
        copied.append(copy)
        detail = f"{row.kind} {row.on_date} (from {duplicate.reference})"
        record_event(session, actor, "referral", keep.id, "milestone recorded", now, detail)
    keep.received_at = planned.received_at
    keep.panel_due = planned.panel_due
    keep.rapid_review_due = planned.rapid_review_due
    keep.urgent = planned.urgent
    keep.updated_at = now
    session.add(keep)
    _set_status(session, duplicate, CLOSED, f"merged into {keep.reference}", actor, now)
    duplicate.duplicate_of_id = keep.id
    session.add(duplicate)
    session.flush()
    record = ReferralMerge(
        kept_id=keep.id,
        duplicate_id=duplicate.id,
        reason=why,
        before=before,
        links=[link.id for link in added if link.id is not None],
        milestones=[m.id for m in copied if m.id is not None],
        merged_by=actor,
        merged_at=now,
    )
    session.add(record)
    clock = f"clock from {planned.clock_from}; panel due {planned.panel_due or 'none'}"
    record_event(
        session, actor, "referral", keep.id, "merged in", now, f"{duplicate.reference}; {clock}"
    )
    record_event(session, actor, "referral", duplicate.id, "merged into", now, keep.reference)
    session.flush()
    return record


def merge_of(session: Session, duplicate: Referral) -> ReferralMerge | None:
    """The merge (not undone) that closed this referral, if any."""
    return session.exec(
        select(ReferralMerge).where(
            ReferralMerge.duplicate_id == duplicate.id, col(ReferralMerge.undone_at).is_(None)
        )
    ).first()


def undo_refused(session: Session, duplicate: Referral) -> str | None:
    """Why the merge of `duplicate` cannot be undone safely, or None when it can."""
    record = merge_of(session, duplicate)
    if record is None:
        return f"{duplicate.reference} is not merged into another referral"
    keep = session.get(Referral, record.kept_id)
    assert keep is not None
    if keep.purged_at is not None or duplicate.purged_at is not None:
        return "personal data was removed from one of the two referrals"
    if keep.duplicate_of_id is not None:
        return f"{keep.reference} has since been merged into another referral: undo that first"
    later = session.exec(
        select(ReferralMessage.id).where(
            ReferralMessage.referral_id == record.kept_id,
            col(ReferralMessage.at) >= record.merged_at,
            col(ReferralMessage.id).not_in(record.links or [-1]),
        )
    ).all()
    if later:
        # Nobody can tell which of the two a later email was about: moving it by guesswork
        # could put one child's information on another's referral.
        return (
            f"{len(later)} email{'s' if len(later) != 1 else ''} joined {keep.reference} after "
            "the merge, and nobody can tell which referral they belong to"
        )
    decided = session.exec(
        select(ReferralStatusChange.id).where(
            ReferralStatusChange.referral_id == record.kept_id,
            col(ReferralStatusChange.at) >= record.merged_at,
            col(ReferralStatusChange.to_status).in_(DECISIONS),
        )
    ).first()
    if decided is not None:
        return f"SIRG decided on {keep.reference} after the merge, with both referrals before it"
    copies = session.exec(
        select(ReferralMilestone).where(col(ReferralMilestone.id).in_(record.milestones or [-1]))
    ).all()
    if any(m.cleared_at is not None for m in copies):
        return "a milestone copied by the merge has since been corrected"
    return None


def unmerge(
    session: Session, duplicate: Referral, actor: str, reason: str, now: datetime
) -> Referral:
    """Undo a merge (an admin's fix), when `undo_refused` finds nothing against it: the
    links and milestones the merge added are taken back, the kept referral's clock and
    urgency are as before, and the duplicate reopens in its old status. Returns the kept one.

    MergeError for a missing reason; WorkflowError, saying why, when it is not safe."""
    assert duplicate.id is not None
    why = reason.strip()
    if not why:
        raise MergeError({Input.REASON: "Say why the merge is being undone"})
    record = merge_of(session, duplicate)
    if record is not None:
        _lock(session, record.kept_id, duplicate.id)
    refused = undo_refused(session, duplicate)
    if refused is not None or record is None:
        raise WorkflowError(f"the merge cannot be undone: {refused}")
    keep = session.get(Referral, record.kept_id)
    assert keep is not None and keep.id is not None
    # The rows the merge itself added, and only those; the emails stay on the duplicate.
    for link in session.exec(
        select(ReferralMessage).where(col(ReferralMessage.id).in_(record.links or [-1]))
    ):
        session.delete(link)
    for row in session.exec(
        select(ReferralMilestone).where(col(ReferralMilestone.id).in_(record.milestones or [-1]))
    ):
        row.cleared_at, row.cleared_by, row.clear_reason = now, actor, why
        session.add(row)
        label = LABELS[Milestone(row.kind)]
        record_event(session, actor, "referral", keep.id, "milestone cleared", now, label)
    before = record.before
    keep.received_at = datetime.fromisoformat(before["received_at"])
    keep.panel_due = date.fromisoformat(before["panel_due"]) if before["panel_due"] else None
    rapid = before["rapid_review_due"]
    keep.rapid_review_due = date.fromisoformat(rapid) if rapid else None
    keep.urgent = bool(before["urgent"])
    keep.updated_at = now
    session.add(keep)
    duplicate.duplicate_of_id = None
    _set_status(session, duplicate, str(before["status"]), "merge undone", actor, now)
    record.undone_by, record.undone_at, record.undo_reason = actor, now, why
    session.add(record)
    record_event(session, actor, "referral", keep.id, "merge undone", now, duplicate.reference)
    record_event(session, actor, "referral", duplicate.id, "merge undone", now, keep.reference)
    session.flush()
    return keep
