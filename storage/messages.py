"""Inbound messages: keep the raw email first, then record what became of it.

The order matters (see ARCHITECTURE.md): a message's raw bytes are committed before
anything parses them, and the server-side move happens only after its outcome is
committed. Each function here is one short transaction.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, bindparam, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import crypto
from storage.audit import record_event
from storage.clock import utcnow
from storage.db import session_scope
from storage.tables import (
    Attachment,
    InboundMessage,
    MeetingDecision,
    MessageDismissal,
    MessageState,
    OutboxMessage,
    Outcome,
    RawMessage,
    Referral,
    ReferralCorrection,
    ReferralNote,
)

DEFANGED_MARK = b"X-Intake-Defanged: base64 of the original message, which held a virus\n\n"


@dataclass(frozen=True)
class ServerIdentity:
    """Where a message lives on its mail server; stable while UIDVALIDITY holds."""

    source: str
    folder: str
    uidvalidity: int
    uid: str


def sha256_hex(data: bytes) -> str:
    """SHA-256 of `data` as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def audit(session: Session, entity: str, entity_id: int, action: str, detail: str = "") -> None:
    """Add one status-history line by the pipeline ("system"), in the caller's transaction."""
    record_event(session, "system", entity, entity_id, action, utcnow(), detail or None)


def virus_reason(signature: str | None) -> str:
    """The plain-words outcome of a message the virus scanner stopped."""
    return f"a virus was found ({signature or 'unknown'}); the message was not opened"


def defang(raw: bytes) -> bytes:
    """An infected message as stored: base64 behind a marker, so no scanner, indexer or
    person opening the database meets the payload in the clear. `refang` undoes it."""
    return DEFANGED_MARK + base64.encodebytes(raw)


def refang(stored: bytes) -> bytes:
    """The original bytes of a stored message, defanged or not."""
    if stored.startswith(DEFANGED_MARK):
        return base64.decodebytes(stored[len(DEFANGED_MARK) :])
    return stored


def is_stored(engine: Engine, ident: ServerIdentity) -> bool:
    """True when this server identity has been stored before."""
    with session_scope(engine) as session:
        return _by_identity(session, ident) is not None


def _by_identity(session: Session, ident: ServerIdentity) -> InboundMessage | None:
    return session.exec(select(InboundMessage).where(_at(ident))).first()


def _at(ident: ServerIdentity) -> ColumnElement[bool]:
    return and_(
        col(InboundMessage.source) == ident.source,
        col(InboundMessage.folder) == ident.folder,
        col(InboundMessage.uidvalidity) == ident.uidvalidity,
        col(InboundMessage.uid) == ident.uid,
    )


def _stored_before_query(by_message_id: bool) -> SelectOfScalar[InboundMessage]:
    """The query of `_stored_before`, made once (it runs for every email)."""
    original = col(InboundMessage.duplicate_of).is_(None)
    here = and_(
        col(InboundMessage.source) == bindparam("at_source"),
        col(InboundMessage.folder) == bindparam("at_folder"),
        col(InboundMessage.uidvalidity) == bindparam("at_uidvalidity"),
        col(InboundMessage.uid) == bindparam("at_uid"),
    )
    terms = [here, and_(col(InboundMessage.sha256) == bindparam("copy_sha256"), original)]
    if by_message_id:
        same_id = col(InboundMessage.message_id) == bindparam("copy_message_id")
        terms.append(and_(same_id, original))
    return select(InboundMessage).where(or_(*terms)).order_by(col(InboundMessage.id))


_STORED_BEFORE = {flag: _stored_before_query(flag) for flag in (False, True)}


def _stored_before(
    session: Session, ident: ServerIdentity, sha256: str, message_id: str | None
) -> tuple[InboundMessage | None, InboundMessage | None]:
    """The row stored for this server identity, and the first message stored before with
    the same bytes or the same Message-ID (a copy), in one query: each of its terms is
    answered from an index."""
    params = {
        "at_source": ident.source,
        "at_folder": ident.folder,
        "at_uidvalidity": ident.uidvalidity,
        "at_uid": ident.uid,
        "copy_sha256": sha256,
        "copy_message_id": message_id,
    }
    rows = session.exec(_STORED_BEFORE[bool(message_id)], params=params).all()
    here = next((r for r in rows if _same_place(r, ident)), None)
    copies = (
        r
        for r in rows
        if r.duplicate_of is None
        and (r.sha256 == sha256 or (message_id and r.message_id == message_id))
    )
    return here, next(copies, None)


