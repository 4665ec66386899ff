"""Stage `file`: the outcome, its referrals and its outbox rows in one transaction.

Writing the acknowledgement and alerts as outbox rows in the same transaction as the
referral means a crash can never send a notification for a referral that was not stored,
nor store a referral and forget to tell anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlmodel import Session, col, select

from intake.pipeline import follow
from intake.pipeline.context import Filing, MessageContext, ReadDocument
from notifications.compose import alert_rows, reply_row, security_rows
from parsers.authresults import SenderCheck
from parsers.bounce import Bounce
from parsers.record import ParsedForm
from storage import crypto
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import audit, defang
from storage.outbox import BOUNCED, replies_since
from storage.referrals import FormReading, create_referral, initials, link_message
from storage.scans import StoredPage, record_key
from storage.tables import (
    Attachment,
    InboundMessage,
    LinkEffect,
    MessageState,
    OutboxMessage,
    Outcome,
    RawMessage,
    Referral,
)
from storage.threads import Joined, Mentioned, find_thread

ANSWERED = (Outcome.REFERRAL, Outcome.NEEDS_INFO, Outcome.REJECTED)
# Replies that ask for something or turn a file away: these are rate-limited per address.
LIMITED_KINDS = ("needs_info", "rejected", "follow_up", "complete")
SCAN_ACK = "scan"  # a form's line in the acknowledgement: received, to be checked


def provenance(form: ParsedForm) -> dict[str, dict[str, str]]:
    """Where each value was found and the raw text it came from, by JSON key; for a scan
    also how sure the reader was and the box on the page, for the officer's check."""
    found = dict(form.values)
    for grid_key, grid_rows in form.grids.items():
        for index, row in enumerate(grid_rows):
            for column, cell in row.items():
                found[f"{grid_key}[{index}].{column}"] = cell
    out = {key: {"raw": fv.raw, "where": fv.where} for key, fv in found.items()}
    if form.source != "scan":
        return out
    for key, fv in found.items():
        out[key]["source"] = "scan"
        if fv.confidence is not None:
            out[key]["confidence"] = f"{fv.confidence:.2f}"
    # An unreadable answer has no value, but its box shows the officer where to look.
    for p in form.problems:
        key = record_key(p.key)
        if key not in out and key in form.scan_boxes:
            out[key] = {"raw": p.raw, "where": p.where, "source": "scan"}
    for key, box in form.scan_boxes.items():
        if key in out:
            out[key]["box"] = box.to_text()
    return out


def problem_lines(form: ParsedForm) -> list[str]:
    """Plain-words lines for the sender, by the form's labels, in form order."""
    lines = []
    for key in form.missing():
        problem = next((p for p in form.problems if p.key == key), None)
        if problem is None or problem.kind == "missing":
            lines.append(f"{form.label_for(key)} (not completed)")
        else:
            lines.append(f"{form.label_for(key)} ({problem.message})")
    return lines


def unverified(ctx: MessageContext) -> bool:
    """True when the receiving server said the sender may be forged."""
    return ctx.sender_check == SenderCheck.NOT_VERIFIED


def reading(
    doc: ReadDocument, message_row_id: int, attachment_ids: list[int], position: int
) -> FormReading:
    """A read form (the message's file at `position`) as the one referral path takes it;
    `attachment_ids` are the message's stored files by position: a form photographed
    page by page is in several of them."""
    form = doc.result.form
    assert form is not None
    files = [attachment_ids[i] for i in doc.files] or [attachment_ids[position]]
    pages = tuple(StoredPage(files[p.file], p) for p in form.scan_pages if 0 <= p.file < len(files))
    return FormReading(
        message_id=message_row_id,
        attachment_id=attachment_ids[position],
        form_id=form.form_id,
        record=form.to_json(),
        problems=form.problems_json(),
        provenance=provenance(form),
        scanned=doc.scanned,
        scan_pages=pages,
    )


_STORE_ATTACHMENT = insert(Attachment).returning(col(Attachment.id))


def _attachment(session: Session, doc: ReadDocument, message_row_id: int, position: int) -> int:
    cand = doc.candidate
    # A plain INSERT on the session's connection, in its transaction: only the new id is
    # needed, and an ORM flush for it costs several times as much.
    values = {
        "message_id": message_row_id,
        "position": position,
        "filename": cand.filename,
        "content_type": cand.content_type,
        "sha256": cand.sha256,
        "size": len(cand.data),
        "outcome": doc.result.outcome,
        "reason": doc.result.reason,
        "content": crypto.seal(cand.data),
    }
    attachment_id = session.connection().execute(_STORE_ATTACHMENT, values).scalar_one()
    assert attachment_id is not None
    return attachment_id


