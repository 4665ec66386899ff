"""SIRG meetings: scheduling, agenda changes, and the decisions recorded in them."""

# Every change writes its audit line in the caller's transaction. A decision goes through
# `workflow.change_status`, the one path a referral's status takes, so the queue, the
# referral page and the meeting can never disagree about what SIRG decided.

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, func, select

from storage.agenda import Decision, items_of, next_meeting, offered
from storage.audit import record_event
from storage.tables import (
    AgendaItem,
    MeetingDecision,
    Referral,
    ReferralStatusChange,
    SirgMeeting,
)
from storage.workflow import READY, WorkflowError, change_status, status_label, writable


class Move(StrEnum):
    """A step along a meeting's agenda."""

    UP = "up"
    DOWN = "down"


class MeetingError(WorkflowError):
    """A meeting change that cannot be made, in words for the person asking."""


def meeting_or_none(session: Session, meeting_id: int) -> SirgMeeting | None:
    """The meeting with this id."""
    return session.get(SirgMeeting, meeting_id)


def create_meeting(
    session: Session,
    day: date,
    time_note: str | None,
    place_note: str | None,
    actor: str,
    now: datetime,
    today: date,
) -> SirgMeeting:
    """Schedule a meeting; MeetingError for a day past or already taken."""
    if day < today:
        raise MeetingError("a meeting cannot be scheduled in the past")
    taken = session.exec(select(SirgMeeting.id).where(SirgMeeting.meeting_date == day)).first()
    if taken is not None:
        raise MeetingError("there is already a meeting on that day")
    meeting = SirgMeeting(
        meeting_date=day,
        time_note=(time_note or "").strip() or None,
        place_note=(place_note or "").strip() or None,
        created_by=actor,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    record_event(session, actor, "meeting", meeting.id, "scheduled", now, day.isoformat())
    return meeting


def _open_for_agenda(meeting: SirgMeeting, today: date) -> None:
    if meeting.meeting_date < today:
        raise MeetingError("that meeting has taken place; its agenda can no longer change")


def add_to_agenda(
    session: Session,
    meeting: SirgMeeting,
    referral: Referral,
    actor: str,
    now: datetime,
    today: date,
) -> AgendaItem:
    """Put a Ready referral at the end of an upcoming meeting's agenda."""
    assert meeting.id is not None and referral.id is not None
    writable(referral)
    _open_for_agenda(meeting, today)
    if referral.status != READY:
        raise MeetingError(f"{referral.reference} is not Ready for SIRG")
    elsewhere = session.exec(
        select(SirgMeeting)
        .join(AgendaItem, col(AgendaItem.meeting_id) == col(SirgMeeting.id))
        .where(AgendaItem.referral_id == referral.id, SirgMeeting.meeting_date >= today)
    ).first()
    if elsewhere is not None:
        raise MeetingError(
            f"{referral.reference} is already on the agenda of the meeting of "
            f"{elsewhere.meeting_date.isoformat()}"
        )
    last = session.exec(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    ).one()
    item = AgendaItem(
        meeting_id=meeting.id,
        referral_id=referral.id,
        position=int(last or 0) + 1,
        added_by=actor,
        added_at=now,
    )
    session.add(item)
    session.flush()
    record_event(
        session, actor, "meeting", meeting.id, "agenda item added", now, referral.reference
    )
    record_event(
        session, actor, "referral", referral.id, "put on agenda", now, f"meeting {meeting.id}"
    )
    return item


def add_all_ready(
    session: Session, meeting: SirgMeeting, actor: str, now: datetime, today: date
) -> list[str]:
    """Put every offered Ready referral on this meeting's agenda; their references."""
    added = []
    for offer in offered(session, today):
        referral = session.exec(select(Referral).where(Referral.reference == offer.reference)).one()
        add_to_agenda(session, meeting, referral, actor, now, today)
        added.append(offer.reference)
    return added


def put_on_next_meeting(
    session: Session, referral: Referral, actor: str, now: datetime, today: date
) -> SirgMeeting | None:
    """A referral just made Ready for SIRG goes onto the next meeting's agenda (an officer
    can move it); the meeting, or None when none is scheduled or it is already on one."""
    meeting = next_meeting(session, today)
    if meeting is None or referral.status != READY:
        return None
    try:
        add_to_agenda(session, meeting, referral, actor, now, today)
    except MeetingError:
        return None  # already on an upcoming agenda: left where an officer put it
    return meeting


def fill_if_next(
    session: Session, meeting: SirgMeeting, actor: str, now: datetime, today: date
) -> list[str]:
    """A newly scheduled meeting that is now the next one takes the Ready referrals that
    were waiting for a meeting; their references."""
    soonest = next_meeting(session, today)
    if soonest is None or soonest.id != meeting.id:
        return []
    return add_all_ready(session, meeting, actor, now, today)


def _item_in(session: Session, meeting: SirgMeeting, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise LookupError("that item is not on this meeting's agenda")
    return item


def _undecided(session: Session, item: AgendaItem) -> None:
    standing = session.exec(
        select(MeetingDecision.id).where(
            MeetingDecision.meeting_id == item.meeting_id,
            MeetingDecision.referral_id == item.referral_id,
            col(MeetingDecision.undone_at).is_(None),
        )
    ).first()
    if standing is not None:
        raise MeetingError("SIRG has decided on this referral; undo the decision first")


def _reference(session: Session, item: AgendaItem) -> str:
    referral = session.get(Referral, item.referral_id)
    return referral.reference if referral is not None else str(item.referral_id)


def move_item(
    session: Session, meeting: SirgMeeting, item_id: int, move: Move, actor: str, now: datetime
) -> None:
    """Swap an item with the one above or below it (nothing at either end)."""
    assert meeting.id is not None
    items = items_of(session, meeting.id)
    item = _item_in(session, meeting, item_id)
    index = items.index(item)
    other = index - 1 if move == Move.UP else index + 1
    if not 0 <= other < len(items):
        return
    # Positions renumbered from 1, so gaps left by removed items never stop a move.
    items[index], items[other] = items[other], items[index]
    for number, row in enumerate(items, start=1):
        row.position = number
        session.add(row)
    reference = _reference(session, item)
    record_event(session, actor, "meeting", meeting.id, f"agenda item moved {move}", now, reference)


def move_to_meeting(
    session: Session,
    meeting: SirgMeeting,
    item_id: int,
    target: SirgMeeting,
    actor: str,
    now: datetime,
    today: date,
) -> None:
    """Move an undecided item to the end of another upcoming meeting's agenda."""
    assert meeting.id is not None and target.id is not None
    item = _item_in(session, meeting, item_id)
    _undecided(session, item)
    _open_for_agenda(target, today)
    if target.id == meeting.id:
        return
    clash = session.exec(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == target.id, AgendaItem.referral_id == item.referral_id
        )
    ).first()
    if clash is not None:
        raise MeetingError("that referral is already on the other meeting's agenda")
    last = session.exec(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == target.id)
    ).one()
    item.meeting_id = target.id
    item.position = int(last or 0) + 1
    session.add(item)
    reference = _reference(session, item)
    detail = f"{reference} → meeting {target.id} ({target.meeting_date.isoformat()})"
    record_event(session, actor, "meeting", meeting.id, "agenda item moved out", now, detail)
    record_event(session, actor, "meeting", target.id, "agenda item moved in", now, reference)


