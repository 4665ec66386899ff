"""smtplib clients that pipeline (RFC 2920) when the server offers it: two round trips an email.

smtplib waits for the answer to each command: MAIL, RCPT, DATA, then the message, four
round trips. A server that offers PIPELINING (Exchange Online, Postfix, Gmail do) takes
MAIL, RCPT and DATA in one write and answers them together; only the message itself
must wait for DATA's 354. Over the internet that is two round trips saved per email.
Failures raise smtplib's own exceptions, as smtplib.SMTP.sendmail does, so a caller
cannot tell the two apart except by speed.

RFC 2920 also lets the next email's commands follow the end of a message at once, so
the server's last answer to an email may be read after them (`later`): the worker has
filed its next message by then, and the server has answered long before.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Sequence
from typing import Any

_LEADING_DOT = re.compile(rb"(?m)^\.")
_CRLF = b"\r\n"

Replies = dict[str, tuple[int, bytes]]
# An email's last answer, read after the next email went (`PipeliningSMTP.later`): its
# token, and the server's (code, text), or None when the connection ended first.
LateAnswer = tuple[object, tuple[int, bytes] | None]
AT_ONCE = object()  # no token: the answer is read at once


def _joined(options: Sequence[str]) -> str:
    return " " + " ".join(options) if options else ""


def _give_up(client: smtplib.SMTP, code: int) -> None:
    """After a refusal: a 421 (closing) ends the connection, anything else resets it."""
    if code == 421:
        client.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()


class PipeliningSMTP(smtplib.SMTP):
    """smtplib.SMTP (plain or STARTTLS) that pipelines when it can.

    With `later` set to a token, the server's last answer to the email is not waited
    for: it is read once the next email's commands have gone (the server has long since
    answered, while we did other work), or by `answer_owed`, and put in `late_answers`.
    """

    later: object = AT_ONCE
    _owed: object = AT_ONCE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.late_answers: list[LateAnswer] = []
        super().__init__(*args, **kwargs)

    def sendmail(  # type: ignore[override]
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: bytes | str,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> Replies:
        self.ehlo_or_helo_if_needed()
        # An SMTPUTF8 transaction (an address that is not ASCII, rare) goes the plain way:
        # smtplib switches its command encoding for it.
        utf8 = any(option.lower() == "smtputf8" for option in mail_options)
        if isinstance(msg, str) or utf8 or not self.has_extn("pipelining"):
            self.answer_owed()
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)
        return self._pipelined(from_addr, to_addrs, msg, mail_options, rcpt_options)

    def answer_owed(self) -> None:
        """Read the last answer still owed, if any, into `late_answers`."""
        token, self._owed = self._owed, AT_ONCE
        if token is AT_ONCE:
            return
        try:
            self.late_answers.append((token, self.getreply()))
        except smtplib.SMTPServerDisconnected:
            self.late_answers.append((token, None))
            raise

    def close(self) -> None:
        """Drop the connection; an answer still owed is lost with it (its outcome unknown)."""
        token, self._owed = self._owed, AT_ONCE
        if token is not AT_ONCE:
            self.late_answers.append((token, None))  # never answered: the outcome is unknown
        super().close()

    def quit(self) -> tuple[int, bytes]:
        self.answer_owed()
        return super().quit()

    def _pipelined(
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: bytes,
        mail_options: Sequence[str],
        rcpt_options: Sequence[str],
    ) -> Replies:
        """smtplib.SMTP.sendmail's contract, pipelined (the server offers PIPELINING)."""
        recipients = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
        options = ([f"size={len(msg)}"] if self.has_extn("size") else []) + list(mail_options)
        commands = [f"mail FROM:{smtplib.quoteaddr(from_addr)}{_joined(options)}"]
        commands += [f"rcpt TO:{smtplib.quoteaddr(to)}{_joined(rcpt_options)}" for to in recipients]
        commands.append("data")
        self.send("".join(f"{command}\r\n" for command in commands))
        self.answer_owed()  # the email before's last answer comes first
        mail, *rcpts, data = [self.getreply() for _ in commands]
        answers = zip(recipients, rcpts, strict=True)
        refused = {to: reply for to, reply in answers if reply[0] not in (250, 251)}
        if data[0] == 354 and (mail[0] != 250 or len(refused) == len(recipients)):
            # A server that took DATA though nothing can be delivered: end the empty message.
            self.send(b"." + _CRLF)
            self.getreply()
        if mail[0] != 250:
            _give_up(self, mail[0])
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], from_addr)
        if refused:
            if any(code == 421 for code, _ in refused.values()):
                _give_up(self, 421)
                raise smtplib.SMTPRecipientsRefused(refused)
            if len(refused) == len(recipients):
                _give_up(self, 0)
                raise smtplib.SMTPRecipientsRefused(refused)
        if data[0] != 354:
            _give_up(self, data[0])
            raise smtplib.SMTPDataError(data[0], data[1])
        body = _LEADING_DOT.sub(b"..", msg)
        if not body.endswith(_CRLF):
            body += _CRLF
        self.send(body + b"." + _CRLF)
        if self.later is not AT_ONCE:
            self._owed = self.later
            return refused
        code, answer = self.getreply()
        if code != 250:
            _give_up(self, code)
            raise smtplib.SMTPDataError(code, answer)
        return refused


class PipeliningSMTP_SSL(PipeliningSMTP, smtplib.SMTP_SSL):  # noqa: N801 - as smtplib names it
    """smtplib.SMTP_SSL (implicit TLS) that pipelines when it can."""
