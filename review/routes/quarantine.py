"""Mail that made no referral: quarantined messages, those rejected or sent back, and
those dismissed as not a referral.

Anyone signed in may see the lists (times, reasons and sizes, never content). Officers
may open a message (sender, subject, its first lines and the names of its files), download
the original, attach it to a referral's thread, dismiss it as not a referral (and undo
that), key a referral in by hand, or ask for it to be processed again. The review app
does not run the pipeline itself: a reprocess puts the message back for the worker's next
pass, and the page says so until the worker has taken it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from parsers.thread import REFERENCE
from review.auth import SignedIn, require
from review.render import flash, page
from review.routes import DbEngine, Now, disposition, see_flash
from storage import users
from storage.audit import record_event
from storage.db import session_scope
from storage.held_actions import (
    MAX_REASON,
    HeldActionError,
    HeldError,
    attach_to_referral,
    dismiss,
    dismissed,
    undo_dismissal,
)
from storage.held_mail import MailHeadline, headline, read_held_mail
from storage.insights import HeldMessage, held_message, quarantined, turned_away
from storage.messages import raw_bytes, reopen_quarantined
from storage.tables import InboundMessage, MessageState
from storage.workflow import by_reference

router = APIRouter()


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> HTMLResponse:
    """Quarantined messages, messages turned away without a referral, and dismissed ones."""
    can_work = user.can(users.OFFICER)
    with session_scope(engine) as db:
        held = quarantined(db)
        away = turned_away(db)
        gone = dismissed(db)
        # Sender and subject are content: officers only, as for the original itself.
        heads: dict[int, MailHeadline | None] = {}
        if can_work:
            heads = {m.id: headline(db, m.id) for m in (*held, *away) if m.kept}
        record_event(db, user.name, "quarantine", 0, "viewed", now)
    return page(
        request,
        "quarantine.html",
        held=held,
        away=away,
        dismissed=gone,
        heads=heads,
        can_work=can_work,
    )


def on_page(db: Session, message_id: int) -> HeldMessage:
    """A message the quarantine page shows (held, turned away or dismissed); else 404."""
    held = held_message(db, message_id)
    if held is None:
        raise HTTPException(404, "That message is not on the quarantine page.")
    return held


def workable(db: Session, message_id: int) -> HeldMessage:
    """A message of the quarantine page that a person may open or act on: 404 for any
    other message, one that held a virus, or one whose original is no longer kept."""
    held = on_page(db, message_id)
    if held.infected:
        raise HTTPException(404, "That message held a virus: it is not offered.")
    if not held.kept:
        raise HTTPException(404, "The email is not kept (it may have been purged).")
    return held


def _message_page(
    request: Request,
    db: Session,
    held: HeldMessage,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page of one held message: what it says, and what an officer can do with it."""
    mail = read_held_mail(db, held.id) if held.kept and not held.infected else None
    row = db.get(InboundMessage, held.id)
    context: dict[str, Any] = {
        "held": held,
        "mail": mail,
        "quarantined": row is not None and row.state == MessageState.QUARANTINED,
        "errors": errors or {},
        "values": values or {},
        "max_reason": MAX_REASON,
    }
    return page(request, "held_message.html", status_code, **context)


@router.get("/quarantine/{message_id}", response_class=HTMLResponse)
def message_page(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> HTMLResponse:
    """One held message for an officer: sender, subject, first lines and files."""
    with session_scope(engine) as db:
        held = on_page(db, message_id)
        record_event(db, user.name, "message", message_id, "viewed", now, "quarantine")
        return _message_page(request, db, held)


@router.get("/quarantine/{message_id}/email")
def quarantine_email(
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> Response:
    """The original email (.eml) of a message on the quarantine page; never one that
    held a virus."""
    with session_scope(engine) as db:
        workable(db, message_id)
        content = raw_bytes(db, message_id)
        record_event(db, user.name, "message", message_id, "downloaded email", now)
    headers = {"Content-Disposition": disposition("attachment", f"message-{message_id}.eml")}
    return Response(content, media_type="message/rfc822", headers=headers)


@router.post("/quarantine/{message_id}/dismiss", response_class=HTMLResponse)
def dismiss_message(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    reason: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Not a referral: off the quarantine page, onto the dismissed list, with the reason."""
    text = reason.strip()
    error = ""
    if not text:
        error = "Say why this email is not a referral."
    elif len(text) > MAX_REASON:
        error = f"Keep the reason to {MAX_REASON} characters (it has {len(text)})."
    with session_scope(engine) as db:
        held = on_page(db, message_id)
        if error:
            return _message_page(
                request, db, held, {"reason": error}, {"reason": reason}, status_code=400
            )
        dismiss(db, message_id, text, user.name, now)
    flash(request, f"Message {message_id} dismissed as not a referral (see Dismissed below).")
    return see_flash("/quarantine")


@router.post("/quarantine/{message_id}/undismiss")
def undo_dismiss(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> Response:
    """Bring a dismissed message back to the quarantine page."""
    with session_scope(engine) as db:
        try:
            undo_dismissal(db, message_id, user.name, now)
        except HeldActionError:
            raise HTTPException(404, "That message is not on the dismissed list.") from None
    flash(request, f"Message {message_id} is back on the quarantine page.")
    return see_flash("/quarantine")


ATTACH_WORDS = {
    HeldError.INFECTED: "This email held a virus: it cannot join a referral.",
    HeldError.PURGED: "That referral's personal data was removed: nothing can be added to it.",
}


@router.post("/quarantine/{message_id}/attach", response_class=HTMLResponse)
def attach(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Attach the message to a referral's thread: it joins its timeline as a follow-up."""
    typed = reference.strip()
    wanted = typed.upper()
    with session_scope(engine) as db:
        held = on_page(db, message_id)
        referral = None
        if not typed:
            error = "Enter the reference of the referral, like SIRG-2026-0042."
        elif not REFERENCE.fullmatch(wanted):
            error = "A reference looks like SIRG-2026-0042: check what was typed."
        else:
            referral = by_reference(db, wanted)
            error = "" if referral is not None else f"There is no referral {wanted}."
        if referral is not None:
            try:
                attach_to_referral(db, message_id, referral, user.name, now)
            except HeldActionError as exc:
                error = ATTACH_WORDS.get(exc.why, "This message cannot be attached.")
        if error:
            db.rollback()  # nothing half-done stays when the attach was refused
            return _message_page(
                request, db, held, {"reference": error}, {"reference": typed}, status_code=400
            )
    flash(request, f"Message {message_id} is now part of {wanted}.")
    return see_flash(f"/referrals/{wanted}")


@router.post("/quarantine/{message_id}/reprocess")
def reprocess(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> Response:
    """Put a quarantined message back to be processed on the worker's next pass."""
    with session_scope(engine) as db:
        held = held_message(db, message_id)
        row = db.get(InboundMessage, message_id)
        if held is None or row is None or row.state != MessageState.QUARANTINED:
            said = "Only a quarantined message can be processed again."
        elif held.infected:
            said = "That message held a virus: it is never processed again."
        else:
            record_event(db, user.name, "message", message_id, "reprocess requested", now)
            said = ""
    if not said:
        outcome = reopen_quarantined(engine, message_id)
        said = (
            "It goes through the pipeline again on the worker's next pass (within minutes)."
            if outcome == "reopened"
            else f"Not reopened: {outcome}."
        )
    flash(request, said)
    return see_flash("/quarantine")
