"""Reading one message in a reader process, under a time and a memory limit.

A hostile email (a PDF that draws millions of lines, a document that unpacks to
gigabytes) must never stop the service. The deciding stages run in a reader process
(`reader.Reader`) forked from the worker, with an address-space limit for each reading;
the worker waits at most the time limit, kills the reader on breach and reports the
reason, so the message is quarantined and the next one goes on (with a fresh reader).
The reader is forked after the worker has warmed up its readers by deciding an email with
the blank forms attached, and it reads message after message.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from importlib import import_module
from pathlib import Path

from intake.pipeline import DECIDE, decide, parse_for_reading
from intake.pipeline.context import MessageContext, MustWait
from intake.pipeline.reader import MIB, Reader, ReaderGone, ReaderLate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadLimits:
    """How long, and with how much more memory, one message may be read."""

    seconds: float = 30.0
    memory_bytes: int = 512 * MIB
    isolate: bool = True  # False: read in this process (no limits), for tools and tests


class ReadingStopped(Exception):
    """Reading the message broke a limit; the message is quarantined with this reason."""


# The blank form as shipped (Word and PDF): read once in the worker to warm the readers.
BLANK_FORMS = Path(__file__).resolve().parents[2] / "samples" / "blank"


@cache
def warm_up() -> None:
    """Import the stages and readers, load the form definitions and read an email with
    the blank forms attached through the stages once, in the worker: each reader then
    starts with them (fork shares the memory), instead of paying for the imports, the
    definitions, cold label caches and first-use set-up again (a form read cold takes
    about three times as long as one read warm)."""
    for name in DECIDE:
        import_module(f"intake.pipeline.{name}")
    from parsers.formdef import available_forms, load_form

    for form_id in available_forms():
        load_form(form_id)
    _rehearse()


def _rehearse() -> MessageContext | None:
    """Decide an email carrying the blank forms (Word and PDF), here, without limits: the
    email parsing, stages and readers do their first-use work once, not in every child."""
    from parsers.mime import parse_message

    raw = _rehearsal_email()
    ctx = MessageContext(
        raw=raw,
        message=parse_message(raw),
        received_at=datetime.now(UTC),
        max_message_bytes=len(raw) + 1,
        our_message_id_domain="warm-up.invalid",
    )
    try:
        return decide(ctx)
    except Exception as exc:  # noqa: BLE001 - only slower reading follows; never a stop
        log.warning("warm-up email could not be read (%s)", type(exc).__name__)
        return None


@cache
def _rehearsal_email() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Warm Up <warm-up@sender.invalid>"
    mail["To"] = "referrals@warm-up.invalid"
    mail["Subject"] = "SIRG referral"
    mail["Message-ID"] = "<rehearsal@sender.invalid>"
    mail.set_content("Please find the referral form attached.\n")
    for blank in sorted(BLANK_FORMS.glob("*")) if BLANK_FORMS.is_dir() else []:
        if blank.suffix.lower() in (".docx", ".pdf"):
            mail.add_attachment(
                blank.read_bytes(), "application", "octet-stream", filename=blank.name
            )
    return mail.as_bytes()


def decide_limited(ctx: MessageContext, limits: ReadLimits) -> MessageContext:
    """Run the deciding stages on `ctx` under `limits`; the decided context comes back."""
    return start_reading(ctx, limits).result()


@dataclass
class Reading:
    """A message handed to the reader; `result()` waits for what the stages decided."""

    ctx: MessageContext
    limits: ReadLimits
    reader: Reader | None = None  # None: read in this process, by `result()`
    deadline: float = 0.0  # time.monotonic() by which the reader must have answered

    def result(self) -> MessageContext:
        """The decided context; raises MustWait, ReadingStopped, or RuntimeError on a
        stage's error (its traceback in the message)."""
        if self.reader is None:
            return decide(self.ctx)
        with _LOCK:
            if not (_IN_FLIGHT and _IN_FLIGHT[0] is self):
                # Abandoned: a later message was handed over first and stopped its reader.
                raise ReadingStopped("reading the email was stopped before it ended")
            _IN_FLIGHT.clear()
            payload = _answer(self.reader, self.limits, self.deadline)
        return _decided(payload, self.ctx, self.limits)