def _same_place(row: InboundMessage, ident: ServerIdentity) -> bool:
    return (row.source, row.folder, row.uidvalidity, row.uid) == (
        ident.source,
        ident.folder,
        ident.uidvalidity,
        ident.uid,
    )


def receive(
    engine: Engine,
    ident: ServerIdentity,
    raw: bytes,
    message_id: str | None,
    received_at: datetime,
    infected: str | None = None,
    notices: Sequence[OutboxMessage] = (),
    size: int | None = None,
) -> InboundMessage:
    """Store a message's raw bytes and commit, or return the row already stored for it.

    A second copy of a message already stored (same bytes or Message-ID, e.g. after a
    UIDVALIDITY change or a re-delivery) is kept too, but marked a duplicate so it is
    never processed, acknowledged or counted twice. A message in which the virus scanner
    found `infected` is kept defanged and quarantined, with `notices` (outbox rows telling
    the LSCP team) in the same transaction. `size` is the message's real size when only
    its headers were downloaded (too big to fetch).
    """
    digest = sha256_hex(raw)
    with session_scope(engine) as session:
        existing, earlier = _stored_before(session, ident, digest, message_id)
        if existing is not None:
            return existing
        row = InboundMessage(
            source=ident.source,
            folder=ident.folder,
            uidvalidity=ident.uidvalidity,
            uid=ident.uid,
            sha256=digest,
            message_id=message_id,
            size=size or len(raw),
            received_at=received_at,
            stored_at=utcnow(),
        )
        if infected is not None:
            row.state = MessageState.QUARANTINED
            row.outcome = Outcome.QUARANTINED
            row.outcome_reason = virus_reason(infected)
            row.processed_at = utcnow()
        elif earlier is not None:
            row.state = MessageState.PROCESSED
            row.outcome = Outcome.DUPLICATE
            row.outcome_reason = f"a copy of message {earlier.id}, stored before"
            row.duplicate_of = earlier.id
            row.processed_at = utcnow()
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Another worker stored the same server identity between our read and write.
            session.rollback()
            again = _by_identity(session, ident)
            if again is None:
                raise
            return again
        assert row.id is not None
        kept = defang(raw) if infected else raw
        session.add(RawMessage(message_id=row.id, content=crypto.seal(kept)))
        for notice in notices:
            notice.inbound_message_id = row.id
            session.add(notice)
        audit(session, "message", row.id, "received", row.outcome_reason or "")
    return row


def raw_bytes(session: Session, message_id: int) -> bytes:
    """The stored raw bytes of a message."""
    raw = session.get(RawMessage, message_id)
    if raw is None:
        raise LookupError(f"no raw bytes stored for message {message_id}")
    return refang(crypto.unseal(raw.content))


def quarantine(
    engine: Engine,
    message_id: int,
    error: str,
    reason: str = "processing failed; kept for a person to look at",
) -> None:
    """Mark a message as failed, keeping the traceback (if any) and the reason for a person."""
    with session_scope(engine) as session:
        row = session.get(InboundMessage, message_id)
        if row is None:
            raise LookupError(message_id)
        row.state = MessageState.QUARANTINED
        row.outcome = Outcome.QUARANTINED
        row.outcome_reason = reason
        row.error = error or None
        row.processed_at = utcnow()
        audit(session, "message", message_id, "quarantined", reason[:200])


_COUNT_ATTEMPT = (
    update(InboundMessage)
    .where(col(InboundMessage.id) == bindparam("counted_id"))
    .values(attempts=col(InboundMessage.attempts) + 1)
    .returning(col(InboundMessage.attempts))
)


def count_attempt(engine: Engine, message_id: int) -> int:
    """Count (and commit) one more start of reading a message; returns the new count.
    One statement in its own transaction, without a session: it runs for every email.

    On PostgreSQL the commit does not wait for the disk: the count is a safeguard against
    a message that keeps killing the worker, and the filing commit that follows flushes
    it with everything before it. Only a crash of the database server itself, within a
    fraction of a second, could lose it: then a message is read once more than counted.
    """
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        result = connection.execute(_COUNT_ATTEMPT, {"counted_id": message_id}).first()
    if result is None:
        raise LookupError(message_id)
    return int(result[0])


def mark_server_done(engine: Engine, message_id: int, folder: str | None) -> None:
    """Record that the message was moved/marked on the server."""
    mark_all_server_done(engine, [(message_id, folder)])


