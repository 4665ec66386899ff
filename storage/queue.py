"""The review queue: its filters, search, sort order, pages and CSV export rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.milestones import ACTIVE, Milestone
from storage.referrals import initials
from storage.tables import InboundMessage, MessageState, Referral, ReferralMilestone
from storage.workflow import CHECK_SCAN, CLOSED, NEEDS_INFO

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: filters, search and order, as chosen on the page."""

    status: str = "open"  # "open" (not closed), "all", or a status code
    urgency: str = "all"  # "all", "urgent", "not_urgent"
    agency: str = ""
    due: str = ""  # "", "today" (a running clock is due today) or "overdue" (past due)
    assignee: str = ""  # "" anyone, "-" nobody, or a user name
    search: str = ""
    sort: str = "priority"  # "priority", "due", "received", "reference"
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: only the columns it shows, never the record itself."""

    id: int
    reference: str
    received_at: datetime
    referrer_agency: str | None
    urgent: bool
    panel_due: date | None
    rapid_review_due: date | None
    status: str
    complete: bool
    assigned_to: str | None
    new_mail: bool = False  # a follow-up no officer has opened yet
    # The child's name for officers and admins, initials ("L.K.") for viewers and exports:
    # enough to see two referrals for one child without listing the name to everyone.
    child: str = ""
    decision_date: date | None = None  # a decision stops clocks that are not owed
    born: date | None = None  # the full date of birth, only where the name is shown
    born_year: int | None = None  # all a viewer's row holds of the date of birth


_QUEUE_COLUMNS = (
    col(Referral.id),
    col(Referral.reference),
    col(Referral.received_at),
    col(Referral.referrer_agency),
    col(Referral.urgent),
    col(Referral.panel_due),
    col(Referral.rapid_review_due),
    col(Referral.status),
    col(Referral.complete),
    col(Referral.assigned_to),
    col(Referral.new_mail),
    col(Referral.decision_date),
    # Made initials at once unless names are wanted: a viewer's row never holds the name.
    col(Referral.child_name),
    col(Referral.child_dob),
)


def _queue_row(values: Sequence[Any], names: bool = False) -> QueueRow:
    *columns, decided, name, born = values
    row = replace(QueueRow(*columns), decision_date=decided, born_year=born.year if born else None)
    if names:
        return replace(row, child=name or "", born=born)
    return replace(row, child=initials(name))


def _running(kind: Milestone) -> ColumnElement[bool]:
    """The clock of `kind` runs: work is still owed and its date is not recorded."""
    recorded = (
        sa_select(col(ReferralMilestone.id))
        .where(
            col(ReferralMilestone.referral_id) == col(Referral.id),
            col(ReferralMilestone.kind) == kind,
            col(ReferralMilestone.cleared_at).is_(None),
        )
        .exists()
    )
    return and_(col(Referral.status).in_(ACTIVE), ~recorded)


def _clock_due(today: date, overdue: bool) -> ColumnElement[bool]:
    """Some running clock is past due (`overdue`) or due today. Ofsted's clock has the
    Panel's due date."""

    panel, rapid = col(Referral.panel_due), col(Referral.rapid_review_due)
    panel_due = panel < today if overdue else panel == today
    rapid_due = rapid < today if overdue else rapid == today
    return or_(
        and_(_running(Milestone.PANEL_NOTIFIED), panel_due),
        and_(_running(Milestone.OFSTED_NOTIFIED), panel_due),
        and_(_running(Milestone.RAPID_REVIEW_COMPLETED), rapid_due),
    )