def start_reading(ctx: MessageContext, limits: ReadLimits) -> Reading:
    """Hand `ctx` to the reader, which reads it while the worker goes on with other work
    (filing the message before it); `Reading.result()` then waits for the outcome."""
    if not limits.isolate:
        return Reading(ctx, limits)
    warm_up()
    with _LOCK:
        if _IN_FLIGHT:
            # A reading nobody came back for (the worker's step after it failed): its
            # reader is stopped, and this message gets a fresh one.
            log.warning("a reading was left unfinished; its reader is stopped")
            _abandon()
        reader = _reader_for(limits)
        deadline = time.monotonic() + limits.seconds
        try:
            reader.send(ctx)
        except ReaderGone as exc:
            _READER.clear()
            raise ReadingStopped(f"reading the email {exc.reason}") from None
        reading = Reading(ctx, limits, reader, deadline)
        _IN_FLIGHT.append(reading)
    return reading


def _decided(payload: bytes, ctx: MessageContext, limits: ReadLimits) -> MessageContext:
    kind, value = pickle.loads(payload)  # noqa: S301 - our own reader's bytes, via a pipe
    if kind == "ok":
        decided: MessageContext = value
        decided.scanner = ctx.scanner
        decided.raw, decided.message = ctx.raw, ctx.message
        return decided
    if kind == "wait":
        raise MustWait(value)
    if kind == "memory":
        mib = limits.memory_bytes // MIB
        raise ReadingStopped(f"reading the email needed more than {mib} MB of memory")
    if kind == "depth":
        raise ReadingStopped("the email is nested too deeply to read")
    raise RuntimeError(f"reading failed in the reader process:\n{value}")


_LOCK = threading.Lock()  # one message at a time in the reader
_READER: list[Reader] = []  # the reader in use (none before the first message)
_IN_FLIGHT: list[Reading] = []  # the reading handed to it and not yet collected
_RETIRED: list[Reader] = []  # readers let go, collected once they have exited


def _reader_for(limits: ReadLimits) -> Reader:
    """The reader in use, or a fresh one forked when it cannot serve these limits."""
    _RETIRED[:] = [r for r in _RETIRED if not r.reaped()]
    if _READER and not (_READER[0].usable() and _READER[0].memory_bytes == limits.memory_bytes):
        _retire()
    if not _READER:
        _READER.append(Reader(limits.memory_bytes, _read))
    return _READER[0]


def _answer(reader: Reader, limits: ReadLimits, deadline: float) -> bytes:
    """The reader's pickled answer; a reader that is late or gone is replaced."""
    try:
        answer = reader.answer(deadline)
    except ReaderLate:
        _forget(reader)
        raise ReadingStopped(
            f"reading the email took longer than {limits.seconds:g} seconds"
        ) from None
    except ReaderGone as exc:
        _forget(reader)
        raise ReadingStopped(f"reading the email {exc.reason}") from None
    if answer.retired and _READER and _READER[0] is reader:
        _retire()
    return answer.payload


def _forget(reader: Reader) -> None:
    if _READER and _READER[0] is reader:
        _READER.clear()


def retire_reader() -> None:
    """Let the reader go: the next message is read by a fresh one, forked from the worker
    as it is then (tests that change a stage in the worker use this)."""
    with _LOCK:
        if _IN_FLIGHT:
            _abandon()
        if _READER:
            _retire()


def _abandon() -> None:
    """Stop the reader of a reading nobody will come back for."""
    reader = _IN_FLIGHT.pop().reader
    if reader is not None:
        reader.kill()
    _READER.clear()


def _retire() -> None:
    reader = _READER.pop()
    reader.close()
    _RETIRED.append(reader)


@atexit.register
def _shut_down() -> None:
    """As the worker exits: let its readers go and collect them, so none is left behind
    and their use of the machine counts in the worker's (wait4, /usr/bin/time)."""
    if _READER:
        _retire()
    deadline = time.monotonic() + 5.0
    for reader in _RETIRED:
        if reader.owner != os.getpid():
            continue  # a process forked from the worker: not its readers to collect
        while not reader.reaped():
            if time.monotonic() > deadline:
                reader.kill()
                break
            time.sleep(0.01)
    _RETIRED.clear()


# What filing needs from the parsed email, worked out in the reader and sent back with
# the decision: the worker keeps only the email's header fields.
FROM_THE_EMAIL = ("clues", "sender_check", "reply_to", "has_text")


def _read(ctx: MessageContext) -> MessageContext:
    """In the reader: parse the email again (it is not sent over) and decide it."""
    ctx.message = parse_for_reading(ctx.raw, ctx.max_message_bytes)
    for name in FROM_THE_EMAIL:
        ctx.__dict__.pop(name, None)  # never a value worked out from the header fields
    decided = decide(ctx)
    for name in FROM_THE_EMAIL:
        getattr(decided, name)
    return decided
