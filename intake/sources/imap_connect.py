"""The IMAP connection under a mail source: TLS, sign-in, folder selection, reconnects."""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from intake.settings import Settings
from intake.sources.backoff import Backoff
from intake.sources.oauth import TokenError, TokenProvider, token_provider_from_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

CLOSE_TIMEOUT = 5.0  # a dead peer must not hold up close() for the full imap_timeout


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
LOST: tuple[type[BaseException], ...] = (SourceDisconnected, OSError, IMAPClient.AbortError)


def describe(exc: BaseException) -> str:
    """A short, content-free description of an error for logs and messages."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    # imaplib errors can quote a protocol line; keep only the start of it.
    return f"{type(exc).__name__}: {str(exc)[:80]}"


def is_bye(response: Sequence[Any]) -> bool:
    return bool(response) and response[0] == b"BYE"


def shutdown_quietly(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


class ImapConnection:
    """One connection to one folder of an IMAP mailbox: opened, signed in and re-opened."""

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
            shutdown_quietly(client)
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
            raise SourceInsecure(f"{self.name}: STARTTLS failed: {describe(exc)}") from exc

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
            shutdown_quietly(client)

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
            except LOST as exc:
                self._drop()
                if backoff.attempt >= attempts:
                    raise SourceUnavailable(
                        f"{self.name}: IMAP server unreachable during {what} after "
                        f"{attempts} reconnection attempt(s); last error {describe(exc)}"
                    ) from exc
                delay = backoff.next_delay()
                log.warning(
                    "IMAP connection %s during %s (%s); reconnecting in %.2f s (try %d of %d)",
                    "lost" if had_connection else "failed",
                    what,
                    describe(exc),
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
            shutdown_quietly(client)
