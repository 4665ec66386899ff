"""Review-queue users: who may sign in, with which role, and sign-in throttling.

Password hashing lives in `review.passwords`; this module only stores the hash. Every
function works in the caller's transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import review_sessions
from storage.tables import LoginThrottle, ReviewUser

VIEWER = "viewer"
OFFICER = "officer"
ADMIN = "admin"
ROLES = (VIEWER, OFFICER, ADMIN)  # each role can do everything the ones before it can
# Throttling (README, "Signing in"): failures allowed before any wait, per key.
FREE_FAILURES = 5
# An address that keeps failing waits 1 minute, then 2, 4, 8, at most 15.
ADDRESS_DELAY = timedelta(minutes=1)
ADDRESS_DELAY_MAX = timedelta(minutes=15)
# An account under attack is slowed only briefly, and only for addresses that have failed
# themselves, so a stranger cannot keep the officer out: 15 seconds, 30, at most 1 minute.
ACCOUNT_DELAY = timedelta(seconds=15)
ACCOUNT_DELAY_MAX = timedelta(minutes=1)
FORGET_FAILURES_AFTER = timedelta(hours=24)  # a typo last week does not count today
# Sign-ins from one address being checked at the same moment (an office behind one
# address at nine o'clock): beyond this many, the next waits briefly, so a burst of
# guesses sent in parallel is still bounded before any of them has failed.
IN_FLIGHT = 20
IN_FLIGHT_DELAY = timedelta(seconds=15)
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


def set_password(session: Session, user: ReviewUser, password_hash: str, now: datetime) -> None:
    """Store a new hash, lift any throttling of the account and end its open sessions."""
    user.password_hash = password_hash
    user.session_version += 1
    session.add(user)
    forget_failures(session, account_key(user.name))
    assert user.id is not None
    review_sessions.end_all(session, user.id, now)


def set_active(session: Session, user: ReviewUser, active: bool, now: datetime) -> None:
    """Enable or disable a user; disabling ends their open sessions at once."""
    if user.active and not active:
        user.session_version += 1
        assert user.id is not None
        review_sessions.end_all(session, user.id, now)
    user.active = active
    session.add(user)


def set_role(session: Session, user: ReviewUser, role: str) -> None:
    """Change a user's role (read at every request, so it applies at once)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    user.role = role
    session.add(user)


def unlock(session: Session, user: ReviewUser) -> None:
    """Lift the throttling of an account and forget its past failures."""
    forget_failures(session, account_key(user.name))


def record_success(session: Session, user: ReviewUser, now: datetime) -> None:
    """Note the sign-in time."""
    user.last_login_at = now
    session.add(user)


# --------------------------------------------------------------------------- throttling


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return f"ip:{address}"[:200]


def account_key(name: str) -> str:
    """The throttle key of an account (an existing user's stored name, never typed text)."""
    return f"user:{name}"


def admit(session: Session, address: str, account: str | None, now: datetime) -> datetime | None:
    """Let a sign-in attempt be checked, or say until when it is refused.

    An admitted attempt is counted as a failure before the password is checked (a success
    then forgets it), so requests sent in parallel each see the count of those before
    them. Only a failure that happened blocks (`failed`): attempts still being checked
    never do, so several officers behind one address can sign in at the same moment;
    past IN_FLIGHT of them at once, the next waits briefly. A refused attempt is not
    counted. `account` is None for a name that is no user's. Returns None when admitted,
    else when the block that refuses the attempt ends.
    """
    ip = address_key(address)
    ip_failures = _count(session, ip, now, unless_blocked=True)
    if ip_failures is None:
        return _blocked_until(session, ip, now)
    if ip_failures > FREE_FAILURES + IN_FLIGHT:
        _uncount(session, ip)
        return now + IN_FLIGHT_DELAY
    if account is not None:
        user = account_key(account)
        # An address that has failed before may be a guesser's; one that has not is most
        # likely the officer's own, and the right password from it must always work.
        suspect = _has_failed(session, ip, now)
        user_failures = _count(session, user, now, unless_blocked=suspect)
        if user_failures is None:
            _uncount(session, ip)  # not checked, so not a failure of this address
            return _blocked_until(session, user, now)
    return None