def _over_reply_limit(session: Session, to_addr: str, limit: int) -> bool:
    """True when `to_addr` already had `limit` requests for information or rejections
    in the last 24 hours: a misconfigured autoresponder answering each of our replies
    would otherwise loop with us for ever."""
    since = utcnow() - timedelta(hours=24)
    return session.exec(replies_since(to_addr, LIMITED_KINDS, since)).one() >= limit


def _file_infected(
    session: Session, ctx: MessageContext, filing: Filing, row: InboundMessage
) -> None:
    """Keep the message defanged and its files as names only; tell the LSCP team."""
    assert row.id is not None
    for position, cand in enumerate(ctx.candidates):
        session.add(
            Attachment(
                message_id=row.id,
                position=position,
                filename=cand.filename,
                content_type=cand.content_type,
                sha256=cand.sha256,
                size=len(cand.data),
                outcome="rejected",
                reason="not opened: the message held a virus",
                content=b"",
            )
        )
    raw = session.get(RawMessage, row.id)
    if raw is not None:
        raw.content = crypto.seal(defang(crypto.unseal(raw.content)))
    row.state = MessageState.QUARANTINED
    for notice in security_rows(filing.mail, filing.routing, ctx.reason):
        notice.inbound_message_id = row.id
        session.add(notice)


def link_bounce(session: Session, bounce: Bounce, message_row_id: int) -> None:
    """Mark the outbox rows a bounce is about, so people see the mail did not arrive."""
    rows = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.header_message_id).in_(bounce.message_ids))
    ).all()
    for outbox_row in rows:
        outbox_row.status = BOUNCED
        outbox_row.last_error = f"bounced (message {message_row_id}): {bounce.detail}"[:2000]
        assert outbox_row.id is not None
        audit(session, "outbox", outbox_row.id, "bounced", f"message {message_row_id}")


def _link_automatic(session: Session, ctx: MessageContext, row: InboundMessage) -> None:
    """An auto-reply or bounce about a referral is shown on it (and never answered)."""
    assert row.id is not None
    clues = ctx.clues
    if ctx.bounce is not None:  # a bounce names our message in its report, not its headers
        answers = tuple(dict.fromkeys((*clues.answers, *ctx.bounce.message_ids)))
        clues = replace(clues, answers=answers)
    with session.no_autoflush:  # see `_file_message`
        thread = find_thread(session, clues)
    if isinstance(thread, Joined):
        first = thread.referrals[0]
        link_message(session, first, row.id, thread.how, LinkEffect.AUTOMATIC, "system", utcnow())


def _follow_up(
    session: Session, ctx: MessageContext, filing: Filing, row: InboundMessage, thread: Joined
) -> None:
    """An email in a referral's conversation: versions, siblings or the timeline."""
    assert row.id is not None
    forms = []
    ids = [_attachment(session, doc, row.id, n) for n, doc in enumerate(ctx.documents)]
    for position, doc in enumerate(ctx.documents):
        if doc.result.form is not None and doc.result.outcome in ("referral", "needs_info"):
            forms.append((doc, reading(doc, row.id, ids, position)))
    filed = follow.file_forms(session, ctx, thread, row.id, forms)
    row.outcome, row.outcome_reason = follow.outcome_of(thread, filed)
    row.state = MessageState.PROCESSED
    sender = ctx.clues.sender
    if not filing.notify:
        audit(session, "message", row.id, "not notified", "backfill of old mail")
    elif sender and _over_reply_limit(session, sender, filing.reply_limit_per_day):
        audit(session, "message", row.id, "reply held", "reply limit reached")
    else:
        follow.tell(session, ctx, filing, row, thread, filed)
    audit(session, "message", row.id, "processed", str(row.outcome))


@dataclass(frozen=True)
class Filed:
    """What filing one message did, for the runner: its log line, its emails, its move."""

    state: MessageState
    outcome: Outcome
    references: tuple[str, ...]  # the referrals it made
    outbox: tuple[OutboxMessage, ...]  # the emails it queued (claimed with `send_at_once`)


def run(ctx: MessageContext, filing: Filing, message_row_id: int) -> Filed:
    """Store the outcome, attachments, referrals, reply and alerts for one message."""
    now = utcnow()
    with session_scope(filing.engine) as session:
        added: list[object] = []  # held here: the session's identity map holds weakly

        @event.listens_for(session, "before_flush")
        def _inserted(flushing: Session, *_: object) -> None:
            added.extend(flushing.new)
            if filing.send_at_once:
                # Claimed as they are stored, as `outbox.claim_next` would: if the worker
                # dies before the hand-over, they come back in doubt after the lease, and
                # the Sent folder is asked before they are sent again.
                for new in flushing.new:
                    if isinstance(new, OutboxMessage):
                        new.handover_started_at = now

        row = session.get(InboundMessage, message_row_id)
        if row is None:
            raise LookupError(f"message {message_row_id} vanished before filing")
        _file_message(session, ctx, filing, row)
        session.flush()
        queued = tuple(o for o in added if isinstance(o, OutboxMessage))
        assert row.outcome is not None
        filed = Filed(
            MessageState(row.state),
            Outcome(row.outcome),
            tuple(r.reference for r in added if isinstance(r, Referral)),
            queued,
        )
    return filed