def remove_item(
    session: Session, meeting: SirgMeeting, item_id: int, actor: str, now: datetime
) -> str:
    """Take an undecided item off the agenda; its reference."""
    assert meeting.id is not None
    item = _item_in(session, meeting, item_id)
    _undecided(session, item)
    reference = _reference(session, item)
    session.delete(item)
    record_event(session, actor, "meeting", meeting.id, "agenda item removed", now, reference)
    return reference


@dataclass(frozen=True)
class Recorded:
    """A decision just recorded (or undone): what the emails about it need."""

    referral: Referral
    decision: Decision
    meeting_day: date


def record_decision(
    session: Session,
    meeting: SirgMeeting,
    item_id: int,
    decision: Decision,
    reason: str,
    actor: str,
    now: datetime,
    today: date,
) -> Recorded:
    """Record the chair's decision on an agenda item, dated the day of the meeting."""
    assert meeting.id is not None
    item = _item_in(session, meeting, item_id)
    referral = session.get(Referral, item.referral_id)
    assert referral is not None and referral.id is not None
    writable(referral)
    if meeting.meeting_date > today:
        raise MeetingError("a decision is recorded on or after the day of the meeting")
    if not reason.strip():
        raise MeetingError("give the reason for the decision")
    _undecided(session, item)
    # The status change carries no reason: it is kept sealed in the decision row.
    note = f"SIRG meeting of {meeting.meeting_date.isoformat()}"
    change_status(session, referral, decision, note, meeting.meeting_date, actor, now)
    session.add(
        MeetingDecision(
            meeting_id=meeting.id,
            referral_id=referral.id,
            decision=decision,
            reason=reason.strip(),
            decided_by=actor,
            decided_at=now,
        )
    )
    detail = f"{referral.reference}: {decision.label}"
    record_event(session, actor, "meeting", meeting.id, "decision recorded", now, detail)
    return Recorded(referral, decision, meeting.meeting_date)


def undo_decision(
    session: Session, meeting: SirgMeeting, decision_id: int, reason: str, actor: str, now: datetime
) -> Recorded:
    """An admin takes back a decision recorded in error: the referral is Ready for SIRG again.

    Not a workflow step (a decision is otherwise followed only by closing), so it is written
    here, beside the decision it undoes, and the row of the decision is kept.
    """
    assert meeting.id is not None
    row = session.get(MeetingDecision, decision_id)
    if row is None or row.meeting_id != meeting.id:
        raise LookupError("that decision was not recorded in this meeting")
    if row.undone_at is not None:
        raise MeetingError("that decision has been undone already")
    if not reason.strip():
        raise MeetingError("give the reason for undoing the decision")
    referral = session.get(Referral, row.referral_id)
    assert referral is not None and referral.id is not None
    writable(referral)
    if referral.status != row.decision:
        raise MeetingError(
            f"{referral.reference} is now {status_label(referral.status)}; "
            "only a decision that still stands can be undone"
        )
    row.undone_by, row.undone_at, row.undo_reason = actor, now, reason.strip()
    session.add(row)
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=referral.status,
            to_status=READY,
            note="decision undone by an admin (the reason is kept with the meeting)",
            actor=actor,
            at=now,
        )
    )
    detail = f"{status_label(referral.status)} → {status_label(READY)} (decision undone)"
    referral.status = READY
    referral.decision_date = None
    referral.updated_at = now
    session.add(referral)
    record_event(session, actor, "referral", referral.id, "decision undone", now, detail)
    record_event(session, actor, "meeting", meeting.id, "decision undone", now, referral.reference)
    return Recorded(referral, Decision(row.decision), meeting.meeting_date)
