"""Encryption at rest for raw emails and attachments (Fernet: AES-128-CBC + HMAC-SHA256).

With no key configured, content is stored as it is. With keys configured, new content is
encrypted with the first key; any listed key decrypts, so a new key is added first in the
list, `intake rotate-key` re-encrypts everything with it, and then the old key is dropped.
Stored values carry a prefix, so clear and encrypted rows can live side by side during a
rollout or a rotation.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = b"intake-fernet:"


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
