"""Stage `file`: the outcome, its referrals and its outbox rows in one transaction.

Writing the acknowledgement and alerts as outbox rows in the same transaction as the
referral means a crash can never send a notification for a referral that was not stored,
nor store a referral and forget to tell anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from intake.pipeline.context import MessageContext, ReadDocument
from intake.scan import ClamdScanner
from notifications.compose import MailConfig, alert_rows, initials, reply_row, security_rows
from notifications.routing import Routing
from parsers.bounce import Bounce
from parsers.mime import reply_address
from parsers.record import ParsedForm
from parsers.schema import check_record
from parsers.statutory import UK, due_dates, is_urgent
from storage import crypto
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import audit, defang
from storage.outbox import BOUNCED
from storage.referrals import NewReferral, add_referral
from storage.tables import (
    Attachment,
    InboundMessage,
    MessageState,
    OutboxMessage,
    Outcome,
    RawMessage,
    Referral,
)

ANSWERED = (Outcome.REFERRAL, Outcome.NEEDS_INFO, Outcome.REJECTED)
# Replies that ask for something or turn a file away: these are rate-limited per address.
LIMITED_KINDS = ("needs_info", "rejected")


@dataclass(frozen=True)
class Filing:
    """What the file stage needs besides the message: the database and who to tell."""

    engine: Engine
    mail: MailConfig
    routing: Routing
    reply_limit_per_day: int = 5
    scanner: ClamdScanner | None = None
    notify: bool = True  # False for a backfill of old mail: store, tell nobody


def provenance(form: ParsedForm) -> dict[str, dict[str, str]]:
    """Where each value was found and the raw text it came from, by JSON key."""
    out = {key: {"raw": fv.raw, "where": fv.where} for key, fv in form.values.items()}
    for grid_key, grid_rows in form.grids.items():
        for index, row in enumerate(grid_rows):
            for column, cell in row.items():
                out[f"{grid_key}[{index}].{column}"] = {"raw": cell.raw, "where": cell.where}
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


def _referral(
    session: Session,
    ctx: MessageContext,
    doc: ReadDocument,
    message_row_id: int,
    attachment_id: int,
) -> Referral:
    form = doc.result.form
    assert form is not None
    record = form.to_json()
    # A value of the wrong shape is a reader bug: fail here, so the message is quarantined
    # for a person rather than a wrong record stored.
    check_record(form.form_id, record)
    panel_due, rapid_due = due_dates(ctx.received_at)
    referral = add_referral(
        session,
        NewReferral(
            message_id=message_row_id,
            attachment_id=attachment_id,
            form_id=form.form_id,
            record=record,
            problems=form.problems_json(),
            provenance=provenance(form),
            complete=doc.result.outcome == "referral",
            urgent=is_urgent(record),
            received_at=ctx.received_at,
            reference_year=ctx.received_at.astimezone(UK).year,
            panel_due=panel_due,
            rapid_review_due=rapid_due,
        ),
    )
    assert referral.id is not None
    audit(session, "referral", referral.id, "created", referral.status)
    return referral


def _attachment(session: Session, doc: ReadDocument, message_row_id: int, position: int) -> int:
    cand = doc.candidate
    row = Attachment(
        message_id=message_row_id,
        position=position,
        filename=cand.filename,
        content_type=cand.content_type,
        sha256=cand.sha256,
        size=len(cand.data),
        outcome=doc.result.outcome,
        reason=doc.result.reason,
        content=crypto.seal(cand.data),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _over_reply_limit(session: Session, to_addr: str, limit: int) -> bool:
    """True when `to_addr` already had `limit` requests for information or rejections
    in the last 24 hours: a misconfigured autoresponder answering each of our replies
    would otherwise loop with us for ever."""
    since = utcnow() - timedelta(hours=24)
    count = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            func.lower(OutboxMessage.to_addr) == to_addr.lower(),
            col(OutboxMessage.kind).in_(LIMITED_KINDS),
            OutboxMessage.created_at >= since,
        )
    ).one()
    return count >= limit


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


def run(ctx: MessageContext, filing: Filing, message_row_id: int) -> None:
    """Store the outcome, attachments, referrals, reply and alerts for one message."""
    with session_scope(filing.engine) as session:
        row = session.get(InboundMessage, message_row_id)
        if row is None:
            raise LookupError(f"message {message_row_id} vanished before filing")
        row.outcome = ctx.outcome
        row.outcome_reason = ctx.reason
        row.processed_at = utcnow()
        if ctx.infected:
            _file_infected(session, ctx, filing, row)
            audit(session, "message", message_row_id, "quarantined", "virus found")
            return
        if ctx.bounce is not None:
            link_bounce(session, ctx.bounce, message_row_id)
        files: list[dict[str, Any]] = []
        referrals: list[Referral] = []
        # Logos and other files are listed in the reply only when no form was found.
        any_form = any(d.result.outcome != "not_a_form" for d in ctx.documents)
        for position, doc in enumerate(ctx.documents):
            attachment_id = _attachment(session, doc, message_row_id, position)
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
                referral = _referral(session, ctx, doc, message_row_id, attachment_id)
                referrals.append(referral)
                entry.update(
                    reference=referral.reference,
                    initials=initials(referral.child_name),
                    problems=problem_lines(form),
                )
            if doc.result.outcome != "not_a_form" or not any_form:
                files.append(entry)
        row.state = MessageState.PROCESSED
        to_addr = reply_address(ctx.message)
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
                    files=files,
                    referrals=referrals,
                    inbound_message_id=message_row_id,
                    in_reply_to=str(ctx.message.get("Message-ID") or "").strip() or None,
                )
            )
        for referral in referrals if filing.notify else []:
            for alert in alert_rows(filing.mail, filing.routing, referral, message_row_id):
                session.add(alert)
        audit(session, "message", message_row_id, "processed", str(ctx.outcome))