def _file_message(
    session: Session, ctx: MessageContext, filing: Filing, row: InboundMessage
) -> None:
    """The outcome and everything it brings, in the caller's transaction."""
    message_row_id = row.id
    assert message_row_id is not None
    row.outcome = ctx.outcome
    row.outcome_reason = ctx.reason
    row.processed_at = utcnow()
    row.sender = ctx.clues.sender
    row.sender_check = ctx.sender_check
    if ctx.infected:
        _file_infected(session, ctx, filing, row)
        audit(session, "message", message_row_id, "quarantined", "virus found")
        return
    if ctx.bounce is not None:
        link_bounce(session, ctx.bounce, message_row_id)
    if ctx.outcome == Outcome.IGNORED:
        _link_automatic(session, ctx, row)
    else:
        # Looked up before the message's own changes are flushed: they are then written
        # in one UPDATE, with the state `_file_new` gives it.
        with session.no_autoflush:
            thread = find_thread(session, ctx.clues, filing.routing.team_addresses())
        read = bool(ctx.documents) or ctx.outcome != Outcome.REJECTED
        if isinstance(thread, Joined) and read:
            _follow_up(session, ctx, filing, row, thread)
            return
        if isinstance(thread, Joined):
            # Turned away unread (too big): the sender hears why, as anyone would, and
            # the email is still shown on the referral it answers.
            link_message(
                session,
                thread.referrals[0],
                message_row_id,
                thread.how,
                LinkEffect.FOLLOW_UP,
                "system",
                utcnow(),
            )
        elif isinstance(thread, Mentioned):
            row.mentions = thread.reference
    _file_new(session, ctx, filing, row)


def _file_new(session: Session, ctx: MessageContext, filing: Filing, row: InboundMessage) -> None:
    """An email that starts a conversation (or ends unanswered): referrals and the reply."""
    assert row.id is not None
    message_row_id = row.id
    files: list[dict[str, Any]] = []
    referrals: list[Referral] = []
    # Logos and other files are listed in the reply only when no form was found.
    any_form = any(d.result.outcome != "not_a_form" for d in ctx.documents)
    # A secure-email notice waits in the quarantine, where officers see it at once.
    row.state = MessageState.QUARANTINED if ctx.secure else MessageState.PROCESSED
    # Every file is stored first: a form photographed page by page is read from several.
    ids = [_attachment(session, doc, message_row_id, n) for n, doc in enumerate(ctx.documents)]
    for position, doc in enumerate(ctx.documents):
        entry: dict[str, Any] = {
            "filename": doc.candidate.filename,
            "outcome": doc.result.outcome,
            "reason": doc.result.reason,
            "reference": "",
            "initials": "",
            "problems": [],
        }
        form = doc.result.form
        if form is not None and doc.result.outcome in ("referral", "needs_info"):
            referral = create_referral(
                session,
                reading(doc, message_row_id, ids, position),
                aware_at=ctx.received_at,
                actor="system",
            )
            referrals.append(referral)
            entry.update(
                reference=referral.reference,
                initials=initials(referral.child_name),
                problems=problem_lines(form),
            )
            if doc.scanned:
                # "We received your scanned form; the team will check it": what it lacks
                # is asked for once an officer has confirmed what was read.
                entry.update(outcome=SCAN_ACK, problems=[])
        if doc.result.outcome != "not_a_form" or not any_form:
            files.append(entry)
    to_addr = ctx.reply_to
    limited = ctx.outcome != Outcome.REFERRAL and to_addr is not None
    if not filing.notify:
        audit(session, "message", message_row_id, "not notified", "backfill of old mail")
    elif limited and _over_reply_limit(session, str(to_addr), filing.reply_limit_per_day):
        # Stored and visible to the LSCP team as usual; only the automatic reply is held.
        audit(session, "message", message_row_id, "reply held", "reply limit reached")
    elif to_addr is not None and ctx.outcome in ANSWERED:
        session.add(
            reply_row(
                filing.mail,
                to_addr=to_addr,
                outcome=str(ctx.outcome),
                reason=ctx.reason,
                received_at=ctx.received_at,
                files=[] if ctx.secure else files,
                referrals=referrals,
                inbound_message_id=message_row_id,
                in_reply_to=ctx.clues.own_id,
                secure=ctx.secure,
            )
        )
    for referral in referrals if filing.notify else []:
        session.add_all(
            alert_rows(filing.mail, filing.routing, referral, message_row_id, unverified(ctx))
        )
    audit(session, "message", message_row_id, "processed", str(ctx.outcome))
