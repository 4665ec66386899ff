"""Keying a referral in by hand, from an email the reader could not turn into one.

A scanned form, a damaged file or a referral written in the body of an email reaches the
quarantine page. An officer reads the original and types the answers into a page laid
out like the form (the form definition gives sections, labels, types and options). Each
value is checked and normalised exactly as a correction is (`review.record.clean_value`),
and the record is checked against the form's model before it is stored: nothing typed
here can put a value of the wrong shape into the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from notifications.compose import MailConfig, alert_rows, reply_row
from notifications.routing import Routing
from parsers.authresults import SenderCheck
from parsers.formdef import FormDef
from parsers.mime import parse_message, reply_address
from parsers.schema import check_record
from parsers.thread import clean_message_id
from review.record import Editable, GridView, clean_value, column_editable, field_editable
from storage import referrals
from storage.audit import record_event
from storage.messages import raw_bytes
from storage.referrals import FormReading, email_attachment, initials, mark_keyed
from storage.tables import Attachment, InboundMessage, Referral

GRID_ROWS = 5  # blank rows offered for each grid; empty rows are left out of the record
MAX_VALUE = 20_000  # characters in one answer


@dataclass(frozen=True)
class KeySection:
    """A numbered section of the form: its fields, then its grids."""

    number: int
    title: str
    fields: list[Editable]
    grids: list[GridView[Editable]]


def entry_sections(form: FormDef, grid_rows: int = GRID_ROWS) -> list[KeySection]:
    """Every place an answer can go, by the form's sections, in form order."""
    out: list[KeySection] = []
    for section in form.sections:
        fields = [field_editable(f) for f in form.fields if f.section == section.number]
        grids = [
            GridView(
                grid.key,
                grid.title,
                [c.header for c in grid.columns],
                [[column_editable(grid, c, i) for c in grid.columns] for i in range(grid_rows)],
            )
            for grid in section.grids
        ]
        out.append(KeySection(section.number, section.title, fields, grids))
    return out


@dataclass
class Keyed:
    """What the page sent, checked: the record to store, or what to put right first."""

    record: dict[str, Any] = field(default_factory=dict)
    entered: dict[str, Any] = field(default_factory=dict)  # by input, to show again
    typed: dict[str, str] = field(default_factory=dict)  # by record key, as typed
    errors: dict[str, str] = field(default_factory=dict)  # key -> plain words
    missing: list[str] = field(default_factory=list)  # mandatory keys left empty

    @property
    def ok(self) -> bool:
        """True when every value could be stored as typed."""
        return not self.errors


def _blank(value: Any) -> bool:
    return value in (None, "", [])


def posted_answers(submitted: Any, controls: tuple[str, ...]) -> dict[str, list[str]]:
    """A keying or check page's answers as posted (every value of each input), without
    the page's own controls (its CSRF token, row counts...)."""
    return {
        k: [v for v in submitted.getlist(k) if isinstance(v, str)]
        for k in submitted
        if k not in controls
    }


def row_count(value: object, least: int, most: int) -> int:
    """The number of blank table rows a page asked for, within bounds."""
    try:
        return max(least, min(most, int(str(value))))
    except ValueError:
        return least


def keyed_record(form: FormDef, sections: list[KeySection], posted: dict[str, list[str]]) -> Keyed:
    """Check and normalise every value typed into the page.

    `posted` is the submitted form: each input name with all the values sent for it
    (several for a multi-choice field's tick boxes).
    """
    out = Keyed()

    def take(target: Editable) -> Any:
        values = [v for v in posted.get(target.key, []) if isinstance(v, str)]
        raw = values[0] if values and target.type != "multi-choice" else ""
        out.entered[target.key] = values if target.type == "multi-choice" else raw
        if len(raw) > MAX_VALUE or sum(len(v) for v in values) > MAX_VALUE:
            out.errors[target.key] = "this answer is too long"
            return None
        try:
            return clean_value(form, target, raw, values)
        except ValueError as exc:
            out.errors[target.key] = str(exc)
            return None

    def typed(target: Editable) -> str:
        shown = out.entered.get(target.key)
        return ("\n".join(shown) if isinstance(shown, list) else str(shown or "")).strip()

    for section in sections:
        for target in section.fields:
            value = take(target)
            if not _blank(value):
                out.record[target.key] = value
                out.typed[target.key] = typed(target)
        for grid in section.grids:
            rows: list[dict[str, Any]] = []
            for row in grid.rows:
                cells = {t.key.rsplit(".", 1)[1]: (take(t), typed(t)) for t in row}
                kept = {k: v for k, (v, _raw) in cells.items() if not _blank(v)}
                if kept:
                    # Blank rows are skipped, so a cell's record key counts stored rows.
                    for column, (_v, raw) in cells.items():
                        if column in kept:
                            out.typed[f"{grid.key}[{len(rows)}].{column}"] = raw
                    rows.append(kept)
            if rows:
                out.record[grid.key] = rows
    out.missing = [k for k in form.mandatory_keys() if _blank(out.record.get(k))]
    if out.ok:
        # Every value went through the same normalisers as the reader's: a failure here
        # is a bug, and it must stop the referral being stored.
        check_record(form.id, out.record)
    return out


