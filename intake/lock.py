"""One worker per mailbox: an exclusive lock on a file the kernel frees if we crash."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from types import TracebackType


class AlreadyRunning(RuntimeError):
    """Another `intake run` holds the lock for this mailbox."""


class MailboxLock:
    """`flock` on DATA_DIR/locks/<mailbox>.lock; released on exit, or by the kernel on a crash.

    A stale lock file left by a killed process holds no lock, so it never blocks a restart.
    """

    def __init__(self, data_dir: Path, mailbox: str) -> None:
        digest = hashlib.sha256(mailbox.encode()).hexdigest()[:16]
        self.path = data_dir / "locks" / f"{digest}.lock"
        self.mailbox = mailbox
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning with the holder's process id."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another intake worker (process {holder}) is already reading this mailbox"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next worker in."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> MailboxLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
