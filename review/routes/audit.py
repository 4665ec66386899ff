"""The audit log for admins: who saw or changed what, and when; CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session

from review.auth import SignedIn, require
from review.days import UK
from review.render import page, uk_datetime
from review.routes import DbEngine, Now
from review.spreadsheet import csv_cell
from storage import users
from storage.audit_log import AuditFilter, audit_all, audit_choices, audit_page, references_for
from storage.db import session_scope
from storage.queue import PAGE_SIZE
from storage.tables import AuditEvent
from storage.workflow import record_event

router = APIRouter()


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UK)


def _filter(
    actor: str, entity: str, action: str, since: str, until: str, page_no: int
) -> AuditFilter:
    first, last = _day(since), _day(until)
    return AuditFilter(
        actor=actor.strip()[:100],
        entity=entity.strip()[:30],
        action=action.strip()[:50],
        since=_uk_midnight(first) if first else None,
        before=_uk_midnight(last + timedelta(days=1)) if last else None,
        page=max(1, min(page_no, 1_000_000)),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    actor: str = "",
    entity: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    page_no: int = 1,
) -> HTMLResponse:
    """The audit log, newest first, 50 to a page."""
    flt = _filter(actor, entity, action, since, until, page_no)
    with session_scope(engine) as db:
        rows, total = audit_page(db, flt)
        refs = references_for(db, [r.entity_id for r in rows if r.entity == "referral"])
        entities, actions = audit_choices(db)
        people = {u.id: u.name for u in users.all_users(db)}
        actors = ["system", "unknown", *people.values()]
        record_event(db, user.name, "audit", 0, "viewed", now, request.url.query[:500] or None)
    kept = {
        k: v
        for k, v in {
            "actor": flt.actor,
            "entity": flt.entity,
            "action": flt.action,
            "since": since.strip(),
            "until": until.strip(),
        }.items()
        if v
    }
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "audit.html",
        rows=rows,
        refs=refs,
        people=people,
        total=total,
        flt=flt,
        since=since.strip(),
        until=until.strip(),
        actors=actors,
        entities=entities,
        actions=actions,
        page_no=flt.page,
        pages=pages,
        prev_url="/audit?" + urlencode({**kept, "page_no": flt.page - 1}) if flt.page > 1 else None,
        next_url="/audit?" + urlencode({**kept, "page_no": flt.page + 1})
        if flt.page < pages
        else None,
        csv_url="/audit.csv" + ("?" + urlencode(kept) if kept else ""),
    )


_csv_cell = csv_cell


def _csv_lines(engine: Engine, flt: AuditFilter) -> Iterator[str]:
    """The CSV, a batch at a time: a long log is never held in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["at_utc", "at_uk", "actor", "entity", "entity_id", "reference", "action", "detail"]
    )
    with session_scope(engine) as db:
        batch: list[AuditEvent] = []
        for event in audit_all(db, flt):
            batch.append(event)
            if len(batch) >= 500:
                yield from _rows(db, batch, writer, buffer)
                batch = []
        yield from _rows(db, batch, writer, buffer)
    yield buffer.getvalue()


def _rows(db: Session, batch: list[AuditEvent], writer: Any, buffer: io.StringIO) -> Iterator[str]:
    refs = references_for(db, [e.entity_id for e in batch if e.entity == "referral"])
    for e in batch:
        writer.writerow(
            [
                _csv_cell(e.at.isoformat()),
                _csv_cell(uk_datetime(e.at)),
                _csv_cell(e.actor),
                _csv_cell(e.entity),
                e.entity_id,
                _csv_cell(refs.get(e.entity_id, "") if e.entity == "referral" else ""),
                _csv_cell(e.action),
                _csv_cell(e.detail),
            ]
        )
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    if text:
        yield text


@router.get("/audit.csv")
def audit_csv(
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    actor: str = "",
    entity: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> StreamingResponse:
    """The audit log (with the page's filters) as CSV."""
    flt = _filter(actor, entity, action, since, until, 1)
    with session_scope(engine) as db:
        record_event(db, user.name, "audit", 0, "exported", now)
    stamp = now.astimezone(UK).strftime("%Y-%m-%d-%H%M")
    return StreamingResponse(
        _csv_lines(engine, flt),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lscp-audit-{stamp}.csv"'},
    )
