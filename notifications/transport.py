"""Ways to hand a finished email over: an SMTP server, or a local folder of .eml files."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from notifications.pipelining import AT_ONCE, LateAnswer, PipeliningSMTP, PipeliningSMTP_SSL

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class TemporaryFailure(Exception):
    """The message could not be handed over now (4xx, network); try again later."""


SendFailure = PermanentFailure | TemporaryFailure


def _late_failure(reply: tuple[int, bytes] | None) -> SendFailure | None:
    """What the server's late last answer to an email means (None: it took it)."""
    if reply is None:
        return TemporaryFailure("the connection ended before the server answered")
    code, text = reply
    if code == 250:
        return None
    detail = f"{code} {_text(text)}"
    return PermanentFailure(detail) if code >= 500 else TemporaryFailure(detail)


class Transport(Protocol):
    """Delivers one message or raises PermanentFailure / TemporaryFailure."""

    def send(self, message: Message) -> None:
        """Hand `message` over."""
        ...

    def delivered(self, message_id: str) -> bool | None:
        """After an interrupted hand-over: does the mail system have this message?
        None when it cannot tell (then the message is sent again)."""
        ...

    def close(self) -> None:
        """Release any connection kept between messages."""
        ...


@runtime_checkable
class Handing(Protocol):
    """A transport that can hand an email over without waiting for the server's last
    answer to it (SMTP with pipelining), so the worker goes on meanwhile."""

    def hand(self, message: Message, token: object) -> None:
        """Hand `message` over; its answer comes back from `answers` under `token`."""
        ...

    def answers(self, wait: bool) -> list[tuple[object, SendFailure | None]]:
        """Late answers read so far (with `wait`, the one still owed too)."""
        ...


class SentCopies(Protocol):
    """Where the mail system keeps a copy of what we hand over (Microsoft 365 files every
    message sent by SMTP submission in the mailbox's Sent Items)."""

    def holds(self, message_id: str) -> bool:
        """True when a message with this Message-ID is there; raises when it cannot look."""
        ...


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class XOAuth2:
    """The SASL XOAUTH2 exchange for smtplib.SMTP.auth (RFC 7628-style, as Google and
    Microsoft define it): the initial response carries user and token; if the server
    answers with a 334 error challenge, an empty reply makes it finish with its error."""

    def __init__(self, user: str, token: str) -> None:
        self._initial = f"user={user}\x01auth=Bearer {token}\x01\x01"
        self._sent = False

    def __call__(self, challenge: bytes | None = None) -> str:
        if self._sent:
            return ""
        self._sent = True
        return self._initial


