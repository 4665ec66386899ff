"""The review app's routes, one module per page group; helpers they share.

Routes open their own `session_scope` rather than take a session from a dependency, so
a change is committed (or has failed) before the answer is sent, never after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from parsers.sniff import sniff
from storage.tables import Referral
from storage.workflow import by_reference

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_now(request: Request) -> datetime:
    """The app's clock (tests move it)."""
    now: datetime = request.app.state.clock()
    return now


def referral_or_404(db: Session, reference: str) -> Referral:
    """The referral with this reference, or the 404 page."""
    referral = by_reference(db, reference)
    if referral is None or referral.id is None:
        raise HTTPException(404, "There is no referral with that reference.")
    return referral


def changeable_or_409(referral: Referral) -> None:
    """A purged or merged referral is read-only: what is left of it is a record of its history."""
    if referral.purged_at is not None:
        raise HTTPException(
            409, "Personal data was removed from this referral; it cannot be changed."
        )
    if referral.duplicate_of_id is not None:
        raise HTTPException(409, "This referral was merged into another; change that one instead.")


def see_other(location: str) -> RedirectResponse:
    """Redirect after a POST, so a reload does not post again."""
    return RedirectResponse(location, status_code=303)


def see_flash(location: str) -> RedirectResponse:
    """Redirect after an action that left a flash message, to the message (#flash in
    base.html): the browser focuses it on arrival, so the result is read out and the
    keyboard carries on from there, with no script. Any other fragment gives way to it."""
    return see_other(location.split("#", 1)[0] + "#flash")


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header that survives any file name (RFC 6266 / 5987)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def shown_inline(content: bytes, inline: bool) -> bool:
    """True when a file asked for in the page may be shown there: PDFs only."""
    return inline and sniff(content) == "pdf"


def file_response(content: bytes, filename: str, inline: bool) -> Response:
    """A stored file, shown in the page (`shown_inline`) or downloaded.

    The type comes from the bytes, never from the sender's claim: a file that says it is
    a PDF but is HTML must not be shown as a page from our site.
    """
    kind = sniff(content)
    show = inline and kind == "pdf"
    media = {"pdf": "application/pdf", "docx": DOCX}.get(kind, "application/octet-stream")
    headers = {"Content-Disposition": disposition("inline" if show else "attachment", filename)}
    return Response(content, media_type=media, headers=headers)


DbEngine = Annotated[Engine, Depends(get_engine)]
Now = Annotated[datetime, Depends(get_now)]