def problems(form: FormDef, keyed: Keyed) -> list[dict[str, str]]:
    """Mandatory answers left empty, as the reader reports them (so the referral page
    and the completeness figure treat a keyed referral like a read one)."""
    labels = {f.key: field_editable(f).label for f in form.fields}
    return [
        {
            "key": key,
            "label": labels.get(key, key),
            "kind": "missing",
            "message": "not completed",
            "raw": "",
            "where": "",
        }
        for key in keyed.missing
    ]


def provenance(keyed: Keyed, where: str) -> dict[str, dict[str, str]]:
    """Each stored value's text as typed, and where it was keyed from."""
    return {key: {"raw": raw, "where": where} for key, raw in keyed.typed.items()}


@dataclass(frozen=True)
class KeyedFrom:
    """Where the typed answers came from, and who to tell."""

    message_id: int
    attachment_id: int | None  # None: keyed from the email itself
    actor: str
    acknowledge: bool  # email the acknowledgement to the sender


def create_referral(
    db: Session,
    form: FormDef,
    keyed: Keyed,
    source: KeyedFrom,
    mail: MailConfig,
    routing: Routing,
    now: datetime,
) -> Referral:
    """Store the keyed referral with its reply and SIRG alerts, in the caller's transaction.

    Due dates run from when the email arrived, not from when it was keyed: the statutory
    clock started then.
    """
    message = db.get(InboundMessage, source.message_id)
    if message is None:
        raise LookupError("the message is gone")
    if source.attachment_id is None:
        attachment_id = email_attachment(db, message)
        where = f"keyed in by hand by {source.actor} from the email"
        filename = "your email"
    else:
        attachment = db.get(Attachment, source.attachment_id)
        if attachment is None or attachment.message_id != source.message_id:
            raise LookupError("that file is not part of the message")
        attachment_id = source.attachment_id
        where = f"keyed in by hand by {source.actor} from {attachment.filename}"
        filename = attachment.filename
    complete = not keyed.missing
    referral = referrals.create_referral(
        db,
        FormReading(
            message_id=source.message_id,
            attachment_id=attachment_id,
            form_id=form.id,
            record=keyed.record,
            problems=problems(form, keyed),
            provenance=provenance(keyed, where),
        ),
        aware_at=message.received_at,
        actor=source.actor,
        now=now,
    )
    assert referral.id is not None
    mark_keyed(message, source.actor)
    db.add(message)
    record_event(
        db, source.actor, "referral", referral.id, "created by hand", now, f"message {message.id}"
    )
    record_event(db, source.actor, "message", source.message_id, "referral keyed in", now)
    to_addr = reply_address(parse_message(raw_bytes(db, source.message_id)))
    if source.acknowledge and to_addr is not None:
        outcome = "referral" if complete else "needs_info"
        db.add(
            reply_row(
                mail,
                to_addr=to_addr,
                outcome=outcome,
                reason="",
                received_at=message.received_at,
                files=[
                    {
                        "filename": filename,
                        "outcome": outcome,
                        "reason": "",
                        "reference": referral.reference,
                        "initials": initials(referral.child_name),
                        "problems": [
                            f"{form.plain_label(k)} (not completed)" for k in keyed.missing
                        ],
                    }
                ],
                referrals=[referral],
                inbound_message_id=source.message_id,
                in_reply_to=clean_message_id(message.message_id),
                keyed_by_hand=True,
            )
        )
    unsure = message.sender_check == SenderCheck.NOT_VERIFIED
    for alert in alert_rows(mail, routing, referral, source.message_id, unsure):
        db.add(alert)
    return referral
