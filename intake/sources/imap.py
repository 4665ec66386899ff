"""An IMAP mailbox as a mail source (imapclient).

Messages are fetched with BODY.PEEK so that reading never sets \\Seen, and are moved
out of the watched folder only after their outcome is committed (the runner calls
`finish`). Where the server lacks MOVE, COPY + \\Deleted + UID EXPUNGE does the same.

Production concerns handled here:

* transport security: implicit TLS, STARTTLS (refused outright when the server does not
  offer it: never a silent fall-back to plain text) or none; a CA file can be trusted;
* sign-in with a password or an OAuth2 token (XOAUTH2, see `intake.sources.oauth`);
* UIDVALIDITY: `finish` re-selects the folder and moves nothing when it changed;
* sizes are checked before downloading: an oversize message yields its header only;
* `wait_for_mail` waits with IDLE (renewed every 25 minutes) or NOOP polling;
* a lost connection inside `fetch` / `finish` is re-opened with capped, jittered backoff.

The connection itself (TLS, sign-in, reconnects, errors) is `intake.sources.imap_connect`.

Log lines carry UIDs, counts and error types only, never addresses or subjects.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from intake.sources.base import Destination, FetchedMessage
from intake.sources.imap_connect import (
    LOST,
    ImapConnection,
    SourceDisconnected,
    describe,
    is_bye,
)
from storage.messages import ServerIdentity

log = logging.getLogger(__name__)

BATCH = 20  # messages per FETCH
BATCH_BYTES = 16 * 1024 * 1024  # and at most this many bytes of bodies held at once
# RFC 2177: servers may drop an IDLE after 30 minutes (many do after 29); renew well before.
IDLE_RENEW = 25 * 60.0
NOOP_INTERVAL = 10.0  # seconds between NOOPs when the server has no IDLE
EMPTY_READS_MEAN_EOF = 3  # readable socket but no response, this often in a row: closed

_HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)


class ImapSource(ImapConnection):
    """One connection to one folder of an IMAP mailbox."""

    # Class attributes so a test (or a tuned deployment) can change them per instance.
    batch_size = BATCH
    batch_bytes = BATCH_BYTES
    since: date | None = None  # backfill: only messages that arrived on or after this day
    idle_renew = IDLE_RENEW
    noop_interval = NOOP_INTERVAL

    @property
    def folders(self) -> dict[Destination, str]:
        """Where each kind of outcome is moved to on the server."""
        return {
            Destination.PROCESSED: self.settings.imap_processed_folder,
            Destination.QUARANTINE: self.settings.imap_quarantine_folder,
            Destination.IGNORED: self.settings.imap_ignored_folder,
        }

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self) -> Iterator[FetchedMessage]:
        """Yield every message in the watched folder, in UID order, in batches.

        Sizes are read first: a message over `max_message_bytes` is not downloaded; its
        header is yielded instead, with `oversize` set. If UIDVALIDITY changes part-way
        (seen after a reconnect), the pass stops: the next one reads the folder afresh.
        """
        uids = self._retrying("search", self._search)
        validity = self._uidvalidity
        limit = self.settings.max_message_bytes
        for start in range(0, len(uids), self.batch_size):
            chunk = uids[start : start + self.batch_size]
            meta = self._fetch_items(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            if self._validity_changed(validity):
                return
            group: list[int] = []
            group_bytes = 0
            for uid in chunk:
                item = meta.get(uid)
                if item is None:
                    continue  # expunged by someone else between SEARCH and FETCH
                size = int(item.get(b"RFC822.SIZE") or 0)
                if size > limit:
                    if not (yield from self._download(group, meta, validity)):
                        return
                    group, group_bytes = [], 0
                    if not (yield from self._download([uid], meta, validity, oversize=True)):
                        return
                    continue
                if group and group_bytes + size > self.batch_bytes:
                    if not (yield from self._download(group, meta, validity)):
                        return
                    group, group_bytes = [], 0
                group.append(uid)
                group_bytes += size
            if not (yield from self._download(group, meta, validity)):
                return

    def _search(self, client: IMAPClient) -> list[int]:
        criteria: list[Any] = ["SINCE", self.since] if self.since else ["ALL"]
        return sorted(int(u) for u in client.search(criteria))

    def holds(self, message_id: str) -> bool:
        """True when the watched folder has a message with this Message-ID header (so an
        ImapSource watching the Sent folder answers `notifications.transport.SentCopies`)."""
        found = self._retrying(
            "search", lambda client: client.search(["HEADER", "Message-ID", message_id])
        )
        return bool(found)

    def count_waiting(self) -> int:
        """How many messages `fetch` would yield now (for a progress bar)."""
        return len(self._retrying("search", self._search))

    def _fetch_items(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        """FETCH `items` for `uids`, reconnecting if the connection drops."""
        return dict(self._retrying("fetch", lambda c: c.fetch(uids, items)))

    def _download(
        self,
        uids: list[int],
        meta: dict[int, dict[bytes, Any]],
        validity: int,
        oversize: bool = False,
    ) -> Generator[FetchedMessage, None, bool]:
        """Fetch and yield bodies (or headers only); return False if UIDVALIDITY changed."""
        if not uids:
            return True
        # PEEK: reading must not set \Seen; a person looking at the mailbox should still
        # see which mail nobody has dealt with.
        part, key = (
            ("BODY.PEEK[HEADER]", b"BODY[HEADER]") if oversize else ("BODY.PEEK[]", b"BODY[]")
        )
        data = self._fetch_items(uids, [part])
        for uid in uids:
            # Checked before every message: a reconnect here, or a `finish` called between
            # two of our yields, may have found the folder renumbered.
            if self._validity_changed(validity):
                return False
            item = data.get(uid)
            if item is None or key not in item:
                continue  # expunged meanwhile
            size = int(meta[uid].get(b"RFC822.SIZE") or 0)
            ident = ServerIdentity(
                source=self.name,
                folder=self.settings.imap_folder,
                uidvalidity=validity,
                uid=str(uid),
            )
            self._high_uid = max(self._high_uid, uid)
            yield FetchedMessage(
                identity=ident,
                raw=bytes(item[key]),
                arrived_at=self._arrival(meta[uid].get(b"INTERNALDATE")),
                oversize=size if oversize else None,
            )
        return True

    @staticmethod
    def _arrival(internal: object) -> datetime | None:
        if not isinstance(internal, datetime):
            return None
        return internal.astimezone(UTC) if internal.tzinfo else internal.replace(tzinfo=UTC)

    def _validity_changed(self, expected: int) -> bool:
        if self._uidvalidity == expected:
            return False
        log.warning(
            "UIDVALIDITY changed during fetch (%s -> %s); this pass stops, the next one "
            "reads the folder under the new numbering",
            expected,
            self._uidvalidity,
        )
        return True

    # -- finish ----------------------------------------------------------------------------

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        # Asked once per connection: a folder we saw or made stays until someone deletes
        # it, and then the MOVE fails, the connection is retried and we ask again.
        if folder in self._known_folders:
            return
        if not client.folder_exists(folder):
            client.create_folder(folder)
        self._known_folders.add(folder)

    def finish(self, identity: ServerIdentity, destination: Destination) -> str:
        """Move the message to its destination folder (see `finish_all`)."""
        return self.finish_all([(identity, destination)])[0]

    def finish_all(self, moves: Sequence[tuple[ServerIdentity, Destination]]) -> list[str]:
        """Move each message to its destination folder, creating folders that are missing:
        one MOVE per destination.

        The watched folder is selected again first: if its UIDVALIDITY is no longer the
        one a message was fetched under, its UID may now name a different email, so that
        message is not moved and the watched folder (where it stays) is returned for it;
        the next fetch yields it under its new identity.
        """
        out = [identity.folder for identity, _destination in moves]
        stale: list[tuple[ServerIdentity, int]] = []

        def move(client: IMAPClient) -> None:
            stale.clear()
            validity = self._select(client)
            groups: dict[str, list[tuple[int, int]]] = {}
            for n, (identity, destination) in enumerate(moves):
                if (
                    identity.uidvalidity != validity
                    or identity.folder != self.settings.imap_folder
                    or identity.source != self.name
                ):
                    stale.append((identity, validity))
                    continue
                groups.setdefault(self.folders[destination], []).append((n, int(identity.uid)))
            for folder, members in groups.items():
                self._ensure_folder(client, folder)
                uids = [uid for _n, uid in members]
                if client.has_capability("MOVE"):
                    client.move(uids, folder)
                else:
                    client.copy(uids, folder)
                    client.add_flags(uids, [b"\\Deleted"])
                    if client.has_capability("UIDPLUS"):
                        client.uid_expunge(uids)
                    else:
                        client.expunge()
                for n, _uid in members:
                    out[n] = folder

        self._retrying("finish", move)
        for identity, validity in stale:
            log.warning(
                "not moving uid %s: fetched under UIDVALIDITY %s, the folder now has %s; "
                "the next fetch reads it again under its new UID",
                identity.uid,
                identity.uidvalidity,
                validity,
            )
        return out

    def remove(self, identity: ServerIdentity, folder: str, message_id: str | None) -> bool:
        """Delete a purged referral's email from the folder it was moved to, found by its
        Message-ID (its UID changed with the move). Without a Message-ID it cannot be
        found safely: nothing is deleted, and True tells the caller to stop looking."""
        if not message_id:
            log.warning(
                "purged message uid=%s has no Message-ID; not found on the server", identity.uid
            )
            return True

        def delete(client: IMAPClient) -> bool:
            try:
                client.select_folder(folder)
            except IMAPClientError:
                return True  # no such folder: nothing to remove
            uids = client.search(["HEADER", "Message-ID", message_id])
            if uids:
                client.add_flags(uids, [b"\\Deleted"])
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge(uids)
                else:
                    client.expunge()
            self._select(client)  # the watched folder again, as every other step expects
            return True

        return self._retrying("remove", delete)

    # -- waiting for mail ------------------------------------------------------------------

    def wait_for_mail(self, timeout: float, recheck: float = 0.0) -> bool:
        """Block until new mail may be waiting (True) or `timeout` seconds pass (False).

        "New" means a UID above the highest one `fetch` has yielded (any message at all
        before the first fetch). Uses IDLE when the server offers it (and IMAP_IDLE is on),
        else NOOP every `noop_interval` seconds. With `recheck` > 0 an IDLE is ended and
        the server asked with a NOOP that often: a server may hold its IDLE notices back
        (Dovecot for half a second), never a NOOP's answer. Raises SourceDisconnected when
        the connection dies; the next `fetch` reconnects.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            client = self._connect()
            self._select(client)  # a fresh message count and UIDVALIDITY to compare with
            if self._has_new(client):
                return True
            if self.settings.imap_idle and client.has_capability("IDLE"):
                return self._wait_idle(client, deadline, recheck)
            return self._wait_noop(client, deadline)
        except SourceDisconnected:
            self._drop()
            raise
        except LOST as exc:
            self._drop()
            raise SourceDisconnected(
                f"{self.name}: connection lost while waiting for mail ({describe(exc)})"
            ) from exc

    def _has_new(self, client: IMAPClient) -> bool:
        # "UID n:*" always matches the last message even when its UID is below n.
        found = client.search(["UID", f"{self._high_uid + 1}:*"])
        return any(int(uid) > self._high_uid for uid in found)

    def _wait_idle(self, client: IMAPClient, deadline: float, recheck: float = 0.0) -> bool:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return False
            renew_at = min(deadline, now + self.idle_renew)
            if recheck > 0:
                renew_at = min(renew_at, now + recheck)
            client.idle()
            arrived = self._watch_idle(client, renew_at)
            _text, responses = client.idle_done()
            if arrived or self._mail_in(responses):
                return True
            if recheck > 0 and self._recheck(client):
                return True

    def _recheck(self, client: IMAPClient) -> bool:
        """Ask the server for news now (NOOP syncs the mailbox at once): True on new mail."""
        _text, responses = client.noop()
        return self._mail_in(responses)

    def _watch_idle(self, client: IMAPClient, until: float) -> bool:
        """Read IDLE responses until `until`; True on EXISTS/RECENT, raise if the link dies."""
        sock = client.socket()
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLPRI | _HANGUP)
        empty_reads = 0
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return False
            events = poller.poll(max(1, int(left * 1000)))
            if not events:
                continue
            hangup = any(mask & _HANGUP for _fd, mask in events)
            responses = client.idle_check(timeout=0)
            if hangup or any(is_bye(r) for r in responses):
                raise SourceDisconnected(f"{self.name}: server closed the connection during IDLE")
            if self._mail_in(responses):
                return True
            # Readable yet nothing to read: at end of stream the socket stays readable,
            # so a few empty reads in a row mean the peer has gone (idle_check hides EOF).
            empty_reads = 0 if responses else empty_reads + 1
            if empty_reads >= EMPTY_READS_MEAN_EOF:
                raise SourceDisconnected(f"{self.name}: connection closed during IDLE")

    @staticmethod
    def _mail_in(responses: Sequence[Sequence[Any]]) -> bool:
        for response in responses:
            if is_bye(response):
                raise SourceDisconnected("server said BYE")
            if len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT"):
                if response[1] == b"RECENT" and response[0] == 0:
                    continue
                return True
        return False

    def _wait_noop(self, client: IMAPClient, deadline: float) -> bool:
        count = self._exists
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(self.noop_interval, remaining))
            _text, responses = client.noop()
            for response in responses:
                if is_bye(response):
                    raise SourceDisconnected(f"{self.name}: server said BYE")
                if len(response) < 2:
                    continue
                if response[1] == b"EXPUNGE":
                    count -= 1
                elif response[1] == b"EXISTS":
                    if int(response[0]) > count:
                        return True
                    count = int(response[0])
