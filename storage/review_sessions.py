"""Review-queue sign-in sessions kept on the server, so ending one really ends it.

The browser's cookie holds a random token; the table holds only its SHA-256, so a copy of
the table (a backup, a read-only login) cannot be turned into a session. Every function
works in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from storage.tables import ReviewSession


def session_id(token: str) -> str:
    """The stored id of the session whose cookie holds `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user_id: int, now: datetime) -> str:
    """Open a session for the user; returns the token for the cookie (not kept here)."""
    token = secrets.token_urlsafe(32)
    db.add(ReviewSession(id=session_id(token), user_id=user_id, created_at=now, last_seen_at=now))
    db.flush()
    return token


def find_open(db: Session, token: str) -> ReviewSession | None:
    """The session of this token while it has not ended, else None."""
    row = db.get(ReviewSession, session_id(token))
    if row is None or row.ended_at is not None:
        return None
    return row


def end(db: Session, token: str, now: datetime) -> None:
    """End the session of this token (signed out or expired); nothing if already ended."""
    db.execute(
        update(ReviewSession)
        .where(col(ReviewSession.id) == session_id(token), col(ReviewSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def end_all(db: Session, user_id: int, now: datetime) -> None:
    """End every open session of a user (disabled, or given a new password)."""
    db.execute(
        update(ReviewSession)
        .where(col(ReviewSession.user_id) == user_id, col(ReviewSession.ended_at).is_(None))
        .values(ended_at=now)
    )
