"""What every server we start as a child process shares: logs, stop, context manager."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self


class ServerProcess:
    """A server run from a temp folder; subclasses write the config and `start()` it."""

    name = "server"
    log_files: tuple[str, ...] = ("stderr.log",)

    def __init__(self) -> None:
        self.root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Write the config, start the process and wait until it answers."""
        raise NotImplementedError

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's stderr and log file, for error messages."""
        if self.root is None:
            return ""
        parts = [f"(config and logs kept in {self.root})"]
        for name in self.log_files:
            path = self.root / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} (tail) ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self, remove_files: bool = True) -> None:
        """SIGTERM the server, wait (kill if it hangs), and remove the temp folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if remove_files and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
