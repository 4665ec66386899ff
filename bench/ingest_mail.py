"""The bench's emails and what it counts of them: sample copies, APPEND, the SMTP handler."""

from __future__ import annotations

import json
import re
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, func
from sqlmodel import Session as DbSession
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the `servers` package: real Dovecot and SMTP helpers
sys.path.insert(0, str(ROOT))

from servers.dovecot import DovecotServer  # noqa: E402
from servers.smtp import CapturingHandler  # noqa: E402
from storage.tables import InboundMessage, OutboxMessage  # noqa: E402

SAMPLES = ROOT / "samples" / "maildir" / "new"

_HEADER_END = re.compile(rb"\r?\n\r?\n")
MESSAGE_ID_FIELD = re.compile(
    rb"^Message-ID:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE
)
_FROM = re.compile(rb"^From:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)
_ADDRESS_LOCAL = re.compile(rb"([A-Za-z0-9._%'-]+)@")


# -- mail -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One sample email: its file name (e.g. ``0004.needs-info``) and LF-normalised bytes."""

    name: str
    raw: bytes


def load_samples() -> list[Sample]:
    """The sample emails in file-name order (4 referrals, 1 needs-info, 1 auto-reply)."""
    samples = [
        Sample(path.name, path.read_bytes().replace(b"\r\n", b"\n"))
        for path in sorted(SAMPLES.iterdir())
        if path.is_file()
    ]
    if not samples:
        raise SystemExit(f"no sample emails in {SAMPLES}")
    return samples


def make_copy(sample: Sample, copy: int, run_tag: str, tag_sender: bool) -> tuple[bytes, str]:
    """A distinct copy of `sample`: (CRLF bytes, its new Message-ID).

    Only the top-level header is edited (a forwarded message inside keeps its own): a new
    Message-ID, an ``X-Bench-Copy`` header and, if `tag_sender`, ``+b<copy>`` on the
    sender's address so that copies do not all count against one sender's reply limit.
    """
    split = _HEADER_END.search(sample.raw)
    if split is None:
        raise ValueError(f"{sample.name}: no end of header")
    header, body = sample.raw[: split.start()] + b"\n", sample.raw[split.start() :]
    message_id = f"<bench-{run_tag}-{copy:06d}.{sample.name}@bench.invalid>"
    new_id_line = f"Message-ID: {message_id}\n".encode()
    header, replaced = MESSAGE_ID_FIELD.subn(lambda _m: new_id_line, header, count=1)
    if not replaced:
        header += new_id_line
    if tag_sender:
        header = _FROM.sub(
            lambda m: _ADDRESS_LOCAL.sub(rb"\1+b%d@" % copy, m.group(0), count=1), header, count=1
        )
    header = f"X-Bench-Copy: {copy}\n".encode() + header
    raw = header.rstrip(b"\n") + body
    return raw.replace(b"\n", b"\r\n"), message_id


def append_all(dovecot: DovecotServer, n: int, tag_sender: bool) -> tuple[dict[str, float], float]:
    """APPEND `n` copies over one connection; return {Message-ID: arrival time} and seconds.

    Copies are built one at a time and not kept, so they do not swell the peak RSS.
    Arrival is taken when the server has confirmed the APPEND (time.perf_counter()).
    """
    samples = load_samples()
    run_tag = uuid.uuid4().hex[:8]
    arrivals: dict[str, float] = {}
    started = time.perf_counter()
    with dovecot.client() as client:
        for copy in range(n):
            raw, message_id = make_copy(samples[copy % len(samples)], copy, run_tag, tag_sender)
            client.append("INBOX", raw)
            arrivals[message_id] = time.perf_counter()
    return arrivals, time.perf_counter() - started


def expected_outcomes(n: int) -> Counter[str]:
    """How many of each outcome `n` round-robin copies should give (from EXPECTED.json)."""
    expected = json.loads((SAMPLES.parent / "EXPECTED.json").read_text(encoding="utf-8"))
    samples = load_samples()
    counts: Counter[str] = Counter()
    for copy in range(n):
        counts[expected[samples[copy % len(samples)].name]["outcome"]] += 1
    return counts


def inbox_count(dovecot: DovecotServer) -> int:
    """Messages left in the INBOX (own connection, read-only)."""
    with dovecot.client() as client:
        return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])


# -- SMTP -----------------------------------------------------------------------------------


class TimingHandler(CapturingHandler):
    """The tests' capturing handler, but it keeps only when each reply arrived.

    It records the time DATA was received for each ``In-Reply-To`` and counts deliveries;
    message bodies are not kept, so the peak RSS is the worker's, not the capture's.
    """

    def __init__(self) -> None:
        super().__init__()
        self.acked: dict[str, float] = {}
        self.delivered = 0
        self.first_at: float | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Timestamp the delivery and note which message it answers."""
        if self.data_reply is not None:
            return self.data_reply
        at = time.perf_counter()
        headers = BytesHeaderParser(policy=compat32).parsebytes(envelope.original_content or b"")
        answers = str(headers.get("In-Reply-To") or "").strip()
        with self._lock:
            self.delivered += 1
            if self.first_at is None:
                self.first_at = at
            if answers:
                self.acked.setdefault(answers, at)
        return "250 OK"


# -- counting -------------------------------------------------------------------------------


def outbox_total(engine: Engine) -> int:
    """Outbox rows written so far (each is a message that should reach the SMTP server)."""
    with DbSession(engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage)).one())


def stored_outcomes(engine: Engine) -> Counter[str]:
    """Stored messages by outcome."""
    with DbSession(engine) as session:
        rows = session.exec(
            select(InboundMessage.outcome, func.count()).group_by(col(InboundMessage.outcome))
        ).all()
    return Counter({str(outcome): int(count) for outcome, count in rows})


def percentile(values: list[float], pct: int) -> float:
    """The `pct`-th percentile (inclusive method); NaN when there is nothing to measure."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"
