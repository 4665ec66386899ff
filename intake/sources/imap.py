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

Log lines carry UIDs, counts and error types only, never addresses or subjects.
"""

from __future__ import annotations

import contextlib
import logging
import select
import ssl
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from intake.settings import Settings
from intake.sources.backoff import Backoff
from intake.sources.base import Destination, FetchedMessage
from intake.sources.oauth import TokenError, TokenProvider, token_provider_from_settings
from storage.messages import ServerIdentity

log = logging.getLogger(__name__)

T = TypeVar("T")

BATCH = 20  # messages per FETCH
BATCH_BYTES = 16 * 1024 * 1024  # and at most this many bytes of bodies held at once
# RFC 2177: servers may drop an IDLE after 30 minutes (many do after 29); renew well before.
IDLE_RENEW = 25 * 60.0
NOOP_INTERVAL = 10.0  # seconds between NOOPs when the server has no IDLE
CLOSE_TIMEOUT = 5.0  # a dead peer must not hold up close() for the full imap_timeout
EMPTY_READS_MEAN_EOF = 3  # readable socket but no response, this often in a row: closed

_HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)


class SourceError(Exception):
    """Base of the mail source's own errors."""


class SourceDisconnected(SourceError):
    """The connection to the server was lost (socket error, timeout or BYE); it may return."""


class SourceUnavailable(SourceError):
    """The server stayed unreachable through every reconnection attempt."""


class SourceRefused(SourceError):
    """The server was reached but refused us in a way retrying cannot mend."""


class SourceInsecure(SourceRefused):
    """TLS could not be set up safely: untrusted certificate, or no STARTTLS on offer."""


class SourceAuthFailed(SourceRefused):
    """The login (password or OAuth2 token) was refused, or no token could be had."""


# What a dropped connection looks like from imapclient: socket errors and timeouts are
# OSError (ssl errors too), a BYE or EOF is imaplib's abort.
_LOST: tuple[type[BaseException], ...] = (SourceDisconnected, OSError, IMAPClient.AbortError)


