"""Working days left until a due date, in words and a level for colour.

The statutory clocks count working days in England (intake.duedates sets the dates that
way), so "days left" counts working days too: from Friday, Monday is one working day away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UK = ZoneInfo("Europe/London")


def _weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday days in (start, end], for start <= end, without a day-by-day loop."""
    days = (end - start).days
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


@lru_cache(maxsize=64)
def _weekday_holidays(year: int) -> tuple[date, ...]:
    # The same calendar as intake.duedates (England's bank holidays).
    days = holidays.country_holidays("GB", subdiv="ENG", years=year).keys()
    return tuple(sorted(d for d in days if d.weekday() < 5))


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is earlier."""
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    off = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in _weekday_holidays(year)
        if start < day <= end
    )
    return _weekdays_after(start, end) - off


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
