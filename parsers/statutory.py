"""The statutory rules every room shares: urgency, and clocks in working days in England.

Working days skip weekends and England's bank holidays.

The National Panel must be notified within 5 working days and a rapid review done within
15 working days of the LSCP becoming aware of the incident (Working Together 2023). We
count from the day the referral email arrived (UK time); that day itself is day 0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Criteria that make a referral urgent: a death or serious harm, with abuse or neglect.
HARM = ("The child has died", "The child has been seriously harmed")
ABUSE = "Abuse or neglect is known or suspected"

UK = ZoneInfo("Europe/London")
PANEL_NOTIFICATION_DAYS = 5
RAPID_REVIEW_DAYS = 15


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def uk_date(moment: datetime) -> date:
    """The calendar date in the UK at `moment`."""
    return moment.astimezone(UK).date()


def due_dates(aware_at: datetime) -> tuple[date, date]:
    """(National Panel notification due, rapid review due) from the time we became aware."""
    start = uk_date(aware_at)
    return (
        add_working_days(start, PANEL_NOTIFICATION_DAYS),
        add_working_days(start, RAPID_REVIEW_DAYS),
    )


def is_urgent(record: dict[str, object]) -> bool:
    """A death or serious harm where abuse or neglect is known or suspected."""
    criteria = record.get("criteria") or []
    assert isinstance(criteria, list)
    return any(c in criteria for c in HARM) and ABUSE in criteria


def _weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday days in (start, end], for start <= end, without a day-by-day loop."""
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is earlier."""
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    off = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in _bank_holidays(year)
        if start < day <= end and day.weekday() < 5
    )
    return _weekdays_after(start, end) - off
