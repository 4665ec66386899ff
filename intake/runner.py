"""The runner: fetch, keep, decide, file, send the reply, then move on the server.

One message's failure never stops the others: an unexpected error quarantines that
message (traceback kept for a person) and the loop carries on.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from intake.pipeline import file as file_stage
from intake.pipeline import new_context
from intake.pipeline.context import Filing, MustWait
from intake.pipeline.isolate import MIB, ReadingStopped, ReadLimits, decide_limited, warm_up
from intake.scan import ClamdScanner, ScannerUnavailable
from intake.settings import Settings
from intake.sources.base import Destination, FetchedMessage, MailSource
from notifications.compose import security_rows
from notifications.routing import load_routing
from notifications.sender import DeliveryReport, deliver_due
from notifications.transport import Transport
from parsers.mime import parse_headers
from storage import messages
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.purge import pending_server_purges
from storage.tables import InboundMessage, MessageState, Outcome, Referral

log = logging.getLogger(__name__)


def stopped_worker(settings: Settings) -> str:
    """The quarantine reason of a message whose reading was cut short too often."""
    return (
        f"reading it was cut short {settings.max_read_starts} times (the worker stopped or "
        "was killed, most likely for memory); not read again until a person asks for it "
        "to be reprocessed"
    )


@dataclass
class RunReport:
    """Counts from one pass, for the summary and the logs (no personal data)."""

    fetched: int = 0
    new: int = 0
    already_stored: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    moved: int = 0
    waiting: int = 0
    errors: int = 0
    reprocessed: int = 0
    purged: int = 0  # copies of purged referrals' emails removed from the mail server
    stopped: bool = False
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def destination_for(session: Session, row: InboundMessage) -> Destination:
    """Which server folder a stored message belongs in.

    A second copy goes where its original went: after a UIDVALIDITY change the copy is the
    only one left on the server, and it belongs with the processed referrals, not in Ignored.
    """
    if row.outcome == Outcome.DUPLICATE and row.duplicate_of is not None:
        original = session.get(InboundMessage, row.duplicate_of)
        if original is not None and original.outcome != Outcome.DUPLICATE:
            return destination_for(session, original)
    if row.state == MessageState.QUARANTINED:
        return Destination.QUARANTINE
    if row.outcome in (Outcome.IGNORED, Outcome.DUPLICATE):
        return Destination.IGNORED
    return Destination.PROCESSED


def _headers(raw: bytes) -> Message:
    """The header block only, under the header limits: cheap, where the whole MIME tree
    is not needed (a 5 MB Subject would take the standard library minutes)."""
    return parse_headers(raw)


def _message_id(raw: bytes) -> str | None:
    try:
        value = _headers(raw).get("Message-ID")
    except Exception:  # a header too broken to read: the message is still kept
        return None
    text = str(value or "").strip()
    return text[:998] or None


def _arrival(fetched: FetchedMessage) -> datetime:
    """When the LSCP became aware: the server's arrival time, else the Date header."""
    if fetched.arrived_at is not None:
        return fetched.arrived_at
    try:
        date = _headers(fetched.raw).get("Date")
        parsed = parsedate_to_datetime(str(date)) if date else None
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        return utcnow()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def filing_for(engine: Engine, settings: Settings) -> Filing:
    """The file stage's view of the settings; the routing file is checked here, at start."""
    return Filing(
        engine=engine,
        mail=settings.mail_config,
        routing=load_routing(settings.routing_file),
        reply_limit_per_day=settings.reply_limit_per_day,
        scanner=ClamdScanner(settings.clamd, settings.clamd_timeout) if settings.clamd else None,
    )


def read_limits(settings: Settings) -> ReadLimits:
    """The time and memory one message may take to read, from the settings."""
    return ReadLimits(settings.read_timeout_seconds, settings.read_memory_mb * MIB)


def process_stored(
    filing: Filing, settings: Settings, row: InboundMessage, raw: bytes | None = None
) -> None:
    """Run the pipeline on a stored, unprocessed message; quarantine it on any error.

    `raw` saves reading back what was just stored; without it the stored bytes are used.
    Each start is counted (committed) first: a message whose reading keeps killing the
    worker itself is quarantined after INTAKE_MAX_READ_STARTS starts (Mailman's
    MAX_BAK_COUNT) instead of running first on
    every pass, as GNU Mailman's runners do.
    """
    assert row.id is not None
    engine = filing.engine
    try:
        if messages.count_attempt(engine, row.id) > settings.max_read_starts:
            log.error("message %s quarantined (stopped the worker)", row.id)
            messages.quarantine(engine, row.id, "", reason=stopped_worker(settings))
            return
        if raw is None:
            with session_scope(engine) as session:
                raw = messages.raw_bytes(session, row.id)
        ctx = new_context(raw, settings, row.received_at, filing.scanner)
        if row.size > len(raw):
            ctx.oversize = row.size  # only the headers were downloaded
        ctx = decide_limited(ctx, read_limits(settings))
        file_stage.run(ctx, filing, row.id)
    except MustWait:
        raise  # not a failure of this message: it stays unprocessed for the next pass
    except ReadingStopped as exc:
        log.error("message %s quarantined (a reading limit)", row.id)
        messages.quarantine(engine, row.id, "", reason=f"{exc}; kept for a person to look at")
    except Exception as exc:
        # The traceback goes to the database for a person, not to the log: exception
        # messages can quote what was in the email.
        log.error("message %s quarantined (%s)", row.id, type(exc).__name__)
        messages.quarantine(engine, row.id, traceback.format_exc())


