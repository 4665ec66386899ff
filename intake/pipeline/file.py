"""Stage `file`: the outcome, its referrals and its outbox rows in one transaction.

Writing the acknowledgement as an outbox row in the same transaction as the referral
means a crash can never send an acknowledgement for a referral that was not stored,
nor store a referral and forget its acknowledgement.
"""

from __future__ import annotations

import uuid
from datetime import date
from email.utils import getaddresses
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from intake.duedates import UK, due_dates
from intake.pipeline.context import MessageContext, ReadDocument
from intake.settings import Settings
from notifications.render import render
from parsers.record import ParsedForm
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import audit
from storage.references import next_reference
from storage.tables import (
    Attachment,
    InboundMessage,
    MessageState,
    OutboxMessage,
    Outcome,
    Referral,
)

# Criteria that make a referral urgent: a death or serious harm, with abuse or neglect.
HARM = ("The child has died", "The child has been seriously harmed")
ABUSE = "Abuse or neglect is known or suspected"
ANSWERED = (Outcome.REFERRAL, Outcome.NEEDS_INFO, Outcome.REJECTED)


def reply_address(ctx: MessageContext) -> str | None:
    """Where a reply goes: Reply-To if given, else From; None when neither is usable."""
    for header in ("Reply-To", "From"):
        try:
            values = [str(v) for v in ctx.message.get_all(header, [])]
        except (ValueError, IndexError, TypeError):
            continue
        for _name, addr in getaddresses(values):
            if "@" in addr and "\n" not in addr and " " not in addr.strip():
                return addr.strip()
    return None


def initials(name: str | None) -> str:
    """'Zoë Ahmed' -> 'Z.A.' (the only part of a child's name we ever send)."""
    parts = [p for p in (name or "").replace("-", " ").split() if p[:1].isalpha()]
    return "".join(f"{p[0].upper()}." for p in parts[:3])


def is_urgent(record: dict[str, Any]) -> bool:
    """A death or serious harm where abuse or neglect is known or suspected."""
    criteria = record.get("criteria") or []
    return any(c in criteria for c in HARM) and ABUSE in criteria


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def provenance(form: ParsedForm) -> dict[str, dict[str, str]]:
    """Where each value was found and the raw text it came from, by JSON key."""
    out = {key: {"raw": fv.raw, "where": fv.where} for key, fv in form.values.items()}
    for grid_key, grid_rows in form.grids.items():
        for index, row in enumerate(grid_rows):
            for col, cell in row.items():
                out[f"{grid_key}[{index}].{col}"] = {"raw": cell.raw, "where": cell.where}
    return out


def _problem_lines(form: ParsedForm) -> list[str]:
    """Plain-words lines for the sender, by the form's labels, in form order."""
    lines = []
    for key in form.missing():
        label = form.label_for(key)
        problem = next((p for p in form.problems if p.key == key), None)
        kind = getattr(problem, "kind", "missing")
        if kind == "missing" or problem is None:
            lines.append(f"{label} (not completed)")
        else:
            lines.append(f"{label} ({problem.message})")
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
    panel_due, rapid_due = due_dates(ctx.received_at)
    complete = doc.result.outcome == "referral"
    ref = Referral(
        reference=next_reference(session, ctx.received_at.astimezone(UK).year),
        message_id=message_row_id,
        attachment_id=attachment_id,
        status="new" if complete else "needs_info",
        complete=complete,
        urgent=is_urgent(record),
        child_name=record.get("child.name"),
        child_dob=_iso_date(record.get("child.dob")),
        incident_date=_iso_date(record.get("child.incident_date")),
        referrer_name=record.get("referrer.name"),
        referrer_email=record.get("referrer.email"),
        referrer_agency=record.get("referrer.agency"),
        received_at=ctx.received_at,
        panel_due=panel_due,
        rapid_review_due=rapid_due,
        record=record,
        problems=form.problems_json(),
        provenance=provenance(form),
        form_id=form.form_id,
        created_at=utcnow(),
    )
    session.add(ref)
    session.flush()
    assert ref.id is not None
    audit(session, "referral", ref.id, "created", ref.status)
    return ref


def _reply(
    session: Session,
    ctx: MessageContext,
    settings: Settings,
    message_row_id: int,
    forms: list[dict[str, Any]],
    referrals: list[Referral],
) -> None:
    to_addr = reply_address(ctx)
    if to_addr is None or ctx.outcome not in ANSWERED:
        return
    received = ctx.received_at.astimezone(UK)
    first = referrals[0] if referrals else None
    mail = render(
        "reply",
        {
            "outcome": ctx.outcome,
            "received": received.strftime("%A %d %B %Y at %H:%M"),
            "forms": forms,
            "references": [r.reference for r in referrals],
            "panel_due": first.panel_due.strftime("%d %B %Y") if first and first.panel_due else "",
            "rapid_review_due": first.rapid_review_due.strftime("%d %B %Y")
            if first and first.rapid_review_due
            else "",
        },
        settings.templates_dir,
    )
    session.add(
        OutboxMessage(
            kind="ack" if ctx.outcome == Outcome.REFERRAL else str(ctx.outcome),
            inbound_message_id=message_row_id,
            referral_id=first.id if first else None,
            mail_from=settings.mail_from,
            to_addr=to_addr,
            subject=mail.subject,
            body_text=mail.text,
            body_html=mail.html,
            header_message_id=f"<{uuid.uuid4().hex}.reply@{settings.message_id_domain}>",
            in_reply_to=str(ctx.message.get("Message-ID") or "").strip() or None,
            auto_submitted="auto-replied",
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
    )


def run(ctx: MessageContext, engine: Engine, settings: Settings, message_row_id: int) -> None:
    """Store the outcome, attachments, referrals and reply for one message."""
    with session_scope(engine) as session:
        row = session.get(InboundMessage, message_row_id)
        if row is None:
            raise LookupError(f"message {message_row_id} vanished before filing")
        forms: list[dict[str, Any]] = []
        referrals: list[Referral] = []
        # Logos and other files are listed in the reply only when no form was found.
        any_form = any(d.result.outcome != "not_a_form" for d in ctx.documents)
        for position, doc in enumerate(ctx.documents):
            cand, result = doc.candidate, doc.result
            attachment = Attachment(
                message_id=message_row_id,
                position=position,
                filename=cand.filename,
                content_type=cand.content_type,
                sha256=cand.sha256,
                size=len(cand.data),
                outcome=result.outcome,
                reason=result.reason,
                content=cand.data,
            )
            session.add(attachment)
            session.flush()
            assert attachment.id is not None
            entry: dict[str, Any] = {
                "filename": cand.filename,
                "outcome": result.outcome,
                "reason": result.reason,
                "reference": "",
                "initials": "",
                "problems": [],
            }
            if result.form is not None and result.outcome in ("referral", "needs_info"):
                referral = _referral(session, ctx, doc, message_row_id, attachment.id)
                referrals.append(referral)
                entry.update(
                    reference=referral.reference,
                    initials=initials(referral.child_name),
                    problems=_problem_lines(result.form),
                )
            if result.outcome != "not_a_form" or not any_form:
                forms.append(entry)
        row.state = MessageState.PROCESSED
        row.outcome = ctx.outcome
        row.outcome_reason = ctx.reason
        row.processed_at = utcnow()
        _reply(session, ctx, settings, message_row_id, forms, referrals)
        audit(session, "message", message_row_id, "processed", str(ctx.outcome))
