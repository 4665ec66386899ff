"""The inbox queue: one row per referral, filtered, searched, sorted and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from review.auth import SignedIn, require
from review.days import Due, due, uk_today
from review.render import page
from review.routes import DbEngine, Now
from storage import users
from storage.db import session_scope
from storage.workflow import (
    CLOCK_RUNNING,
    PAGE_SIZE,
    STATUSES,
    QueueFilter,
    QueueRow,
    agencies,
    queue_page,
    record_event,
)

router = APIRouter()

SORTS = {
    "priority": "Urgent first, then nearest due",
    "due": "Nearest due",
    "received": "Newest first",
    "reference": "Reference",
}
URGENCY = {"all": "Any urgency", "urgent": "Urgent", "not_urgent": "Not urgent"}


@dataclass(frozen=True)
class Line:
    """A queue row with its due dates worked out for today."""

    row: QueueRow
    panel: Due
    rapid: Due


def _filter(
    status: str,
    urgency: str,
    agency: str,
    overdue: str,
    assignee: str,
    q: str,
    sort: str,
    page: int,
) -> QueueFilter:
    """The filter from the query string; unknown values fall back to the defaults."""
    return QueueFilter(
        status=status if status in ("open", "all", *STATUSES) else "open",
        urgency=urgency if urgency in URGENCY else "all",
        agency=agency.strip()[:300],
        overdue=overdue in ("1", "on", "true"),
        assignee=assignee.strip()[:100],
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
    status: str = "open",
    urgency: str = "all",
    agency: str = "",
    overdue: str = "",
    assignee: str = "",
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "priority",
    page_no: Annotated[int, Query(alias="page")] = 1,
) -> HTMLResponse:
    """The queue page."""
    flt = _filter(status, urgency, agency, overdue, assignee, q, sort, page_no)
    today = uk_today(now)
    with session_scope(engine) as db:
        rows, total = queue_page(db, flt, today)
        agency_names = agencies(db)
        people = users.assignable(db)
        # Every look at the queue is audited; the query says what was searched for.
        record_event(db, user.name, "queue", 0, "viewed", now, request.url.query[:500] or None)
    lines = []
    for row in rows:
        running = row.status in CLOCK_RUNNING
        lines.append(
            Line(row, due(row.panel_due, today, running), due(row.rapid_review_due, today, running))
        )
    params = {
        "status": flt.status,
        "urgency": flt.urgency,
        "agency": flt.agency,
        "overdue": "1" if flt.overdue else "",
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
        today=today,
        filtered=flt != QueueFilter(sort=flt.sort, page=flt.page),
    )
