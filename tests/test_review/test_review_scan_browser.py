"""A scanned referral checked in a real browser (Debian chromium driven by Playwright).

A scanned form arrives; the officer finds it from the dashboard's "Check scan" count, opens
the check page, sees what was read beside the scan, the doubtful answers first, corrects a
name, fills in what could not be read and confirms: the referral is New, the correction
audited. The check page passes axe-core (WCAG 2.2 AA) and reflows at 320 px.
"""

from __future__ import annotations

from typing import Any

from review_support import Site, axe_violations
from scan_support import real_scanned_referral
from sqlmodel import select
from test_review_browser import expect, shot, sign_in

from parsers.formdef import load_form
from storage.db import session_scope
from storage.tables import AuditEvent, ReferralCorrection
from storage.workflow import by_reference

# What an officer types where the scan left a mandatory answer empty, by the field's type.
TYPED = {
    "date": "14/11/2024",
    "phone": "0151 496 0217",
    "email": "siobhan.mulcahy@merseyside.police.uk",
    "text": "Read from the scanned form by the officer.",
}


def _fill_empty_mandatory(page: Any) -> None:
    """Answer every mandatory question the scan left empty (which ones depends on the OCR)."""
    form = load_form()
    for key in form.mandatory_keys():
        field = form.field(key)
        inputs = page.locator(f'form.check [name="{key}"]')
        if field.type == "multi-choice":
            if not any(inputs.nth(i).is_checked() for i in range(inputs.count())):
                inputs.first.check()
        elif field.type == "choice":
            if not inputs.input_value():
                inputs.select_option(index=1)
        elif not inputs.input_value().strip():
            inputs.fill(TYPED.get(field.type, TYPED["text"]))


def test_an_officer_checks_a_scanned_referral_beside_the_scan(
    site: Site, live: str, browser: Any
) -> None:
    # The real scan reader, on an image-only PDF of the sample form.
    reference = real_scanned_referral(site, "browser-scan")
    # The pages allow no script (CSP); only axe's own, injected here, is let in.
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = context.new_page()
    sign_in(page, live, "olly")

    page.goto(f"{live}/dashboard")
    expect(page.locator("#work-check-scan .count")).to_have_text("1")
    page.locator("#work-check-scan").click()
    page.wait_for_url(f"{live}/?status=check_scan")
    row = page.locator("table.queue tbody tr").filter(has_text=reference)
    expect(row).to_contain_text("Check scan")
    row.get_by_role("link", name=reference).click()
    page.get_by_role("link", name="Check the scan").click()
    page.wait_for_url(f"{live}/referrals/{reference}/check")

    # Pre-filled with what was read; the doubtful answers first, marked in words.
    assert "Kavanagh" in page.input_value("#f-child-name")
    first = page.locator("section.first")
    expect(first.locator(".doubt").first).to_contain_text("Check – ")
    assert first.locator(".check-row").count() >= 1
    # Each answer beside the part of the scanned page it was read from.
    name_row = page.locator("#f-child-name-row")
    crop = name_row.get_by_role("img", name="Scan of “Child's full name”, page 1")
    expect(crop).to_be_visible()
    assert crop.evaluate("img => img.complete && img.naturalWidth > 0")
    field, picture = page.locator("#f-child-name").bounding_box(), crop.bounding_box()
    assert field is not None and picture is not None
    assert field["x"] + field["width"] <= picture["x"]  # side by side
    shot(page, "scan-check.png")
    shot(page, "scan-check-full.png", full=True)

    # WCAG 2.2 AA, and no sideways scrolling at 320 CSS px.
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    shot(page, "scan-check-320.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    # Correct the name as the scan shows it, answer what could not be read, confirm.
    page.fill("#f-child-name", "Lily-May Kavanagh")
    _fill_empty_mandatory(page)
    page.get_by_role("button", name="Confirm the checked referral").click()
    page.wait_for_url(f"{live}/referrals/{reference}#flash")
    expect(page.locator(".flash")).to_contain_text("answer(s) corrected; now New.")
    assert "New" in page.locator("h1 .badge.status").inner_text()
    name = page.locator("#f-child-name")
    assert "Lily-May Kavanagh" in name.inner_text() and "Corrected" in name.inner_text()
    shot(page, "scan-checked.png")

    with session_scope(site.engine) as db:
        referral = by_reference(db, reference)
        assert referral is not None and referral.status == "new" and referral.complete
        corrected = db.exec(
            select(ReferralCorrection).where(ReferralCorrection.referral_id == referral.id)
        ).all()
        actions = db.exec(
            select(AuditEvent.action).where(
                AuditEvent.entity_id == referral.id, AuditEvent.actor == "olly"
            )
        ).all()
    name_change = next(c for c in corrected if c.key == "child.name")
    assert name_change.after == "Lily-May Kavanagh" and name_change.actor == "olly"
    assert "value corrected" in actions and "scan checked" in actions
    context.close()