@dataclass
class SmtpTransport:
    """Send with smtplib: implicit TLS, STARTTLS or plain; password AUTH when a user is set.

    One connection is kept open across messages (a pass may send hundreds) and opened again
    when the server has dropped it; `close()` ends it. Commands are pipelined when the
    server offers it (`notifications.pipelining`).
    """

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"] = "starttls"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None
    # Set for XOAUTH2 (Microsoft 365 turns off password SMTP AUTH): returns a fresh token.
    token_provider: Callable[[], str] | None = None
    # Set when the server files what it accepts in a Sent folder we can read.
    sent_copies: SentCopies | None = None
    _client: PipeliningSMTP | None = field(default=None, init=False, repr=False)
    # Answers read late (`hand`), for `answers`: shared by every connection this opens.
    _late: list[LateAnswer] = field(default_factory=list, init=False, repr=False)

    def _context(self) -> ssl.SSLContext:
        # Loading the system's CA certificates takes tens of milliseconds: do it once.
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        return self.ssl_context

    def _connect(self) -> PipeliningSMTP:
        if self.security == "ssl":
            client: PipeliningSMTP = PipeliningSMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        else:
            client = PipeliningSMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                client.starttls(context=self._context())
        try:
            self._authenticate(client)
        except BaseException:
            client.close()
            raise
        client.late_answers = self._late
        return client

    def _authenticate(self, client: smtplib.SMTP) -> None:
        if self.token_provider is not None:
            client.ehlo_or_helo_if_needed()
            client.auth("XOAUTH2", XOAuth2(self.user, self.token_provider()))
        elif self.user:
            client.login(self.user, self.password)

    def _deliver(self, message: Message, token: object) -> dict[str, tuple[int, bytes]]:
        if self._client is not None:
            try:
                return self._on(self._client, message, token)
            except smtplib.SMTPServerDisconnected:
                self.close()  # dropped while idle: one fresh connection below
        self._client = self._connect()
        return self._on(self._client, message, token)

    def _on(
        self, client: PipeliningSMTP, message: Message, token: object
    ) -> dict[str, tuple[int, bytes]]:
        client.later = token
        try:
            return client.send_message(message)
        finally:
            client.later = AT_ONCE

    def send(self, message: Message) -> None:
        """Send, classifying every failure as permanent or temporary."""
        self._send(message, AT_ONCE)

    def hand(self, message: Message, token: object) -> None:
        """Send without waiting for the server's last answer to it: that is read once the
        next email's commands have gone (or by `answers(wait=True)`) and comes back from
        `answers` under `token`. A refusal before its text went raises as `send` does."""
        self._send(message, token)

    def answers(self, wait: bool) -> list[tuple[object, SendFailure | None]]:
        """Every late answer read since the last call, each with its token and its failure
        (None: the server took the email); with `wait`, the one still owed is read too."""
        if wait and self._client is not None:
            try:
                self._client.answer_owed()
            except (smtplib.SMTPException, OSError):
                self.close()
        answers, self._late[:] = list(self._late), []
        return [(token, _late_failure(reply)) for token, reply in answers]

    def _send(self, message: Message, token: object) -> None:
        try:
            refused = self._deliver(message, token)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items()
            )
            if all(code >= 500 for code in codes):
                raise PermanentFailure(detail) from exc
            raise TemporaryFailure(detail) from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as exc:
            # Our credentials or sender address, not this message: every message would
            # fail the same way, so keep them all for a retry once an operator fixes it.
            self.close()
            raise TemporaryFailure(
                f"{exc.smtp_code} {_text(exc.smtp_error)} (our SMTP login or "
                "sender address was refused)"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise PermanentFailure(detail) from exc
            raise TemporaryFailure(detail) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            # Every outbox row has one recipient, so a partial refusal cannot happen;
            # treat it as a refusal rather than assume delivery.
            raise PermanentFailure(f"refused: {refused}")

    def delivered(self, message_id: str) -> bool | None:
        """Look for the message in the Sent folder, if one is set; None when we cannot."""
        if self.sent_copies is None:
            return None
        try:
            return self.sent_copies.holds(message_id)
        except Exception as exc:  # noqa: BLE001 - not knowing means sending again
            log.warning("cannot look in the Sent folder (%s); sending again", type(exc).__name__)
            return None

    def close(self) -> None:
        """End the connection, if one is open (a dead one is simply dropped). An answer
        still owed is read first; `answers` returns it."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


@dataclass(frozen=True)
class FolderTransport:
    """Write each message to `folder` as an .eml file (local runs without SMTP)."""

    folder: Path

    def send(self, message: Message) -> None:
        """Write the message; its file name comes from its Message-ID, so a resend overwrites."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(str(message["Message-ID"]))
        tmp = path.with_name(f".{path.stem}.tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)

    def delivered(self, message_id: str) -> bool | None:
        """The file is there (written whole: it is renamed into place) or it is not."""
        return self._path(message_id).exists()

    def _path(self, message_id: str) -> Path:
        name = message_id.strip("<>").replace("/", "_").replace("@", "_at_")
        return self.folder / f"{name}.eml"

    def close(self) -> None:
        """Nothing to close."""
