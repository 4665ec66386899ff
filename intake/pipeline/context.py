"""What the stages of the pipeline pass along for one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from intake.scan import ClamdScanner
from notifications.compose import MailConfig
from notifications.routing import Routing
from parsers.authresults import SenderCheck, sender_check
from parsers.bounce import Bounce
from parsers.mime import Candidate, reply_address
from parsers.thread import ThreadClues, body_text, thread_clues

if TYPE_CHECKING:  # only a type here; the read stage imports the readers when it runs
    from parsers.documents import DocumentResult


def human_size(size: int) -> str:
    """'40 MB', '512 KB': sizes as a sender would say them."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(size // 1024, 1)} KB"


class MustWait(Exception):
    """The message cannot be decided now (e.g. no virus scanner); leave it for a later pass."""


@dataclass
class ReadDocument:
    """A candidate file and what reading it gave."""

    candidate: Candidate
    result: DocumentResult
    # A form read from several images (photos of its pages): the candidates' positions in
    # the reader's file order (a ScanPage's `file`); empty means this file alone.
    files: tuple[int, ...] = ()

    @property
    def scanned(self) -> bool:
        """True for a form read from pixels (a scan or photo): an officer checks it."""
        form = self.result.form
        return form is not None and form.source == "scan"


@dataclass
class MessageContext:
    """One message on its way through the stages; a stage ends it by setting `outcome`."""

    raw: bytes
    message: EmailMessage
    received_at: datetime
    max_message_bytes: int
    our_message_id_domain: str
    trusted_auth_server: str = ""
    max_attachments: int = 30
    max_attachment_bytes: int = 20 * 1024 * 1024
    scanner: ClamdScanner | None = None
    oversize: int | None = None  # real size when only the headers were downloaded
    infected: bool = False
    bounce: Bounce | None = None  # a delivery report: which message of ours it is about
    secure: str | None = None  # a secure-email notice: which service holds the message
    outcome: str | None = None
    reason: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    documents: list[ReadDocument] = field(default_factory=list)

    def end(self, outcome: str, reason: str) -> None:
        """Stop the pipeline here with this outcome."""
        self.outcome = outcome
        self.reason = reason

    @cached_property
    def clues(self) -> ThreadClues:
        """What ties this email to an earlier one (Message-IDs answered, references, sender)."""
        return thread_clues(self.message)

    @cached_property
    def sender_check(self) -> SenderCheck:
        """The receiving server's verdict on the sender (Authentication-Results)."""
        return sender_check(self.message, self.trusted_auth_server)

    @cached_property
    def reply_to(self) -> str | None:
        """Where a reply goes (the sender; see `parsers.mime.reply_address`)."""
        return reply_address(self.message)

    @cached_property
    def has_text(self) -> bool:
        """Whether the email has words of its own (a reply that only carries files has none)."""
        return bool(body_text(self.message, 200))

    @property
    def ended(self) -> bool:
        """True once a stage has decided the outcome."""
        return self.outcome is not None


@dataclass(frozen=True)
class Filing:
    """What the file stage needs besides the message: the database and who to tell."""

    engine: Engine
    mail: MailConfig
    routing: Routing
    reply_limit_per_day: int = 5
    scanner: ClamdScanner | None = None
    notify: bool = True  # False for a backfill of old mail: store, tell nobody
    # True when the caller sends what filing queues as soon as it is committed (the
    # runner): the rows are then claimed for that hand-over in the same commit.
    send_at_once: bool = False
