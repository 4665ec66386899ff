"""The session cookie and the gate in front of every page.

The session is a small signed cookie (itsdangerous): a random session token, the user's
session version (raised to end every open session of a user) and the CSRF token. The
token names a row kept on the server (`storage.review_sessions`); signing out ends the
row, so a copy of the cookie is worthless afterwards. The cookie is signed, not
encrypted: whoever holds it holds the session, which is why it is HttpOnly and Secure.

The gate asks the server about the session at every request and sends anyone without a
live one to /login before any route runs, so a route added later is protected even if
its author forgets to ask for a user.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PATHS = frozenset({"/login", "/health"})
COOKIE = "lscp_review"
# With Secure cookies the __Host- prefix also makes browsers refuse the cookie from a
# sibling subdomain or on a narrower path, so no other site can plant a session.
SECURE_COOKIE = "__Host-lscp_review"
REFRESH_AFTER = 60  # seconds: re-sign at most once a minute to slide the idle timeout
TOKEN = "sid"  # the session key that holds the server-side session's token


class SessionStore(Protocol):
    """Where the gate checks sessions: the server's record of who is signed in."""

    def resolve(self, data: dict[str, Any]) -> object | None:
        """The signed-in user of a live session, else None (and the session is ended)."""
        ...

    def expire(self, data: dict[str, Any]) -> None:
        """End the session of a cookie that outlived the idle time."""
        ...


class ReviewSession(dict[str, Any]):
    """The session's data; remembers whether a route changed it."""

    modified = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def pop(self, key: str, default: Any = None) -> Any:
        """Remove and return a key, remembering the change."""
        if key in self:
            self.modified = True
        return super().pop(key, default)

    def clear(self) -> None:
        """Empty the session (signing out): the cookie is deleted."""
        self.modified = True
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add several keys, remembering the change."""
        self.modified = True
        super().update(*args, **kwargs)


class SessionGate:
    """ASGI middleware: reads the session cookie, checks it with the server, turns away
    the signed-out, writes the cookie back. The user goes into the request's state."""

    def __init__(
        self, app: ASGIApp, secret: str, secure: bool, idle_seconds: int, store: SessionStore
    ) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="lscp-review-session")
        self.cookie = SECURE_COOKIE if secure else COOKIE
        self.secure = secure
        self.idle_seconds = idle_seconds
        self.store = store

    def _load(self, scope: Scope) -> tuple[ReviewSession, float | None, dict[str, Any] | None]:
        """(session, when it was signed, the data of a cookie that had just expired)."""
        raw = _cookies(scope).get(self.cookie)
        if not raw:
            return ReviewSession(), None, None
        try:
            data, signed = self.serializer.loads(
                raw, max_age=self.idle_seconds, return_timestamp=True
            )
        except SignatureExpired:
            # Genuine but too old: read it once more, only to end its server-side row.
            try:
                old = self.serializer.loads(raw)
            except BadSignature:
                old = None
            return ReviewSession(), None, old if isinstance(old, dict) else {}
        except BadSignature:
            return ReviewSession(), None, None
        if not isinstance(data, dict):
            return ReviewSession(), None, None
        return ReviewSession(data), signed.timestamp(), None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session, signed_at, expired = self._load(scope)
        scope["session"] = session
        had_cookie = signed_at is not None or expired is not None
        user = None
        if expired is not None and expired.get(TOKEN):
            await run_in_threadpool(self.store.expire, expired)
        elif session.get(TOKEN):
            # The database is asked in a worker thread, as routes are: never block the loop.
            user = await run_in_threadpool(self.store.resolve, dict(session))
            if user is None:
                session.clear()  # signed out, expired or ended: delete the cookie
        scope.setdefault("state", {})["user"] = user

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = self._cookie_header(session, signed_at, had_cookie)
                if cookie is not None:
                    headers.append("Set-Cookie", cookie)
            await send(message)

        if scope["path"] not in PUBLIC_PATHS and user is None:
            response = _turn_away(scope, expired is not None)
            if expired is not None:
                session.clear()  # delete the stale cookie
            await response(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(
        self, session: ReviewSession, signed_at: float | None, had_cookie: bool
    ) -> str | None:
        flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
        if session.modified and not session:
            if not had_cookie:
                return None
            return f"{self.cookie}=; Max-Age=0; {flags}"
        stale = signed_at is not None and time.time() - signed_at > REFRESH_AFTER
        if session and (session.modified or (stale and session.get(TOKEN))):
            # No Max-Age: the cookie ends with the browser; the signature's age ends
            # it after the idle timeout whatever the browser does.
            return f"{self.cookie}={self.serializer.dumps(dict(session))}; {flags}"
        return None


def _cookies(scope: Scope) -> dict[str, str]:
    # Starlette's parser, as browsers do it: one odd cookie from another app on the same
    # host does not hide ours.
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


def _turn_away(scope: Scope, expired: bool) -> Response:
    """A page request goes to the sign-in page (and back afterwards); anything else: 401."""
    if scope["method"] in ("GET", "HEAD"):
        target = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            target += "?" + query
        location = "/login?next=" + quote(target, safe="")
        if expired:
            location += "&ended=1"
        return RedirectResponse(location, status_code=303)
    return PlainTextResponse("Sign in first.", status_code=401)
