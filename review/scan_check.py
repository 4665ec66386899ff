"""An officer's check of a referral read from a scan, before anyone acts on what was read.

The page opens with what the reader found, each answer beside the part of the page it came
from; the answers it doubted come first. What the officer confirms is checked exactly as a
keyed referral is (`review.keying.keyed_record`: `clean_value`, then `check_record`), each
changed answer is stored as a correction (before, after, who; audited by key only), and the
referral becomes New, or Awaiting information with the usual request for what it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from notifications.compose import MailConfig, reply_row
from parsers.formdef import FormDef
from parsers.mime import parse_message, reply_address
from parsers.record import ScanBox
from parsers.statutory import is_urgent
from parsers.thread import clean_message_id
from review.keying import Keyed, KeySection, problems
from review.record import Editable, GridView
from storage import workflow
from storage.messages import raw_bytes
from storage.referrals import initials
from storage.scans import record_key
from storage.tables import InboundMessage, Referral

# What the reader doubted, most doubtful first: the officer's eye goes there first.
DOUBTS = {
    "unreadable": "could not be read",
    "uncertain": "not sure",
    "invalid": "not a valid answer",
    "inferred": "partly worked out",
}
# Said when the reader gave no words of its own.
ADVICE = {
    "unreadable": "type it from the scan",
    "uncertain": "check it against the scan",
    "invalid": "put it right from the scan",
    "inferred": "check it against the scan",
}
NOTE = "checked against the scan"
EXTRA_ROWS = 2  # blank rows offered in each table, for rows the reader missed


@dataclass(frozen=True)
class CheckField:
    """One answer on the check page: its input, where it was read and how sure it was."""

    target: Editable
    box: ScanBox | None
    confidence: float | None
    doubt: str | None  # a key of DOUBTS, or None when the reader was sure
    message: str  # the reader's words about the doubt

    @property
    def doubt_label(self) -> str:
        return DOUBTS.get(self.doubt or "", "")

    @property
    def advice(self) -> str:
        """The reader's words about the doubt, or ours."""
        return self.message or ADVICE.get(self.doubt or "", "")

    @property
    def percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)


@dataclass(frozen=True)
class CheckSection:
    """A numbered section of the form on the check page."""

    number: int
    title: str
    fields: list[CheckField]
    grids: list[GridView[CheckField]]


@dataclass(frozen=True)
class CheckView:
    """The doubtful answers first, then every section of the form."""

    first: list[CheckField]
    sections: list[CheckSection]


def grid_rows(referral: Referral, form: FormDef) -> int:
    """Rows offered in each table: the most any table holds, and a few blank ones."""
    held = [len(v) for g in form.grids if isinstance(v := referral.record.get(g.key), list)]
    return max(held, default=0) + EXTRA_ROWS


def _confidence(prov: dict[str, Any]) -> float | None:
    try:
        return float(prov["confidence"])
    except (KeyError, TypeError, ValueError):
        return None


def check_view(referral: Referral, sections: list[KeySection]) -> CheckView:
    """Every input of the form with what was read into it, the doubtful ones lifted out
    to the top (unreadable, then uncertain, ...), each in form order."""
    doubts: dict[str, tuple[str, str]] = {}
    for p in referral.problems:
        kind = str(p.get("kind", ""))
        if kind in DOUBTS:
            key = record_key(str(p.get("key", "")))
            doubts.setdefault(key, (kind, str(p.get("message", ""))))

    def field(target: Editable) -> CheckField:
        prov = referral.provenance.get(target.key) or {}
        kind, message = doubts.get(target.key, (None, ""))
        return CheckField(
            target,
            ScanBox.from_text(str(prov.get("box", ""))),
            _confidence(prov),
            kind,
            message,
        )

    first: list[CheckField] = []
    out: list[CheckSection] = []
    for section in sections:
        fields = [field(t) for t in section.fields]
        grids = [
            GridView(g.key, g.title, g.headers, [[field(t) for t in row] for row in g.rows])
            for g in section.grids
        ]
        first += [f for f in fields if f.doubt]
        first += [c for g in grids for row in g.rows for c in row if c.doubt]
        out.append(CheckSection(section.number, section.title, fields, grids))
    order = list(DOUBTS)
    first.sort(key=lambda f: order.index(f.doubt or ""))  # stable: form order within a kind
    return CheckView(first, out)


