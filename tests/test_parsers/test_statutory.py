"""Statutory due dates skip weekends and England bank holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

from parsers.statutory import add_working_days, due_dates, is_working_day


def test_christmas_and_new_year_are_skipped() -> None:
    # Wed 23 Dec 2026: 25 Dec (Fri), 28 Dec (Boxing Day substitute) and 1 Jan are holidays.
    assert add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)
    assert not is_working_day(date(2026, 12, 28))


def test_easter_is_skipped() -> None:
    # Good Friday 3 Apr 2026 and Easter Monday 6 Apr 2026.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 15) == date(2026, 4, 27)


def test_weekends_are_skipped() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon


def test_due_dates_count_from_the_uk_date_of_arrival() -> None:
    # 23:30 UTC on 31 May 2026 is already 1 June in London (BST).
    panel, rapid = due_dates(datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    assert panel == date(2026, 6, 8)
    assert rapid == date(2026, 6, 22)


def test_working_days_between_agrees_with_adding_working_days() -> None:
    from parsers.statutory import working_days_between

    start = date(2026, 12, 18)
    for n in range(0, 30):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n


def test_urgent_needs_harm_and_abuse_or_neglect() -> None:
    from parsers.statutory import ABUSE, is_urgent

    assert is_urgent({"criteria": ["The child has died", ABUSE]})
    assert is_urgent({"criteria": ["The child has been seriously harmed", ABUSE]})
    assert not is_urgent({"criteria": ["The child has died"]})
    assert not is_urgent({"criteria": [ABUSE]})
    assert not is_urgent({})
