"""Working days left until a due date, in words and a level for colour.

The statutory clocks count working days in England (parsers.statutory sets the dates that
way), so "days left" counts working days too: from Friday, Monday is one working day away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from parsers.statutory import UK, working_days_between


def uk_today(now: datetime) -> date:
    """Today's date in the UK."""
    return now.astimezone(UK).date()


@dataclass(frozen=True)
class Due:
    """A due date as the queue shows it."""

    day: date | None
    days_left: int | None  # working days; negative when overdue; None when no clock
    text: str
    level: str  # "late" (overdue or at most 1 working day left), "ok", "stopped", "none"


def due(day: date | None, today: date, running: bool) -> Due:
    """How a due date stands today; `running` is False once SIRG has decided."""
    if day is None:
        return Due(None, None, "no date", "none")
    if not running:
        return Due(day, None, "clock stopped", "stopped")
    left = working_days_between(today, day)
    if left < 0:
        n = -left
        text = f"{n} working day{'s' if n != 1 else ''} overdue"
    elif left == 0:
        text = "due today"
    else:
        text = f"{left} working day{'s' if left != 1 else ''} left"
    return Due(day, left, text, "late" if left <= 1 else "ok")