def _conditions(flt: QueueFilter, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.status == "open":
        where.append(col(Referral.status) != CLOSED)
    elif flt.status != "all":
        where.append(col(Referral.status) == flt.status)
    if flt.urgency == "urgent":
        where.append(col(Referral.urgent).is_(True))
    elif flt.urgency == "not_urgent":
        where.append(col(Referral.urgent).is_(False))
    if flt.agency:
        where.append(col(Referral.referrer_agency) == flt.agency)
    if flt.due == "overdue":
        where.append(_clock_due(today, overdue=True))
    elif flt.due == "today":
        where.append(_clock_due(today, overdue=False))
    if flt.assignee == "-":
        where.append(col(Referral.assigned_to).is_(None))
    elif flt.assignee:
        where.append(col(Referral.assigned_to) == flt.assignee)
    text = flt.search.strip().lower()
    if text:
        # Contains, any case; autoescape keeps a typed % or _ literal.
        where.append(
            or_(
                func.lower(col(Referral.reference)).contains(text, autoescape=True),
                func.lower(col(Referral.child_name)).contains(text, autoescape=True),
                func.lower(col(Referral.referrer_name)).contains(text, autoescape=True),
            )
        )
    return where


def _order(sort: str) -> list[Any]:
    # Within each order, referrals whose clock still runs come before decided ones: a
    # decision made last month must not sit above a referral due tomorrow.
    stopped = case((col(Referral.status).in_(ACTIVE), 0), else_=1)
    if sort == "due":
        return [stopped, col(Referral.panel_due).asc().nulls_last(), col(Referral.id)]
    if sort == "received":
        return [col(Referral.received_at).desc(), col(Referral.id).desc()]
    if sort == "reference":
        return [col(Referral.reference)]
    # Urgent first, then nearest due. The panel and rapid-review dates are counted from
    # the same day, so ordering by one orders by both.
    return [
        col(Referral.urgent).desc(),
        stopped,
        col(Referral.panel_due).asc().nulls_last(),
        col(Referral.id),
    ]


def queue_page(
    session: Session,
    flt: QueueFilter,
    today: date,
    page_size: int = PAGE_SIZE,
    *,
    names: bool = False,
) -> tuple[list[QueueRow], int]:
    """One page of the queue and the number of rows matching in all; with `names`, each
    row holds the child's name and date of birth (for officers and admins)."""
    where = _conditions(flt, today)
    total = session.exec(select(func.count()).select_from(Referral).where(*where)).one()
    page = max(flt.page, 1)
    # Core select: many columns at once, and never the heavy JSON record.
    rows = session.execute(
        sa_select(*_QUEUE_COLUMNS)
        .where(*where)
        .order_by(*_order(flt.sort))
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return [_queue_row(row, names) for row in rows], int(total)


def agencies(session: Session) -> list[str]:
    """Every referring agency named so far, for the queue's filter."""
    return [
        a
        for a in session.exec(
            select(Referral.referrer_agency)
            .where(col(Referral.referrer_agency).is_not(None))
            .distinct()
            .order_by(col(Referral.referrer_agency))
        )
        if a
    ]


@dataclass(frozen=True)
class ExportRow:
    """One line of the queue export: a queue row and its decision date; never a name."""

    row: QueueRow
    decision_date: date | None


def queue_export(session: Session, flt: QueueFilter, today: date) -> list[ExportRow]:
    """Every referral matching the queue's filter, in its order (no paging); rows hold
    initials only, whoever asks: the export leaves the building in meeting packs."""
    rows = session.execute(
        sa_select(*_QUEUE_COLUMNS).where(*_conditions(flt, today)).order_by(*_order(flt.sort))
    ).all()
    return [ExportRow(row, row.decision_date) for row in map(_queue_row, rows)]


@dataclass(frozen=True)
class WorkCounts:
    """The dashboard's work list: how many referrals wait for each kind of attention."""

    due_today: int
    overdue: int
    unassigned: int
    needs_info: int
    quarantined: int  # messages, not referrals: held for a person
    check_scan: int = 0  # read from a scan, waiting for an officer's check


def work_counts(session: Session, today: date) -> WorkCounts:
    """Counts of open referrals as the queue's filters find them, so each count matches
    the list its link opens; and the messages in quarantine."""

    def count(flt: QueueFilter) -> int:
        where = _conditions(flt, today)
        return int(session.exec(select(func.count()).select_from(Referral).where(*where)).one())

    held = select(func.count()).where(col(InboundMessage.state) == MessageState.QUARANTINED)
    return WorkCounts(
        due_today=count(QueueFilter(due="today")),
        overdue=count(QueueFilter(due="overdue")),
        unassigned=count(QueueFilter(assignee="-")),
        needs_info=count(QueueFilter(status=NEEDS_INFO)),
        quarantined=int(session.exec(held.select_from(InboundMessage)).one()),
        check_scan=count(QueueFilter(status=CHECK_SCAN)),
    )
