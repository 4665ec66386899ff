"""Review-queue users: who may sign in, with which role, and the lock-out count.

Password hashing lives in `review.passwords`; this module only stores the hash. Every
function works in the caller's transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.tables import ReviewUser

VIEWER = "viewer"
OFFICER = "officer"
ADMIN = "admin"
ROLES = (VIEWER, OFFICER, ADMIN)  # each role can do everything the ones before it can
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Plain names ("a.smith"), so they read well in the audit log and never need escaping.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,99}")


class UserError(ValueError):
    """A user change that cannot be made, in words fit for the person asking."""


def normalise_name(name: str) -> str:
    """The stored form of a user name: trimmed, lower case; UserError when unusable."""
    clean = name.strip().lower()
    if not _NAME.fullmatch(clean):
        raise UserError(
            "a user name is 2 to 100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return clean


def clean_email(address: str | None) -> str | None:
    """A user's email address as stored (lower case), None when not given; UserError
    when it is not an address."""
    text = (address or "").strip().lower()
    if not text:
        return None
    if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", text) or len(text) > 320:
        raise UserError("that is not an email address")
    return text


def role_at_least(role: str, needed: str) -> bool:
    """True when `role` includes the rights of `needed` (viewer < officer < admin)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def by_name(session: Session, name: str) -> ReviewUser | None:
    """The user with this name (any case), or None."""
    return session.exec(select(ReviewUser).where(ReviewUser.name == name.strip().lower())).first()


def all_users(session: Session) -> list[ReviewUser]:
    """Every user, by name."""
    return list(session.exec(select(ReviewUser).order_by(col(ReviewUser.name))))


def assignable(session: Session) -> list[str]:
    """Names of active users who can work the queue (officers and admins)."""
    return list(
        session.exec(
            select(ReviewUser.name)
            .where(col(ReviewUser.active).is_(True), col(ReviewUser.role).in_((OFFICER, ADMIN)))
            .order_by(col(ReviewUser.name))
        )
    )


def create(session: Session, name: str, role: str, password_hash: str, now: datetime) -> ReviewUser:
    """Add a user; UserError when the name is taken or the role unknown."""
    clean = normalise_name(name)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if by_name(session, clean) is not None:
        raise UserError(f"there is already a user called {clean}")
    user = ReviewUser(name=clean, role=role, password_hash=password_hash, created_at=now)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: ReviewUser, password_hash: str) -> None:
    """Store a new hash, lift any lock-out and end the user's open sessions."""
    user.password_hash = password_hash
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    session.add(user)


def set_active(session: Session, user: ReviewUser, active: bool) -> None:
    """Enable or disable a user; disabling ends their open sessions at once."""
    if user.active and not active:
        user.session_version += 1
    user.active = active
    session.add(user)


def set_role(session: Session, user: ReviewUser, role: str) -> None:
    """Change a user's role (read at every request, so it applies at once)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    user.role = role
    session.add(user)


def unlock(session: Session, user: ReviewUser) -> None:
    """Lift a lock-out and forget past failures."""
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)


def is_locked(user: ReviewUser, now: datetime) -> bool:
    """True while a lock-out after repeated failures lasts."""
    return user.locked_until is not None and user.locked_until > now


def record_failure(session: Session, user: ReviewUser, now: datetime) -> bool:
    """Count a failed sign-in; returns True when this failure locked the account.

    The count is raised in SQL, so failures sent in parallel cannot be lost and slip past
    the limit. Locking resets the count: after the lock-out the user has five tries again.
    """
    result = session.execute(
        update(ReviewUser)
        .where(col(ReviewUser.id) == user.id)
        .values(failed_logins=col(ReviewUser.failed_logins) + 1)
        .returning(col(ReviewUser.failed_logins))
    ).first()
    failures = int(result[0]) if result is not None else MAX_FAILURES
    session.refresh(user)
    if failures >= MAX_FAILURES:
        user.failed_logins = 0
        user.locked_until = now + LOCKOUT
        session.add(user)
        return True
    return False


def record_success(session: Session, user: ReviewUser, now: datetime) -> None:
    """Forget past failures and note the sign-in time."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
