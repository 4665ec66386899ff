"""An in-process aiosmtpd server that captures delivered mail and can refuse chosen recipients."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from . import free_port


@dataclass(frozen=True)
class CapturedMessage:
    """One message as delivered: the envelope plus the raw and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage = field(repr=False)


class CapturingHandler:
    """aiosmtpd handler: records delivered messages; refuses recipients in ``fail_recipients``.

    ``fail_recipients`` maps an address (compared case-insensitively) to the full SMTP reply
    for its RCPT TO, e.g. ``{"x@y": "550 5.1.1 no such user"}``. ``data_reply``, if set, is
    returned for DATA instead of accepting (e.g. ``"451 4.3.0 try later"``); nothing is recorded.
    Both may be changed while the server runs.
    """

    def __init__(
        self, fail_recipients: Mapping[str, str] | None = None, data_reply: str | None = None
    ) -> None:
        self.fail_recipients: dict[str, str] = dict(fail_recipients or {})
        self.data_reply = data_reply
        self.messages: list[CapturedMessage] = []
        # Called with each accepted message before the "250": set it to file a copy in a
        # Sent folder, as Microsoft 365 does with mail sent by SMTP submission.
        self.keep_sent_copy: Callable[[bytes], None] | None = None
        # The handler runs on the controller's event-loop thread; tests wait on this.
        self._changed = threading.Condition()
        # Offer PIPELINING (RFC 2920), as Exchange Online, Postfix and Gmail do. aiosmtpd
        # reads the commands one after another from its buffer, so it takes them
        # pipelined; it does not say so itself. False: a server that does not offer it.
        self.pipelining = True

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does when no handler answers EHLO
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusals = {addr.lower(): reply for addr, reply in self.fail_recipients.items()}
        reply = refusals.get(address.lower())
        if reply is not None:
            return reply
        # Implementing this hook means aiosmtpd no longer records the recipient itself.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        data = envelope.original_content or b""
        if self.keep_sent_copy is not None:
            self.keep_sent_copy(data)
        captured = CapturedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            message=email.message_from_bytes(data, policy=email.policy.default),
        )
        with self._changed:
            self.messages.append(captured)
            self._changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """Block until at least ``count`` messages arrived; return them all, or raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) within {timeout} s, got {len(self.messages)}"
                    )
                self._changed.wait(remaining)
            return list(self.messages)


class SmtpServer:
    """aiosmtpd Controller on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(
        self, fail_recipients: Mapping[str, str] | None = None, data_reply: str | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.handler = CapturingHandler(fail_recipients, data_reply)
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[CapturedMessage]:
        """Messages delivered so far, oldest first."""
        return self.handler.messages

    @property
    def fail_recipients(self) -> dict[str, str]:
        """Recipient -> SMTP reply for RCPT TO; edit to refuse addresses in a test."""
        return self.handler.fail_recipients

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """See :meth:`CapturingHandler.wait_for`."""
        return self.handler.wait_for(count, timeout)

    def start(self, **controller_kwargs: Any) -> None:
        """Start the server thread (kwargs go to aiosmtpd's Controller, e.g. tls_context)."""
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port, **controller_kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop the server thread; safe to call twice (tests may stop it to simulate an outage)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