def _describe(exc: BaseException) -> str:
    """A short, content-free description of an error for logs and messages."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    # imaplib errors can quote a protocol line; keep only the start of it.
    return f"{type(exc).__name__}: {str(exc)[:80]}"


def _is_bye(response: Sequence[Any]) -> bool:
    return bool(response) and response[0] == b"BYE"


def _shutdown_quietly(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


class ImapSource:
    """One connection to one folder of an IMAP mailbox."""

    # Class attributes so a test (or a tuned deployment) can change them per instance.
    batch_size = BATCH
    batch_bytes = BATCH_BYTES
    since: date | None = None  # backfill: only messages that arrived on or after this day
    idle_renew = IDLE_RENEW
    noop_interval = NOOP_INTERVAL

    def __init__(
        self,
        settings: Settings,
        ssl_context: ssl.SSLContext | None = None,
        *,
        token_provider: TokenProvider | None = None,
    ) -> None:
        """`ssl_context` overrides the one built from settings (system CAs or IMAP_CA_FILE);
        `token_provider` overrides the one built from the OAUTH settings (for xoauth2)."""
        self.settings = settings
        self.folders = {
            Destination.PROCESSED: settings.imap_processed_folder,
            Destination.QUARANTINE: settings.imap_quarantine_folder,
            Destination.IGNORED: settings.imap_ignored_folder,
        }
        self.name = f"imap://{settings.imap_user}@{settings.imap_host}:{settings.imap_port}"
        ca_file = settings.imap_ca_file
        # An empty INTAKE_IMAP_CA_FILE arrives as Path("."): treat it as unset.
        cafile = str(ca_file) if ca_file is not None and str(ca_file) not in ("", ".") else None
        self._ssl_context = ssl_context or ssl.create_default_context(cafile=cafile)
        self._token_provider = token_provider
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._exists = 0  # message count of the watched folder at the last SELECT
        self._high_uid = 0  # highest UID fetch() has yielded under the current UIDVALIDITY
        self.reconnects = 0  # connections re-opened after a loss, for health reporting
        self._known_folders: set[str] = set()  # folders seen on the current connection

    # -- connection ------------------------------------------------------------------------

    @property
    def token_expires_at(self) -> datetime | None:
        """When the current XOAUTH2 token expires, if known (None for password sign-in)."""
        if self._token_provider is None:
            return None
        return self._token_provider.expires_at

    def tls_version(self) -> str | None:
        """TLS version of the open connection (e.g. "TLSv1.3"); None if plain or closed."""
        if self._client is None:
            return None
        sock = self._client.socket()
        return sock.version() if isinstance(sock, ssl.SSLSocket) else None

    def _tokens(self) -> TokenProvider:
        if self._token_provider is None:
            self._token_provider = token_provider_from_settings(self.settings)
        return self._token_provider

    def _connect(self) -> IMAPClient:
        """The open connection, or a new one: TLS as configured, logged in, folder selected."""
        if self._client is not None:
            return self._client
        s = self.settings
        try:
            client = IMAPClient(
                s.imap_host,
                port=s.imap_port,
                ssl=s.imap_security == "ssl",
                ssl_context=self._ssl_context,
                timeout=s.imap_timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            raise SourceInsecure(
                f"{self.name}: TLS certificate not trusted ({exc.verify_message}); "
                "set INTAKE_IMAP_CA_FILE to trust a private CA"
            ) from exc
        # Timezone-aware INTERNALDATEs; imapclient would otherwise convert them to naive
        # local time, which reads as the wrong instant on a machine not set to UTC.
        client.normalise_times = False
        try:
            if s.imap_security == "starttls":
                self._starttls(client)
            self._login(client)
            self._select(client)
        except BaseException:
            _shutdown_quietly(client)
            raise
        self._client = client
        return client

    def _starttls(self, client: IMAPClient) -> None:
        # Never carry on in plain text: a server (or someone in between) that does not
        # offer STARTTLS is refused, as the settings asked for an encrypted connection.
        if not client.has_capability("STARTTLS"):
            raise SourceInsecure(
                f"{self.name}: server does not offer STARTTLS; refusing to continue unencrypted"
            )
        try:
            client.starttls(self._ssl_context)
        except ssl.SSLCertVerificationError as exc:
            raise SourceInsecure(
                f"{self.name}: TLS certificate not trusted ({exc.verify_message}); "
                "set INTAKE_IMAP_CA_FILE to trust a private CA"
            ) from exc
        except IMAPClient.AbortError:
            raise
        except IMAPClient.Error as exc:  # the server answered NO/BAD to STARTTLS
            raise SourceInsecure(f"{self.name}: STARTTLS failed: {_describe(exc)}") from exc

    def _login(self, client: IMAPClient) -> None:
        s = self.settings
        try:
            if s.imap_auth == "xoauth2":
                client.oauth2_login(s.imap_user, self._tokens().token())
            else:
                client.login(s.imap_user, s.imap_password.get_secret_value())
        except LoginError as exc:
            raise SourceAuthFailed(
                f"{self.name}: {s.imap_auth} sign-in refused by the server ({exc})"
            ) from exc
        except TokenError as exc:
            raise SourceAuthFailed(f"{self.name}: no OAuth2 token: {exc}") from exc

    def _select(self, client: IMAPClient) -> int:
        """Select the watched folder; return (and remember) its UIDVALIDITY."""
        selected = client.select_folder(self.settings.imap_folder)
        validity = int(selected[b"UIDVALIDITY"])
        if validity != self._uidvalidity:
            if self._uidvalidity:
                log.warning(
                    "UIDVALIDITY of the watched folder changed from %s to %s",
                    self._uidvalidity,
                    validity,
                )
            self._uidvalidity = validity
            self._high_uid = 0  # old UIDs say nothing about the new numbering
        self._exists = int(selected.get(b"EXISTS", 0))
        return validity

    def _drop(self) -> None:
        """Forget a connection that failed (without a polite LOGOUT, it is likely dead)."""
        self._known_folders.clear()
        client, self._client = self._client, None
        if client is not None:
            _shutdown_quietly(client)

    def _retrying(self, what: str, operation: Callable[[IMAPClient], T]) -> T:
        """Run `operation` on a connection; on a loss reconnect with backoff and run it again.

        Operations must be safe to repeat: reads, or a UID MOVE (a second MOVE of a UID
        already moved does nothing).
        """
        s = self.settings
        attempts = max(0, s.imap_reconnect_attempts)
        backoff = Backoff(s.imap_reconnect_delay, s.imap_reconnect_max_delay)
        while True:
            try:
                had_connection = self._client is not None
                result = operation(self._connect())
            except _LOST as exc:
                self._drop()
                if backoff.attempt >= attempts:
                    raise SourceUnavailable(
                        f"{self.name}: IMAP server unreachable during {what} after "
                        f"{attempts} reconnection attempt(s); last error {_describe(exc)}"
                    ) from exc
                delay = backoff.next_delay()
                log.warning(
                    "IMAP connection %s during %s (%s); reconnecting in %.2f s (try %d of %d)",
                    "lost" if had_connection else "failed",
                    what,
                    _describe(exc),
                    delay,
                    backoff.attempt,
                    attempts,
                )
                time.sleep(delay)
                continue
            if backoff.attempt:
                self.reconnects += 1
                log.info("IMAP connection re-opened after %d failed tries", backoff.attempt)
            return result

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
        """Move the message to its destination folder, creating the folder if missing.

        The folder is selected again first: if its UIDVALIDITY is no longer the one the
        message was fetched under, its UID may now name a different email, so nothing is
        moved and the watched folder (where the message stays) is returned; the next
        fetch yields it under its new identity.
        """
        folder = self.folders[destination]
        uid = int(identity.uid)

        def move(client: IMAPClient) -> int | None:
            validity = self._select(client)
            if (
                identity.uidvalidity != validity
                or identity.folder != self.settings.imap_folder
                or identity.source != self.name
            ):
                return validity
            self._ensure_folder(client, folder)
            if client.has_capability("MOVE"):
                client.move([uid], folder)
            else:
                client.copy([uid], folder)
                client.add_flags([uid], [b"\\Deleted"])
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge([uid])
                else:
                    client.expunge()
            return None

        stale = self._retrying("finish", move)
        if stale is not None:
            log.warning(
                "not moving uid %s: fetched under UIDVALIDITY %s, the folder now has %s; "
                "the next fetch reads it again under its new UID",
                identity.uid,
                identity.uidvalidity,
                stale,
            )
            return identity.folder
        return folder

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

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may be waiting (True) or `timeout` seconds pass (False).

        "New" means a UID above the highest one `fetch` has yielded (any message at all
        before the first fetch). Uses IDLE when the server offers it (and IMAP_IDLE is on),
        else NOOP every `noop_interval` seconds. Raises SourceDisconnected when the
        connection dies; the next `fetch` reconnects.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            client = self._connect()
            self._select(client)  # a fresh message count and UIDVALIDITY to compare with
            if self._has_new(client):
                return True
            if self.settings.imap_idle and client.has_capability("IDLE"):
                return self._wait_idle(client, deadline)
            return self._wait_noop(client, deadline)
        except SourceDisconnected:
            self._drop()
            raise
        except _LOST as exc:
            self._drop()
            raise SourceDisconnected(
                f"{self.name}: connection lost while waiting for mail ({_describe(exc)})"
            ) from exc

    def _has_new(self, client: IMAPClient) -> bool:
        # "UID n:*" always matches the last message even when its UID is below n.
        found = client.search(["UID", f"{self._high_uid + 1}:*"])
        return any(int(uid) > self._high_uid for uid in found)

    def _wait_idle(self, client: IMAPClient, deadline: float) -> bool:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return False
            renew_at = min(deadline, now + self.idle_renew)
            client.idle()
            arrived = self._watch_idle(client, renew_at)
            _text, responses = client.idle_done()
            if arrived or self._mail_in(responses):
                return True

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
            if hangup or any(_is_bye(r) for r in responses):
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
            if _is_bye(response):
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
                if _is_bye(response):
                    raise SourceDisconnected(f"{self.name}: server said BYE")
                if len(response) < 2:
                    continue
                if response[1] == b"EXPUNGE":
                    count -= 1
                elif response[1] == b"EXISTS":
                    if int(response[0]) > count:
                        return True
                    count = int(response[0])

    # -- close -----------------------------------------------------------------------------

    def close(self) -> None:
        """Log out and release the connection; safe to call at any time, any number of times."""
        self._known_folders.clear()
        client, self._client = self._client, None
        if client is None:
            return
        try:
            with contextlib.suppress(Exception):
                client.socket().settimeout(CLOSE_TIMEOUT)
                client.logout()
        finally:
            # logout() closes the socket when it succeeds; when it did not, this does.
            _shutdown_quietly(client)
