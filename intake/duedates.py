"""Statutory clocks: working days in England, skipping weekends and bank holidays.

The National Panel must be notified within 5 working days and a rapid review done within
15 working days of the LSCP becoming aware of the incident (Working Together 2023). We
count from the day the referral email arrived (UK time); that day itself is day 0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

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
