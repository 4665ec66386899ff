"""The outbox worker: due rows to the transport; sent, retried later, or dead."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Engine

from notifications.transport import PermanentFailure, TemporaryFailure, Transport
from storage.clock import utcnow
from storage.outbox import HANDOVER_LEASE, claim_next, record_failure, record_sent
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


def build_message(row: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, with the headers that stop mail loops."""
    message = EmailMessage()
    message["From"] = row.mail_from
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    # Stored before the first attempt, so a resend after a crash carries the same ID.
    message["Message-ID"] = row.header_message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
        message["References"] = row.in_reply_to
    message["Auto-Submitted"] = row.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
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
    report = DeliveryReport()
    for _ in range(limit):
        claim = claim_next(engine, utcnow(), lease)
        if claim is None:
            break
        row = claim.row
        assert row.id is not None
        if claim.in_doubt and transport.delivered(row.header_message_id):
            # The server took it before our sender died: sending it again would give
            # the recipient a second copy.
            log.info("outbox %s was delivered before an interruption; not sent again", row.id)
            row = record_sent(engine, row.id, confirmed=True)
        else:
            row = _hand_over(engine, transport, row)
        if row.status == "sent":
            report.sent += 1
        elif row.status == "dead":
            report.dead += 1
            log.warning("outbox %s is dead after %s attempts", row.id, row.attempts)
        else:
            report.retrying += 1
            log.info("outbox %s will be retried (attempt %s)", row.id, row.attempts)
    return report


def _hand_over(engine: Engine, transport: Transport, row: OutboxMessage) -> OutboxMessage:
    assert row.id is not None
    try:
        message = build_message(row)
    except Exception as exc:  # a header no email can carry: it never will, so it is dead
        return record_failure(engine, row.id, f"cannot be built: {type(exc).__name__}", None)
    try:
        transport.send(message)
    except PermanentFailure as exc:
        return record_failure(engine, row.id, f"refused: {exc}", None)
    except TemporaryFailure as exc:
        return record_failure(engine, row.id, str(exc), retry_delay(row.attempts + 1))
    except Exception as exc:
        # Anything else is a fault in this one row (or a bug): the row is marked dead with
        # the reason for a person, and the sender goes on, so one email never holds up
        # the acknowledgements and alerts behind it.
        return record_failure(engine, row.id, f"could not be sent: {type(exc).__name__}", None)
    return record_sent(engine, row.id)
