"""What every `intake` command does first, and the one line for a start that cannot go on."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from pydantic import ValidationError

from notifications.routing import RoutingError
from storage import crypto
from storage.db import DatabaseStartError

# Files and folders the service makes hold referrals, emails and keys: only its own user
# may read them (files 0600, folders 0700), whatever umask the shell or cron gave us.
PRIVATE_UMASK = 0o077


def private_files() -> int:
    """Make every file and folder this process creates private; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def failure_line(exc: BaseException, data_dir: Path | None = None) -> str | None:
    """One line saying why a start failed and what to do, or None for any other error.

    Only failures a person can put right (settings, files, the database) are recognised;
    anything else keeps its traceback, because it is a fault in intake. The lines name
    settings, paths and drivers' messages, never a stored value or a password.
    """
    if isinstance(exc, DatabaseStartError):
        return str(exc)
    if isinstance(exc, RoutingError):
        return (
            f"{exc}. What to do: correct the file named by INTAKE_ROUTING_FILE (or leave that "
            "setting empty to send no alerts), then start again"
        )
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        # Each error's place and message only: pydantic's text repeats the value given,
        # which may be a password.
        problems = "; ".join(
            "INTAKE_" + "_".join(str(part) for part in error["loc"]).upper() + f": {error['msg']}"
            for error in exc.errors()
        )
        return (
            f"a setting is not valid: {problems}. What to do: correct it in the environment "
            "or the .env file (`intake settings` lists every setting), then start again"
        )
    if isinstance(exc, ValueError) and _raised_in(exc, crypto.configure.__code__):
        return (
            "INTAKE_ENCRYPTION_KEYS holds something that is not an encryption key. What to "
            "do: give the keys exactly as `intake new-key` printed them, comma-separated, "
            "newest first"
        )
    if isinstance(exc, OSError) and data_dir is not None and _inside(exc.filename, data_dir):
        return (
            f"cannot use the data folder {data_dir}: {exc.strerror} ({exc.filename}). What to "
            "do: make INTAKE_DATA_DIR a folder that the user intake runs as can write"
        )
    return None


def _raised_in(exc: BaseException, code: object) -> bool:
    """True when `exc` came out of the function whose code object is `code`."""
    return any(frame.f_code is code for frame, _ in traceback.walk_tb(exc.__traceback__))


def _inside(filename: object, folder: Path) -> bool:
    if not isinstance(filename, str | os.PathLike):
        return False
    path, root = Path(filename).absolute(), folder.absolute()
    return path == root or root in path.parents
