"""The outbox worker: due rows to the transport; sent, retried later, or dead."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32, default
from email.utils import format_datetime
from enum import Enum
from typing import Literal

from sqlalchemy import Engine

from notifications.transport import (
    Handing,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
    Transport,
)
from storage.clock import utcnow
from storage.db import make_durable
from storage.outbox import DEAD, HANDOVER_LEASE, Claim, claim_next, record_failure, record_sent
from storage.tables import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # with the backoff below, about a day of trying before giving up
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def add(self, other: DeliveryReport) -> None:
        """Count another pass's results in this one."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead


# compat32 folds a long header at a space it finds, even before the value (a long
# In-Reply-To would start with one): our values are single tokens, kept on their line.
_COMPAT = compat32.clone(max_line_length=998)
# And the full policy, flattened with SMTPUTF8, would start a long subject with a space.
_INTERNATIONAL = default.clone(max_line_length=998)


def build_message(row: OutboxMessage) -> Message:
    """The email for an outbox row, with the headers that stop mail loops."""
    headers = [
        ("From", row.mail_from),
        ("To", row.to_addr),
        ("Subject", row.subject),
        ("Date", format_datetime(row.created_at)),
        # Stored before the first attempt, so a resend after a crash carries the same ID.
        ("Message-ID", row.header_message_id),
    ]
    if row.in_reply_to:
        headers += [("In-Reply-To", row.in_reply_to), ("References", row.in_reply_to)]
    headers += [("Auto-Submitted", row.auto_submitted), ("X-Auto-Response-Suppress", "All")]
    if not (row.mail_from.isascii() and row.to_addr.isascii()):
        return _international(headers, row)
    if any("\r" in value or "\n" in value for _, value in headers):
        # A header line of its own would be smuggled in; no email can carry this row.
        raise ValueError("a header value holds a line break")
    # Plain ASCII addresses (the usual case): the standard library's compat32 classes
    # build it in a third of the time of EmailMessage's parsing policy.
    message: Message = _text_part(row.body_text, "plain")
    if row.body_html:
        html = _text_part(row.body_html, "html")
        message = MIMEMultipart("alternative", None, [message, html], policy=_COMPAT)
    for name, value in headers:
        # Our subjects have dashes: such a value goes as an RFC 2047 encoded word.
        message[name] = value if value.isascii() else Header(value, "utf-8", None, name).encode()
    return message


def _text_part(text: str, subtype: str) -> MIMEText:
    """Plain ASCII with short lines goes as it is (7bit); anything else in base64."""
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return MIMEText(text, subtype, "us-ascii", policy=_COMPAT)
    return MIMEText(text, subtype, "utf-8", policy=_COMPAT)


