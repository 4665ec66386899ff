"""The statutory clocks in words, the milestone forms' state, and UK dates as typed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from fastapi import Request
from sqlmodel import Session

from review.days import Due
from storage import milestones
from storage.milestones import LABELS, Clock, ClockState, Input, Milestone
from storage.tables import Referral

# Session key of the one-off "recorded" message the card shows after a save.
SAVED_KEY = "milestone_saved"
RESULT_ID = "statutory-result"
DATE_HINT = "Day, month and year, for example 27/11/2026"
_UK_DATE = re.compile(r"(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CLOCK_NAMES = {
    Milestone.PANEL_NOTIFIED: "National Panel notification",
    Milestone.OFSTED_NOTIFIED: "Ofsted notification",
    Milestone.RAPID_REVIEW_COMPLETED: "Rapid Review",
}
FORM_WORDS = {
    Milestone.PANEL_NOTIFIED: {
        "summary": "Record the National Panel notification",
        "on": "Date the Panel was notified",
        "by": "Notified by",
    },
    Milestone.OFSTED_NOTIFIED: {
        "summary": "Record the Ofsted notification",
        "on": "Date Ofsted was notified",
        "by": "Notified by",
    },
    Milestone.RAPID_REVIEW_COMPLETED: {
        "summary": "Record the Rapid Review as completed",
        "on": "Date the Rapid Review was completed",
        "by": "Completed by (optional)",
    },
}
_DONE = {
    Milestone.PANEL_NOTIFIED: "Notified",
    Milestone.OFSTED_NOTIFIED: "Notified",
    Milestone.RAPID_REVIEW_COMPLETED: "Completed",
}


def parse_uk_date(text: str) -> date | None:
    """'27/11/2026' (day first, as written in the UK; also 27-11-2026 or 2026-11-27);
    None when empty; ValueError when it is not a real date."""
    typed = text.strip()
    if not typed:
        return None
    if _ISO_DATE.fullmatch(typed):
        return date.fromisoformat(typed)
    match = _UK_DATE.fullmatch(typed)
    if match is None:
        raise ValueError(typed)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


def _days(n: int) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def _short(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def clock_text(c: Clock) -> tuple[str, str]:
    """How a clock stands in words, and a level for colour: 'late' (overdue, or due within
    a working day), 'ok', 'was-late' (done, but late), 'done' or 'stopped'."""
    if c.state is ClockState.RECORDED and c.stopped_on is not None:
        text = f"{_DONE[c.kind]} {_short(c.stopped_on)}"
        if c.due is None:
            return text, "done"
        if c.late:
            return f"{text} — {_days(c.late)} late", "was-late"
        return f"{text} — on time", "done"
    if c.state is ClockState.NOT_NEEDED:
        return "Not needed: SIRG decided it is not for the Panel", "stopped"
    if c.state is ClockState.CLOSED:
        return "Closed with no date recorded", "stopped"
    if c.due is None:
        return "No due date", "none"
    if c.late:
        return f"Overdue by {_days(c.late)}", "late"
    left = c.left or 0
    if left == 0:
        return "Due today", "late"
    return f"Due in {_days(left)}", "late" if left <= 1 else "ok"


def queue_due(c: Clock) -> Due:
    """A clock as a queue cell (the queue's shorter words)."""
    if c.state is ClockState.RUNNING and c.due is not None:
        if c.late:
            return Due(c.due, -c.late, f"{_days(c.late)} overdue", "late")
        left = c.left or 0
        text = "due today" if left == 0 else f"{_days(left)} left"
        return Due(c.due, left, text, "late" if left <= 1 else "ok")
    if c.state is ClockState.RECORDED:
        text, level = clock_text(c)
        return Due(c.due, None, text, level)
    if c.due is None:
        return Due(None, None, "no date", "none")
    return Due(c.due, None, "clock stopped", "stopped")


@dataclass(frozen=True)
class FormState:
    """A milestone form sent back with errors: what was typed and what is wrong."""

    kind: Milestone
    correcting: bool  # the admin's correct-or-withdraw form, not the first recording
    errors: dict[Input, str]
    values: dict[Input, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockCard:
    """One clock on the referral page."""

    clock: Clock
    name: str
    label: str  # the milestone's name ("National Panel notified")
    text: str
    level: str
    form: FormState | None  # this clock's form, when it came back with errors

    @property
    def kind(self) -> str:
        return self.clock.kind.value

    @property
    def words(self) -> dict[str, str]:
        """The labels of its form: summary, date and by-whom."""
        return FORM_WORDS[self.clock.kind]

    def input_id(self, name: str, correcting: bool = False) -> str:
        return input_id(self.clock.kind, Input(name), correcting)

    def opened(self, correcting: bool) -> bool:
        """True when this form came back with errors (so it is shown open)."""
        return self.form is not None and self.form.correcting == correcting

    def error(self, name: str, correcting: bool = False) -> str | None:
        if self.form is None or not self.opened(correcting):
            return None
        return self.form.errors.get(Input(name))

    def value(self, name: str, correcting: bool, default: str = "") -> str:
        """What was typed, when the form came back; else `default`."""
        if self.form is None or not self.opened(correcting):
            return default
        return self.form.values.get(Input(name), "")


@dataclass(frozen=True)
class Statutory:
    """The referral page's 'Statutory dates' card."""

    clocks: list[ClockCard]
    saved: str | None  # the message after a save, shown once
    errors: list[tuple[str, str]]  # (input id, message) for the error summary
    date_hint: str = DATE_HINT
    result_id: str = RESULT_ID


def input_id(kind: Milestone, name: Input, correcting: bool) -> str:
    """The HTML id of one input of one milestone form."""
    return f"ms-{kind.value.replace('_', '-')}{'-fix' if correcting else ''}-{name.value}"


def statutory_card(request: Request, db: Session, referral: Referral, today: date) -> Statutory:
    """The referral's clocks, with a form sent back with errors (request.state) and the
    message of a save just made (taken from the session: shown once). Lateness stays
    after a decision: each clock stops only on its own date."""
    clocks = milestones.clocks(db, referral, today)
    sent: FormState | None = getattr(request.state, "milestone_form", None)
    cards = []
    for kind, c in clocks.items():
        text, level = clock_text(c)
        form = sent if sent is not None and sent.kind is kind else None
        cards.append(ClockCard(c, CLOCK_NAMES[kind], LABELS[kind], text, level, form))
    errors = (
        [(input_id(sent.kind, name, sent.correcting), said) for name, said in sent.errors.items()]
        if sent is not None
        else []
    )
    saved = request.session.pop(SAVED_KEY, None)
    return Statutory(cards, saved if isinstance(saved, str) else None, errors)


def saved_message(kind: Milestone, c: Clock, verb: str = "recorded") -> str:
    """What the card says after a save, with the clock's standing."""
    text, _ = clock_text(c)
    return f"{LABELS[kind]}: {verb}. {text}."
