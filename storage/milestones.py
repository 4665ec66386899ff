"""Statutory milestones (Panel and Ofsted notified, Rapid Review completed) and their clocks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session, col, select

from parsers.statutory import uk_date, working_days_between
from storage.audit import record_event
from storage.tables import Referral, ReferralMilestone, ReferralStatusChange
from storage.workflow import CLOCK_RUNNING, CLOSED, CSPR, DECISIONS, RAPID_REVIEW, writable

MAX_BY = 200
MAX_PANEL_REFERENCE = 50
# Panel references are short codes; anything else typed there is a slip (a name, a note).
_PANEL_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 /._-]*")


class Milestone(StrEnum):
    """A statutory step whose date stops a clock."""

    PANEL_NOTIFIED = "panel_notified"
    OFSTED_NOTIFIED = "ofsted_notified"
    RAPID_REVIEW_COMPLETED = "rapid_review_completed"


LABELS = {
    Milestone.PANEL_NOTIFIED: "National Panel notified",
    Milestone.OFSTED_NOTIFIED: "Ofsted notified",
    Milestone.RAPID_REVIEW_COMPLETED: "Rapid Review completed",
}
# Panel and Ofsted are told together (Working Together 2023: both within 5 working days of
# the LSCP learning of the incident), so Ofsted's clock runs to the Panel's due date.
_DUE_COLUMN = {
    Milestone.PANEL_NOTIFIED: "panel_due",
    Milestone.OFSTED_NOTIFIED: "panel_due",
    Milestone.RAPID_REVIEW_COMPLETED: "rapid_review_due",
}
# The decisions that mean the incident goes to the Panel: its clocks run on after the
# decision until their dates are recorded. Any other decision means nothing is owed.
NOTIFIABLE = (RAPID_REVIEW, CSPR)
# Statuses in which a clock with no date recorded is running (the queue's SQL uses it).
ACTIVE = (*CLOCK_RUNNING, *NOTIFIABLE)


class ClockState(StrEnum):
    """Why a clock runs or stopped."""

    RUNNING = "running"
    RECORDED = "recorded"  # its milestone is recorded: stopped on that date
    NOT_NEEDED = "not_needed"  # SIRG decided the incident is not one for the Panel
    CLOSED = "closed"  # closed with no date recorded (e.g. before dates were kept here)


class Input(StrEnum):
    """The inputs of a milestone form, so an error can be tied to its field."""

    ON = "on"
    BY = "by"
    PANEL_REFERENCE = "panel_reference"
    REASON = "reason"


class MilestoneError(ValueError):
    """What is wrong with a milestone as entered: a message per input."""

    def __init__(self, errors: dict[Input, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass(frozen=True)
class Recorded:
    """A milestone as recorded, for the referral page."""

    kind: Milestone
    on: date
    by: str | None
    panel_reference: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class Clock:
    """One statutory clock as it stands on a day."""

    kind: Milestone
    due: date | None
    state: ClockState
    stopped_on: date | None  # the milestone's date, the decision's, or the closing day
    late: int  # working days past due: stopped after it, or still running after it
    left: int | None  # working days until due, while running and not yet past it
    recorded: Recorded | None = None

    @property
    def running(self) -> bool:
        return self.state is ClockState.RUNNING


def _late(due: date, end: date) -> int:
    # A date after the due date is late even at a weekend (Friday's deadline, done on
    # Saturday): it counts as one working day, the day the Panel could next act on it.
    return max(1, working_days_between(due, end)) if end > due else 0


def clock(
    kind: Milestone,
    due: date | None,
    state: ClockState,
    stopped_on: date | None,
    today: date,
    recorded: Recorded | None = None,
) -> Clock:
    """The clock for `kind` on `today`, from its due date and how it stands."""
    if due is None:
        return Clock(kind, None, state, stopped_on, 0, None, recorded)
    if state is ClockState.RUNNING:
        late = _late(due, today)
        left = None if late else working_days_between(today, due)
        return Clock(kind, due, state, None, late, left)
    # Only a recorded date tells when the step happened; a decision that nothing was owed,
    # or closing without a date, says nothing of lateness.
    late = _late(due, stopped_on) if state is ClockState.RECORDED and stopped_on else 0
    return Clock(kind, due, state, stopped_on, late, None, recorded)


@dataclass(frozen=True)
class _Progress:
    """What decides whether a referral's clocks run: its status, decision and closing."""

    status: str
    decision: str | None
    decision_date: date | None
    closed_on: date | None