def handle(
    filing: Filing,
    settings: Settings,
    source: MailSource,
    fetched: FetchedMessage,
    report: RunReport,
    move: bool = True,
    deliver: Callable[[], None] | None = None,
) -> None:
    """Keep, process and (unless `move` is False) move one fetched message.

    `deliver`, if given, is called once the outcome is committed and before the move: the
    acknowledgement does not wait for the mail server's folder work.
    """
    engine = filing.engine
    infected: str | None = None
    notices = []
    if filing.scanner is not None and not messages.is_stored(engine, fetched.identity):
        # Scanned before it is stored, so an infected message is never kept in the clear.
        try:
            verdict = filing.scanner.scan(fetched.raw)
        except ScannerUnavailable as exc:
            raise MustWait(f"virus scanner unavailable: {exc}") from exc
        if not verdict.clean:
            infected = verdict.signature or "unknown"
            notices = security_rows(filing.mail, filing.routing, messages.virus_reason(infected))
    row = messages.receive(
        engine,
        fetched.identity,
        fetched.raw,
        _message_id(fetched.raw),
        _arrival(fetched),
        infected=infected,
        notices=notices,
        size=fetched.oversize,
    )
    assert row.id is not None
    if row.state == MessageState.RECEIVED:
        report.new += 1
        process_stored(filing, settings, row, fetched.raw if infected is None else None)
    else:
        report.already_stored += 1
    if deliver is not None:
        # The outbox rows were committed with the outcome, so they may go before the move:
        # a crash between the two leaves the message to be moved on the next pass, and the
        # outbox lease still lets each row be sent at most once.
        deliver()
    with session_scope(engine) as session:
        current = session.get(InboundMessage, row.id)
        assert current is not None
        destination = destination_for(session, current)
        # References are not personal data: the log may say which referrals a message made.
        refs = session.exec(select(Referral.reference).where(Referral.message_id == row.id)).all()
    if current.state == MessageState.RECEIVED:
        return  # not decided (it had to wait); it stays on the server for the next pass
    outcome = str(current.outcome)
    report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    log.info("message %s: %s %s", current.id, outcome, ", ".join(refs))
    if not move:
        return
    # Only now, with the outcome committed, may the message leave the watched folder.
    folder = source.finish(fetched.identity, destination)
    messages.mark_server_done(engine, row.id, folder)
    report.moved += 1


def remove_purged(engine: Engine, source: MailSource) -> int:
    """Remove from the mail server the copies of emails whose referral was purged; a
    failure leaves them marked, for the next pass."""
    with session_scope(engine) as session:
        pending = [
            (
                m.id,
                ServerIdentity(m.source, m.folder, m.uidvalidity, m.uid),
                m.server_folder,
                m.message_id,
            )
            for m in pending_server_purges(session)
        ]
    done = 0
    for row_id, ident, folder, message_id in pending:
        if ident.source != source.name:
            continue  # another mailbox's worker removes it
        try:
            gone = source.remove(ident, folder or ident.folder, message_id)
        except Exception as exc:
            log.error("could not remove purged message %s (%s)", row_id, type(exc).__name__)
            continue
        if gone and row_id is not None:
            messages.mark_server_purged(engine, row_id)
            done += 1
    return done


def run_once(
    engine: Engine,
    settings: Settings,
    source: MailSource,
    transport: Transport,
    *,
    backfill: bool = False,
    progress: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    keep_transport: bool = False,
) -> RunReport:
    """Process everything waiting, then send what the outbox holds.

    With `backfill`, old mail is stored and parsed but nobody is written to and nothing is
    moved on the server: the referrers were answered long ago, by people. With
    `keep_transport` the SMTP connection stays open for the caller's next pass (the
    daemon closes it itself once the mailbox has been quiet for a while).
    """
    report = RunReport()

    def deliver() -> None:
        report.delivery.add(deliver_due(engine, transport, lease=settings.handover_lease))

    filing = replace(filing_for(engine, settings), notify=not backfill)
    # Readers imported before the first message, not while reading it: a worker stopped
    # during its start-up must not count as a start of reading that message.
    warm_up()
    for fetched in source.fetch():
        if should_stop():
            # Asked to stop: the message in hand stays on the server for the next start.
            report.stopped = True
            break
        report.fetched += 1
        if progress is not None:
            progress()
        try:
            # The reply goes out as soon as the outcome is committed, not after the whole
            # mailbox (nor after the move): a referrer waiting on a large backlog still
            # hears back within seconds.
            handle(
                filing,
                settings,
                source,
                fetched,
                report,
                move=not backfill,
                deliver=None if backfill else deliver,
            )
        except MustWait as exc:
            # Nothing is wrong with the message; it stays in the mailbox until we can decide.
            report.waiting += 1
            log.warning("message uid=%s waits: %s", fetched.identity.uid, exc)
        except Exception as exc:
            # Storing or moving failed (database or server trouble). The message stays
            # where it is on the server and is picked up again on the next pass.
            report.errors += 1
            log.error(
                "could not finish message uid=%s (%s)", fetched.identity.uid, type(exc).__name__
            )
    if not report.stopped and not backfill:
        report.purged = remove_purged(engine, source)
        # Quarantined messages a person reopened (review queue or `intake reprocess`):
        # they left the mailbox long ago, so they are taken from the database.
        for row in messages.reopened(engine):
            process_stored(filing, settings, row)
            report.reprocessed += 1
    try:
        if not report.stopped:
            deliver()
    finally:
        if not keep_transport:
            transport.close()
    return report
