"""Managing review-queue users: what `intake users ...` and the admin page call."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from intake.settings import Settings
from review.passwords import hash_password
from storage import users
from storage.clock import utcnow
from storage.db import make_engine, session_scope, upgrade
from storage.tables import ReviewUser
from storage.workflow import record_event

UserError = users.UserError


def add_user(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    actor: str = "system",
    email: str | None = None,
) -> str:
    """Create a user; returns the stored name. UserError / PasswordError when refused.

    `email` is where notes of new mail on the user's assigned referrals go."""
    password_hash = hash_password(password)
    now = utcnow()
    with session_scope(engine) as db:
        user = users.create(db, name, role, password_hash, now)
        user.email = users.clean_email(email)
        assert user.id is not None
        record_event(db, actor, "user", user.id, "user added", now, f"{user.name} as {role}")
        return user.name


def disable_user(engine: Engine, name: str, actor: str = "system") -> None:
    """Stop a user signing in and end their open sessions."""
    now = utcnow()
    with session_scope(engine) as db:
        user = _get(db, name)
        users.set_active(db, user, False, now)
        assert user.id is not None
        record_event(db, actor, "user", user.id, "user disabled", now, user.name)


def enable_user(engine: Engine, name: str, actor: str = "system") -> None:
    """Let a disabled user sign in again."""
    now = utcnow()
    with session_scope(engine) as db:
        user = _get(db, name)
        users.set_active(db, user, True, now)
        assert user.id is not None
        record_event(db, actor, "user", user.id, "user enabled", now, user.name)


def reset_user(engine: Engine, name: str, password: str, actor: str = "system") -> None:
    """Give a user a new password, lift any throttling of the account and end their open
    sessions."""
    password_hash = hash_password(password)
    now = utcnow()
    with session_scope(engine) as db:
        user = _get(db, name)
        users.set_password(db, user, password_hash, now)
        assert user.id is not None
        record_event(db, actor, "user", user.id, "password reset", now, user.name)


def set_role(engine: Engine, name: str, role: str, actor: str = "system") -> None:
    """Change a user's role."""
    now = utcnow()
    with session_scope(engine) as db:
        user = _get(db, name)
        before = user.role
        users.set_role(db, user, role)
        assert user.id is not None
        record_event(
            db, actor, "user", user.id, "role changed", now, f"{user.name}: {before} → {role}"
        )


def unlock_user(engine: Engine, name: str, actor: str = "system") -> None:
    """Lift the throttling of an account after failed sign-ins (not of any address)."""
    now = utcnow()
    with session_scope(engine) as db:
        user = _get(db, name)
        users.unlock(db, user)
        assert user.id is not None
        record_event(db, actor, "user", user.id, "sign-in delay lifted", now, user.name)


def _get(db: Session, name: str) -> ReviewUser:
    user = users.by_name(db, name)
    if user is None:
        raise UserError(f"there is no user called {name.strip().lower()}")
    return user


def open_engine(settings: Settings) -> Engine:
    """The database of these settings, with the schema brought up to date."""
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return engine
