"""A local Maildir as a mail source (the demo and small installations).

Messages are read from the Maildir's `new/` and `cur/` folders; once their outcome is
committed they are renamed into a Maildir++ subfolder (`.Processed`, `.Quarantine`,
`.Ignored`). A rename within one file system is atomic, so a message is always in
exactly one place.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from glob import escape as glob_escape
from pathlib import Path

from intake.sources.base import Destination, FetchedMessage
from storage.messages import ServerIdentity

FOLDERS = {
    Destination.PROCESSED: "Processed",
    Destination.QUARANTINE: "Quarantine",
    Destination.IGNORED: "Ignored",
}
WATCHED = "INBOX"


class MaildirSource:
    """Reads the top-level folder of a Maildir."""

    since: date | None = None  # backfill: only files delivered on or after this day

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        # Create new/, cur/ and tmp/ when missing (git keeps no empty folders, and the
        # stdlib creates only the last level), so a fresh install starts cleanly.
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(str(self.path), create=False)
        self.name = f"maildir:{self.path}"

    def _files(self) -> Iterator[tuple[str, Path]]:
        for sub in ("new", "cur"):
            folder = self.path / sub
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if not entry.is_file() or entry.name.startswith("."):
                    continue
                if (
                    self.since
                    and datetime.fromtimestamp(entry.stat().st_mtime, UTC).date() < self.since
                ):
                    continue
                yield entry.name.split(":", 1)[0], Path(entry.path)

    def count_waiting(self) -> int:
        """How many messages `fetch` would yield now (for a progress bar)."""
        return sum(1 for _ in self._files())

    def fetch(self) -> Iterator[FetchedMessage]:
        """Yield every message in the Maildir's inbox, oldest file name first."""
        for key, file in self._files():
            raw = file.read_bytes()
            arrived = datetime.fromtimestamp(file.stat().st_mtime, UTC)
            ident = ServerIdentity(source=self.name, folder=WATCHED, uidvalidity=0, uid=key)
            yield FetchedMessage(identity=ident, raw=raw, arrived_at=arrived)

    def finish(self, identity: ServerIdentity, destination: Destination) -> str:
        """Rename the message file into the destination subfolder (seen flag set)."""
        return self.finish_all([(identity, destination)])[0]

    def finish_all(self, moves: Sequence[tuple[ServerIdentity, Destination]]) -> list[str]:
        """`finish` for several messages, the folder listed once."""
        files = dict(self._files())
        out: list[str] = []
        for identity, destination in moves:
            folder_name = FOLDERS[destination]
            file = files.pop(identity.uid, None)
            if file is not None:
                target = Path(self._box.add_folder(folder_name)._path)
                os.replace(file, target / "cur" / f"{identity.uid}:2,S")
            # Already gone (moved by an earlier run that crashed before recording it): fine.
            out.append(folder_name)
        return out

    def remove(self, identity: ServerIdentity, folder: str, message_id: str | None) -> bool:
        """Delete the message's file from its folder (or the inbox, if never moved)."""
        places = [self.path / f".{folder}" / "cur", self.path / "cur", self.path / "new"]
        for place in places:
            for file in place.glob(f"{glob_escape(identity.uid)}*") if place.is_dir() else []:
                if file.name.split(":", 1)[0] == identity.uid:
                    file.unlink(missing_ok=True)
        return True

    def close(self) -> None:
        """Nothing to release."""