def _state(progress: _Progress) -> tuple[ClockState, date | None]:
    """How a clock with no milestone recorded stands."""
    if progress.status in ACTIVE:
        return ClockState.RUNNING, None
    if progress.decision is not None and progress.decision not in NOTIFIABLE:
        return ClockState.NOT_NEEDED, progress.decision_date
    return ClockState.CLOSED, progress.closed_on or progress.decision_date


def _progress(
    session: Session, rows: Iterable[tuple[int, str, date | None]]
) -> dict[int, _Progress]:
    """(id, status, decision date) -> progress, with the decision kept after closing."""
    found = {
        rid: _Progress(status, status if status in DECISIONS else None, d, None)
        for rid, status, d in rows
    }
    closed = [rid for rid, p in found.items() if p.status == CLOSED]
    if not closed:
        return found
    for change in session.exec(
        select(ReferralStatusChange)
        .where(col(ReferralStatusChange.referral_id).in_(closed))
        .order_by(col(ReferralStatusChange.at), col(ReferralStatusChange.id))
    ):
        p = found[change.referral_id]
        if change.to_status in DECISIONS:
            p = _Progress(p.status, change.to_status, p.decision_date, p.closed_on)
        elif change.to_status == CLOSED:
            p = _Progress(p.status, p.decision, p.decision_date, uk_date(change.at))
        found[change.referral_id] = p
    return found


def _recorded(r: ReferralMilestone) -> Recorded:
    by, ref = r.notified_by, r.panel_reference
    return Recorded(Milestone(r.kind), r.on_date, by, ref, r.recorded_by, r.recorded_at)


def current(session: Session, referral_ids: Iterable[int]) -> dict[int, dict[Milestone, Recorded]]:
    """The milestones in force (not cleared) of each referral."""
    ids = list(referral_ids)
    out: dict[int, dict[Milestone, Recorded]] = {rid: {} for rid in ids}
    if not ids:
        return out
    for row in session.exec(
        select(ReferralMilestone).where(
            col(ReferralMilestone.referral_id).in_(ids), col(ReferralMilestone.cleared_at).is_(None)
        )
    ):
        out[row.referral_id][Milestone(row.kind)] = _recorded(row)
    return out


class ClockInputs(Protocol):
    """The referral columns the clocks need: a Referral or a queue row has them."""

    @property
    def id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def decision_date(self) -> date | None: ...
    @property
    def panel_due(self) -> date | None: ...
    @property
    def rapid_review_due(self) -> date | None: ...


def clocks_for(
    session: Session, referrals: Iterable[ClockInputs], today: date
) -> dict[int, dict[Milestone, Clock]]:
    """Every statutory clock of each referral, as it stands on `today`."""
    items = [(r.id or 0, r) for r in referrals]
    progress = _progress(session, ((rid, r.status, r.decision_date) for rid, r in items))
    done = current(session, (rid for rid, _ in items))
    out: dict[int, dict[Milestone, Clock]] = {}
    for rid, r in items:
        state, stopped = _state(progress[rid])
        out[rid] = {}
        for kind in Milestone:
            due: date | None = getattr(r, _DUE_COLUMN[kind])
            rec = done[rid].get(kind)
            if rec is not None:
                out[rid][kind] = clock(kind, due, ClockState.RECORDED, rec.on, today, rec)
            else:
                out[rid][kind] = clock(kind, due, state, stopped, today)
    return out


def clocks(session: Session, referral: Referral, today: date) -> dict[Milestone, Clock]:
    """The referral's statutory clocks on `today`, in Milestone order."""
    assert referral.id is not None
    return clocks_for(session, [referral], today)[referral.id]


# --------------------------------------------------------------------------- changes


def _in_force(session: Session, referral_id: int, kind: Milestone) -> ReferralMilestone | None:
    # The referral's row is locked first (PostgreSQL), so two officers saving the same
    # milestone at once cannot both find none in force.
    session.exec(select(Referral.id).where(Referral.id == referral_id).with_for_update()).first()
    return session.exec(
        select(ReferralMilestone).where(
            ReferralMilestone.referral_id == referral_id,
            ReferralMilestone.kind == kind,
            col(ReferralMilestone.cleared_at).is_(None),
        )
    ).first()