def failed(session: Session, address: str, account: str | None, now: datetime) -> None:
    """A checked attempt failed: block its address, and its account, once their counts
    (this failure and any attempts still being checked) pass the free tries."""
    keys = [(address_key(address), ADDRESS_DELAY, ADDRESS_DELAY_MAX)]
    if account is not None:
        keys.append((account_key(account), ACCOUNT_DELAY, ACCOUNT_DELAY_MAX))
    for key, first, longest in keys:
        session.execute(
            update(LoginThrottle).where(col(LoginThrottle.key) == key).values(last_failure_at=now)
        )
        row = session.get(LoginThrottle, key, populate_existing=True)
        if row is not None:
            _block(session, key, now, row.failures, first, longest)


def _has_failed(session: Session, key: str, now: datetime) -> bool:
    """Has this key had a failure of its own lately (not only attempts being checked)?"""
    row = session.get(LoginThrottle, key, populate_existing=True)
    last = row.last_failure_at if row is not None else None
    return last is not None and last >= now - FORGET_FAILURES_AFTER


def delayed_accounts(session: Session, now: datetime) -> dict[str, datetime]:
    """User name -> until when sign-in to that account is delayed, for those delayed now."""
    rows = session.exec(
        select(LoginThrottle).where(
            col(LoginThrottle.key).startswith("user:"), col(LoginThrottle.blocked_until) > now
        )
    )
    return {r.key.removeprefix("user:"): r.blocked_until for r in rows if r.blocked_until}


def forget_failures(session: Session, *keys: str) -> None:
    """Drop the counts and blocks of these keys (after a success, or by an admin)."""
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key).in_(keys)))


def throttle_delay(failures: int, first: timedelta, longest: timedelta) -> timedelta | None:
    """How long a key with this many failures is blocked: None within the free tries,
    then `first`, doubling with each further failure, at most `longest`."""
    if failures < FREE_FAILURES:
        return None
    return min(first * 2 ** min(failures - FREE_FAILURES, 20), longest)


def _count(session: Session, key: str, now: datetime, *, unless_blocked: bool) -> int | None:
    """Add one failure to `key` and return its count; None (nothing added) when
    `unless_blocked` and the key is blocked. In SQL, so parallel attempts are all counted."""
    statement = update(LoginThrottle).where(col(LoginThrottle.key) == key)
    if unless_blocked:
        statement = statement.where(
            or_(col(LoginThrottle.blocked_until).is_(None), col(LoginThrottle.blocked_until) <= now)
        )
    # last_failure_at is set by `failed` only: attempts still being checked are counted
    # here, but a count is forgotten a day after its last real failure.
    stale = col(LoginThrottle.last_failure_at) < now - FORGET_FAILURES_AFTER
    result = session.execute(
        statement.values(
            failures=case((stale, 1), else_=col(LoginThrottle.failures) + 1),
        ).returning(col(LoginThrottle.failures))
    ).first()
    if result is not None:
        return int(result[0])
    if session.get(LoginThrottle, key, populate_existing=True) is not None:
        return None  # there, but blocked
    try:
        # A savepoint, so losing the race to create the row costs only a retry.
        with session.begin_nested():
            session.add(LoginThrottle(key=key, failures=1))
        return 1
    except IntegrityError:
        return _count(session, key, now, unless_blocked=unless_blocked)


def _uncount(session: Session, key: str) -> None:
    session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == key, col(LoginThrottle.failures) > 0)
        .values(failures=col(LoginThrottle.failures) - 1)
    )


def _block(
    session: Session,
    key: str,
    now: datetime,
    failures: int,
    first: timedelta,
    longest: timedelta,
) -> None:
    wait = throttle_delay(failures, first, longest)
    if wait is None:
        return
    until = now + wait
    # Only ever lengthened: a slower parallel request must not shorten a block.
    session.execute(
        update(LoginThrottle)
        .where(
            col(LoginThrottle.key) == key,
            or_(
                col(LoginThrottle.blocked_until).is_(None), col(LoginThrottle.blocked_until) < until
            ),
        )
        .values(blocked_until=until)
    )


def _blocked_until(session: Session, key: str, now: datetime) -> datetime:
    row = session.get(LoginThrottle, key, populate_existing=True)
    # Forgotten meanwhile (a success in parallel): refused this once, free to try again.
    return row.blocked_until if row is not None and row.blocked_until is not None else now
