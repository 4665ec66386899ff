"""SQLModel tables. Only column definitions live here; behaviour lives in the repositories.

Every change to these tables needs an Alembic migration in `storage/migrations/versions/`;
`tests/storage/test_migrations.py` fails when the models and the migrations disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from storage.crypto import SealedJSON


class MessageState(StrEnum):
    """Where a stored message is on its way through the house."""

    RECEIVED = "received"  # raw bytes stored and committed, not yet processed
    PROCESSED = "processed"  # outcome stored (referral, needs_info, rejected, ignored ...)
    QUARANTINED = "quarantined"  # processing failed; waits for a person
    DISMISSED = "dismissed"  # a person found it is not a referral (see MessageDismissal)


class Outcome(StrEnum):
    """The outcome of one message, as the sender and the LSCP team see it."""

    REFERRAL = "referral"
    NEEDS_INFO = "needs_info"
    REJECTED = "rejected"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    FOLLOW_UP = "follow_up"  # joined a referral's conversation (no new referral)


class LinkHow(StrEnum):
    """Why an email belongs to a referral's conversation."""

    FIRST = "first"  # the referral was made from it
    REPLY = "reply"  # its In-Reply-To/References name a message of the referral
    SUBJECT = "subject"  # the reference in its subject, from someone already on the thread
    BY_HAND = "by_hand"  # an officer linked it
    MERGED = "merged"  # it was in a referral an officer merged into this one


class LinkEffect(StrEnum):
    """What an email did to the referral it joined."""

    CREATED = "created"  # the referral was made from it
    VERSION = "version"  # a filled form for the same child: a new version of the record
    SIBLING = "sibling"  # a form for another child: a new referral, linked to this one
    FOLLOW_UP = "follow_up"  # other documents or text, added to the timeline
    AUTOMATIC = "automatic"  # an auto-reply or bounce about the referral, never answered
    MERGED = "merged"  # brought over from a duplicate referral merged into this one


