"""The review workflow: statuses, assignment, corrections and their audit trail.

Every change here writes its `AuditEvent` (actor = the user's name) in the caller's
transaction, so a change and its audit line are committed together or not at all.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.audit import record_event
from storage.referrals import COLUMN_FOR_KEY, column_value
from storage.tables import (
    InboundMessage,
    OutboxMessage,
    Referral,
    ReferralCorrection,
    ReferralNote,
    ReferralStatusChange,
)

NEW = "new"
NEEDS_INFO = "needs_info"  # set by the intake pipeline when mandatory answers are missing
CHECK_SCAN = "check_scan"  # read from a scan or photo: an officer checks what was read
READY = "ready_for_sirg"
RAPID_REVIEW = "decision_rapid_review"
CSPR = "decision_cspr"
PLR = "decision_plr"
SINGLE_AGENCY = "decision_single_agency"
NFA = "decision_nfa"
CLOSED = "closed"

# Status codes and their names, in workflow order.
STATUSES: dict[str, str] = {
    CHECK_SCAN: "Check scan",
    NEW: "New",
    NEEDS_INFO: "Awaiting information",
    READY: "Ready for SIRG",
    RAPID_REVIEW: "Decision: Rapid Review",
    CSPR: "Decision: CSPR",
    PLR: "Decision: PLR",
    SINGLE_AGENCY: "Decision: Single-agency learning",
    NFA: "Decision: No further action",
    CLOSED: "Closed",
}
DECISIONS = (RAPID_REVIEW, CSPR, PLR, SINGLE_AGENCY, NFA)
# The statutory clocks run until SIRG decides; after that the due dates are history.
CLOCK_RUNNING = (CHECK_SCAN, NEW, NEEDS_INFO, READY)
# Where a referral may go next. Steps back are allowed where real work goes back
# (information found missing while preparing for SIRG); a decision is only followed by
# closing, so the decision on record is the one SIRG made. A referral read from a scan
# leaves "Check scan" only by an officer's confirmation (`confirm_scan`), never by a move.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CHECK_SCAN: (),
    NEW: (NEEDS_INFO, READY),
    NEEDS_INFO: (NEW, READY),
    READY: (NEEDS_INFO, *DECISIONS),
    **{d: (CLOSED,) for d in DECISIONS},
    CLOSED: (),
}
_GRID_KEY = re.compile(r"([a-z_]+)\[(\d+)\]\.([a-z_]+)")


class WorkflowError(ValueError):
    """A change the workflow does not allow, in words for the person asking."""


def status_label(code: str) -> str:
    """The name people see for a status code (the code itself when unknown)."""
    return STATUSES.get(code, code.replace("_", " ").capitalize())


def by_reference(session: Session, reference: str) -> Referral | None:
    """The referral with this reference number, or None."""
    return session.exec(select(Referral).where(Referral.reference == reference)).first()


def writable(referral: Referral) -> None:
    """WorkflowError for a purged or merged referral: what is left of it is a record of
    its history (a merged one's work goes on in the referral it was merged into)."""
    if referral.purged_at is not None:
        raise WorkflowError("this referral's personal data was removed; it cannot be changed")
    if referral.duplicate_of_id is not None:
        raise WorkflowError("this referral was merged into another; change that one instead")


def assign(
    session: Session, referral: Referral, assignee: str | None, actor: str, now: datetime
) -> None:
    """Give the referral to `assignee` (None: nobody)."""
    assert referral.id is not None
    writable(referral)
    before = referral.assigned_to
    if before == assignee:
        return
    referral.assigned_to = assignee
    referral.updated_at = now
    session.add(referral)
    record_event(
        session,
        actor,
        "referral",
        referral.id,
        "assigned" if assignee else "unassigned",
        now,
        f"{before or 'nobody'} → {assignee or 'nobody'}",
    )


def add_note(session: Session, referral: Referral, text: str, actor: str, now: datetime) -> None:
    """Keep an officer's case note on the referral; the audit says a note was added, not
    what it says (notes name people)."""
    assert referral.id is not None
    writable(referral)
    session.add(ReferralNote(referral_id=referral.id, text=text, actor=actor, at=now))
    record_event(session, actor, "referral", referral.id, "note added", now)


def set_urgent(
    session: Session, referral: Referral, urgent: bool, reason: str, actor: str, now: datetime
) -> None:
    """Mark the referral urgent (or routine) by hand, with the officer's reason.

    A later form that meets the urgent criteria makes it urgent again: new information
    outranks an earlier judgement that it was routine."""
    assert referral.id is not None
    writable(referral)
    if referral.urgent == urgent:
        return
    referral.urgent = urgent
    referral.updated_at = now
    session.add(referral)
    action = "marked urgent" if urgent else "marked routine"
    record_event(session, actor, "referral", referral.id, action, now, reason or None)


def change_status(
    session: Session,
    referral: Referral,
    to_status: str,
    note: str | None,
    decision_date: date | None,
    actor: str,
    now: datetime,
) -> None:
    """Move a referral one step along the workflow; WorkflowError when not allowed."""
    assert referral.id is not None
    allowed = TRANSITIONS.get(referral.status, ())
    if to_status not in allowed:
        raise WorkflowError(
            f"a referral that is {status_label(referral.status)} cannot move to "
            f"{status_label(to_status)}"
        )
    if to_status in DECISIONS:
        if decision_date is None:
            raise WorkflowError("a decision needs the date SIRG made it")
        referral.decision_date = decision_date
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=referral.status,
            to_status=to_status,
            note=note or None,
            decision_date=decision_date if to_status in DECISIONS else None,
            actor=actor,
            at=now,
        )
    )
    detail = f"{status_label(referral.status)} → {status_label(to_status)}"
    if to_status in DECISIONS and decision_date is not None:
        detail += f" (decided {decision_date.isoformat()})"
    referral.status = to_status
    referral.updated_at = now
    session.add(referral)
    record_event(session, actor, "referral", referral.id, "status changed", now, detail)


