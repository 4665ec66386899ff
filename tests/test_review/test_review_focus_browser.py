"""After an action, focus is on its result, with no script; the queue at a laptop's width.

Chromium, as in test_review_browser.py: the redirect after a POST ends in #flash, and
the browser itself moves focus to the message (it has tabindex="-1"), so a screen
reader reads what happened and Tab carries on from there.
"""

from __future__ import annotations

from typing import Any

from review_support import Site, add_referral
from test_review_browser import expect, shot, sign_in

LONG_NAME = "Maximilian-Bartholomew Featherstonehaugh-Cholmondeley"


def test_assigning_lands_on_the_flash_message_and_my_referrals_lists_it(
    site: Site, live: str, browser: Any
) -> None:
    # A long name with a long word in it must wrap, not widen the table.
    add_referral(site.engine, "SIRG-2026-0400", record={"child.name": LONG_NAME}, urgent=True)
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-GB")
    sign_in(page, live, "olly")

    # A 1,366 px laptop: every column shown, nothing to scroll sideways, names in full.
    table = page.locator("table.queue")
    assert page.locator("table.queue thead th").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    # Within the page's margins, not only the window.
    assert table.evaluate(
        "t => t.getBoundingClientRect().right <= document.querySelector('form.filters')"
        ".getBoundingClientRect().right"
    )
    expect(page.locator("table.queue td.child").first).to_be_visible()
    assert "Lily-Mae Kavanagh" in table.inner_text()
    assert LONG_NAME in table.inner_text().replace("\n", "")
    shot(page, "queue-1366.png")

    page.goto(f"{live}/referrals/SIRG-2026-0001")
    page.select_option("#assignee", "olly")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_url(f"{live}/referrals/SIRG-2026-0001#flash")
    flash = page.locator("#flash")
    expect(flash).to_contain_text("Assigned to olly")
    expect(flash).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "flash"
    assert page.evaluate("document.activeElement.getAttribute('role')") == "status"
    shot(page, "assigned-flash.png")

    # A status change lands the same way.
    page.select_option("#to_status", "ready_for_sirg")
    page.get_by_role("button", name="Move", exact=True).click()
    page.wait_for_url(f"{live}/referrals/SIRG-2026-0001#flash")
    expect(page.locator("#flash")).to_contain_text("Moved to Ready for SIRG")
    assert page.evaluate("document.activeElement.id") == "flash"

    # My referrals: only what is assigned to olly, and the link marked as the page.
    page.get_by_role("link", name="My referrals").click()
    page.wait_for_url(f"{live}/?assignee=olly")
    current = page.locator('nav a[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_have_text("My referrals")
    refs = page.locator("table.queue td.ref a").all_inner_texts()
    assert refs == ["SIRG-2026-0001"]
