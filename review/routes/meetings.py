"""SIRG meetings' pages: the list, scheduling, and shaping each meeting's agenda."""

# Officers schedule meetings, shape agendas and record the chair's decisions; admins undo a
# decision recorded in error; viewers read meetings and the pack, as they read referrals.

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from review.auth import SignedIn, require
from review.days import uk_today
from review.render import flash, page, uk_date
from review.routes import DbEngine, Now, see_flash, see_other
from storage import agenda, meetings, users
from storage.agenda import Decision
from storage.audit import record_event
from storage.db import session_scope
from storage.tables import SirgMeeting
from storage.workflow import READY, WorkflowError, by_reference

router = APIRouter()

MAX_REASON = 4000
MAX_AHEAD = timedelta(days=2 * 366)  # a date further off is a typing slip (2062 for 2026)
Officer = Annotated[SignedIn, require(users.OFFICER)]
Viewer = Annotated[SignedIn, require(users.VIEWER)]
Errors = dict[str, str]


def sentence(text: str) -> str:
    """'a meeting ...' -> 'A meeting ....'."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def meeting_or_404(db: Session, meeting_id: int) -> SirgMeeting:
    """The meeting, or the 404 page."""
    meeting = meetings.meeting_or_none(db, meeting_id)
    if meeting is None or meeting.id is None:
        raise HTTPException(404, "There is no such meeting.")
    return meeting


def back(meeting_id: int) -> Response:
    """To the meeting's page after a change, at the flash message that says what it did."""
    return see_flash(f"/meetings/{meeting_id}")


# --------------------------------------------------------------------------- the list


