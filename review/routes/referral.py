"""A referral's page, its documents, and the work officers do on it."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from review.auth import SignedIn, require
from review.days import uk_today
from review.record import (
    clean_value,
    editable,
    form_for,
    latest_corrections,
    layout,
    recomputed,
)
from review.render import flash, page, uk_date
from review.routes import (
    DbEngine,
    Now,
    changeable_or_409,
    file_response,
    referral_or_404,
    see_flash,
    shown_inline,
)
from review.routes.conversation import conversation_view, eml_response
from review.routes.duplicates import merge_view
from review.source import attachment_meta, original, value_source
from review.statutory import statutory_card
from storage import meetings, users, workflow
from storage import purge as purging
from storage.db import session_scope
from storage.insights import possible_duplicates
from storage.messages import attachment_bytes
from storage.workflow import DECISIONS, TRANSITIONS, WorkflowError, record_event

router = APIRouter()

MAX_NOTE = 4000


def _sentence(text: str) -> str:
    """'a referral ...' -> 'A referral ....' (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.get("/referrals/{reference}", response_class=HTMLResponse)
def referral_page(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
    view: str = "text",
) -> HTMLResponse:
    """The record, laid out by the form's sections, beside the original document."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        message = workflow.inbound_message(db, referral)
        sent = workflow.messages_for(db, referral)
        corrections = workflow.corrections(db, referral.id)
        people = users.assignable(db)
        duplicates = [
            (d.reference, d.received_at, d.status) for d in possible_duplicates(db, referral)
        ]
        record_event(db, user.name, "referral", referral.id, "viewed", now)
        talk = conversation_view(db, referral)
        statutory = statutory_card(request, db, referral, uk_today(now))
        merge = merge_view(db, referral, request)
        if referral.new_mail and user.can(users.OFFICER):
            referral.new_mail = False  # an officer has now seen the new mail
            db.add(referral)
    sections = layout(referral, corrections)
    shown = original(engine, referral)
    doc = shown.doc
    today = uk_today(now)
    return page(
        request,
        "referral.html",
        r=referral,
        sections=sections,
        doc=doc,
        view="pdf" if view == "pdf" and doc is not None and doc.kind == "pdf" else "text",
        pdf_only=shown.pdf_only,
        attachment=shown.attachment,
        message=message,
        sent=sent,
        corrections=list(reversed(corrections)),
        corrected=latest_corrections(corrections),
        people=people,
        duplicates=duplicates,
        next_statuses=TRANSITIONS.get(referral.status, ()),
        decisions=DECISIONS,
        statutory=statutory,
        today=today,
        # A merged referral is read-only: its work goes on in the one it was merged into.
        can_work=user.can(users.OFFICER) and referral.duplicate_of_id is None,
        is_admin=user.can(users.ADMIN),
        talk=talk,
        merge=merge,
    )


@router.get("/referrals/{reference}/document")
def document(
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
    inline: int = 0,
) -> Response:
    """The attached form as received: a download, or a PDF shown in the page."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        attachment = attachment_meta(db, referral.attachment_id)
        content = attachment_bytes(db, referral.attachment_id) if attachment else b""
        if attachment is None or not content:
            raise HTTPException(404, "The document is not kept (it may have been purged).")
        show = shown_inline(content, bool(inline))
        record_event(
            db,
            user.name,
            "referral",
            referral.id,
            "viewed document" if show else "downloaded document",
            now,
            f"attachment {attachment['id']}",
        )
        filename = str(attachment["filename"])
    return file_response(content, filename, show)


@router.get("/referrals/{reference}/email")
def email(
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> Response:
    """The email the referral came in, exactly as received (.eml)."""
    return eml_response(engine, reference, None, user.name, now)


@router.post("/referrals/{reference}/assign")
def assign(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    assignee: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Give the referral to someone (or to nobody)."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        changeable_or_409(referral)
        target = assignee.strip() or None
        if target is not None and target not in users.assignable(db):
            flash(request, "Referrals can be given only to active officers and admins.")
            return see_flash(f"/referrals/{reference}")
        workflow.assign(db, referral, target, user.name, now)
    flash(request, f"Assigned to {target}." if target else "No longer assigned.")
    return see_flash(f"/referrals/{reference}")


@router.post("/referrals/{reference}/notes")
def add_note(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    text: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Add a case note to the referral's timeline."""
    if not text.strip():
        flash(request, "The note is empty, so nothing was added.")
        return see_flash(f"/referrals/{reference}")
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        changeable_or_409(referral)
        workflow.add_note(db, referral, text.strip(), user.name, now)
    flash(request, "Note added.")
    return see_flash(f"/referrals/{reference}")


@router.post("/referrals/{reference}/urgency")
def set_urgency(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    urgent: Annotated[bool, Form()],
    reason: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Mark the referral urgent, or routine again, with the reason kept in the history."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        changeable_or_409(referral)
        workflow.set_urgent(db, referral, urgent, reason.strip(), user.name, now)
    flash(request, "Marked urgent." if urgent else "Marked routine.")
    return see_flash(f"/referrals/{reference}")


@router.post("/referrals/{reference}/status")
def change_status(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    to_status: Annotated[str, Form(max_length=30)],
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    decision_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Move the referral along the workflow, with a note (and a date for a decision)."""
    when: date | None = None
    if decision_date.strip():
        try:
            when = date.fromisoformat(decision_date.strip())
        except ValueError:
            flash(request, "The decision date is not a date.")
            return see_flash(f"/referrals/{reference}")
        if when > uk_today(now):
            flash(request, "A decision date cannot be in the future.")
            return see_flash(f"/referrals/{reference}")
    try:
        with session_scope(engine) as db:
            referral = referral_or_404(db, reference)
            workflow.change_status(
                db, referral, to_status, note.strip() or None, when, user.name, now
            )
            meeting = meetings.put_on_next_meeting(db, referral, user.name, now, uk_today(now))
            on_agenda = (
                f" It is on the agenda of the SIRG meeting of {uk_date(meeting.meeting_date)}."
                if meeting
                else ""
            )
    except WorkflowError as exc:
        flash(request, _sentence(str(exc)))
        return see_flash(f"/referrals/{reference}")
    flash(request, f"Moved to {workflow.status_label(to_status)}.{on_agenda}")
    return see_flash(f"/referrals/{reference}")


@router.get("/referrals/{reference}/correct", response_class=HTMLResponse)
def correct_form(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    key: Annotated[str, Query(max_length=200)],
) -> HTMLResponse:
    """The form to correct one value."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        changeable_or_409(referral)
        record_event(db, user.name, "referral", referral.id, "viewed", now, f"to correct {key}")
    target = editable(referral, key)
    if target is None:
        raise HTTPException(404, "The form has no such field.")
    current = workflow.record_value(referral.record, key)
    return page(
        request,
        "correct.html",
        r=referral,
        target=target,
        current=current,
        value=current,
        error=None,
        note="",
        prov=referral.provenance.get(key) or {},
        source=value_source(engine, referral, key),
    )


@router.post("/referrals/{reference}/correct", response_class=HTMLResponse)
def correct(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    key: Annotated[str, Form(max_length=200)],
    value: Annotated[str, Form(max_length=20000)] = "",
    values: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Store a corrected value, keeping the value before it."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        changeable_or_409(referral)
        target = editable(referral, key)
        if target is None:
            raise HTTPException(404, "The form has no such field.")
        current = workflow.record_value(referral.record, key)
        try:
            cleaned = clean_value(form_for(referral), target, value, values or [])
        except ValueError as exc:
            db.rollback()
            shown = values if target.type == "multi-choice" else value
            return page(
                request,
                "correct.html",
                400,
                r=referral,
                target=target,
                current=current,
                value=shown,
                error=str(exc),
                note=note,
                prov=referral.provenance.get(key) or {},
                source=value_source(engine, referral, key),
            )
        done = workflow.correct_value(
            db, referral, key, cleaned, note.strip() or None, user.name, now
        )
        if done is not None:
            keys = {c.key for c in workflow.corrections(db, referral.id)} | {key}
            complete, urgent = recomputed(referral, keys)
            workflow.set_derived(db, referral, complete, urgent, user.name, now)
    flash(request, f"{target.label}: corrected." if done else f"{target.label}: no change.")
    return see_flash(f"/referrals/{reference}")


@router.post("/referrals/{reference}/rows")
def add_row(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    grid: Annotated[str, Form(max_length=100)],
) -> Response:
    """Add an empty row to a table of the record, then correct its first cell."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        changeable_or_409(referral)
        try:
            grid_def = form_for(referral).grid(grid)
        except KeyError:
            raise HTTPException(404, "The form has no such table.") from None
        index = workflow.add_row(db, referral, grid_def.key, user.name, now)
    first = f"{grid_def.key}[{index}].{grid_def.columns[0].key}"
    flash(request, f"{grid_def.title}: row {index + 1} added; fill in its cells.")
    return see_flash(f"/referrals/{reference}/correct?key={quote(first)}")


@router.post("/referrals/{reference}/purge")
def purge(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    confirm: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Remove a closed referral's personal data (the reference and its history stay)."""
    if confirm.strip() != reference:
        flash(request, "Type the reference to confirm the purge.")
        return see_flash(f"/referrals/{reference}")
    try:
        with session_scope(engine) as db:
            referral = referral_or_404(db, reference)
            purging.purge(db, referral, user.name, now)
    except WorkflowError as exc:
        flash(request, _sentence(str(exc)))
        return see_flash(f"/referrals/{reference}")
    flash(request, "Personal data removed.")
    return see_flash(f"/referrals/{reference}")