def entered(referral: Referral, form: FormDef, sections: list[KeySection]) -> dict[str, Any]:
    """What was read, as the page's inputs take it: dates the UK way, lists as ticks."""
    out: dict[str, Any] = {}
    targets = [t for s in sections for t in s.fields]
    targets += [t for s in sections for g in s.grids for row in g.rows for t in row]
    for target in targets:
        value = workflow.record_value(referral.record, target.key)
        if value in (None, "", []):
            continue
        if target.type == "date" and isinstance(value, str) and len(value) == 10:
            value = f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
        out[target.key] = value
    return out


def _apply(
    db: Session, referral: Referral, form: FormDef, keyed: Keyed, actor: str, now: datetime
) -> int:
    """Store each answer the officer changed as a correction; the number changed."""
    changed = 0

    def put(key: str, value: Any) -> None:
        nonlocal changed
        if workflow.correct_value(db, referral, key, value, NOTE, actor, now) is not None:
            changed += 1

    for f in form.fields:
        put(f.key, keyed.record.get(f.key))
    for grid in form.grids:
        before = referral.record.get(grid.key)
        old_rows = before if isinstance(before, list) else []
        new_rows: list[dict[str, Any]] = keyed.record.get(grid.key) or []
        for index in range(max(len(old_rows), len(new_rows))):
            if index >= len(old_rows):
                workflow.add_row(db, referral, grid.key, actor, now)
            row = new_rows[index] if index < len(new_rows) else {}
            for column in grid.columns:
                put(f"{grid.key}[{index}].{column.key}", row.get(column.key))
        rows = referral.record.get(grid.key)
        if isinstance(rows, list) and not all(rows):
            # Rows emptied cell by cell (each cell a correction) leave the table.
            kept = [r for r in rows if r]
            record = {k: v for k, v in referral.record.items() if k != grid.key}
            referral.record = {**record, grid.key: kept} if kept else record
    return changed


@dataclass(frozen=True)
class Confirmed:
    """What the confirmation did."""

    status: str
    changed: int
    missing: int
    asked: bool  # the referrer was asked for the missing answers


def confirm(
    db: Session,
    referral: Referral,
    form: FormDef,
    keyed: Keyed,
    mail: MailConfig,
    actor: str,
    now: datetime,
) -> Confirmed:
    """Store the checked record and move the referral on, in the caller's transaction."""
    workflow.writable(referral)
    if referral.status != workflow.CHECK_SCAN:
        raise workflow.WorkflowError("this referral is not waiting for a check of its scan")
    changed = _apply(db, referral, form, keyed, actor, now)
    complete = not keyed.missing
    workflow.set_derived(db, referral, complete, is_urgent(referral.record), actor, now)
    status = workflow.confirm_scan(db, referral, problems(form, keyed), complete, actor, now)
    asked = False
    message = db.get(InboundMessage, referral.message_id)
    to_addr = reply_address(parse_message(raw_bytes(db, referral.message_id)))
    if keyed.missing and message is not None and to_addr is not None:
        # The request for information the referrer would have had for a typed form, now
        # that a person has confirmed what the scan says.
        db.add(
            reply_row(
                mail,
                to_addr=to_addr,
                outcome="needs_info",
                reason="",
                received_at=message.received_at,
                files=[
                    {
                        "filename": "",
                        "outcome": "needs_info",
                        "reason": "",
                        "reference": referral.reference,
                        "initials": initials(referral.child_name),
                        "problems": [
                            f"{form.plain_label(k)} (not completed)" for k in keyed.missing
                        ],
                    }
                ],
                referrals=[referral],
                inbound_message_id=referral.message_id,
                in_reply_to=clean_message_id(message.message_id),
                checked_scan=True,
            )
        )
        asked = True
    return Confirmed(status, changed, len(keyed.missing), asked)
