"""The review queue in a real browser (Debian chromium driven by Playwright).

An officer signs in, finds the new urgent referral at the top of the queue, opens it,
sees the values beside the document, corrects one, takes it, moves it to Ready for SIRG;
an admin then sees every step in the audit log. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from review_support import PASSWORD, Site, add_referral, rejected_scan

from parsers.statutory import due_dates

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def expect(locator: Any) -> Any:
    """Playwright's waiting assertions (imported here: playwright may be missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page: Any, name: str, full: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=full)
    print(f"screenshot: {path}")
    return path


def older_routine_referrals(site: Site) -> None:
    """Routine referrals from earlier days: one overdue, one due within a working day,
    one decided (its clock stopped). Routine, so the new urgent one still comes first."""
    for reference, days_ago, status in (
        ("SIRG-2026-0090", 12, "new"),
        ("SIRG-2026-0091", 6, "needs_info"),
        ("SIRG-2026-0092", 30, "decision_plr"),
    ):
        received = site.clock.now - timedelta(days=days_ago)
        panel, rapid = due_dates(received)
        add_referral(
            site.engine,
            reference,
            received=received,
            panel_due=panel,
            rapid_review_due=rapid,
            status=status,
            agency="Liverpool City Council Children's Services",
        )


def test_an_officer_works_a_new_urgent_referral(site: Site, live: str, browser: Any) -> None:
    older_routine_referrals(site)
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")

    # Signed out, the queue sends us to the sign-in page.
    page.goto(live + "/")
    assert "/login" in page.url
    sign_in(page, live, "olly")
    assert page.url == live + "/"

    # The new urgent referral is at the top of the queue; late dates are red.
    first = page.locator("table.queue tbody tr").first
    assert page.locator(".days.late").count() >= 2
    assert "Urgent" in first.inner_text() and "New" in first.inner_text()
    reference = first.locator("td.ref a").inner_text()
    assert reference == "SIRG-2026-0001"
    shot(page, "queue.png")

    # Open it: the values by the form's sections, beside the original document.
    first.locator("td.ref a").click()
    page.wait_for_url(f"{live}/referrals/{reference}")
    record = page.locator(".record")
    document = page.locator(".doc .pane")
    assert "1. Referrer details" in record.inner_text()
    assert "Lily-Mae Kavanagh" in record.inner_text()
    assert "Lily-Mae Kavanagh" in document.inner_text()
    left, right = record.bounding_box(), document.bounding_box()
    assert left is not None and right is not None
    assert left["x"] + left["width"] <= right["x"]  # side by side
    assert right["y"] < left["y"] + 400  # level with the record, not below it
    shot(page, "referral.png")
    shot(page, "referral-full.png", full=True)
    # "Found in" jumps to the place in the document the value was read from.
    page.locator("#f-child-name .prov a").first.click()
    assert page.evaluate("location.hash") == "#at-docx-table-4-row-1-cell-2"
    target = page.locator("#at-docx-table-4-row-1-cell-2")
    assert target.inner_text() == "Lily-Mae Kavanagh" and target.is_visible()
    shot(page, "referral-source.png")

    # Correct one value.
    page.locator("#f-child-aliases .prov a.edit").click()
    page.wait_for_url(f"{live}/referrals/{reference}/correct?key=child.aliases")
    page.fill("#value", "Lily-Mae Dunne-Kavanagh")
    page.fill("#note", "confirmed with the referrer by phone")
    shot(page, "correct.png")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url(f"{live}/referrals/{reference}#flash")
    row = page.locator("#f-child-aliases")
    assert "Lily-Mae Dunne-Kavanagh" in row.inner_text()
    assert "Corrected" in row.inner_text() and "Lily-Mae Dunne" in row.inner_text()

    # Take it, then move it to Ready for SIRG.
    page.select_option("#assignee", "olly")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Assigned to olly")
    expect(page.locator(".head .facts")).to_contain_text("Assigned to olly")
    page.select_option("#to_status", "ready_for_sirg")
    page.fill("#note", "for Tuesday's SIRG")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Moved to Ready for SIRG")
    assert "Ready for SIRG" in page.locator("h1 .badge.status").inner_text()
    assert "for Tuesday's SIRG" in page.locator("#timeline").inner_text()

    # An officer has no audit log; an admin sees every step in it.
    assert page.locator("nav >> text=Audit log").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live}/login")
    sign_in(page, live, "ada")
    page.goto(f"{live}/audit?actor=olly")
    log = page.locator("table.queue tbody").inner_text()
    for step in ("login", "viewed", "value corrected", "assigned", "status changed"):
        assert step in log, step
    assert reference in log
    shot(page, "audit.png")


def test_an_officer_keys_a_scanned_referral_in_by_hand(site: Site, live: str, browser: Any) -> None:
    message_id = rejected_scan(site, "browser-scan")
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
    sign_in(page, live, "olly")
    page.goto(f"{live}/quarantine")
    page.locator(f"#message-{message_id}").get_by_role(
        "link", name="Create referral by hand"
    ).click()
    page.wait_for_url(f"{live}/quarantine/{message_id}/referral")
    # The form on the left, the scanned PDF on the right.
    form, original = page.locator("form.record"), page.locator(".doc iframe")
    left, right = form.bounding_box(), original.bounding_box()
    assert left is not None and right is not None
    assert left["x"] + left["width"] <= right["x"]
    page.fill("#f-child-name", "Siobhán O'Neill")
    page.fill("#f-child-dob", "3rd April 2019")
    page.fill("#f-child-nhs-number", "123 456 7890")  # a wrong check digit
    page.check("#f-criteria-1")
    shot(page, "keying.png")
    page.get_by_role("button", name="Create referral").click()
    # A wrong value comes back marked, with everything typed still there.
    expect(page.locator(".error-box")).to_contain_text("1 answer(s) need putting right")
    assert page.input_value("#f-child-name") == "Siobhán O'Neill"
    assert page.is_checked("#f-criteria-1")
    page.fill("#f-child-nhs-number", "")
    page.get_by_role("button", name="Create referral").click()
    expect(page.locator(".flash")).to_contain_text("created from message")
    assert "Siobhán O'Neill" in page.locator("#f-child-name").inner_text()
    assert "3 Apr 2019" in page.locator("#f-child-dob").inner_text()  # read day first
    assert page.locator(".doc iframe").count() == 1  # the scan beside the record
    shot(page, "keyed-referral.png")
