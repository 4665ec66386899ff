"""Check a zip (a .docx is one) before anything inflates it, and read members with a cap.

The sizes in a zip's directory are claims; `read_member` never reads more than the cap
whatever they say, so a lying header cannot get past it either.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip may hold before it is refused unopened."""

    max_members: int = 1000
    max_member_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024
    max_ratio: float = 100.0
    # Small members compress very well (repeated XML); the ratio only matters above this.
    ratio_floor_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ZipLimits()


class UnsafeZip(Exception):
    """The zip is refused; the message says why in plain words."""


def check_zip(zf: zipfile.ZipFile, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Raise UnsafeZip when the directory shows too many, too large or too compressed members."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeZip(f"the file holds too many parts ({len(infos)}) to be a form")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeZip("the file is password-protected; please send it without a password")
        if info.file_size > limits.max_member_bytes:
            raise UnsafeZip("the file expands to far more data than a form could hold")
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise UnsafeZip("the file is compressed suspiciously tightly (possible zip bomb)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeZip("the file expands to far more data than a form could hold")


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read one member, refusing to produce more than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    with zf.open(name) as fh:
        while True:
            chunk = fh.read(min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UnsafeZip("the file expands to far more data than a form could hold")
    return b"".join(chunks)
