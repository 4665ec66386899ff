"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from review.auth import (
    FAILED,
    LoginRequired,
    SignedIn,
    Throttled,
    authenticate,
    current_user,
    end_session,
    ensure_csrf,
    start_session,
)
from review.render import page
from review.routes import DbEngine, Now, safe_next, see_other
from storage.db import session_scope
from storage.workflow import record_event

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", ended: int = 0) -> Response:
    """The sign-in page (already signed in: straight on)."""
    if getattr(request.state, "user", None) is not None:
        return see_other(safe_next(next))
    ensure_csrf(request)
    notice = "You were signed out after a time without activity." if ended else None
    return page(request, "login.html", next=safe_next(next), error=None, notice=notice, name="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    engine: DbEngine,
    now: Now,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the name and password; on success start a new session."""
    # Behind the proxy, uvicorn puts the browser's address here (X-Forwarded-For from a
    # trusted proxy only), so throttling is by the real client, not by the proxy.
    address = request.client.host if request.client is not None else "unknown"
    user = authenticate(engine, name, password, now, address)
    if isinstance(user, Throttled):
        response = page(
            request,
            "login.html",
            429,
            next=safe_next(next),
            error=user.message,
            notice=None,
            name=name,
        )
        response.headers["Retry-After"] = str(user.minutes * 60)
        return response
    if user is None:
        return page(
            request, "login.html", next=safe_next(next), error=FAILED, notice=None, name=name
        )
    start_session(request, engine, user, now)
    return see_other(safe_next(next))


@router.post("/logout")
def logout(request: Request, engine: DbEngine, now: Now) -> Response:
    """End the session, on the server too: a copy of the cookie opens nothing afterwards."""
    user: SignedIn | None = None
    try:
        user = current_user(request)
    except LoginRequired:
        user = None  # an ended session is signed out all the same
    if user is not None:
        with session_scope(engine) as db:
            record_event(db, user.name, "user", user.id, "logout", now)
    end_session(request, engine, now)
    return see_other("/login")
