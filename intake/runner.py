"""The runner: fetch, keep, decide, file, send the reply, then move on the server.

One message's failure never stops the others: an unexpected error quarantines that
message (traceback kept for a person) and the loop carries on. The steps of one message
are in `intake.handling`; here they are overlapped, two messages at a time: the reader
process reads a message while the worker files and answers the one before it. Settled
messages are moved on the server in batches (one MOVE per destination folder).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from sqlalchemy import Engine

from intake.handling import (
    InHand,
    Move,
    RunReport,
    begin,
    collect,
    filing_for,
    move_all,
    process_stored,
    settle,
    take,
)
from intake.pipeline.context import MustWait
from intake.pipeline.isolate import warm_up
from intake.settings import Settings
from intake.sources.base import FetchedMessage, MailSource
from notifications.sender import deliver_due, record_owed, send_claimed
from notifications.transport import Transport
from storage import messages
from storage.db import make_durable, session_scope
from storage.messages import ServerIdentity
from storage.outbox import Claim
from storage.purge import pending_server_purges
from storage.tables import OutboxMessage

__all__ = ["RunReport", "filing_for", "process_stored", "remove_purged", "run_once"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MOVE_BATCH = 50  # settled messages moved on the server together (one MOVE per folder)


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
    if pending:
        make_durable(engine)  # the purge is on the disk before the server's copy goes
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

    def deliver(claimed: Sequence[OutboxMessage] | None = None) -> None:
        """Send the rows a message's filing queued and claimed, or else all that is due."""
        if claimed is None:
            report.delivery.add(deliver_due(engine, transport, lease=settings.handover_lease))
        elif claimed:
            # Not waiting for the mail server's last answer: it is read (and recorded) as
            # the next email goes, while this worker has filed the next message.
            claims = (Claim(row, False) for row in claimed)
            report.delivery.add(send_claimed(engine, transport, claims, wait=False))

    filing = replace(filing_for(engine, settings), notify=not backfill, send_at_once=not backfill)

    def step(
        fetched: FetchedMessage, action: Callable[..., T], *args: object
    ) -> tuple[bool, T | None]:
        """One step of one message: (done, its result). Its trouble is counted and logged,
        never raised: one message's failure never stops the others."""
        try:
            return True, action(*args)
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
        return False, None

    moves: list[Move] = []  # settled, not yet moved on the server

    def move_settled() -> None:
        # A failure leaves them on the server, where the next pass finds them stored and
        # settled, and moves them then.
        if moves and not backfill:
            try:
                move_all(engine, source, moves, report)
            except Exception as exc:
                report.errors += len(moves)
                log.error("could not move %s message(s) (%s)", len(moves), type(exc).__name__)
        moves.clear()

    def settle_one(hand: InHand) -> None:
        # The reply goes out as soon as the outcome is committed, not after the whole
        # mailbox (nor after the move): a referrer waiting on a large backlog still
        # hears back within seconds.
        _done, move = step(hand.fetched, settle, filing, hand, report, reply)
        if move is not None:
            moves.append(move)
        if len(moves) >= MOVE_BATCH:
            move_settled()
            if reply is not None:
                reply()  # and whatever else is due (retries, officers' emails) now and then

    reply = None if backfill else deliver
    # Readers imported before the first message, not while reading it: a worker stopped
    # during its start-up must not count as a start of reading that message.
    warm_up()
    before: InHand | None = None  # handed to the reader, not yet settled
    for fetched in source.fetch():
        if should_stop():
            # Asked to stop: the message in hand stays on the server for the next start.
            report.stopped = True
            break
        report.fetched += 1
        if progress is not None:
            progress()
        _kept, hand = step(fetched, take, filing, fetched, report)
        # What the reader decided for the message before is collected next (it read
        # while this one was kept): the reader then reads this one while that one is
        # filed and answered.
        ready = before is not None and step(before.fetched, collect, filing, before)[0]
        if hand is not None:
            step(fetched, begin, filing, settings, hand)
        if before is not None and ready:
            settle_one(before)
        before = hand
    if before is not None and step(before.fetched, collect, filing, before)[0]:
        settle_one(before)
    move_settled()
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
        report.delivery.add(record_owed(engine, transport))  # every answer read, recorded
        if not keep_transport:
            transport.close()
        make_durable(engine)  # a pass leaves everything it stored on the disk
    return report
