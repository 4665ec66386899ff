"""The key that signs session cookies: from the settings, else kept in DATA_DIR."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_FILE = "review-secret"


def secret_key(configured: str, data_dir: Path) -> str:
    """`configured` when set; otherwise the key in DATA_DIR/review-secret, made on first use.

    The key is written to a private temporary file (mode 0600 from the start) and then
    linked into place in one step, so the file is never readable by others, never seen
    half-written, and two processes starting together agree on one key.
    """
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    if path.exists():
        return _read(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
            log.info("made a new review-queue secret key in %s", path)
        except FileExistsError:
            pass  # another process made one first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Someone widened it (a copy, a restore): narrow it again rather than refuse to start.
        log.warning("%s was readable by others (mode %o); setting 0600", path, mode)
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it to make a new one")
    return key
