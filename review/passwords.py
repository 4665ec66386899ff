"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12  # length beats complexity rules (NCSC guidance); no other rules
MAX_LENGTH = 1024  # hashing a huge "password" must not become a way to burn CPU

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name takes as long to
# refuse as a wrong password and response times do not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a real password, only used to spend the same time")


class PasswordError(ValueError):
    """A password that cannot be used, in words for the person choosing it."""


def check_new_password(password: str) -> None:
    """Raise PasswordError when a new password is too short or too long."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"a password may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """An argon2id hash of a new password (checked first)."""
    check_new_password(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends the time of one verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