def _international(headers: list[tuple[str, str]], row: OutboxMessage) -> EmailMessage:
    """A row with a non-ASCII address (a name with accents in the From setting, an
    internationalised address): EmailMessage's policy encodes each as its kind needs."""
    message = EmailMessage(policy=_INTERNATIONAL)
    for name, value in headers:
        message[name] = value
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def retry_delay(attempts: int) -> timedelta | None:
    """Capped exponential backoff after `attempts` failures; None once we give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def deliver_due(
    engine: Engine, transport: Transport, limit: int = 1000, lease: timedelta = HANDOVER_LEASE
) -> DeliveryReport:
    """Send every due outbox row: its hand-over is marked as started (committed) first,
    and what happened is committed after, so a crash in between is found out next time."""
    return send_claimed(engine, transport, _claims(engine, lease, limit))


def send_claimed(
    engine: Engine, transport: Transport, claims: Iterable[Claim], *, wait: bool = True
) -> DeliveryReport:
    """Hand claimed rows over, recording for each what happened.

    Without `wait` (the runner, with the rows an email's filing claimed), over SMTP with
    pipelining, the server's last answer to each email is not waited for: it is read and
    recorded as the next email goes, or by the next call, or by `record_owed`, so the
    worker files the next message meanwhile. With `wait`, answers still owed are
    recorded first, so no row is claimed again while its answer is on its way.
    """
    report = DeliveryReport()
    if wait:
        _record_answers(engine, transport, True, report)
    for position, claim in enumerate(claims):
        if position == 0:
            # What these emails tell of (a referral's reference, a decision) was committed
            # before they were queued: put on the disk once, before the first leaves.
            make_durable(engine)
        row = claim.row
        assert row.id is not None
        if claim.in_doubt and transport.delivered(row.header_message_id):
            # The server took it before our sender died: sending it again would give
            # the recipient a second copy.
            log.info("outbox %s was delivered before an interruption; not sent again", row.id)
            record_sent(engine, row.id, confirmed=True)
            report.sent += 1
            continue
        handed = _hand_over(engine, transport, row, later=not wait)
        if not isinstance(handed, _Handed):
            _count(report, row.id, handed)
    _record_answers(engine, transport, wait, report)
    return report


def record_owed(engine: Engine, transport: Transport) -> DeliveryReport:
    """Wait for the answers still owed to emails handed over, and record them."""
    report = DeliveryReport()
    _record_answers(engine, transport, True, report)
    return report


def _record_answers(
    engine: Engine, transport: Transport, wait: bool, report: DeliveryReport
) -> None:
    if not isinstance(transport, Handing):
        return
    for token, failure in transport.answers(wait):
        assert isinstance(token, OutboxMessage) and token.id is not None
        _count(report, token.id, _record(engine, token, failure))


def _count(report: DeliveryReport, row_id: int, failed: OutboxMessage | None) -> None:
    if failed is None:
        report.sent += 1
    elif failed.status == DEAD:
        report.dead += 1
        log.warning("outbox %s is dead after %s attempts", row_id, failed.attempts)
    else:
        report.retrying += 1
        log.info("outbox %s will be retried (attempt %s)", row_id, failed.attempts)


def _claims(engine: Engine, lease: timedelta, limit: int) -> Iterator[Claim]:
    """Due rows, each claimed just before it is sent."""
    for _ in range(limit):
        claim = claim_next(engine, utcnow(), lease)
        if claim is None:
            return
        yield claim


class _Handed(Enum):
    """A row handed over whose answer is still to come (recorded by `_record_answers`)."""

    HANDED = "handed"


_HANDED = _Handed.HANDED


def _hand_over(
    engine: Engine, transport: Transport, row: OutboxMessage, later: bool
) -> OutboxMessage | None | Literal[_Handed.HANDED]:
    """Send one claimed row; None when it was sent, _HANDED when its answer is still to
    come (`later`), else the row as its failure left it."""
    assert row.id is not None
    try:
        message = build_message(row)
    except Exception as exc:  # a header no email can carry: it never will, so it is dead
        return record_failure(engine, row.id, f"cannot be built: {type(exc).__name__}", None)
    try:
        if later and isinstance(transport, Handing):
            transport.hand(message, row)  # its answer is recorded when it comes
            return _HANDED
        transport.send(message)
    except (PermanentFailure, TemporaryFailure) as exc:
        return _record(engine, row, exc)
    except Exception as exc:
        # Anything else is a fault in this one row (or a bug): the row is marked dead with
        # the reason for a person, and the sender goes on, so one email never holds up
        # the acknowledgements and alerts behind it.
        return record_failure(engine, row.id, f"could not be sent: {type(exc).__name__}", None)
    return _record(engine, row, None)


def _record(
    engine: Engine, row: OutboxMessage, failure: SendFailure | None
) -> OutboxMessage | None:
    """Record the server's answer to a row's email; None when it took it."""
    assert row.id is not None
    if failure is None:
        record_sent(engine, row.id)
        return None
    if isinstance(failure, PermanentFailure):
        return record_failure(engine, row.id, f"refused: {failure}", None)
    return record_failure(engine, row.id, str(failure), retry_delay(row.attempts + 1))
