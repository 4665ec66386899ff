"""`intake run`: the long-running worker, with clean stops and reloads by signal.

SIGTERM or SIGINT: the message in hand is finished, the rest stay on the server, and the
process exits 0. SIGHUP: the routing file and templates are read afresh (they are read at
every pass anyway) and the worker looks at the mailbox at once.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime, timedelta
from types import FrameType

from sqlalchemy import Engine

from intake.health import after_pass
from intake.runner import filing_for, run_once
from intake.settings import Settings
from intake.sources.backoff import Backoff
from intake.sources.base import MailSource
from intake.sources.imap_connect import SourceError, SourceRefused
from intake.wiring import make_source, make_transport, open_database
from notifications.sender import deliver_due
from notifications.transport import Transport
from storage.db import Durability

log = logging.getLogger(__name__)

# How long the SMTP connection stays open while the mailbox is quiet: mail comes in bursts,
# and a reply sent on an open connection skips the connect, TLS and sign-in. Well under the
# five minutes RFC 5321 lets a server wait, so the server rarely drops it first (and when
# it does, the transport opens a new one before sending anything).
SMTP_KEEP_OPEN = 30.0


def _send_what_can_be_sent(engine: Engine, transport: Transport, lease: timedelta) -> None:
    """The mailbox failed, but the mail server may work: send the operator's alert now."""
    try:
        deliver_due(engine, transport, lease=lease)
    except Exception as exc:  # the database is down too: nothing more to do this pass
        log.error("could not send queued mail (%s)", type(exc).__name__)
    finally:
        transport.close()


def _token_expiry(source: MailSource) -> datetime | None:
    expiry = getattr(source, "token_expires_at", None)
    return expiry if isinstance(expiry, datetime) else None


class _Interrupt(Exception):
    """Raised by a signal handler to leave a wait (never while a message is in hand)."""


class Worker:
    """Polls (or IDLEs on) one mailbox until told to stop."""

    def __init__(self, settings: Settings, interval: float) -> None:
        self.settings = settings
        self.interval = interval
        self.stop_requested = False
        self._busy = False

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current message", signal.Signals(signum).name)
        self.stop_requested = True
        if not self._busy:
            raise _Interrupt

    def _on_reload(self, _signum: int, _frame: FrameType | None) -> None:
        log.info("SIGHUP: routing and templates will be read afresh")
        if not self._busy:
            raise _Interrupt

    def install_signals(self) -> None:
        """Take over SIGTERM, SIGINT and SIGHUP for this worker."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def run(self) -> None:
        """The loop; returns when a stop was asked for."""
        settings = self.settings
        engine = open_database(settings, Durability.AT_BARRIERS)
        transport = make_transport(settings)
        mail = filing_for(engine, settings).mail
        backoff = Backoff(base=settings.imap_reconnect_delay, cap=settings.imap_reconnect_max_delay)
        source: MailSource | None = None
        try:
            while not self.stop_requested:
                try:
                    if source is None:
                        source = make_source(settings)
                    self._busy = True
                    report = run_once(
                        engine,
                        settings,
                        source,
                        transport,
                        should_stop=lambda: self.stop_requested,
                        keep_transport=True,
                    )
                    after_pass(engine, settings, mail, None, _token_expiry(source))
                    self._busy = False
                    log.info(
                        "pass: fetched=%s new=%s outcomes=%s waiting=%s errors=%s sent=%s",
                        report.fetched,
                        report.new,
                        report.outcomes,
                        report.waiting,
                        report.errors,
                        report.delivery.sent,
                    )
                    backoff.reset()
                    if self.stop_requested:
                        break
                    self._wait(source, transport)
                except _Interrupt:
                    # Left a wait, perhaps mid-IDLE: start the next pass on a fresh connection.
                    if source is not None:
                        source.close()
                    source = None
                    continue
                except Exception as exc:
                    after_pass(engine, settings, mail, exc)
                    _send_what_can_be_sent(engine, transport, settings.handover_lease)
                    self._busy = False
                    delay = backoff.next_delay()
                    if isinstance(exc, SourceRefused):
                        delay = max(delay, self.interval)  # bad login or TLS: no quick retries
                    log.error(
                        "pass failed (%s); next try in %.0f s",
                        type(exc).__name__,
                        delay,
                        exc_info=not isinstance(exc, SourceError),
                    )
                    if source is not None:
                        source.close()
                    source = None
                    try:
                        time.sleep(delay)
                    except _Interrupt:
                        continue
        finally:
            self._busy = True  # no more interrupts while closing
            transport.close()
            if source is not None:
                source.close()
            engine.dispose()
            log.info("worker stopped cleanly")

    def _wait(self, source: MailSource, transport: Transport) -> None:
        wait = getattr(source, "wait_for_mail", None)
        if wait is None:
            transport.close()
            time.sleep(self.interval)
            return
        # The first part of the wait keeps the SMTP connection for a burst of mail; once
        # the mailbox has been quiet that long it is closed and the wait goes on.
        keep = min(SMTP_KEEP_OPEN, self.interval)
        # While a burst lasts the server is also asked directly (IMAP_IDLE_RECHECK): its
        # IDLE notice may come late. A quiet mailbox is left to the notices alone.
        if wait(keep, recheck=self.settings.imap_idle_recheck):
            return
        transport.close()
        if self.interval > keep:
            wait(self.interval - keep)
