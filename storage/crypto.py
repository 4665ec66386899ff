"""Encryption at rest for emails, files and records (Fernet: AES-128-CBC + HMAC-SHA256).

With no key configured, content is stored as it is. With keys configured, new content is
encrypted with the first key; any listed key decrypts, so a new key is added first in the
list, `intake rotate-key` re-encrypts everything with it, and then the old key is dropped.
Stored values carry a prefix, so clear and encrypted rows can live side by side during a
rollout or a rotation.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = b"intake-fernet:"
SEALED_KEY = "intake-fernet"


class KeyError_(RuntimeError):
    """Encrypted content that no configured key opens (a key was dropped too early)."""


_vault: MultiFernet | None = None


def configure(keys: list[str]) -> None:
    """Use `keys` (Fernet keys, newest first) from now on; an empty list turns encryption off."""
    global _vault
    cleaned = [k.strip() for k in keys if k.strip()]
    _vault = MultiFernet([Fernet(k.encode()) for k in cleaned]) if cleaned else None


def new_key() -> str:
    """A fresh key to put first in INTAKE_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def seal(content: bytes) -> bytes:
    """Content as it is to be stored."""
    if _vault is None or not content:
        return content
    return PREFIX + _vault.encrypt(content)


def is_sealed(stored: bytes) -> bool:
    """True when `stored` is encrypted."""
    return stored.startswith(PREFIX)


def unseal(stored: bytes) -> bytes:
    """Content as it was before storing."""
    if not is_sealed(stored):
        return stored
    if _vault is None:
        raise KeyError_("stored content is encrypted but no INTAKE_ENCRYPTION_KEYS is set")
    try:
        return _vault.decrypt(stored[len(PREFIX) :])
    except InvalidToken as exc:
        raise KeyError_("no configured key opens this content (was a key removed?)") from exc


def reseal(stored: bytes) -> bytes:
    """Stored content re-encrypted with the newest key (or sealed for the first time)."""
    if _vault is None:
        return stored
    if not is_sealed(stored):
        return seal(stored)
    return PREFIX + _vault.rotate(stored[len(PREFIX) :])


class SealedJSON(TypeDecorator[Any]):
    """A JSON column whose value is encrypted when keys are configured.

    The referral record, its sources and corrected values hold names, addresses and
    dates of birth. Stored sealed, the column holds `{"intake-fernet": token}`, so clear
    rows (written before a key was set) and sealed rows read side by side.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or _vault is None:
            return value
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return {SEALED_KEY: seal(text.encode()).decode("ascii")}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and set(value) == {SEALED_KEY}:
            return json.loads(unseal(str(value[SEALED_KEY]).encode("ascii")))
        return value


def json_is_sealed(stored: Any) -> bool:
    """True when a column value as stored (read without SealedJSON) is encrypted."""
    return isinstance(stored, dict) and set(stored) == {SEALED_KEY}
