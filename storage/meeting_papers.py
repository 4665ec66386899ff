"""A meeting's papers: per referral on the agenda, what SIRG needs to decide and no more."""

# The child is named by initials and age only; agencies by name and whether involved (no
# practitioners or contact details); the summary with the child's full name put as initials.
# The Word pack and the print view are both drawn from these dataclasses.

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from parsers.formdef import load_form
from storage.agenda import Decision, agenda
from storage.referrals import initials
from storage.tables import Referral, SirgMeeting


@dataclass(frozen=True)
class Process:
    """A parallel process the referrer answered."""

    label: str
    status: str
    details: str


@dataclass(frozen=True)
class Agency:
    """An agency involved with the child, by name only."""

    name: str
    involved: str


@dataclass(frozen=True)
class KeyDate:
    """A key date of the chronology (`day` None when it was not a date; `raw` as written)."""

    day: date | None
    raw: str
    event: str


@dataclass(frozen=True)
class Paper:
    """One referral as the meeting reads it."""

    position: int
    referral_id: int
    reference: str
    initials: str
    age: str
    urgent: bool
    agency: str
    received_at: datetime
    status: str
    summary: str
    criteria: tuple[str, ...]
    review_type: str
    processes: tuple[Process, ...]
    agencies: tuple[Agency, ...]
    key_dates: tuple[KeyDate, ...]
    panel_due: date | None
    rapid_review_due: date | None
    decision: Decision | None


@dataclass(frozen=True)
class Papers:
    """A meeting and its papers, in agenda order."""

    meeting_id: int
    day: date
    time_note: str
    place_note: str
    papers: tuple[Paper, ...]


def age_on(dob: date | None, day: date) -> str:
    """'4 years', '7 months', 'under a month' on `day`; '' when the birth date is unknown."""
    if dob is None or dob > day:
        return ""
    months = (day.year - dob.year) * 12 + day.month - dob.month - (day.day < dob.day)
    if months >= 24:
        return f"{months // 12} years"
    if months >= 1:
        return f"{months} month{'s' if months != 1 else ''}"
    return "under a month"


def _text(value: Any) -> str:
    return "" if value in (None, "", []) else str(value).strip()


def _without_name(text: str, name: str | None) -> str:
    """The child's full name (in any case) written as initials: SIRG needs the story, the
    pack need not carry the name."""
    if not name or not name.strip():
        return text
    pattern = re.compile(r"\s+".join(re.escape(p) for p in name.split()), re.IGNORECASE)
    return pattern.sub(initials(name), text)


def _processes(referral: Referral) -> tuple[Process, ...]:
    form = load_form(referral.form_id)
    out = []
    for grid in form.process_grids:
        for row in grid.rows:
            status = _text(referral.record.get(grid.status_key(row)))
            details = _text(referral.record.get(grid.details_key(row)))
            if status or details:
                out.append(Process(row.label, status or "Not answered", details))
    return tuple(out)


def _key_dates(referral: Referral) -> tuple[KeyDate, ...]:
    out = []
    for row in referral.record.get("key_dates") or []:
        if not isinstance(row, dict):
            continue
        raw = _text(row.get("date"))
        try:
            day: date | None = date.fromisoformat(raw) if raw else None
        except ValueError:
            day = None
        event = _without_name(_text(row.get("event")), referral.child_name)
        if raw or event:
            out.append(KeyDate(day, raw, event))
    return tuple(out)


def _agencies(referral: Referral) -> tuple[Agency, ...]:
    rows = referral.record.get("agencies") or []
    return tuple(
        Agency(_text(r.get("agency")), _text(r.get("currently_involved")))
        for r in rows
        if isinstance(r, dict) and _text(r.get("agency"))
    )


def papers(session: Session, meeting: SirgMeeting) -> Papers:
    """Everything the pack and the print view show, read in one go."""
    assert meeting.id is not None
    out = []
    for item in agenda(session, meeting):
        referral = session.get(Referral, item.referral_id)
        assert referral is not None
        record = referral.record
        current = item.current
        out.append(
            Paper(
                position=item.position,
                referral_id=item.referral_id,
                reference=referral.reference,
                initials=item.initials,
                age=age_on(referral.child_dob, meeting.meeting_date),
                urgent=referral.urgent,
                agency=referral.referrer_agency or "",
                received_at=referral.received_at,
                status=referral.status,
                summary=_without_name(_text(record.get("summary")), referral.child_name),
                criteria=tuple(str(c) for c in record.get("criteria") or []),
                review_type=_text(record.get("review_type")),
                processes=_processes(referral),
                agencies=_agencies(referral),
                key_dates=_key_dates(referral),
                panel_due=referral.panel_due,
                rapid_review_due=referral.rapid_review_due,
                decision=current.decision if current is not None else None,
            )
        )
    return Papers(
        meeting.id,
        meeting.meeting_date,
        meeting.time_note or "",
        meeting.place_note or "",
        tuple(out),
    )