def mark_all_server_done(engine: Engine, done: Sequence[tuple[int, str | None]]) -> None:
    """Record (in one commit) that these messages were moved to these server folders:
    one UPDATE per folder."""
    by_folder: dict[str | None, list[int]] = {}
    for message_id, folder in done:
        by_folder.setdefault(folder, []).append(message_id)
    with engine.begin() as connection:
        for folder, ids in by_folder.items():
            changed = connection.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id).in_(ids))
                .values(server_done=True, server_folder=folder)
            ).rowcount
            if changed != len(set(ids)):
                raise LookupError(f"{len(set(ids)) - changed} of the messages vanished")


def mark_server_purged(engine: Engine, message_id: int) -> None:
    """The mail server's copy of a purged email is gone."""
    with session_scope(engine) as session:
        row = session.get(InboundMessage, message_id)
        if row is None:
            raise LookupError(message_id)
        row.server_purge = False
        row.server_folder = None
        audit(session, "message", message_id, "removed from server", "referral purged")


def reopen_quarantined(engine: Engine, message_id: int) -> str:
    """Put a quarantined message back to be processed again; says what happened.

    A message the virus scanner stopped is never reopened: it stays defanged for a person.
    """
    with session_scope(engine) as session:
        row = session.get(InboundMessage, message_id)
        if row is None:
            return "no such message"
        if row.state != MessageState.QUARANTINED:
            return f"not quarantined (it is {row.state})"
        raw = session.get(RawMessage, message_id)
        if raw is not None and crypto.unseal(raw.content).startswith(DEFANGED_MARK):
            return "held a virus; it is not processed again"
        row.state = MessageState.RECEIVED
        row.outcome = None
        row.outcome_reason = None
        row.processed_at = None
        row.attempts = 0  # a person asked: it gets its tries again
        audit(session, "message", message_id, "reprocess", "quarantine reopened")
    return "reopened"


def quarantined_ids(engine: Engine) -> list[int]:
    """Ids of every quarantined message, oldest first."""
    with session_scope(engine) as session:
        query = (
            select(InboundMessage.id)
            .where(InboundMessage.state == MessageState.QUARANTINED)
            .order_by(col(InboundMessage.id))
        )
        return [int(i) for i in session.exec(query) if i is not None]


def attachment_bytes(session: Session, attachment_id: int) -> bytes:
    """The stored bytes of an attached file, decrypted."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise LookupError(f"no attachment {attachment_id}")
    return crypto.unseal(row.content)


def rotate_keys(engine: Engine, batch: int = 200) -> int:
    """Re-encrypt every stored email, file and record with the newest key; rows rewritten."""
    done = 0
    for table, key, blobs, records in _SEALED:
        last: Any = None
        while True:  # a batch per transaction, so a long rotation can be stopped and rerun
            with session_scope(engine) as session:
                query = select(table).order_by(col(key)).limit(batch)
                if last is not None:
                    query = query.where(col(key) > last)
                rows = session.exec(query).all()
                for row in rows:
                    for name in blobs:
                        setattr(row, name, crypto.reseal(getattr(row, name)))
                    for name in records:  # written again, so sealed with the newest key
                        flag_modified(row, name)
            done += len(rows)
            if len(rows) < batch:
                break
            last = getattr(rows[-1], key.key)
    return done


# Each table with sealed content: its key column, sealed byte columns, sealed JSON columns.
_SEALED: tuple[tuple[Any, Any, tuple[str, ...], tuple[str, ...]], ...] = (
    (RawMessage, RawMessage.message_id, ("content",), ()),
    (Attachment, Attachment.id, ("content",), ()),
    (Referral, Referral.id, (), ("record", "problems", "provenance")),
    (ReferralCorrection, ReferralCorrection.id, (), ("before", "after")),
    (ReferralNote, ReferralNote.id, (), ("text",)),
    (MessageDismissal, MessageDismissal.message_id, (), ("reason",)),
    (MeetingDecision, MeetingDecision.id, (), ("reason", "undo_reason")),
)


def reopened(engine: Engine) -> list[InboundMessage]:
    """Messages put back to be processed again (no longer in the watched folder)."""
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(InboundMessage)
                .where(
                    InboundMessage.state == MessageState.RECEIVED,
                    col(InboundMessage.server_done).is_(True),
                )
                .order_by(col(InboundMessage.id))
            )
        )
