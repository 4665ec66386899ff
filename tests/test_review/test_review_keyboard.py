"""Keyboard use of the review pages in a real browser: the skip link, where we are, focus."""

from __future__ import annotations

from typing import Any

from review_support import Site
from test_review_browser import sign_in


def officer_page(live: str, browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-GB")
    sign_in(page, live, "olly")
    return page


def test_the_first_tab_offers_a_skip_link_that_lands_in_the_main_content(
    site: Site, live: str, browser: Any
) -> None:
    page = officer_page(live, browser)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.textContent]"
    )
    assert focused == ["skip", "Skip to main content"]
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().left") >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab goes to the first thing in the page's own content, not the header.
    page.keyboard.press("Tab")
    inside = page.evaluate("() => document.getElementById('main').contains(document.activeElement)")
    assert inside
    # The page we are on is marked for screen readers as well as by its look.
    current = page.locator('nav[aria-label="Main"] a[aria-current="page"]')
    assert current.count() == 1 and current.inner_text() == "Queue"
    page.goto(live + "/dashboard")
    assert page.locator('a[aria-current="page"]').inner_text() == "Dashboard"


def test_the_focus_ring_is_dark_inside_and_yellow_outside(
    site: Site, live: str, browser: Any
) -> None:
    page = officer_page(live, browser)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link in the blue header
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineColor, s.outlineWidth, s.boxShadow]; }"
    )
    assert style[0] == "rgb(11, 12, 12)" and style[1] == "3px"
    assert "rgb(255, 221, 0)" in style[2]
