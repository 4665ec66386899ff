"""An IMAP mailbox as a mail source (imapclient).

Messages are fetched with BODY.PEEK so that reading never sets \\Seen, and are moved
out of the watched folder only after their outcome is committed (the runner calls
`finish`). Where the server lacks MOVE, COPY + \\Deleted + UID EXPUNGE does the same.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

from imapclient import IMAPClient

from intake.settings import Settings
from intake.sources.base import Destination, FetchedMessage
from storage.messages import ServerIdentity

BATCH = 20


class ImapSource:
    """One connection to one folder of an IMAP mailbox."""

    def __init__(self, settings: Settings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.folders = {
            Destination.PROCESSED: settings.imap_processed_folder,
            Destination.QUARANTINE: settings.imap_quarantine_folder,
            Destination.IGNORED: settings.imap_ignored_folder,
        }
        self.name = f"imap://{settings.imap_user}@{settings.imap_host}:{settings.imap_port}"
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._client: IMAPClient | None = None
        self._uidvalidity = 0

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        s = self.settings
        client = IMAPClient(
            s.imap_host,
            port=s.imap_port,
            ssl=s.imap_security == "ssl",
            ssl_context=self._ssl_context,
            timeout=s.imap_timeout,
        )
        if s.imap_security == "starttls":
            client.starttls(self._ssl_context)
        client.login(s.imap_user, s.imap_password.get_secret_value())
        selected = client.select_folder(s.imap_folder)
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        self._client = client
        return client

    def fetch(self) -> Iterator[FetchedMessage]:
        """Yield every message in the watched folder, in UID order, in batches."""
        client = self._connect()
        uids = sorted(client.search("ALL"))
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            data = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in batch:
                item = data.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue  # expunged by someone else between SEARCH and FETCH
                internal = item.get(b"INTERNALDATE")
                arrived = None
                if isinstance(internal, datetime):
                    arrived = internal if internal.tzinfo else internal.replace(tzinfo=UTC)
                ident = ServerIdentity(
                    source=self.name,
                    folder=self.settings.imap_folder,
                    uidvalidity=self._uidvalidity,
                    uid=str(uid),
                )
                yield FetchedMessage(identity=ident, raw=item[b"BODY[]"], arrived_at=arrived)

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if not client.folder_exists(folder):
            client.create_folder(folder)

    def finish(self, identity: ServerIdentity, destination: Destination) -> str:
        """Move the message to its destination folder, creating the folder if missing."""
        client = self._connect()
        folder = self.folders[destination]
        if identity.uidvalidity != self._uidvalidity:
            # The UIDs we hold no longer name the same messages; moving one could move a
            # different email. Leave it: the next fetch finds it under its new UID.
            return folder
        self._ensure_folder(client, folder)
        uid = int(identity.uid)
        if client.has_capability("MOVE"):
            client.move([uid], folder)
        else:
            client.copy([uid], folder)
            client.add_flags([uid], [b"\\Deleted"])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])
            else:
                client.expunge()
        return folder

    def close(self) -> None:
        """Log out, ignoring a connection that has already gone."""
        if self._client is not None:
            with contextlib.suppress(OSError, IMAPClient.Error):
                self._client.logout()
            self._client = None
