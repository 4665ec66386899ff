"""Reference numbers for referrals: SIRG-YYYY-NNNN, without gaps or repeats."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.tables import ReferenceCounter

_BUMP = (
    update(ReferenceCounter)
    .where(col(ReferenceCounter.year) == bindparam("bump_year"))
    .values(last=col(ReferenceCounter.last) + 1)
    .returning(col(ReferenceCounter.last))
)


def _bump(session: Session, year: int) -> int | None:
    # On the session's connection, in its transaction: a plain UPDATE, without the ORM's
    # bookkeeping for updates of loaded objects (a tenth of a millisecond each time).
    result = session.connection().execute(_BUMP, {"bump_year": year}).first()
    return None if result is None else int(result[0])


def next_reference(session: Session, year: int) -> str:
    """Take the next reference of `year`, in the caller's transaction.

    The UPDATE takes a row lock on PostgreSQL (and the database lock on SQLite), so two
    workers committing at once cannot be handed the same number.
    """
    number = _bump(session, year)
    if number is None:
        try:
            # A savepoint, so losing the race to create the year's row costs only a retry.
            with session.begin_nested():
                session.add(ReferenceCounter(year=year, last=1))
            number = 1
        except IntegrityError:
            number = _bump(session, year)
            if number is None:
                raise
    return f"SIRG-{year}-{number:04d}"
