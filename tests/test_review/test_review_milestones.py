"""Statutory milestones: the clocks (working days, bank holidays, lateness kept after a
decision), recording and correcting dates, the queue's due filters, the dashboard's work
list, on SQLite and once on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from review_support import PASSWORD, Clock, Site, add_referral, login, queue_references, token
from sqlalchemy import Engine
from sqlmodel import col, select

from intake.settings import Settings
from parsers.statutory import due_dates
from review.app import create_app
from review.statutory import clock_text, parse_uk_date
from review.users import add_user
from storage import milestones, workflow
from storage import purge as purging
from storage.db import make_engine, session_scope
from storage.milestones import ClockState, Input, Milestone, MilestoneError, clock
from storage.tables import AuditEvent, InboundMessage, ReferralMilestone
from storage.workflow import by_reference

PANEL, OFSTED, RAPID = (
    Milestone.PANEL_NOTIFIED,
    Milestone.OFSTED_NOTIFIED,
    Milestone.RAPID_REVIEW_COMPLETED,
)
# Tuesday 1 December 2026, 10:00 UK; referrals received Monday 23 November.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PANEL_DUE, RAPID_DUE = due_dates(RECEIVED)  # Mon 30 Nov, Mon 14 Dec


def referral(engine: Engine, reference: str, status: str = "new", **kwargs: Any) -> None:
    add_referral(
        engine,
        reference,
        received=RECEIVED,
        panel_due=PANEL_DUE,
        rapid_review_due=RAPID_DUE,
        status=status,
        **kwargs,
    )


def clocks_of(engine: Engine, reference: str, today: date) -> dict[Milestone, milestones.Clock]:
    with session_scope(engine) as db:
        found = by_reference(db, reference)
        assert found is not None
        return milestones.clocks(db, found, today)


def record(engine: Engine, reference: str, kind: Milestone, on: date | None, **kwargs: str) -> None:
    with session_scope(engine) as db:
        found = by_reference(db, reference)
        assert found is not None
        milestones.record(
            db,
            found,
            kind,
            on,
            kwargs.get("by", "J Smith, LSCP"),
            kwargs.get("panel_reference", ""),
            kwargs.get("actor", "olly"),
            NOW,
        )


# --------------------------------------------------------------------------- clocks


def test_clocks_count_working_days_skipping_weekends_and_bank_holidays() -> None:
    friday = date(2026, 12, 18)
    running = ClockState.RUNNING
    assert due_dates(RECEIVED) == (date(2026, 11, 30), date(2026, 12, 14))
    # From Friday, Tuesday is two working days away; on Monday a Friday deadline is 1 late.
    assert clock(PANEL, date(2026, 12, 22), running, None, friday).left == 2
    assert clock(PANEL, friday, running, None, date(2026, 12, 21)).late == 1
    # Christmas Day and Boxing Day (moved to Monday 28th) are not working days.
    late = clock(PANEL, date(2026, 12, 24), running, None, date(2026, 12, 29))
    assert (late.late, late.left) == (1, None)
    assert clock_text(late) == ("Overdue by 1 working day", "late")
    # Due on Wednesday 23rd, notified on Tuesday 29th: Thursday 24th and the 29th count.
    done = clock(PANEL, date(2026, 12, 23), ClockState.RECORDED, date(2026, 12, 29), friday)
    assert done.late == 2 and not done.running
    assert clock_text(done) == ("Notified 29 Dec 2026 — 2 working days late", "was-late")
    # Notified on the Saturday after a Friday deadline: still late, by one working day.
    weekend = clock(PANEL, friday, ClockState.RECORDED, date(2026, 12, 19), friday)
    assert weekend.late == 1
    on_time = clock(RAPID, friday, ClockState.RECORDED, date(2026, 12, 17), friday)
    assert clock_text(on_time) == ("Completed 17 Dec 2026 — on time", "done")
    assert clock_text(clock(PANEL, friday, running, None, friday)) == ("Due today", "late")
    soon = clock(PANEL, date(2026, 12, 23), running, None, friday)
    assert clock_text(soon) == ("Due in 3 working days", "ok")


def test_a_late_notification_stays_late_after_the_decision_and_closing(site: Site) -> None:
    referral(site.engine, "SIRG-2026-0500", status="ready_for_sirg")
    today = date(2026, 12, 1)
    before = clocks_of(site.engine, "SIRG-2026-0500", today)
    assert before[PANEL].running and before[PANEL].late == 1  # due Monday 30th
    assert before[OFSTED].due == PANEL_DUE and before[RAPID].left == 9
    record(site.engine, "SIRG-2026-0500", PANEL, date(2026, 12, 1), panel_reference="NP-123")
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0500")
        assert found is not None
        workflow.change_status(db, found, workflow.RAPID_REVIEW, None, today, "olly", NOW)
    later = date(2026, 12, 4)
    after = clocks_of(site.engine, "SIRG-2026-0500", later)
    assert after[PANEL].state is ClockState.RECORDED and after[PANEL].late == 1
    recorded = after[PANEL].recorded
    assert recorded is not None and recorded.panel_reference == "NP-123"
    # The decision does not stop the clocks still owed: Ofsted is now 4 working days late.
    assert after[OFSTED].running and after[OFSTED].late == 4
    assert after[RAPID].running and after[RAPID].left == 6
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0500")
        assert found is not None
        workflow.change_status(db, found, workflow.CLOSED, None, None, "olly", NOW)
    closed = clocks_of(site.engine, "SIRG-2026-0500", date(2027, 1, 4))
    assert closed[PANEL].late == 1 and closed[PANEL].state is ClockState.RECORDED
    assert closed[OFSTED].state is ClockState.CLOSED and not closed[OFSTED].running
    # A purge removes who made the notification; its date and the Panel reference stay.
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0500")
        assert found is not None
        purging.purge(db, found, "ada", NOW)
        kept = db.exec(select(ReferralMilestone)).one()
    assert (kept.notified_by, kept.panel_reference, kept.on_date) == (
        None,
        "NP-123",
        date(2026, 12, 1),
    )


def test_a_decision_that_nothing_is_owed_stops_the_clocks(site: Site) -> None:
    referral(site.engine, "SIRG-2026-0501", status="ready_for_sirg")
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0501")
        assert found is not None
        workflow.change_status(db, found, workflow.NFA, None, date(2026, 11, 27), "olly", NOW)
    stopped = clocks_of(site.engine, "SIRG-2026-0501", date(2026, 12, 10))
    assert all(c.state is ClockState.NOT_NEEDED and c.late == 0 for c in stopped.values())
    assert stopped[PANEL].stopped_on == date(2026, 11, 27)


# --------------------------------------------------------------------------- changes


def test_recording_is_checked_as_an_officer_would_expect(site: Site) -> None:
    referral(site.engine, "SIRG-2026-0502")

    def errors(kind: Milestone, on: date | None, by: str = "", ref: str = "") -> set[Input]:
        with pytest.raises(MilestoneError) as caught:
            record(site.engine, "SIRG-2026-0502", kind, on, by=by, panel_reference=ref)
        return set(caught.value.errors)

    assert errors(PANEL, date(2026, 12, 2), "J Smith") == {Input.ON}  # tomorrow
    assert errors(PANEL, date(2026, 11, 20), "J Smith") == {Input.ON}  # before it came
    assert errors(PANEL, None, "") == {Input.ON, Input.BY}
    assert errors(OFSTED, date(2026, 11, 24), "J Smith", "NP-1") == {Input.PANEL_REFERENCE}
    assert errors(PANEL, date(2026, 11, 24), "J Smith", "<b>") == {Input.PANEL_REFERENCE}
    # Who completed a Rapid Review is optional; the same milestone cannot be recorded twice.
    record(site.engine, "SIRG-2026-0502", RAPID, date(2026, 11, 30), by="")
    assert errors(RAPID, date(2026, 11, 30)) == {Input.ON}
    assert parse_uk_date("3/12/2026") == date(2026, 12, 3)
    assert parse_uk_date(" 03-12-2026 ") == parse_uk_date("2026-12-03") == date(2026, 12, 3)
    assert parse_uk_date("") is None
    for bad in ("31/02/2026", "12/2026", "tomorrow"):
        with pytest.raises(ValueError):
            parse_uk_date(bad)


def test_an_admin_corrects_and_withdraws_keeping_the_old_row(site: Site) -> None:
    referral(site.engine, "SIRG-2026-0503")
    record(site.engine, "SIRG-2026-0503", PANEL, date(2026, 11, 26), by="A Person, LSCP")
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0503")
        assert found is not None
        with pytest.raises(MilestoneError):
            milestones.correct(db, found, PANEL, date(2026, 11, 25), "A", "", "", "ada", NOW)
        milestones.correct(
            db, found, PANEL, date(2026, 11, 25), "A Person, LSCP", "", "typo", "ada", NOW
        )
    assert clocks_of(site.engine, "SIRG-2026-0503", date(2026, 12, 1))[PANEL].stopped_on == date(
        2026, 11, 25
    )
    with session_scope(site.engine) as db:
        found = by_reference(db, "SIRG-2026-0503")
        assert found is not None
        milestones.clear(db, found, PANEL, "recorded on the wrong referral", "ada", NOW)
        rows = db.exec(select(ReferralMilestone).order_by(col(ReferralMilestone.id))).all()
        events = db.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith("milestone"))
        ).all()
    assert [r.cleared_by for r in rows] == ["ada", "ada"]
    assert rows[0].clear_reason == "typo"
    assert clocks_of(site.engine, "SIRG-2026-0503", date(2026, 12, 1))[PANEL].running
    assert [e.action for e in events] == [
        "milestone recorded",
        "milestone corrected",
        "milestone cleared",
    ]
    # The audit keeps kinds and dates: never who was named, nor the reason.
    assert all("Person" not in (e.detail or "") and "typo" not in (e.detail or "") for e in events)
    assert events[1].detail == "panel_notified 2026-11-25 (was 2026-11-26)"


# --------------------------------------------------------------------------- pages


def test_queue_filters_and_the_dashboard_work_list(site: Site) -> None:
    site.clock.now = NOW
    referral(site.engine, "SIRG-2026-0510")  # Panel due yesterday: overdue
    referral(site.engine, "SIRG-2026-0511")  # the same, but both notifications recorded
    record(site.engine, "SIRG-2026-0511", PANEL, date(2026, 11, 27))
    record(site.engine, "SIRG-2026-0511", OFSTED, date(2026, 11, 27))
    add_referral(  # due today
        site.engine,
        "SIRG-2026-0512",
        received=RECEIVED,
        panel_due=date(2026, 12, 1),
        rapid_review_due=RAPID_DUE,
    )
    client = site.client("vera")
    overdue = queue_references(client.get("/?due=overdue&q=SIRG-2026-051").text)
    assert overdue == ["SIRG-2026-0510"]
    assert (
        queue_references(client.get("/?overdue=1&q=SIRG-2026-051").text) == overdue
    )  # older links
    assert queue_references(client.get("/?due=today&q=SIRG-2026-051").text) == ["SIRG-2026-0512"]
    unassigned = queue_references(client.get("/?assigned=none&q=SIRG-2026-051").text)
    assert unassigned == queue_references(client.get("/?assignee=-&q=SIRG-2026-051").text) != []
    page = client.get("/?q=SIRG-2026-0511").text
    assert "Notified 27 Nov 2026 — on time" in page
    dashboard = client.get("/dashboard").text
    work = dashboard.index("Work to do")
    assert work < dashboard.index("The last twelve months")
    for href in ("/?due=today", "/?due=overdue", "/?assignee=-", "/?status=needs_info"):
        assert f'href="{href}"' in dashboard
    assert 'href="/quarantine"' in dashboard
    with session_scope(site.engine) as db:
        held = len(
            db.exec(select(InboundMessage).where(InboundMessage.state == "quarantined")).all()
        )
    assert re.search(rf'id="work-in-quarantine"><span class="count">{held}</span>', dashboard), (
        "the quarantine count"
    )
    due_today = re.search(r'id="work-due-today"><span class="count">(\d+)</span>', dashboard)
    assert due_today is not None
    assert int(due_today.group(1)) == len(queue_references(client.get("/?due=today").text))


def test_officers_record_viewers_only_read_admins_correct(site: Site) -> None:
    site.clock.now = NOW
    referral(site.engine, "SIRG-2026-0520")
    base = "/referrals/SIRG-2026-0520"
    viewer = site.client("vera")
    page = viewer.get(base).text
    assert "Statutory dates" in page and "Overdue by 1 working day" in page
    assert f'action="{base}/milestones/panel_notified"' not in page
    refused = viewer.post(
        f"{base}/milestones/panel_notified",
        data={"csrf_token": token(viewer), "on": "01/12/2026", "by": "J Smith"},
    )
    assert refused.status_code == 403

    officer = site.client("olly")
    csrf = token(officer)
    page = officer.get(base).text
    assert f'action="{base}/milestones/panel_notified"' in page
    bad = officer.post(
        f"{base}/milestones/panel_notified",
        data={"csrf_token": csrf, "on": "31/11/2026", "by": "", "panel_reference": "NP/77"},
    )
    assert bad.status_code == 400
    text = bad.text
    assert "<title>Error: SIRG-2026-0520" in text
    assert 'href="#ms-panel-notified-on">Enter a real date' in text
    assert 'href="#ms-panel-notified-by">Enter who made the notification' in text
    assert re.search(
        r'id="ms-panel-notified-on"[^>]*aria-describedby="ms-panel-notified-on-hint '
        r'ms-panel-notified-on-error"[^>]*aria-invalid="true"',
        text,
    )
    assert 'value="NP/77"' in text  # what was typed is kept
    done = officer.post(
        f"{base}/milestones/panel_notified",
        data={
            "csrf_token": csrf,
            "on": "1/12/2026",
            "by": "J Smith, LSCP",
            "panel_reference": "NP/77",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{base}#statutory-result"
    page = officer.get(base).text
    assert 'id="statutory-result" role="status" tabindex="-1"' in page
    assert "National Panel notified: recorded. Notified 1 Dec 2026 — 1 working day late." in page
    assert "J Smith, LSCP" in page and "NP/77" in page
    assert officer.get(base).text.count('id="statutory-result"') == 0  # shown once
    # Only an admin corrects a recorded date; the reason is required.
    fix = f"{base}/milestones/panel_notified/correct"
    assert officer.post(fix, data={"csrf_token": csrf, "on": "30/11/2026"}).status_code == 403
    admin = site.client("ada")
    admin_csrf = token(admin)
    missing = admin.post(fix, data={"csrf_token": admin_csrf, "on": "30/11/2026", "by": "J"})
    assert missing.status_code == 400 and 'href="#ms-panel-notified-fix-reason"' in missing.text
    admin.post(
        fix,
        data={
            "csrf_token": admin_csrf,
            "on": "30/11/2026",
            "by": "J Smith, LSCP",
            "reason": "the email was sent on Monday",
        },
    )
    assert "Notified 30 Nov 2026 — on time" in admin.get(base).text
    assert site.client().post(fix).status_code in (401, 403)


def test_milestones_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    app = create_app(
        Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False),
        engine=engine,
        clock=Clock(NOW),
    )
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        referral(engine, "SIRG-2026-0001")
        referral(engine, "SIRG-2026-0002")
        from fastapi.testclient import TestClient

        client = TestClient(app)
        assert login(client, "olly").status_code == 303
        assert queue_references(client.get("/?due=overdue").text) == [
            "SIRG-2026-0001",
            "SIRG-2026-0002",
        ]
        csrf = token(client)
        for kind in ("panel_notified", "ofsted_notified"):
            response = client.post(
                f"/referrals/SIRG-2026-0002/milestones/{kind}",
                data={"csrf_token": csrf, "on": "27/11/2026", "by": "J Smith, LSCP"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
        assert queue_references(client.get("/?due=overdue").text) == ["SIRG-2026-0001"]
        assert "Notified 27 Nov 2026 — on time" in client.get("/referrals/SIRG-2026-0002").text
        assert clocks_of(engine, "SIRG-2026-0002", date(2026, 12, 1))[RAPID].left == 9
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_recording_a_late_panel_notification_in_chromium(
    site: Site, live: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    site.clock.now = NOW
    referral(site.engine, "SIRG-2026-0530")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page.goto(f"{live}/login")
    page.fill("#name", "olly")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/")
    page.goto(f"{live}/referrals/SIRG-2026-0530")
    panel = page.locator("#clock-panel-notified")
    expect(panel.locator(".days")).to_have_text("Overdue by 1 working day")

    # Sent empty: the error summary takes the focus and links to the inputs at fault.
    panel.get_by_text("Record the National Panel notification").click()
    panel.get_by_role("button", name="Save National Panel notification").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    page.screenshot(path=str(SHOTS / "milestones-errors.png"), full_page=False)
    summary.get_by_role("link", name=re.compile("Enter the date")).click()
    expect(page.locator("#ms-panel-notified-on")).to_be_focused()

    page.fill("#ms-panel-notified-on", "1/12/2026")
    page.fill("#ms-panel-notified-by", "J Smith, LSCP")
    page.fill("#ms-panel-notified-panel_reference", "NP-2026-0042")
    page.get_by_role("button", name="Save National Panel notification").click()
    page.wait_for_url(f"{live}/referrals/SIRG-2026-0530#statutory-result")
    result = page.locator("#statutory-result")
    expect(result).to_be_focused()
    expect(result).to_contain_text("1 working day late")
    panel = page.locator("#clock-panel-notified")
    expect(panel.locator(".days")).to_have_text("Notified 1 Dec 2026 — 1 working day late")
    expect(panel).to_contain_text("NP-2026-0042")
    expect(panel.get_by_role("button", name="Save National Panel notification")).to_have_count(0)
    # Ofsted's clock still runs: the Panel's notification stops only its own.
    expect(page.locator("#clock-ofsted-notified .days")).to_have_text("Overdue by 1 working day")
    page.locator("#statutory").screenshot(path=str(SHOTS / "milestones-recorded.png"))

    # On a 320 px phone the card fits: nothing in it scrolls sideways.
    page.set_viewport_size({"width": 320, "height": 800})
    page.locator("#clock-ofsted-notified summary").click()
    card = page.locator("#statutory")
    assert card.evaluate("e => e.scrollWidth <= e.clientWidth")
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    card.screenshot(path=str(SHOTS / "milestones-320.png"))

    # The dashboard starts with the work list; each count opens its filtered queue.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live}/dashboard")
    overdue = page.locator("#work-overdue")
    expect(overdue.locator(".count")).to_have_text("1")  # Ofsted's clock still runs late
    page.screenshot(path=str(SHOTS / "milestones-dashboard.png"))
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    overdue.click()
    page.wait_for_url(f"{live}/?due=overdue")
    expect(page.locator("table.queue td.ref")).to_contain_text(["SIRG-2026-0530"])
