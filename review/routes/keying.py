"""Create a referral by hand from a message on the quarantine page (officers only).

The page shows the form laid out by sections beside the original (the scanned PDF, and
the email's own text, with links to the files and the email); what is typed is checked
like a correction, and the referral is stored with its reply and SIRG alerts in one
transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from notifications.routing import RoutingError, load_routing
from parsers.formdef import FormDef, load_form
from parsers.mime import parse_message, reply_address
from parsers.sniff import sniff
from review.auth import SignedIn, require
from review.keying import (
    GRID_ROWS,
    Keyed,
    KeyedFrom,
    create_referral,
    entry_sections,
    keyed_record,
    posted_answers,
    row_count,
)
from review.render import flash, page
from review.routes import DbEngine, Now, file_response, see_flash, shown_inline
from review.routes.quarantine import workable
from storage import crypto, users
from storage.audit import record_event
from storage.db import session_scope
from storage.held_mail import read_mail_text
from storage.insights import HeldMessage
from storage.messages import raw_bytes
from storage.referrals import keying_sources
from storage.tables import Attachment

router = APIRouter()
# Inputs of the page that are not answers on the form.
CONTROLS = ("csrf_token", "source", "acknowledge", "grid_rows", "more")
MORE_ROWS = 5  # added to every table by "Add more rows"
MAX_ROWS = 60


@dataclass(frozen=True)
class Entry:
    """The page's own settings, kept when it is shown again."""

    source: str  # "email" or "file-<attachment id>"
    acknowledge: bool
    rows: int = GRID_ROWS  # blank rows in each table


def _rows(value: object) -> int:
    return row_count(value, GRID_ROWS, MAX_ROWS)


def _context(db: Session, held: HeldMessage) -> dict[str, Any]:
    """What the page shows besides the answers: the files to key from, the email itself
    (its whole text, for a referral written in the message), who is told."""
    sources = keying_sources(db, held.id)
    pdf = next((a for a in sources if sniff(crypto.unseal(a.content)) == "pdf"), None)
    return {
        "held": held,
        "sources": sources,
        "pdf": pdf,
        "mail": read_mail_text(db, held.id),
        "reply_to": reply_address(parse_message(raw_bytes(db, held.id))),
    }


def _render(
    request: Request,
    db: Session,
    held: HeldMessage,
    form: FormDef,
    keyed: Keyed | None,
    entry: Entry,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "keying.html",
        status_code,
        form=form,
        sections=entry_sections(form, entry.rows),
        mandatory=set(form.mandatory_keys()),
        entered=keyed.entered if keyed else {},
        errors=keyed.errors if keyed else {},
        entry=entry,
        **_context(db, held),
    )


@router.get("/quarantine/{message_id}/referral", response_class=HTMLResponse)
def keying_page(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> HTMLResponse:
    """The form to key a referral in from this message."""
    with session_scope(engine) as db:
        held = workable(db, message_id)
        record_event(db, user.name, "message", message_id, "viewed", now, "to key a referral")
        sources = keying_sources(db, message_id)
        first = f"file-{sources[0].id}" if sources else "email"
        return _render(request, db, held, load_form(), None, Entry(first, True))


@router.post("/quarantine/{message_id}/referral", response_class=HTMLResponse)
async def create(
    request: Request,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> Response:
    """Check what was typed; store the referral, or show the page again with the errors."""
    submitted = await request.form()
    posted = posted_answers(submitted, CONTROLS)
    entry = Entry(
        str(submitted.get("source") or "email"),
        submitted.get("acknowledge") == "1",
        _rows(submitted.get("grid_rows")),
    )
    form = load_form()
    keyed = keyed_record(form, entry_sections(form, entry.rows), posted)
    settings = request.app.state.settings
    with session_scope(engine) as db:
        held = workable(db, message_id)
        attachment_id = _source_id(db, message_id, entry.source)
        if submitted.get("more") == "1":
            # More blank rows asked for: the same page, everything typed kept, nothing stored.
            more = replace(entry, rows=min(MAX_ROWS, entry.rows + MORE_ROWS))
            return _render(request, db, held, form, Keyed(entered=keyed.entered), more)
        if not keyed.ok:
            return _render(request, db, held, form, keyed, entry, 400)
        if not keyed.record:
            keyed.errors["_"] = "nothing was entered"
            return _render(request, db, held, form, keyed, entry, 400)
        try:
            routing = load_routing(settings.routing_file)
        except RoutingError as exc:
            # Without routing no SIRG member would hear of the referral: refuse rather
            # than store one nobody is told about.
            keyed.errors["_"] = f"the alert routing file cannot be read ({exc}); ask the operator"
            return _render(request, db, held, form, keyed, entry, 503)
        referral = create_referral(
            db,
            form,
            keyed,
            KeyedFrom(message_id, attachment_id, user.name, entry.acknowledge),
            settings.mail_config,
            routing,
            now,
        )
        reference = referral.reference
        missing = len(keyed.missing)
    said = f"{reference} created from message {message_id}."
    if missing:
        said += f" {missing} mandatory answer(s) missing: it is awaiting information."
    flash(request, said)
    return see_flash(f"/referrals/{reference}")


def _source_id(db: Session, message_id: int, source: str) -> int | None:
    """The attachment chosen on the page (None for the email itself); 400 for any other."""
    if source == "email":
        return None
    wanted = source.removeprefix("file-")
    for attachment in keying_sources(db, message_id):
        if str(attachment.id) == wanted:
            return attachment.id
    raise HTTPException(400, "Choose a file of this message, or the email itself.")


@router.get("/quarantine/{message_id}/files/{attachment_id}")
def held_file(
    message_id: int,
    attachment_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    inline: int = 0,
) -> Response:
    """A file of a message on the quarantine page: a PDF shown in the page, else a download."""
    with session_scope(engine) as db:
        workable(db, message_id)
        attachment = db.get(Attachment, attachment_id)
        if attachment is None or attachment.message_id != message_id or not attachment.content:
            raise HTTPException(404, "That file is not kept.")
        content = crypto.unseal(attachment.content)
        show = shown_inline(content, bool(inline))
        action = "viewed file" if show else "downloaded file"
        record_event(
            db, user.name, "message", message_id, action, now, f"attachment {attachment_id}"
        )
        filename = attachment.filename
    return file_response(content, filename, show)