def confirm_scan(
    session: Session,
    referral: Referral,
    problems: list[dict[str, Any]],
    complete: bool,
    actor: str,
    now: datetime,
) -> str:
    """An officer checked a referral read from a scan (its corrections already made with
    `correct_value`): it becomes New, or Awaiting information when mandatory answers are
    still missing, and its problems are what the check left. Returns the new status."""
    assert referral.id is not None
    writable(referral)
    if referral.status != CHECK_SCAN:
        raise WorkflowError("this referral is not waiting for a check of its scan")
    to_status = NEW if complete else NEEDS_INFO
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=CHECK_SCAN,
            to_status=to_status,
            note="checked against the scan",
            actor=actor,
            at=now,
        )
    )
    referral.problems = problems
    referral.status = to_status
    referral.updated_at = now
    session.add(referral)
    record_event(session, actor, "referral", referral.id, "scan checked", now)
    detail = f"{status_label(CHECK_SCAN)} → {status_label(to_status)}"
    record_event(session, actor, "referral", referral.id, "status changed", now, detail)
    return to_status


def record_value(record: dict[str, Any], key: str) -> Any:
    """The value at a record key: a plain key, or a grid cell like `household[0].name`."""
    grid = _GRID_KEY.fullmatch(key)
    if grid is None:
        return record.get(key)
    rows = record.get(grid.group(1)) or []
    index = int(grid.group(2))
    if index >= len(rows) or not isinstance(rows[index], dict):
        return None
    return rows[index].get(grid.group(3))


