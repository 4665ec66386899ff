"""Mail that made no referral: quarantined messages, and those rejected or sent back.

Anyone signed in may see the list (times, reasons and sizes, never content); officers may
download an original and ask for a quarantined message to be processed again. The review
app does not run the pipeline itself: a request is recorded in the audit log and the
page puts a message back for the worker's next pass (as `intake reprocess ID` does at once).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from review.auth import SignedIn, require
from review.render import flash, page
from review.routes import DbEngine, Now, disposition, see_other
from storage import users
from storage.db import session_scope
from storage.insights import HeldMessage, held_message, quarantined, turned_away
from storage.messages import raw_bytes, reopen_quarantined
from storage.tables import InboundMessage, MessageState
from storage.workflow import record_event

router = APIRouter()


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> HTMLResponse:
    """Quarantined messages, then messages turned away without a referral."""
    with session_scope(engine) as db:
        held = quarantined(db)
        away = turned_away(db)
        record_event(db, user.name, "quarantine", 0, "viewed", now)
    return page(request, "quarantine.html", held=held, away=away, can_work=user.can(users.OFFICER))


def workable(db: Session, message_id: int) -> HeldMessage:
    """A message of the quarantine page that a person may open or act on: 404 for any
    other message, one that held a virus, or one whose original is no longer kept."""
    held = held_message(db, message_id)
    if held is None:
        raise HTTPException(404, "That message is not on the quarantine page.")
    if held.infected:
        raise HTTPException(404, "That message held a virus: it is not offered.")
    if not held.kept:
        raise HTTPException(404, "The email is not kept (it may have been purged).")
    return held


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
    return see_other("/quarantine")
