"""Signing in and out, the signed-in user, roles, and the CSRF check on every POST."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import Engine

from review.passwords import hash_password, needs_rehash, verify_password
from review.sessions import REFRESH_AFTER, TOKEN
from storage import review_sessions, users
from storage.db import session_scope
from storage.tables import ReviewUser
from storage.workflow import record_event

ABSOLUTE_SESSION = timedelta(hours=12)  # even an active session ends after a working day
FAILED = (
    "Those details did not work. After 5 failed attempts, sign-in from the same place "
    "waits a minute, then longer with each further failure."
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


@dataclass(frozen=True)
class Throttled:
    """A sign-in attempt refused unchecked after too many failures; free again at `until`."""

    until: datetime
    now: datetime

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, rounded up (at least 1)."""
        return max(1, -(-int((self.until - self.now).total_seconds()) // 60))

    @property
    def message(self) -> str:
        """What the sign-in page says."""
        unit = "minute" if self.minutes == 1 else "minutes"
        return f"Too many failed sign-ins. Try again in {self.minutes} {unit}."


def authenticate(
    engine: Engine, name: str, password: str, now: datetime, address: str
) -> SignedIn | Throttled | None:
    """The user if `name` and `password` match and the account may sign in; Throttled
    when the attempt is refused unchecked (README, "Signing in"); else None.

    Every attempt is in the audit log. Wrong names, wrong passwords and disabled accounts
    all get the same answer, so the page does not tell a stranger which names exist.
    """
    try:
        clean = users.normalise_name(name)
    except users.UserError:
        clean = ""
    with session_scope(engine) as db:
        user = users.by_name(db, clean) if clean else None
        account = user.name if user is not None else None
        blocked_until = users.admit(db, address, account, now)
        if blocked_until is not None:
            # Refused before any password check: the point is to stop the guessing.
            if user is not None and user.id is not None:
                record_event(db, user.name, "user", user.id, "login refused", now, "throttled")
            else:
                record_event(db, "unknown", "user", 0, "login refused", now, "throttled")
            return Throttled(blocked_until, now)
        password_hash = user.password_hash if user is not None else None
    # The slow hashing is done outside any transaction: no locks held meanwhile.
    matched = verify_password(password_hash, password)  # None: the same time as a real one
    new_hash = None
    if matched and password_hash is not None and needs_rehash(password_hash):
        new_hash = hash_password(password)
    with session_scope(engine) as db:
        user = users.by_name(db, clean) if clean else None
        if user is None or user.id is None:
            # The typed name is not kept: people type passwords into the name box.
            users.failed(db, address, None, now)
            record_event(db, "unknown", "user", 0, "login failed", now, "unknown user name")
            return None
        if not matched or user.password_hash != password_hash:
            users.failed(db, address, user.name, now)
            record_event(db, user.name, "user", user.id, "login failed", now, "wrong password")
            return None
        if not user.active:
            users.failed(db, address, user.name, now)
            record_event(db, user.name, "user", user.id, "login refused", now, "disabled")
            return None
        users.forget_failures(db, users.address_key(address), users.account_key(user.name))
        if new_hash is not None:
            user.password_hash = new_hash
        users.record_success(db, user, now)
        record_event(db, user.name, "user", user.id, "login", now)
        return SignedIn(user.id, user.name, user.role)


def start_session(request: Request, engine: Engine, user: SignedIn, now: datetime) -> None:
    """Replace whatever session there was (no fixation) with a new signed-in one."""
    session = request.session
    with session_scope(engine) as db:
        old = session.get(TOKEN)
        if isinstance(old, str) and old:
            review_sessions.end(db, old, now)  # signing in again ends the session before
        account = db.get(ReviewUser, user.id)
        version = account.session_version if account is not None else -1
        token = review_sessions.start(db, user.id, now)
    session.clear()
    session.update({TOKEN: token, "v": version, "csrf": new_csrf_token()})


def end_session(request: Request, engine: Engine, now: datetime) -> None:
    """Sign out: the server-side session ends, and the cookie is deleted."""
    token = request.session.get(TOKEN)
    if isinstance(token, str) and token:
        with session_scope(engine) as db:
            review_sessions.end(db, token, now)
    request.session.clear()


class ServerSessions:
    """The gate's `SessionStore`: sessions kept in the review_session table.

    Read from the database at every request, so signing out, disabling a user, resetting
    their password or changing their role takes effect at once.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime], idle_seconds: int) -> None:
        self.engine = engine
        self.clock = clock
        # The cookie's signature ends an idle session; the row's time is a second check
        # (allowing for the cookie being re-signed only once a minute).
        self.idle = timedelta(seconds=idle_seconds + REFRESH_AFTER)

    def resolve(self, data: dict[str, Any]) -> SignedIn | None:
        """The user of a live session; None, and the session ended, otherwise."""
        token, version = data.get(TOKEN), data.get("v")
        if not isinstance(token, str) or not token:
            return None
        now = self.clock()
        with session_scope(self.engine) as db:
            row = review_sessions.find_open(db, token)
            if row is None:
                return None
            user = db.get(ReviewUser, row.user_id)
            if (
                user is None
                or user.id is None
                or not user.active
                or user.session_version != version
                or now - row.created_at > ABSOLUTE_SESSION
                or now - row.last_seen_at > self.idle
            ):
                row.ended_at = now
                db.add(row)
                return None
            if (now - row.last_seen_at).total_seconds() >= REFRESH_AFTER:
                row.last_seen_at = now  # at most once a minute: not a write per request
                db.add(row)
            return SignedIn(user.id, user.name, user.role)

    def expire(self, data: dict[str, Any]) -> None:
        """End the session of a cookie that outlived the idle time."""
        token = data.get(TOKEN)
        if isinstance(token, str) and token:
            with session_scope(self.engine) as db:
                review_sessions.end(db, token, self.clock())


def current_user(request: Request) -> SignedIn:
    """The signed-in user, as the session gate found them; LoginRequired without one."""
    user = getattr(request.state, "user", None)
    if not isinstance(user, SignedIn):
        raise LoginRequired
    return user


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
