"""The dashboard: a work list (due today, overdue, unassigned, awaiting information, in
quarantine), then referrals a month by agency and by SIRG decision, and how long SIRG took
to decide against the 15-working-day clock. Counts only: no names, no records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from parsers.statutory import working_days_between
from review.auth import SignedIn, require
from review.charts import stacked_bars
from review.days import UK, uk_today
from review.render import page
from review.routes import DbEngine, Now
from storage import users
from storage.db import session_scope
from storage.insights import DashboardRow, dashboard_rows
from storage.queue import work_counts
from storage.workflow import DECISIONS, record_event, status_label

router = APIRouter()

MONTHS = 12
STATUTORY_DAYS = 15
TOP_AGENCIES = 6
NOT_GIVEN = "Not given"
OTHER = "Other agencies"
UNDECIDED = "No decision yet"
# Working days from receipt to decision; the first three are within the clock.
BUCKETS = ((0, 5, "0–5"), (6, 10, "6–10"), (11, 15, "11–15"), (16, 20, "16–20"))
LATE_BUCKET = "21 or more"


@dataclass(frozen=True)
class Table:
    """A chart's numbers: a row per series, a column per label, with totals."""

    caption: str
    labels: list[str]
    rows: dict[str, list[int]]

    @property
    def totals(self) -> list[int]:
        return [sum(r[i] for r in self.rows.values()) for i in range(len(self.labels))]


def last_months(today: date, count: int = MONTHS) -> list[tuple[int, int]]:
    """(year, month) of the last `count` months, oldest first, this month last."""
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def month_label(ym: tuple[int, int]) -> str:
    """'Nov 26'."""
    return date(ym[0], ym[1], 1).strftime("%b %y")


def _by_month(
    rows: list[DashboardRow], months: list[tuple[int, int]], key: dict[str, str]
) -> dict[str, list[int]]:
    """Counts per series per month; `key` maps reference -> series."""
    index = {ym: i for i, ym in enumerate(months)}
    series: dict[str, list[int]] = {}
    for row in rows:
        local = row.received_at.astimezone(UK)
        i = index.get((local.year, local.month))
        if i is None:
            continue
        name = key[row.reference]
        series.setdefault(name, [0] * len(months))[i] += 1
    return series


def agency_series(rows: list[DashboardRow], months: list[tuple[int, int]]) -> dict[str, list[int]]:
    """Referrals a month by referring agency: the busiest agencies, then the rest."""
    counts: dict[str, int] = {}
    for row in rows:
        name = row.agency or NOT_GIVEN
        counts[name] = counts.get(name, 0) + 1
    ranked = sorted((n for n in counts if n != NOT_GIVEN), key=lambda n: (-counts[n], n))
    named = set(ranked[:TOP_AGENCIES]) if len(ranked) > TOP_AGENCIES + 1 else set(ranked)
    key = {
        r.reference: (r.agency if r.agency in named else OTHER) if r.agency else NOT_GIVEN
        for r in rows
    }
    found = _by_month(rows, months, key)
    order = [n for n in ranked if n in named] + [OTHER, NOT_GIVEN]
    return {n: found[n] for n in order if n in found}


def decision_series(
    rows: list[DashboardRow], months: list[tuple[int, int]]
) -> dict[str, list[int]]:
    """Referrals a month (by month received) by the SIRG decision made on them."""
    key = {r.reference: status_label(r.decision) if r.decision else UNDECIDED for r in rows}
    found = _by_month(rows, months, key)
    order = [status_label(d) for d in DECISIONS] + [UNDECIDED]
    return {n: found[n] for n in order if n in found}


def days_to_decision(row: DashboardRow) -> int | None:
    """Working days from receipt (UK date) to the SIRG decision; None when undecided."""
    if row.decision_date is None:
        return None
    return working_days_between(row.received_at.astimezone(UK).date(), row.decision_date)


def timing(rows: list[DashboardRow]) -> tuple[dict[str, int], list[int]]:
    """Decisions by working days taken (buckets), and every decided referral's days."""
    buckets = {label: 0 for _, _, label in BUCKETS} | {LATE_BUCKET: 0}
    days = []
    for row in rows:
        taken = days_to_decision(row)
        if taken is None:
            continue
        days.append(taken)
        for low, high, label in BUCKETS:
            if low <= taken <= high or (taken < 0 and low == 0):
                buckets[label] += 1
                break
        else:
            buckets[LATE_BUCKET] += 1
    return buckets, days


def _chart(table: Table, title: str, colours: dict[str, str] | None = None) -> Markup:
    return stacked_bars(title, table.labels, table.rows, colours)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> HTMLResponse:
    """The work waiting now, then counts of the last twelve months (charts and tables)."""
    today = uk_today(now)
    months = last_months(today)
    first = datetime.combine(date(months[0][0], months[0][1], 1), time.min, tzinfo=UK)
    with session_scope(engine) as db:
        rows = dashboard_rows(db, since=first)
        work = work_counts(db, today)
        record_event(db, user.name, "dashboard", 0, "viewed", now)
    labels = [month_label(m) for m in months]
    agencies = Table(
        "Referrals received a month, by referring agency", labels, agency_series(rows, months)
    )
    decisions = Table(
        "Referrals received a month, by SIRG decision", labels, decision_series(rows, months)
    )
    buckets, days = timing(rows)
    within = sum(1 for d in days if d <= STATUTORY_DAYS)
    timing_table = Table(
        "SIRG decisions by working days from receipt",
        list(buckets),
        {"Decisions": list(buckets.values())},
    )
    late = {label for low, _, label in BUCKETS if low > STATUTORY_DAYS} | {LATE_BUCKET}
    in_time, over = f"Within {STATUTORY_DAYS} working days", f"Over {STATUTORY_DAYS} working days"
    timing_chart = stacked_bars(
        timing_table.caption,
        timing_table.labels,
        {
            in_time: [0 if label in late else v for label, v in buckets.items()],
            over: [v if label in late else 0 for label, v in buckets.items()],
        },
        {in_time: "#009e73", over: "#d55e00"},
        bar_width=56,
    )
    ordered = sorted(days)
    median = (
        None if not ordered else (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2
    )
    return page(
        request,
        "dashboard.html",
        work=work,
        since=first.date(),
        total=len(rows),
        tables=[
            (agencies, _chart(agencies, agencies.caption)),
            (decisions, _chart(decisions, decisions.caption)),
        ],
        timing=timing_table,
        timing_chart=timing_chart,
        decided=len(days),
        within=within,
        median=median,
        statutory=STATUTORY_DAYS,
    )
