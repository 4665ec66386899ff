"""Ways to hand a finished email over: an SMTP server, or a local folder of .eml files."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class TemporaryFailure(Exception):
    """The message could not be handed over now (4xx, network); try again later."""


class Transport(Protocol):
    """Delivers one message or raises PermanentFailure / TemporaryFailure."""

    def send(self, message: EmailMessage) -> None:
        """Hand `message` over."""
        ...


@dataclass(frozen=True)
class SmtpTransport:
    """Send with smtplib: implicit TLS, STARTTLS or plain; password AUTH when a user is set."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"] = "starttls"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=context)
        return client

    def send(self, message: EmailMessage) -> None:
        """Send, classifying every failure as permanent or temporary."""
        try:
            with self._connect() as client:
                if self.user:
                    client.login(self.user, self.password)
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                for rcpt, (code, msg) in exc.recipients.items()
            )
            if all(code >= 500 for code in codes):
                raise PermanentFailure(detail) from exc
            raise TemporaryFailure(detail) from exc
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            detail = f"{exc.smtp_code} {text}"
            if exc.smtp_code >= 500:
                raise PermanentFailure(detail) from exc
            raise TemporaryFailure(detail) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            # Every outbox row has one recipient, so a partial refusal cannot happen;
            # treat it as a refusal rather than assume delivery.
            raise PermanentFailure(f"refused: {refused}")


@dataclass(frozen=True)
class FolderTransport:
    """Write each message to `folder` as an .eml file (local runs without SMTP)."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        """Write the message; its file name comes from its Message-ID, so a resend overwrites."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").replace("/", "_").replace("@", "_at_")
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(bytes(message))
        tmp.replace(self.folder / f"{name}.eml")
