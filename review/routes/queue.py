"""The inbox queue: one row per referral, filtered, searched, sorted and paged."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from review.auth import SignedIn, require
from review.days import UK, Due, uk_today
from review.render import page
from review.routes import DbEngine, Now
from review.spreadsheet import csv_cell
from review.statutory import queue_due
from storage import users
from storage.db import session_scope
from storage.milestones import Milestone, clocks_for
from storage.queue import PAGE_SIZE, QueueFilter, QueueRow, agencies, queue_export, queue_page
from storage.workflow import STATUSES, record_event, status_label

router = APIRouter()

# Filters worth keeping in the audit log; the search box is left out: people type
# children's names into it, and the audit log is kept long after a referral is purged.
AUDITED_FILTERS = (
    "status",
    "urgency",
    "agency",
    "due",
    "overdue",
    "assignee",
    "assigned",
    "sort",
    "page",
)


def audited_query(request: Request) -> str | None:
    """The queue's filters as the audit log keeps them (never the search text)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in AUDITED_FILTERS]
    if request.query_params.get("q"):
        kept.append(("q", "(search not kept)"))
    return "&".join(f"{k}={v}" for k, v in kept)[:500] or None


SORTS = {
    "priority": "Urgent first, then nearest due",
    "due": "Nearest due",
    "received": "Newest first",
    "reference": "Reference",
}
URGENCY = {"all": "Any urgency", "urgent": "Urgent", "not_urgent": "Not urgent"}
DUE = {"": "Any", "today": "Due today", "overdue": "Overdue"}


PANEL, OFSTED = Milestone.PANEL_NOTIFIED, Milestone.OFSTED_NOTIFIED


@dataclass(frozen=True)
class Line:
    """A queue row with its due dates worked out for today."""

    row: QueueRow
    panel: Due
    rapid: Due
    ofsted: Due | None = None  # shown apart only when it stands apart from the Panel's


def _filter(
    status: str = "open",
    urgency: str = "all",
    agency: str = "",
    due: str = "",
    overdue: str = "",
    assignee: str = "",
    assigned: str = "",
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "priority",
    page: int = 1,
) -> QueueFilter:
    """The filter from the query string (a dependency of the queue and its CSV export);
    unknown values fall back to the defaults."""
    return QueueFilter(
        status=status if status in ("open", "all", *STATUSES) else "open",
        urgency=urgency if urgency in URGENCY else "all",
        agency=agency.strip()[:300],
        # ?overdue=1 is the older spelling of ?due=overdue (bookmarks keep working).
        due="overdue" if overdue in ("1", "on", "true") else due if due in DUE else "",
        # ?assigned=none is another spelling of ?assignee=- (nobody), for links by hand.
        assignee="-" if assigned == "none" else assignee.strip()[:100],
        search=q.strip()[:200],
        sort=sort if sort in SORTS else "priority",
        page=max(1, min(page, 100_000)),
    )


@router.get("/", response_class=HTMLResponse)
def inbox(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
    flt: Annotated[QueueFilter, Depends(_filter)],
) -> HTMLResponse:
    """The queue page."""
    today = uk_today(now)
    with session_scope(engine) as db:
        # Viewers see initials and a birth year; the name is for those who act on it.
        rows, total = queue_page(db, flt, today, names=user.can(users.OFFICER))
        clocks = clocks_for(db, rows, today)
        agency_names = agencies(db)
        people = users.assignable(db)
        # Every look at the queue is audited; the query says what was searched for.
        record_event(db, user.name, "queue", 0, "viewed", now, audited_query(request))
    lines = []
    for row in rows:
        panel, ofsted = clocks[row.id][PANEL], clocks[row.id][OFSTED]
        lines.append(
            Line(
                row,
                queue_due(panel),
                queue_due(clocks[row.id][Milestone.RAPID_REVIEW_COMPLETED]),
                queue_due(ofsted) if ofsted.running != panel.running else None,
            )
        )
    params = {
        "status": flt.status,
        "urgency": flt.urgency,
        "agency": flt.agency,
        "due": flt.due,
        "assignee": flt.assignee,
        "q": flt.search,
        "sort": flt.sort,
    }
    kept = {k: v for k, v in params.items() if v}
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "queue.html",
        flt=flt,
        lines=lines,
        total=total,
        first=(flt.page - 1) * PAGE_SIZE + 1 if total else 0,
        last=min(flt.page * PAGE_SIZE, total),
        pages=pages,
        prev_url="/?" + urlencode({**kept, "page": flt.page - 1}) if flt.page > 1 else None,
        next_url="/?" + urlencode({**kept, "page": flt.page + 1}) if flt.page < pages else None,
        agencies=agency_names,
        people=people,
        sorts=SORTS,
        urgencies=URGENCY,
        dues=DUE,
        today=today,
        filtered=flt != QueueFilter(sort=flt.sort, page=flt.page),
        mine=flt.assignee == user.name,
        csv_url="/export.csv" + ("?" + urlencode(kept) if kept else ""),
    )


EXPORT_COLUMNS = [
    "reference",
    "received",
    "agency",
    "urgent",
    "status",
    "complete",
    "assignee",
    "panel_due",
    "rapid_review_due",
    "decision_date",
]


@router.get("/export.csv")
def export_csv(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
    flt: Annotated[QueueFilter, Depends(_filter)],
) -> Response:
    """The queue, with the page's filters and order, as CSV for a SIRG meeting pack.

    By reference only: no child's or referrer's name, no address, no record.
    """
    with session_scope(engine) as db:
        rows = queue_export(db, replace(flt, page=1), uk_today(now))
        record_event(db, user.name, "queue", 0, "exported", now, audited_query(request))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for line in rows:
        r = line.row
        writer.writerow(
            [
                csv_cell(r.reference),
                r.received_at.astimezone(UK).strftime("%Y-%m-%d %H:%M"),
                csv_cell(r.referrer_agency),
                "yes" if r.urgent else "no",
                csv_cell(status_label(r.status)),
                "yes" if r.complete else "no",
                csv_cell(r.assigned_to),
                r.panel_due.isoformat() if r.panel_due else "",
                r.rapid_review_due.isoformat() if r.rapid_review_due else "",
                line.decision_date.isoformat() if line.decision_date else "",
            ]
        )
    stamp = now.astimezone(UK).strftime("%Y-%m-%d-%H%M")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lscp-queue-{stamp}.csv"'},
    )