def _with_value(record: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of `record` with `key` set (or removed when `value` is empty)."""
    out = copy.deepcopy(record)
    grid = _GRID_KEY.fullmatch(key)
    if grid is None:
        if value in (None, "", []):
            out.pop(key, None)
        else:
            out[key] = value
        return out
    rows = out.get(grid.group(1))
    index = int(grid.group(2))
    if not isinstance(rows, list) or index >= len(rows):
        raise WorkflowError("that row is not in the form")
    if value in (None, "", []):
        rows[index].pop(grid.group(3), None)
    else:
        rows[index][grid.group(3)] = value
    return out


def correct_value(
    session: Session,
    referral: Referral,
    key: str,
    value: Any,
    note: str | None,
    actor: str,
    now: datetime,
) -> ReferralCorrection | None:
    """Replace one parsed value, keeping before and after; None when nothing changed.

    The columns the queue sorts and searches by follow the record.
    """
    assert referral.id is not None
    writable(referral)
    before = record_value(referral.record, key)
    if before == value or (before in (None, "", []) and value in (None, "", [])):
        return None
    # A new dict (not an in-place edit) so SQLAlchemy sees the JSON column change.
    referral.record = _with_value(referral.record, key, value)
    column = COLUMN_FOR_KEY.get(key)
    if column is not None:
        setattr(referral, column, column_value(column, value))
    referral.updated_at = now
    session.add(referral)
    correction = ReferralCorrection(
        referral_id=referral.id,
        key=key,
        before=before,
        after=value,
        note=note or None,
        actor=actor,
        at=now,
    )
    session.add(correction)
    record_event(session, actor, "referral", referral.id, "value corrected", now, key)
    return correction


def add_row(session: Session, referral: Referral, grid_key: str, actor: str, now: datetime) -> int:
    """Append an empty row to one of the record's grids (a row the reader missed, or one
    the sender added later); its cells are then filled in as corrections. Returns the new
    row's index. The caller checks that the form has this grid."""
    assert referral.id is not None
    writable(referral)
    rows = referral.record.get(grid_key)
    kept = copy.deepcopy(rows) if isinstance(rows, list) else []
    # A new dict (not an in-place edit) so SQLAlchemy sees the JSON column change.
    referral.record = {**referral.record, grid_key: [*kept, {}]}
    referral.updated_at = now
    session.add(referral)
    record_event(session, actor, "referral", referral.id, "row added", now, grid_key)
    return len(kept)


def set_derived(
    session: Session, referral: Referral, complete: bool, urgent: bool, actor: str, now: datetime
) -> None:
    """Update completeness and urgency after a correction (worked out from the form by
    the caller), with an audit line for each that changed."""
    assert referral.id is not None
    if referral.complete != complete:
        referral.complete = complete
        action = "marked complete" if complete else "marked incomplete"
        record_event(session, actor, "referral", referral.id, action, now)
    if referral.urgent != urgent:
        referral.urgent = urgent
        action = "marked urgent" if urgent else "marked not urgent"
        record_event(session, actor, "referral", referral.id, action, now)
    session.add(referral)


def corrections(session: Session, referral_id: int) -> list[ReferralCorrection]:
    """Every correction of a referral, oldest first."""
    return list(
        session.exec(
            select(ReferralCorrection)
            .where(ReferralCorrection.referral_id == referral_id)
            .order_by(col(ReferralCorrection.at), col(ReferralCorrection.id))
        )
    )


def status_changes(session: Session, referral_id: int) -> list[ReferralStatusChange]:
    """Every status change of a referral, oldest first."""
    return list(
        session.exec(
            select(ReferralStatusChange)
            .where(ReferralStatusChange.referral_id == referral_id)
            .order_by(col(ReferralStatusChange.at), col(ReferralStatusChange.id))
        )
    )


def messages_for(session: Session, referral: Referral) -> list[OutboxMessage]:
    """Replies and alerts sent about a referral (or its email), oldest first."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                or_(
                    col(OutboxMessage.referral_id) == referral.id,
                    and_(
                        col(OutboxMessage.inbound_message_id) == referral.message_id,
                        col(OutboxMessage.referral_id).is_(None),
                    ),
                )
            )
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        )
    )


def inbound_message(session: Session, referral: Referral) -> InboundMessage | None:
    """The email a referral came in."""
    return session.get(InboundMessage, referral.message_id)
