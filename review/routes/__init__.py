"""The review app's routes, one module per page group; helpers they share.

Routes open their own `session_scope` rather than take a session from a dependency, so
a change is committed (or has failed) before the answer is sent, never after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine


def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_now(request: Request) -> datetime:
    """The app's clock (tests move it)."""
    now: datetime = request.app.state.clock()
    return now


def see_other(location: str) -> RedirectResponse:
    """Redirect after a POST, so a reload does not post again."""
    return RedirectResponse(location, status_code=303)


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


DbEngine = Annotated[Engine, Depends(get_engine)]
Now = Annotated[datetime, Depends(get_now)]
