"""The small interface every mail source offers the runner."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from storage.messages import ServerIdentity


class Destination(StrEnum):
    """Where a message goes on the server once its outcome is committed."""

    PROCESSED = "processed"
    QUARANTINE = "quarantine"
    IGNORED = "ignored"


@dataclass(frozen=True)
class FetchedMessage:
    """Raw bytes of one message and where it lives on the server."""

    identity: ServerIdentity
    raw: bytes
    arrived_at: datetime | None  # the server's arrival time, when it tells us
    # Set (to the server's size in bytes) when the message is over max_message_bytes and was
    # not downloaded: `raw` then holds only its header, for the runner to store and reject.
    oversize: int | None = None


class MailSource(Protocol):
    """Fetches waiting messages and moves them on once their outcome is stored."""

    since: date | None  # when set, only messages that arrived on or after this day
    name: str  # the source as stored with each message (imap://user@host, maildir:/path)

    def count_waiting(self) -> int:
        """How many messages `fetch` would yield now."""
        ...

    def fetch(self) -> Iterator[FetchedMessage]:
        """Yield each message waiting in the watched folder, without changing it."""
        ...

    def finish(self, identity: ServerIdentity, destination: Destination) -> str:
        """Move the message out of the watched folder; return the folder it went to."""
        ...

    def finish_all(self, moves: Sequence[tuple[ServerIdentity, Destination]]) -> list[str]:
        """`finish` for several messages at once (one round trip per destination); the
        folder each went to, in order."""
        ...

    def remove(self, identity: ServerIdentity, folder: str, message_id: str | None) -> bool:
        """Delete a purged referral's email from `folder` (where it was moved to); True
        when it is gone (or was never there), False when the server cannot say now."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