def _list_page(
    request: Request,
    engine: Engine,
    now: Any,
    user: SignedIn,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = uk_today(now)
    with session_scope(engine) as db:
        upcoming, past = agenda.meetings(db, today)
        waiting = len(agenda.offered(db, today))
    return page(
        request,
        "meetings.html",
        status,
        upcoming=upcoming,
        past=past,
        waiting=waiting,
        today=today,
        errors=errors or {},
        values=values or {},
        can_work=user.can(users.OFFICER),
    )


@router.get("/meetings", response_class=HTMLResponse)
def meetings_page(request: Request, engine: DbEngine, now: Now, user: Viewer) -> HTMLResponse:
    """Upcoming meetings first, then past ones; officers schedule new ones here."""
    return _list_page(request, engine, now, user)


@router.post("/meetings", response_model=None)
def schedule(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Officer,
    meeting_date: Annotated[str, Form(max_length=100)] = "",
    time_note: Annotated[str, Form(max_length=2000)] = "",
    place_note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Schedule a meeting; a wrong field comes back marked, with what was typed kept."""
    today = uk_today(now)
    values = {"meeting_date": meeting_date, "time_note": time_note, "place_note": place_note}
    errors: Errors = {}
    day: date | None = None
    if not meeting_date.strip():
        errors["meeting_date"] = "Enter the date of the meeting"
    else:
        try:
            day = date.fromisoformat(meeting_date.strip())
        except ValueError:
            errors["meeting_date"] = "Enter a real date, for example 2026-12-08"
    if day is not None and day < today:
        errors["meeting_date"] = "The meeting date must be today or later"
    elif day is not None and day > today + MAX_AHEAD:
        errors["meeting_date"] = "The meeting date must be within the next two years"
    if len(time_note.strip()) > 100:
        errors["time_note"] = "The time must be 100 characters or fewer"
    if len(place_note.strip()) > 300:
        errors["place_note"] = "The place must be 300 characters or fewer"
    if not errors and day is not None:
        try:
            with session_scope(engine) as db:
                meeting = meetings.create_meeting(
                    db, day, time_note, place_note, user.name, now, today
                )
                meeting_id = meeting.id
                waiting = meetings.fill_if_next(db, meeting, user.name, now, today)
        except WorkflowError as exc:
            errors["meeting_date"] = sentence(str(exc)).rstrip(".")
        else:
            added = f" {len(waiting)} Ready referrals put on its agenda." if waiting else ""
            flash(request, f"Meeting scheduled for {uk_date(day)}.{added}")
            return see_flash(f"/meetings/{meeting_id}")
    return _list_page(request, engine, now, user, errors, values, 400)


# --------------------------------------------------------------------------- one meeting


def meeting_view(
    request: Request,
    engine: Engine,
    now: Any,
    user: SignedIn,
    meeting_id: int,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The meeting's page, with errors and typed values when a form comes back."""
    today = uk_today(now)
    with session_scope(engine) as db:
        meeting = meeting_or_404(db, meeting_id)
        items = agenda.agenda(db, meeting)
        upcoming, _past = agenda.meetings(db, today)
        offers = agenda.offered(db, today) if meeting.meeting_date >= today else []
        summary = agenda.summary(db, meeting)
        record_event(db, user.name, "meeting", meeting_id, "viewed", now)
    return page(
        request,
        "meeting.html",
        status,
        m=summary,
        items=items,
        offers=offers,
        others=[o for o in upcoming if o.id != meeting_id],
        open_agenda=summary.day >= today,
        can_decide=summary.day <= today,
        decisions=list(Decision),
        ready=READY,
        errors=errors or {},
        values=values or {},
        can_work=user.can(users.OFFICER),
        is_admin=user.can(users.ADMIN),
    )


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_page(
    request: Request, meeting_id: int, engine: DbEngine, now: Now, user: Viewer
) -> HTMLResponse:
    """The agenda in order; for officers, the work on it and the Ready referrals offered."""
    return meeting_view(request, engine, now, user, meeting_id)


@router.post("/meetings/{meeting_id}/agenda")
def add_item(
    request: Request,
    meeting_id: int,
    engine: DbEngine,
    now: Now,
    user: Officer,
    reference: Annotated[str, Form(max_length=30)],
) -> Response:
    """Put one Ready referral on this meeting's agenda."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            referral = by_reference(db, reference.strip())
            if referral is None:
                raise HTTPException(404, "There is no referral with that reference.")
            meetings.add_to_agenda(db, meeting, referral, user.name, now, uk_today(now))
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    flash(request, f"{reference} added to the agenda.")
    return back(meeting_id)


@router.post("/meetings/{meeting_id}/agenda/all")
def add_all(
    request: Request, meeting_id: int, engine: DbEngine, now: Now, user: Officer
) -> Response:
    """Put every Ready referral on no upcoming agenda onto this one."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            added = meetings.add_all_ready(db, meeting, user.name, now, uk_today(now))
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    count = len(added)
    flash(request, f"{count} referral{'s' if count != 1 else ''} added to the agenda.")
    return back(meeting_id)


@router.post("/meetings/{meeting_id}/items/{item_id}/move")
def move(
    request: Request,
    meeting_id: int,
    item_id: int,
    engine: DbEngine,
    now: Now,
    user: Officer,
    direction: Annotated[meetings.Move, Form()],
) -> Response:
    """Move an item one place up or down the agenda."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            if meeting.meeting_date < uk_today(now):
                raise meetings.MeetingError("that meeting has taken place; its agenda is fixed")
            meetings.move_item(db, meeting, item_id, direction, user.name, now)
    except LookupError:
        raise HTTPException(404, "That item is not on this meeting's agenda.") from None
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    # No message when it worked: the item, in its new place, shows that it moved.
    return see_other(f"/meetings/{meeting_id}#item-{item_id}")


@router.post("/meetings/{meeting_id}/items/{item_id}/move-to")
def move_to(
    request: Request,
    meeting_id: int,
    item_id: int,
    engine: DbEngine,
    now: Now,
    user: Officer,
    target: Annotated[int, Form()],
) -> Response:
    """Move an undecided item to another upcoming meeting's agenda."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            other = meetings.meeting_or_none(db, target)
            if other is None:
                raise HTTPException(404, "There is no such meeting.")
            meetings.move_to_meeting(db, meeting, item_id, other, user.name, now, uk_today(now))
            day = other.meeting_date
    except LookupError:
        raise HTTPException(404, "That item is not on this meeting's agenda.") from None
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    flash(request, f"Moved to the meeting of {uk_date(day)}.")
    return back(meeting_id)


@router.post("/meetings/{meeting_id}/items/{item_id}/remove")
def remove(
    request: Request, meeting_id: int, item_id: int, engine: DbEngine, now: Now, user: Officer
) -> Response:
    """Take an undecided item off the agenda (it is offered again while Ready)."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            reference = meetings.remove_item(db, meeting, item_id, user.name, now)
    except LookupError:
        raise HTTPException(404, "That item is not on this meeting's agenda.") from None
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    flash(request, f"{reference} taken off the agenda.")
    return back(meeting_id)
