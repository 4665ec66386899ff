"""Signing in and out, the signed-in user, roles, and the CSRF check on every POST."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import Engine

from review.passwords import hash_password, needs_rehash, verify_password
from storage import users
from storage.db import session_scope
from storage.tables import ReviewUser
from storage.workflow import record_event

ABSOLUTE_SESSION_SECONDS = 12 * 3600  # even an active session ends after a working day
FAILED = (
    "Those details did not work. After 5 failed attempts an account is locked for "
    "15 minutes; an admin can unlock it sooner."
)


class LoginRequired(Exception):
    """The session is missing, ended or no longer valid."""


class Forbidden(Exception):
    """The signed-in user's role does not allow this."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


class CsrfFailed(Exception):
    """A POST without the form's valid CSRF token (or from another site)."""


@dataclass(frozen=True)
class SignedIn:
    """The user behind a request, detached from any database session."""

    id: int
    name: str
    role: str

    def can(self, needed: str) -> bool:
        """True when this user's role includes `needed`."""
        return users.role_at_least(self.role, needed)


def new_csrf_token() -> str:
    """A fresh random token for forms."""
    return secrets.token_urlsafe(32)


def ensure_csrf(request: Request) -> str:
    """The session's CSRF token, made now if the session has none (a signed-out visitor)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def authenticate(engine: Engine, name: str, password: str, now: datetime) -> SignedIn | None:
    """The user if `name` and `password` match and the account may sign in, else None.

    Failures count towards the lock-out; every attempt is in the audit log. Wrong names,
    wrong passwords, locked and disabled accounts all get the same answer, so the page
    does not tell a stranger which names exist.
    """
    with session_scope(engine) as db:
        try:
            user = users.by_name(db, users.normalise_name(name))
        except users.UserError:
            user = None
        if user is None or user.id is None:
            verify_password(None, password)  # spend the same time as a real check
            # The typed name is not kept: people type passwords into the name box.
            record_event(db, "unknown", "user", 0, "login failed", now, "unknown user name")
            return None
        if users.is_locked(user, now):
            verify_password(None, password)
            record_event(db, user.name, "user", user.id, "login refused", now, "locked out")
            return None
        if not verify_password(user.password_hash, password):
            locked = users.record_failure(db, user, now)
            record_event(db, user.name, "user", user.id, "login failed", now, "wrong password")
            if locked:
                record_event(db, user.name, "user", user.id, "locked out", now, "5 failures")
            return None
        if not user.active:
            record_event(db, user.name, "user", user.id, "login refused", now, "disabled")
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        users.record_success(db, user, now)
        record_event(db, user.name, "user", user.id, "login", now)
        return SignedIn(user.id, user.name, user.role)


def start_session(request: Request, user: SignedIn, version: int, now_ts: float) -> None:
    """Replace whatever session there was (no fixation) with a signed-in one."""
    session = request.session
    session.clear()
    session.update({"uid": user.id, "v": version, "iat": int(now_ts), "csrf": new_csrf_token()})


def session_version(engine: Engine, user_id: int) -> int:
    """The user's current session version (to put in a new session)."""
    with session_scope(engine) as db:
        user = db.get(ReviewUser, user_id)
        return user.session_version if user is not None else -1


def current_user(request: Request) -> SignedIn:
    """The signed-in user; LoginRequired when the session is no longer valid.

    Read from the database at every request, so disabling a user, resetting their
    password or changing their role takes effect at once.
    """
    session = request.session
    uid, version, issued = session.get("uid"), session.get("v"), session.get("iat")
    now_ts = request.app.state.clock().timestamp()
    if not isinstance(uid, int) or not isinstance(issued, int):
        session.clear()
        raise LoginRequired
    if now_ts - issued > ABSOLUTE_SESSION_SECONDS:
        session.clear()
        raise LoginRequired
    with session_scope(request.app.state.engine) as db:
        user = db.get(ReviewUser, uid)
        if user is None or not user.active or user.session_version != version:
            session.clear()
            raise LoginRequired
        signed_in = SignedIn(uid, user.name, user.role)
    request.state.user = signed_in
    return signed_in


def require(role: str) -> Any:
    """A dependency: the signed-in user, who must have at least `role`."""

    def dependency(user: Annotated[SignedIn, Depends(current_user)]) -> SignedIn:
        if not user.can(role):
            raise Forbidden(role)
        return user

    return Depends(dependency)


async def csrf_guard(request: Request) -> None:
    """Refuse any POST whose form lacks the session's CSRF token, or that comes from
    another site (Origin header), before the route runs."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    # Host only, not scheme: behind a TLS-terminating proxy we may see http while the
    # browser says https. "null" (privacy settings) proves nothing either way; the
    # token below still has to match.
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfFailed
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not expected or not sent:
        raise CsrfFailed
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfFailed
