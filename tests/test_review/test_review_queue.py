"""The inbox queue: order, filters, search, paging, days left."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from review_support import Site, add_referral, queue_references
from sqlmodel import select

from review.days import due, working_days_between
from storage.db import session_scope
from storage.tables import AuditEvent, Referral


def test_the_pipeline_referrals_are_listed_urgent_first(site: Site) -> None:
    page = site.client("vera").get("/")
    assert page.status_code == 200
    refs = queue_references(page.text)
    assert len(refs) == 5
    rows = page.text.split('<tr class="')[1:]
    urgent = ["is-urgent" in row.split('"')[0] for row in rows[: len(refs)]]
    # Every urgent row comes before every routine one.
    assert urgent == sorted(urgent, reverse=True) and any(urgent) and not all(urgent)
    assert "Merseyside Police" in page.text
    assert "Information missing" in page.text  # the needs-info sample


def child_cells(html: str) -> dict[str, str]:
    """Each queue row's Child cell as text, by reference."""
    cells = re.findall(
        r'<a href="/referrals/([^"]+)">[^<]*</a></td>\s*'
        r'<td class="child" data-label="Child">(.*?)</td>',
        html,
        re.S,
    )
    return {ref: " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for ref, cell in cells}


def test_a_viewer_sees_the_childs_initials_and_birth_year_never_the_name(site: Site) -> None:
    page = site.client("vera").get("/")
    # Lily-Mae Kavanagh, born 19 June 2020: the police sample.
    assert child_cells(page.text)["SIRG-2026-0001"] == "L.M.K. Born 2020"
    assert "Kavanagh" not in page.text and "Lily-Mae" not in page.text
    assert "19 Jun 2020" not in page.text


def test_officers_and_admins_see_the_childs_name_and_date_of_birth(site: Site) -> None:
    for name in ("olly", "ada"):
        cells = child_cells(site.client(name).get("/").text)
        assert cells["SIRG-2026-0001"] == "Lily-Mae Kavanagh Born 19 Jun 2020", name
    # A name with markup in it is shown as text.
    add_referral(site.engine, "SIRG-2026-0300", record={"child.name": "<b>Bo</b> Tate"})
    page = site.client("olly").get("/?q=2026-0300")
    assert child_cells(page.text)["SIRG-2026-0300"] == "&lt;b&gt;Bo&lt;/b&gt; Tate"


def test_the_csv_export_carries_no_name_for_anyone(site: Site) -> None:
    for name in ("vera", "olly", "ada"):
        text = site.client(name).get("/export.csv?status=all").text
        assert "SIRG-2026-0001" in text
        for part in ("Kavanagh", "Lily", "L.M.K.", "2020-06-19"):
            assert part not in text, (name, part)


def test_my_referrals_lists_only_those_assigned_to_me(site: Site) -> None:
    for reference, assignee in (("SIRG-2026-0001", "olly"), ("SIRG-2026-0002", "ada")):
        with session_scope(site.engine) as db:
            referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
            referral.assigned_to = assignee
            db.add(referral)
    client = site.client("olly")
    queue = client.get("/")
    link = re.search(
        r'<a href="(/\?assignee=olly)"( class="here" aria-current="page")?>My referrals</a>',
        queue.text,
    )
    assert link and not link.group(2)  # on the queue, the Queue link is the current page
    assert '<a href="/" class="here" aria-current="page">Queue</a>' in queue.text
    mine = client.get(link.group(1))
    assert queue_references(mine.text) == ["SIRG-2026-0001"]
    assert "<h1>My referrals</h1>" in mine.text
    assert 'class="here" aria-current="page">My referrals</a>' in mine.text
    assert re.search(r'<a href="/"\s*>Queue</a>', mine.text)
    assert mine.text.count('aria-current="page"') == 1
    # Viewers are never assigned a referral: no link for them.
    assert "My referrals" not in site.client("vera").get("/").text


def test_a_new_urgent_referral_due_soonest_is_at_the_top(site: Site) -> None:
    add_referral(
        site.engine,
        "SIRG-2026-0100",
        urgent=True,
        panel_due=date(2020, 1, 2),
        rapid_review_due=date(2020, 1, 16),
    )
    add_referral(site.engine, "SIRG-2026-0101", urgent=False, panel_due=date(2019, 1, 2))
    # Decided last year: its clock has stopped, so it waits below the live urgent ones.
    add_referral(
        site.engine,
        "SIRG-2026-0102",
        urgent=True,
        panel_due=date(2019, 1, 2),
        status="decision_plr",
    )
    refs = queue_references(site.client("vera").get("/").text)
    assert refs[0] == "SIRG-2026-0100"
    assert refs.index("SIRG-2026-0101") > refs.index("SIRG-2026-0001")  # routine after urgent
    assert (
        refs.index("SIRG-2026-0005") < refs.index("SIRG-2026-0102") < refs.index("SIRG-2026-0101")
    )


def test_filters_and_search(site: Site) -> None:
    add_referral(
        site.engine,
        "SIRG-2026-0200",
        agency="Alder Hey Children's NHS Foundation Trust",
        record={"child.name": "Zebedee Quill", "referrer.name": "Dr Ophelia Marsh"},
        status="ready_for_sirg",
    )
    client = site.client("vera")

    def refs(query: str) -> list[str]:
        return queue_references(client.get("/?" + query).text)

    assert refs("q=zebedee") == ["SIRG-2026-0200"]  # child's name, any case
    assert refs("q=OPHELIA") == ["SIRG-2026-0200"]  # referrer
    assert refs("q=2026-0200") == ["SIRG-2026-0200"]  # reference
    assert refs("q=%25") == []  # a typed % is a character, not a wildcard
    assert refs("status=ready_for_sirg") == ["SIRG-2026-0200"]
    assert refs("status=needs_info") == ["SIRG-2026-0004"]
    assert set(refs("urgency=not_urgent")) == {"SIRG-2026-0003", "SIRG-2026-0004", "SIRG-2026-0200"}
    assert refs("agency=Merseyside+Police") == ["SIRG-2026-0001"]
    assert refs("assignee=-") and refs("assignee=olly") == []
    assert refs("status=nonsense")  # unknown values fall back to the defaults


def test_overdue_and_days_left(site: Site) -> None:
    site.clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
    add_referral(
        site.engine,
        "SIRG-2026-0300",
        panel_due=date(2026, 11, 23),
        rapid_review_due=date(2026, 12, 4),
    )
    add_referral(  # overdue, but SIRG has decided: the clock has stopped
        site.engine,
        "SIRG-2026-0301",
        panel_due=date(2026, 11, 2),
        rapid_review_due=date(2026, 11, 16),
        status="decision_nfa",
    )
    add_referral(
        site.engine,
        "SIRG-2026-0302",
        panel_due=date(2026, 11, 26),
        rapid_review_due=date(2026, 12, 9),
    )
    client = site.client("vera")
    assert queue_references(client.get("/?overdue=1").text) == ["SIRG-2026-0300"]
    page = client.get("/?q=SIRG-2026-030").text
    assert '<span class="days late">2 working days overdue</span>' in page
    assert '<span class="days late">1 working day left</span>' in page  # tomorrow: red
    assert '<span class="days stopped">clock stopped</span>' in page
    assert '<span class="days ok">7 working days left</span>' in page


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    friday = date(2026, 12, 18)
    assert working_days_between(friday, date(2026, 12, 21)) == 1  # Monday
    # Christmas Day and Boxing Day (moved to Monday 28th) are not working days.
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert working_days_between(date(2026, 12, 29), date(2026, 12, 24)) == -1
    assert due(date(2026, 12, 21), friday, running=True).level == "late"
    assert due(date(2026, 12, 22), friday, running=True).level == "ok"
    assert due(None, friday, running=True).text == "no date"


def test_paging_fifty_to_a_page(site: Site) -> None:
    for n in range(120):
        add_referral(site.engine, f"SIRG-2025-{n:04d}", panel_due=date(2025, 1, 1))
    client = site.client("vera")
    first = client.get("/?sort=reference")
    assert len(queue_references(first.text)) == 50
    assert "Showing 1–50 of 125" in first.text
    assert "Page 1 of 3" in first.text
    last = client.get("/?sort=reference&page=3")
    assert len(queue_references(last.text)) == 25
    assert queue_references(last.text)[-1] == "SIRG-2026-0005"
    assert "Previous" in last.text and "Next" not in last.text
    assert queue_references(client.get("/?page=99").text) == []


def test_each_look_at_the_queue_is_audited_without_the_search_text(site: Site) -> None:
    client = site.client("vera")
    client.get("/?q=kavanagh&status=all")
    with session_scope(site.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.entity == "queue")).all()
    # The filters, but not the name typed: the audit log outlives every purge.
    assert [(e.actor, e.action, e.detail) for e in events] == [
        ("vera", "viewed", "status=all&q=(search not kept)")
    ]