def _checked(
    referral: Referral,
    kind: Milestone,
    on: date | None,
    by: str,
    panel_reference: str,
    today: date,
) -> tuple[date, str | None, str | None]:
    """The values cleaned, or MilestoneError with a message for each input at fault."""
    errors: dict[Input, str] = {}
    received = uk_date(referral.received_at)
    if on is None:
        errors[Input.ON] = "Enter the date, for example 27/11/2026"
    elif on > today:
        errors[Input.ON] = "The date cannot be in the future"
    elif on < received:
        errors[Input.ON] = (
            f"The date cannot be before the referral was received ({received:%d/%m/%Y})"
        )
    who = " ".join(by.split())
    if not who and kind is not Milestone.RAPID_REVIEW_COMPLETED:
        errors[Input.BY] = "Enter who made the notification, for example J Smith, LSCP"
    elif len(who) > MAX_BY:
        errors[Input.BY] = f"Who made it must be {MAX_BY} characters or fewer"
    ref = panel_reference.strip()
    if ref and kind is not Milestone.PANEL_NOTIFIED:
        errors[Input.PANEL_REFERENCE] = "Only a National Panel notification has a Panel reference"
    elif len(ref) > MAX_PANEL_REFERENCE:
        errors[Input.PANEL_REFERENCE] = (
            f"The Panel reference must be {MAX_PANEL_REFERENCE} characters or fewer"
        )
    elif ref and not _PANEL_REFERENCE.fullmatch(ref):
        errors[Input.PANEL_REFERENCE] = (
            "The Panel reference can only have letters, numbers, spaces and / . _ -"
        )
    if errors:
        raise MilestoneError(errors)
    assert on is not None
    return on, who or None, ref or None


def _put(
    session: Session,
    referral: Referral,
    kind: Milestone,
    values: tuple[date, str | None, str | None],
    actor: str,
    now: datetime,
) -> Recorded:
    assert referral.id is not None
    row = ReferralMilestone(
        referral_id=referral.id,
        kind=kind,
        on_date=values[0],
        notified_by=values[1],
        panel_reference=values[2],
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(row)
    referral.updated_at = now
    session.add(referral)
    return _recorded(row)


def record(
    session: Session,
    referral: Referral,
    kind: Milestone,
    on: date | None,
    by: str,
    panel_reference: str,
    actor: str,
    now: datetime,
) -> Recorded:
    """Record a milestone once (a second time is a correction, for an admin).

    The audit line names the milestone and its date, never who was named as making it."""
    assert referral.id is not None
    writable(referral)
    values = _checked(referral, kind, on, by, panel_reference, uk_date(now))
    before = _in_force(session, referral.id, kind)
    if before is not None:
        on_file = f"{before.on_date:%d/%m/%Y}"
        said = f"{LABELS[kind]} is already recorded ({on_file}); an admin can correct it"
        raise MilestoneError({Input.ON: said})
    done = _put(session, referral, kind, values, actor, now)
    detail = f"{kind} {values[0]}"
    record_event(session, actor, "referral", referral.id, "milestone recorded", now, detail)
    return done


def _withdraw(
    session: Session, referral: Referral, kind: Milestone, reason: str, actor: str, now: datetime
) -> ReferralMilestone:
    """Clear the milestone in force, keeping its row with the reason (sealed: it may name
    people; the audit line has only the dates)."""
    assert referral.id is not None
    writable(referral)
    why = reason.strip()
    if not why:
        raise MilestoneError({Input.REASON: "Say why the recorded date is being changed"})
    before = _in_force(session, referral.id, kind)
    if before is None:
        raise MilestoneError({Input.ON: f"{LABELS[kind]} is not recorded yet"})
    before.cleared_at, before.cleared_by, before.clear_reason = now, actor, why
    session.add(before)
    session.flush()  # cleared before any new row is in force
    return before


def correct(
    session: Session,
    referral: Referral,
    kind: Milestone,
    on: date | None,
    by: str,
    panel_reference: str,
    reason: str,
    actor: str,
    now: datetime,
) -> Recorded:
    """Replace a recorded milestone (an admin's fix); the old row stays, with the reason."""
    assert referral.id is not None
    values = _checked(referral, kind, on, by, panel_reference, uk_date(now))
    before = _withdraw(session, referral, kind, reason, actor, now)
    done = _put(session, referral, kind, values, actor, now)
    detail = f"{kind} {values[0]} (was {before.on_date})"
    record_event(session, actor, "referral", referral.id, "milestone corrected", now, detail)
    return done


def clear(
    session: Session, referral: Referral, kind: Milestone, reason: str, actor: str, now: datetime
) -> None:
    """Withdraw a milestone recorded in error: its clock runs again (an admin's fix)."""
    assert referral.id is not None
    before = _withdraw(session, referral, kind, reason, actor, now)
    referral.updated_at = now
    session.add(referral)
    detail = f"{kind} (was {before.on_date})"
    record_event(session, actor, "referral", referral.id, "milestone cleared", now, detail)