class InboundMessage(SQLModel, table=True):
    """One email as it arrived, with the server identity it came from."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("source", "folder", "uidvalidity", "uid", name="uq_message_server"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=300, description="e.g. imap://user@host or maildir:/path")
    folder: str = Field(max_length=300)
    uidvalidity: int = Field(default=0, sa_type=BigInteger, description="0 for Maildir")
    uid: str = Field(max_length=300, description="IMAP UID or Maildir key")
    sha256: str = Field(max_length=64, index=True)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    size: int
    received_at: datetime = Field(description="When the LSCP became aware: arrival time (UTC)")
    stored_at: datetime
    state: str = Field(default=MessageState.RECEIVED, max_length=20, index=True)
    outcome: str | None = Field(default=None, max_length=20, index=True)
    outcome_reason: str | None = None
    duplicate_of: int | None = Field(default=None, foreign_key="inbound_message.id")
    error: str | None = Field(default=None, description="Traceback kept for a person")
    processed_at: datetime | None = None
    server_done: bool = Field(default=False, description="Moved/marked on the mail server")
    server_folder: str | None = Field(default=None, max_length=300)
    sender: str | None = Field(
        default=None, max_length=320, description="From address, lower case (not Reply-To)"
    )
    mentions: str | None = Field(
        default=None,
        max_length=20,
        description="A reference quoted by a sender not on that referral's thread: not joined",
    )
    sender_check: str | None = Field(
        default=None,
        max_length=20,
        description="The receiving server's verdict on the sender (a SenderCheck): "
        "verified, not_verified or unknown",
    )
    server_purge: bool = Field(
        default=False,
        index=True,
        description="Its referral was purged: the worker still has to remove the copy kept "
        "on the mail server (Processed folder or Maildir)",
    )
    attempts: int = Field(
        default=0,
        description="Times reading it started (committed first): a message that kills the "
        "worker is quarantined after a few, as Mailman's MAX_BAK_COUNT does",
    )


class RawMessage(SQLModel, table=True):
    """The raw RFC 822 bytes, kept apart so the message table stays light to query."""

    __tablename__ = "raw_message"

    message_id: int = Field(foreign_key="inbound_message.id", primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class MessageDismissal(SQLModel, table=True):
    """Why a held message was dismissed as not a referral, and by whom. The reason is
    sealed like a case note (it may name people), so the audit line never carries it."""

    __tablename__ = "message_dismissal"

    message_id: int = Field(foreign_key="inbound_message.id", primary_key=True)
    reason: Any = Field(sa_column=Column(SealedJSON, nullable=True))
    from_state: str = Field(max_length=20, description="The state an undo puts back")
    actor: str = Field(max_length=100)
    at: datetime


class Attachment(SQLModel, table=True):
    """A candidate document found in a message, and what reading it gave."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="inbound_message.id", index=True)
    position: int = Field(description="Order within the message, from 0")
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    outcome: str = Field(max_length=20)
    reason: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Referral(SQLModel, table=True):
    """A parsed referral form: the record as JSON plus the columns the queue sorts by."""

    __tablename__ = "referral"
    __table_args__ = (
        # The review queue's default order: urgent first, then the nearest due date.
        Index("ix_referral_queue_order", "urgent", "panel_due", "id"),
        Index("ix_referral_referrer_agency", "referrer_agency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    message_id: int = Field(foreign_key="inbound_message.id", index=True)
    attachment_id: int = Field(foreign_key="attachment.id", unique=True)
    status: str = Field(max_length=30, index=True, description="new, needs_info, ...")
    complete: bool
    urgent: bool = False
    child_name: str | None = Field(default=None, max_length=300)
    child_dob: date | None = None
    incident_date: date | None = None
    referrer_name: str | None = Field(default=None, max_length=300)
    referrer_email: str | None = Field(default=None, max_length=320)
    referrer_agency: str | None = Field(default=None, max_length=300)
    received_at: datetime
    panel_due: date | None = None
    rapid_review_due: date | None = None
    record: dict[str, Any] = Field(sa_column=Column(SealedJSON, nullable=False))
    problems: list[dict[str, Any]] = Field(sa_column=Column(SealedJSON, nullable=False))
    provenance: dict[str, Any] = Field(
        sa_column=Column(SealedJSON, nullable=False), description="key -> raw text and where found"
    )
    form_id: str = Field(max_length=50)
    created_at: datetime
    # Review queue columns (added in migration 0002).
    assigned_to: str | None = Field(
        default=None, max_length=100, index=True, description="User name of the assignee"
    )
    decision_date: date | None = Field(default=None, description="Date of the SIRG decision")
    updated_at: datetime | None = Field(default=None, description="Last change in the review")
    purged_at: datetime | None = Field(
        default=None, description="When an admin removed its personal data"
    )
    legal_hold: bool = Field(
        default=False, description="Kept whole whatever its age: never purged while set"
    )
    version: int = Field(default=1, description="Raised by each later form for the same child")
    sibling_of: int | None = Field(
        default=None, foreign_key="referral.id", description="Made from a follow-up to this one"
    )
    new_mail: bool = Field(default=False, description="A follow-up no officer has opened yet")
    duplicate_of_id: int | None = Field(
        default=None,
        foreign_key="referral.id",
        index=True,
        description="Merged into this referral (a ReferralMerge says when, by whom, why)",
    )


class ReferralMessage(SQLModel, table=True):
    """An email in a referral's conversation: how it joined and what it did."""

    __tablename__ = "referral_message"
    __table_args__ = (UniqueConstraint("referral_id", "message_id", name="uq_referral_message"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    message_id: int = Field(foreign_key="inbound_message.id", index=True)
    how: str = Field(max_length=20, description="a LinkHow")
    effect: str = Field(max_length=20, description="a LinkEffect")
    version: int | None = Field(default=None, description="The record version it made")
    actor: str = Field(max_length=100, description="'system' or the officer who linked it")
    at: datetime


class ReferenceCounter(SQLModel, table=True):
    """Last reference number given out per year (SIRG-YYYY-NNNN)."""

    __tablename__ = "reference_counter"

    year: int = Field(primary_key=True)
    last: int = 0


class OutboxMessage(SQLModel, table=True):
    """An email to send, written in the same transaction as the record it is about."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, description="ack, needs_info, rejected, alert ...")
    inbound_message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    mail_from: str = Field(max_length=320)
    to_addr: str = Field(max_length=320)
    subject: str = Field(max_length=500)
    body_text: str
    body_html: str | None = None
    header_message_id: str = Field(max_length=300, unique=True)
    in_reply_to: str | None = Field(default=None, max_length=998)
    auto_submitted: str = Field(default="auto-replied", max_length=30)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    handover_started_at: datetime | None = Field(
        default=None,
        description="Set (committed) before an SMTP hand-over starts, cleared when it ends: "
        "still set after a crash means the hand-over's result is unknown",
    )


# The reply limit counts a recipient's replies of the last day for every email it answers
# (`lower(to_addr)`, by time): without this, each count read the whole outbox.
Index(
    "ix_outbox_recipient_time",
    func.lower(OutboxMessage.to_addr),
    OutboxMessage.created_at,  # type: ignore[arg-type]
)


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, and when: the status history."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=100, description="'system' or a user name")
    entity: str = Field(max_length=30)
    entity_id: int = Field(index=True)
    action: str = Field(max_length=50)
    detail: str | None = None


class ReviewUser(SQLModel, table=True):
    """A person who may sign in to the review queue."""

    __tablename__ = "review_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20, description="viewer, officer or admin")
    password_hash: str = Field(max_length=300, description="argon2id hash")
    active: bool = True
    session_version: int = Field(default=1, description="Raised to end every open session")
    created_at: datetime
    last_login_at: datetime | None = None
    email: str | None = Field(
        default=None, max_length=320, description="Where news of assigned referrals goes"
    )


class ReferralCorrection(SQLModel, table=True):
    """A parsed value a person corrected: what it was, what it became, who and why."""

    __tablename__ = "referral_correction"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    key: str = Field(
        max_length=200, description="FIELDS.md key, e.g. child.dob or household[0].name"
    )
    before: Any = Field(default=None, sa_column=Column(SealedJSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(SealedJSON, nullable=True))
    note: str | None = None
    actor: str = Field(max_length=100)
    at: datetime


class ReferralNote(SQLModel, table=True):
    """An officer's case note on a referral (sealed at rest like the record)."""

    __tablename__ = "referral_note"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    text: Any = Field(sa_column=Column(SealedJSON, nullable=True))
    actor: str = Field(max_length=100)
    at: datetime


class ReferralStatusChange(SQLModel, table=True):
    """One step of a referral along the review workflow, with the note given."""

    __tablename__ = "referral_status_change"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    from_status: str = Field(max_length=30)
    to_status: str = Field(max_length=30)
    note: str | None = None
    decision_date: date | None = None
    actor: str = Field(max_length=100)
    at: datetime


class WorkerHeartbeat(SQLModel, table=True):
    """How the worker of one mailbox is doing: for `intake status`, /health and the
    dead-man alert (which is sent once per incident, not at every poll)."""

    __tablename__ = "worker_heartbeat"

    mailbox: str = Field(primary_key=True, max_length=300)
    last_pass_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = Field(default=None, description="Exception class name only")
    failing_since: datetime | None = None
    down_alert_sent_at: datetime | None = None
    dead_rows_alerted: int = Field(default=0, description="Dead outbox rows already reported")
    token_expires_at: datetime | None = None


class ReviewSession(SQLModel, table=True):
    """A signed-in browser session, kept on the server so signing out really ends it."""

    __tablename__ = "review_session"

    id: str = Field(primary_key=True, max_length=64, description="SHA-256 of the session token")
    user_id: int = Field(foreign_key="review_user.id", index=True)
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = Field(default=None, description="Signed out or expired")


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per client address or per account, for growing delays (so a
    stranger guessing passwords is slowed, and cannot lock an officer out)."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200, description="'ip:ADDR' or 'user:NAME'")
    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None


# SIRG's own work on a referral, kept in its own module; imported here so that every
# table is registered on the metadata whoever imports `storage.tables`.
from storage.scan_tables import ReferralScanPage as ReferralScanPage  # noqa: E402
from storage.sirg_tables import AgendaItem as AgendaItem  # noqa: E402
from storage.sirg_tables import MeetingDecision as MeetingDecision  # noqa: E402
from storage.sirg_tables import ReferralMerge as ReferralMerge  # noqa: E402
from storage.sirg_tables import ReferralMilestone as ReferralMilestone  # noqa: E402
from storage.sirg_tables import SirgMeeting as SirgMeeting  # noqa: E402
