"""WCAG 2.2 AA on every page of the review queue, measured in Chromium with axe-core.

Each page is opened as the person who would see it (viewer, officer, admin, or no one
signed in), in its ordinary state and in its error and empty states, and checked twice:
axe-core (vendored in `vendor/axe-core`, rules tagged WCAG 2.0/2.1/2.2 A and AA) must
report no violation, and at 320 CSS pixels wide the page must not scroll sideways
(WCAG 1.4.10 reflow; tables become stacked rows). The queue must also fit 1,366 px.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from review_support import Site, add_referral, axe_violations, rejected_scan
from scan_support import scanned_referral
from test_review_browser import shot, sign_in

NARROW, LAPTOP = 320, 1366


@dataclass
class Findings:
    """What every page checked so far broke, by page name."""

    axe: dict[str, list[str]] = field(default_factory=dict)
    reflow: dict[str, int] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)

    def check(self, page: Any, name: str) -> None:
        """Run axe-core and the reflow check on the page as it stands."""
        self.pages.append(name)
        broken = axe_violations(page)
        if broken:
            self.axe[name] = broken
        width = page.viewport_size["width"]
        page.set_viewport_size({"width": NARROW, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > NARROW:
            self.reflow[name] = wide
            shot(page, f"reflow-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png", full=True)
        page.set_viewport_size({"width": width, "height": 900})

    def assert_clean(self) -> None:
        assert self.axe == {}, "axe-core violations"
        assert self.reflow == {}, f"wider than {NARROW} CSS px (scroll width by page)"


def _first_link(page: Any, pattern: str) -> str | None:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    return next((h for h in hrefs if re.search(pattern, h)), None)


def _open(page: Any, url: str, findings: Findings, name: str) -> None:
    page.goto(url)
    findings.check(page, name)


def test_every_page_meets_wcag_22_aa_and_reflows(
    site: Site, live: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = Findings()
    for n in range(40):  # a long queue: more than one page of referrals
        add_referral(site.engine, f"SIRG-2026-{700 + n:04d}", status="new")
    rejected_scan(site, "held-1")  # a message on the quarantine page, to open and key in
    # The pages forbid inline scripts (CSP); only axe's own, injected here, is let in.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()

    _open(page, f"{live}/login", findings, "sign-in")
    page.fill("#name", "olly")
    page.fill("#password", "not the password at all")
    page.click("button[type=submit]")
    findings.check(page, "sign-in, wrong password")

    sign_in(page, live, "olly")
    findings.check(page, "queue (officer)")
    page.set_viewport_size({"width": LAPTOP, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP, "queue at 1,366 px"
    page.set_viewport_size({"width": 1280, "height": 900})
    _open(page, f"{live}/?q=nobody-matches-this", findings, "queue, nothing found")
    _open(page, f"{live}/dashboard", findings, "dashboard")
    _open(page, f"{live}/quarantine", findings, "quarantine")
    held = _first_link(page, r"/quarantine/\d+$")
    if held:
        _open(page, held, findings, "held message")
        page.click("text=Not a referral") if page.locator("text=Not a referral").count() else None
        dismiss = page.locator("form[action$='/dismiss'] button[type=submit]")
        if dismiss.count():
            dismiss.first.click()
            findings.check(page, "held message, reason missing")
    keying = _first_link(page, r"/quarantine/\d+/referral$")
    if keying:
        _open(page, keying, findings, "keying a referral by hand")
    page.goto(f"{live}/")
    referral = _first_link(page, r"/referrals/SIRG-\d{4}-\d{4}$")
    assert referral is not None
    _open(page, referral, findings, "referral")
    milestone = page.locator("form.milestone-form[action$='/milestones/panel_notified']")
    if milestone.count():
        page.locator("details.milestone-details", has=milestone).locator("summary").click()
        milestone.locator("input[name=on]").fill("not a date")
        milestone.locator("button[type=submit]").click()
        findings.check(page, "referral, statutory date refused")
    correct = _first_link(page, r"/correct\?key=child\.dob")
    assert correct is not None
    _open(page, correct, findings, "correction")
    page.locator("main form input[type=text]").first.fill("31/02/2024")
    page.locator("main form button[type=submit]").first.click()
    findings.check(page, "correction, invalid date")
    merge = f"{live}/referrals/SIRG-2026-0700/merge"
    _open(page, f"{merge}?other=SIRG-1999-0001", findings, "merge, unknown reference")
    _open(page, f"{merge}?other=SIRG-2026-0701", findings, "merge, confirmation")
    page.click("button:has-text('Confirm the merge')")
    findings.check(page, "merge, reason missing")
    page.fill("#reason", "the same incident, sent again as a PDF")
    page.click("button:has-text('Confirm the merge')")
    _open(page, f"{live}/referrals/SIRG-2026-0701", findings, "referral, merged")
    _open(page, f"{live}/referrals/SIRG-1999-0001", findings, "not found")
    _open(page, f"{live}/meetings", findings, "meetings")
    # Made late, so the queue's first referral above stays the sample's typed one.
    scan = scanned_referral(site, monkeypatch, "a11y-scan")
    _open(page, f"{live}/referrals/{scan}/check", findings, "checking a scan")
    page.fill("#f-child-dob", "31/02/2019")
    page.click("button:has-text('Confirm the checked referral')")
    findings.check(page, "checking a scan, invalid date")

    page.click("text=Sign out")
    sign_in(page, live, "ada")
    _open(page, f"{live}/audit", findings, "audit log")
    _open(page, f"{live}/admin/users", findings, "users")
    _open(page, f"{live}/admin/settings", findings, "settings")
    _open(page, f"{live}/referrals/SIRG-2026-0701", findings, "referral, merged (admin)")

    page.click("text=Sign out")
    sign_in(page, live, "vera")
    findings.check(page, "queue (viewer)")
    _open(page, referral, findings, "referral (viewer)")
    _open(page, f"{live}/quarantine", findings, "quarantine (viewer)")
    _open(page, f"{live}/referrals/{scan}/check", findings, "checking a scan (viewer)")

    print(f"axe-core on {len(findings.pages)} pages and states: {sorted(findings.pages)}")
    for name, broken in findings.axe.items():
        print(f"{name}:", *broken, sep="\n  ")
    for name, wide in findings.reflow.items():
        print(f"{name}: {wide} px wide at {NARROW} px")
    findings.assert_clean()
