"""The chair's decisions (confirmed, then saved with their emails), the undo, and the pack."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from notifications.decision import DecisionMail, decision_rows
from review.auth import SignedIn, require
from review.days import uk_today
from review.meeting_pack import meeting_pack, pack_filename
from review.render import flash, page
from review.routes import DOCX, DbEngine, Now, disposition
from review.routes.meetings import MAX_REASON, back, meeting_or_404, meeting_view, sentence
from storage import agenda, meetings, users
from storage.agenda import Decision, ItemView, Recipient
from storage.audit import record_event
from storage.db import session_scope
from storage.meeting_papers import Papers, papers
from storage.tables import Referral
from storage.workflow import READY, WorkflowError

router = APIRouter()


class Step(StrEnum):
    """Where the decision form is: checked and shown for confirmation, taken back to the
    meeting page to change, or confirmed and saved."""

    CHECK = "check"
    EDIT = "edit"
    CONFIRM = "confirm"


def _told(recipients: list[Recipient]) -> str:
    """'the referrer and 2 alerted SIRG representatives', for the confirmation page."""
    parts = []
    if any(r.referrer for r in recipients):
        parts.append("the referrer")
    reps = sum(1 for r in recipients if not r.referrer)
    if reps:
        parts.append(f"{reps} alerted SIRG representative{'s' if reps != 1 else ''}")
    return " and ".join(parts)


def _item(items: list[ItemView], item_id: int) -> ItemView:
    for item in items:
        if item.id == item_id:
            return item
    raise HTTPException(404, "That item is not on this meeting's agenda.")


@router.post("/meetings/{meeting_id}/items/{item_id}/decision", response_model=None)
def decide(
    request: Request,
    meeting_id: int,
    item_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    decision: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=MAX_REASON * 2)] = "",
    step: Annotated[Step, Form()] = Step.CHECK,
) -> Response:
    """Check the decision and show it for confirmation; save it once confirmed."""
    values = {f"decision-{item_id}": decision, f"reason-{item_id}": reason}
    if step == Step.EDIT:
        return meeting_view(request, engine, now, user, meeting_id, values=values)
    errors: dict[str, str] = {}
    if decision not in set(Decision):
        errors[f"decision-{item_id}"] = "Choose the decision SIRG made"
    if not reason.strip():
        errors[f"reason-{item_id}"] = "Give the reason for the decision"
    elif len(reason.strip()) > MAX_REASON:
        errors[f"reason-{item_id}"] = f"The reason must be {MAX_REASON} characters or fewer"
    if errors:
        return meeting_view(request, engine, now, user, meeting_id, errors, values, 400)
    chosen = Decision(decision)
    if step == Step.CONFIRM:
        return _save(request, engine, now, user, meeting_id, item_id, chosen, reason.strip())
    with session_scope(engine) as db:
        meeting = meeting_or_404(db, meeting_id)
        item = _item(agenda.agenda(db, meeting), item_id)
        referral = db.get(Referral, item.referral_id)
        assert referral is not None
        told = _told(agenda.recipients(db, referral))
        summary = agenda.summary(db, meeting)
    if item.status != READY or item.current is not None or summary.day > uk_today(now):
        flash(request, f"A decision cannot be recorded for {item.reference} now.")
        return back(meeting_id)
    return page(
        request,
        "meeting_confirm.html",
        m=summary,
        it=item,
        decision=chosen,
        reason=reason.strip(),
        told=told,
    )


def _save(
    request: Request,
    engine: Engine,
    now: datetime,
    user: SignedIn,
    meeting_id: int,
    item_id: int,
    decision: Decision,
    reason: str,
) -> Response:
    """Record the decision and queue its emails in one transaction."""
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            done = meetings.record_decision(
                db, meeting, item_id, decision, reason, user.name, now, uk_today(now)
            )
            rows = decision_rows(
                request.app.state.settings.mail_config,
                done.referral,
                mail=DecisionMail.DECIDED,
                decision=decision,
                meeting_day=done.meeting_day,
                recipients=agenda.recipients(db, done.referral),
            )
            db.add_all(rows)
            reference = done.referral.reference
    except LookupError:
        raise HTTPException(404, "That item is not on this meeting's agenda.") from None
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    said = f"Recorded: {decision.label} for {reference}."
    said += f" {len(rows)} email{'s' if len(rows) != 1 else ''} queued." if rows else ""
    flash(request, said)
    return back(meeting_id)


@router.post("/meetings/{meeting_id}/decisions/{decision_id}/undo", response_model=None)
def undo(
    request: Request,
    meeting_id: int,
    decision_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    reason: Annotated[str, Form(max_length=MAX_REASON * 2)] = "",
) -> Response:
    """An admin takes back a decision recorded in error, with the reason; the referral is
    Ready for SIRG again and everyone told of the decision hears it was withdrawn."""
    field = f"undo-{decision_id}"
    if not reason.strip() or len(reason.strip()) > MAX_REASON:
        said = "Give the reason for undoing the decision"
        if reason.strip():
            said = f"The reason must be {MAX_REASON} characters or fewer"
        errors = {field: said}
        return meeting_view(request, engine, now, user, meeting_id, errors, {field: reason}, 400)
    try:
        with session_scope(engine) as db:
            meeting = meeting_or_404(db, meeting_id)
            done = meetings.undo_decision(db, meeting, decision_id, reason, user.name, now)
            rows = decision_rows(
                request.app.state.settings.mail_config,
                done.referral,
                mail=DecisionMail.WITHDRAWN,
                decision=done.decision,
                meeting_day=done.meeting_day,
                recipients=agenda.recipients(db, done.referral),
            )
            db.add_all(rows)
            reference = done.referral.reference
    except LookupError:
        raise HTTPException(404, "That decision was not recorded in this meeting.") from None
    except WorkflowError as exc:
        flash(request, sentence(str(exc)))
        return back(meeting_id)
    flash(request, f"Decision undone: {reference} is Ready for SIRG again.")
    return back(meeting_id)


def _papers(engine: Engine, meeting_id: int, actor: str, now: datetime, action: str) -> Papers:
    """The meeting's papers, with an audit line on the meeting and on each referral in them
    (so a referral's trail shows every pack its details went into)."""
    with session_scope(engine) as db:
        meeting = meeting_or_404(db, meeting_id)
        found = papers(db, meeting)
        references = ", ".join(p.reference for p in found.papers)
        record_event(db, actor, "meeting", meeting_id, action, now, references or None)
        for paper in found.papers:
            record_event(
                db, actor, "referral", paper.referral_id, action, now, f"meeting {meeting_id}"
            )
    return found


@router.get("/meetings/{meeting_id}/print", response_class=HTMLResponse)
def print_view(
    request: Request,
    meeting_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> HTMLResponse:
    """The pack as a page to print (the browser's Print command; the page's print style)."""
    found = _papers(engine, meeting_id, user.name, now, "viewed meeting pack")
    return page(request, "meeting_print.html", p=found)


@router.get("/meetings/{meeting_id}/pack.docx")
def pack(
    meeting_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> Response:
    """The pack as a Word document."""
    found = _papers(engine, meeting_id, user.name, now, "downloaded meeting pack")
    headers = {"Content-Disposition": disposition("attachment", pack_filename(found))}
    return Response(meeting_pack(found), media_type=DOCX, headers=headers)
