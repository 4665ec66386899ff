"""One message's steps in the runner: take it (keep it), begin its reading, collect what
was decided, and settle it (file, send the reply, move it on the server).

The steps are apart so that the runner can overlap them: the reader process reads one
message while the worker files, answers and moves the message before it. Each step of
a message fails on its own: an error quarantines that message (traceback kept for a
person) and the others go on.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from intake.pipeline import file as file_stage
from intake.pipeline import new_context
from intake.pipeline.context import Filing, MessageContext, MustWait
from intake.pipeline.isolate import MIB, Reading, ReadingStopped, ReadLimits, start_reading
from intake.scan import ClamdScanner, ScannerUnavailable
from intake.settings import Settings
from intake.sources.base import Destination, FetchedMessage, MailSource
from notifications.compose import security_rows
from notifications.routing import load_routing
from notifications.sender import DeliveryReport
from parsers.mime import parse_headers
from storage import messages
from storage.clock import utcnow
from storage.db import make_durable, session_scope
from storage.messages import ServerIdentity
from storage.tables import InboundMessage, MessageState, OutboxMessage, Outcome, Referral

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
    return _destination(MessageState(row.state), Outcome(row.outcome) if row.outcome else None)


def _destination(state: MessageState, outcome: Outcome | None) -> Destination:
    if state == MessageState.QUARANTINED:
        return Destination.QUARANTINE
    if outcome in (Outcome.IGNORED, Outcome.DUPLICATE):
        return Destination.IGNORED
    return Destination.PROCESSED


def _message_id(headers: EmailMessage | None) -> str | None:
    try:
        text = str(headers.get("Message-ID") or "").strip() if headers is not None else ""
    except Exception:  # a header too broken to read: the message is still kept
        return None
    return text[:998] or None


def _headers(raw: bytes) -> EmailMessage | None:
    """The header block only, under the header limits: cheap, where the whole MIME tree
    is not needed (a 5 MB Subject would take the standard library minutes). None when a
    header is too broken to read: the message is still kept."""
    try:
        return parse_headers(raw)
    except Exception:
        return None


def _arrival(fetched: FetchedMessage, headers: EmailMessage | None) -> datetime:
    """When the LSCP became aware: the server's arrival time, else the Date header."""
    if fetched.arrived_at is not None:
        return fetched.arrived_at
    try:
        date = headers.get("Date") if headers is not None else None
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
    MAX_BAK_COUNT) instead of running first on every pass, as GNU Mailman's runners do.
    """
    assert row.id is not None
    filing = replace(filing, send_at_once=False)  # what it queues goes with the next pass
    reading = _start(filing, settings, row, raw)
    if reading is not None:
        _file(filing, row.id, _collect(filing, row.id, reading))


def _start(
    filing: Filing,
    settings: Settings,
    row: InboundMessage,
    raw: bytes | None,
    headers: EmailMessage | None = None,
) -> Reading | None:
    """Count the start (committed just before the reader starts: never while it is
    still on the message before) and hand the message to the reader; None when it was
    quarantined. `headers`: its header fields, if they were read when it was kept."""
    assert row.id is not None
    engine = filing.engine
    try:
        if messages.count_attempt(engine, row.id) > settings.max_read_starts:
            log.error("message %s quarantined (stopped the worker)", row.id)
            messages.quarantine(engine, row.id, "", reason=stopped_worker(settings))
            return None
        if raw is None:
            with session_scope(engine) as session:
                raw = messages.raw_bytes(session, row.id)
        limits = read_limits(settings)
        ctx = new_context(
            raw,
            settings,
            row.received_at,
            filing.scanner,
            headers_only=limits.isolate,
            headers=headers,
        )
        if row.size > len(raw):
            ctx.oversize = row.size  # only the headers were downloaded
        return start_reading(ctx, limits)
    except MustWait:
        raise  # not a failure of this message: it stays unprocessed for the next pass
    except Exception as exc:
        _quarantine(engine, row.id, exc)
        return None


def _collect(filing: Filing, row_id: int, reading: Reading) -> MessageContext | None:
    """What the reader decided; None when the message was quarantined instead."""
    try:
        return reading.result()
    except MustWait:
        raise
    except Exception as exc:
        _quarantine(filing.engine, row_id, exc)
        return None


def _file(filing: Filing, row_id: int, decided: MessageContext | None) -> file_stage.Filed | None:
    """Store what was decided (the file stage's one commit); quarantine on an error."""
    if decided is None:
        return None
    try:
        return file_stage.run(decided, filing, row_id)
    except MustWait:
        raise
    except Exception as exc:
        _quarantine(filing.engine, row_id, exc)
        return None


def _quarantine(engine: Engine, row_id: int, exc: Exception) -> None:
    if isinstance(exc, ReadingStopped):
        log.error("message %s quarantined (a reading limit)", row_id)
        messages.quarantine(engine, row_id, "", reason=f"{exc}; kept for a person to look at")
        return
    # The traceback goes to the database for a person, not to the log: exception
    # messages can quote what was in the email.
    log.error("message %s quarantined (%s)", row_id, type(exc).__name__)
    messages.quarantine(engine, row_id, traceback.format_exc())


@dataclass
class InHand:
    """A fetched message on its way: kept, perhaps being read, then settled."""

    fetched: FetchedMessage
    row: InboundMessage
    raw: bytes | None  # the bytes to read (None: read back what was stored, defanged)
    headers: EmailMessage | None = None  # its header fields, read when it was taken
    reading: Reading | None = None
    decided: MessageContext | None = None


def take(filing: Filing, fetched: FetchedMessage, report: RunReport) -> InHand:
    """Keep a fetched message (scanned first when a virus scanner is set) and commit."""
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
    headers = _headers(fetched.raw)
    row = messages.receive(
        engine,
        fetched.identity,
        fetched.raw,
        _message_id(headers),
        _arrival(fetched, headers),
        infected=infected,
        notices=notices,
        size=fetched.oversize,
    )
    assert row.id is not None
    if row.state == MessageState.RECEIVED:
        report.new += 1
    else:
        report.already_stored += 1
    return InHand(fetched, row, fetched.raw if infected is None else None, headers)


def begin(filing: Filing, settings: Settings, hand: InHand) -> None:
    """Hand a kept, undecided message to the reader (it reads while the worker goes on)."""
    if hand.row.state == MessageState.RECEIVED:
        hand.reading = _start(filing, settings, hand.row, hand.raw, hand.headers)


def collect(filing: Filing, hand: InHand) -> None:
    """Wait for what the reader decided (raises MustWait when the message must wait)."""
    if hand.reading is not None:
        reading, hand.reading = hand.reading, None
        assert hand.row.id is not None
        hand.decided = _collect(filing, hand.row.id, reading)


def settle(
    filing: Filing,
    hand: InHand,
    report: RunReport,
    deliver: Callable[[Sequence[OutboxMessage] | None], None] | None = None,
) -> Move | None:
    """File what was decided and send the reply; the move it now needs on the server, or
    None when it stays there (it had to wait).

    `deliver`, if given, is called once the outcome is committed, with the emails filing
    queued and claimed (None: filing failed; send whatever is due): the acknowledgement
    does not wait for the mail server's folder work.
    """
    row_id = hand.row.id
    assert row_id is not None
    decided, hand.decided = hand.decided, None
    filed = _file(filing, row_id, decided)
    if deliver is not None:
        # The outbox rows were committed with the outcome, so they may go before the move:
        # a crash between the two leaves the message to be moved on the next pass, and the
        # outbox lease still lets each row be sent at most once.
        deliver(filed.outbox if filed is not None else None)
    if filed is not None:
        outcome: Outcome | None = filed.outcome
        state, refs = filed.state, filed.references
        destination = _destination(state, outcome)
    else:  # taken as it was stored, quarantined instead of filed, or left to wait
        with session_scope(filing.engine) as session:
            current = session.get(InboundMessage, row_id)
            assert current is not None
            destination = destination_for(session, current)
            state = MessageState(current.state)
            outcome = Outcome(current.outcome) if current.outcome else None
            query = select(Referral.reference).where(Referral.message_id == row_id)
            refs = tuple(session.exec(query).all())
    if state == MessageState.RECEIVED:
        return None  # not decided (it had to wait); it stays on the server for the next pass
    report.outcomes[str(outcome)] = report.outcomes.get(str(outcome), 0) + 1
    # References are not personal data: the log may say which referrals a message made.
    log.info("message %s: %s %s", row_id, outcome, ", ".join(refs))
    return Move(row_id, hand.fetched.identity, destination)


@dataclass(frozen=True)
class Move:
    """A settled message's move on the server, to its destination folder."""

    row_id: int
    identity: ServerIdentity
    destination: Destination


def move_all(engine: Engine, source: MailSource, moves: Sequence[Move], report: RunReport) -> None:
    """Move settled messages (one round trip per destination) and record it in one commit.
    Only now, with their outcomes committed and on the disk, may they leave the watched
    folder."""
    make_durable(engine)
    folders = source.finish_all([(m.identity, m.destination) for m in moves])
    done = [(m.row_id, folder) for m, folder in zip(moves, folders, strict=True)]
    messages.mark_all_server_done(engine, done)
    report.moved += len(moves)
