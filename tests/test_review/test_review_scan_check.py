"""The officer's check of a referral read from a scan: pre-filled, doubtful answers first,
each beside its crop of the page; confirming stores changes as corrections and moves it on."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from PIL import Image
from review_support import Site, token
from scan_support import SENDER, form_fields, scanned_referral
from sqlmodel import col, select

from storage.db import session_scope
from storage.tables import (
    AuditEvent,
    OutboxMessage,
    ReferralCorrection,
    ReferralStatusChange,
)
from storage.workflow import by_reference

UNCERTAIN = ("child.dob", "household[1].dob")
UNREADABLE = ("child.nhs_number", "referrer.phone")


@pytest.fixture
def scanned(site: Site, monkeypatch: pytest.MonkeyPatch) -> str:
    """A scanned referral filed by the real pipeline (the stand-in reader reads it)."""
    return scanned_referral(site, monkeypatch, "check-1", UNCERTAIN, UNREADABLE)


def _confirm(site: Site, client: Any, reference: str, changes: dict[str, str]) -> Any:
    page = client.get(f"/referrals/{reference}/check").text
    fields = form_fields(page, f"/referrals/{reference}/check")
    data = [(k, changes.get(k, v)) for k, v in fields]
    data += [(k, v) for k, v in changes.items() if k not in dict(fields)]
    return client.post(
        f"/referrals/{reference}/check",
        content=urlencode(data),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_the_check_page_opens_prefilled_with_the_doubtful_answers_first(
    site: Site, scanned: str
) -> None:
    client = site.client("olly")
    referral_page = client.get(f"/referrals/{scanned}").text
    assert f'href="/referrals/{scanned}/check"' in referral_page
    assert "Check scan" in referral_page
    page = client.get(f"/referrals/{scanned}/check")
    assert page.status_code == 200
    html = page.text
    # Pre-filled with what was read, dates the UK way.
    assert 'name="child.name" value="Lily-Mae Kavanagh"' in html
    assert re.search(r'name="child\.dob" value="\d\d/\d\d/\d{4}"', html)
    assert 'name="referrer.phone" value=""' in html
    # Unreadable first, then uncertain (each kind in form order), then the sections; in words.
    first = html.index('id="first-title"')
    order = [html.index(f'id="{k}-row"') for k in ("f-referrer-phone", "f-child-nhs-number")]
    order += [html.index(f'id="{k}-row"') for k in ("f-child-dob", "f-household-1-dob")]
    order.append(html.index('id="section-1"'))
    assert first < order[0] and order == sorted(order)
    assert html.count("<strong>Check – could not be read:</strong> handwriting") == 2
    assert html.count("<strong>Check – not sure:</strong> the writing is unclear") == 2
    assert "Read with 55% confidence" in html and "Read with 96% confidence" in html
    # Each input once (a doubtful answer is not repeated in its section).
    assert html.count('name="child.dob"') == 1
    # Each answer beside its crop, with an accessible name.
    assert f'src="/referrals/{scanned}/scan/crop?key=child.name"' in html
    assert 'alt="Scan of “Child&#39;s full name”, page 1"' in html


def test_crops_and_pages_need_a_sign_in(site: Site, scanned: str) -> None:
    anonymous = site.client()
    for url in (
        f"/referrals/{scanned}/scan/crop?key=child.name",
        f"/referrals/{scanned}/scan/pages/0.png",
    ):
        response = anonymous.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    viewer = site.client("vera")
    crop = viewer.get(f"/referrals/{scanned}/scan/crop?key=child.name")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
    assert crop.headers["cache-control"].startswith("private")
    small = Image.open(io.BytesIO(crop.content))
    whole = viewer.get(f"/referrals/{scanned}/scan/pages/0.png")
    assert whole.status_code == 200
    page = Image.open(io.BytesIO(whole.content))
    assert 780 <= page.width <= 860  # A4 at about 100 dpi
    assert small.width < page.width and small.height < page.height / 10
    assert viewer.get(f"/referrals/{scanned}/scan/pages/9.png").status_code == 404
    assert viewer.get(f"/referrals/{scanned}/scan/crop?key=no.such").status_code == 404
    # A referral from a typed form has no scan to check.
    assert viewer.get("/referrals/SIRG-2026-0001/check").status_code == 404
    assert viewer.get("/referrals/SIRG-2026-0001/scan/pages/0.png").status_code == 404


def test_confirming_stores_each_change_as_a_correction_and_makes_it_new(
    site: Site, scanned: str
) -> None:
    client = site.client("olly")
    response = _confirm(
        site,
        client,
        scanned,
        {
            "child.name": "Lily-May Kavanagh",
            "referrer.phone": "0151 496 0217",
            "child.nhs_number": "",
        },
    )
    assert response.status_code == 303, response.text
    flash = client.get(response.headers["location"].removesuffix("#flash")).text
    assert "Scan checked: 2 answer(s) corrected; now New." in flash
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None and referral.id is not None
        corrections = db.exec(
            select(ReferralCorrection).where(ReferralCorrection.referral_id == referral.id)
        ).all()
        changes = db.exec(
            select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
        ).all()
        events = db.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == referral.id, AuditEvent.actor == "olly"
            )
        ).all()
        asked = db.exec(
            select(OutboxMessage).where(
                OutboxMessage.referral_id == referral.id, col(OutboxMessage.kind) == "needs_info"
            )
        ).all()
        assert referral.status == "new" and referral.complete
        assert referral.record["child.name"] == "Lily-May Kavanagh"
        assert referral.child_name == "Lily-May Kavanagh"  # the queue's column follows
        assert referral.record["referrer.phone"] == "01514960217"
        assert referral.problems == []
    assert {(c.key, c.before, c.after, c.actor) for c in corrections} == {
        ("child.name", "Lily-Mae Kavanagh", "Lily-May Kavanagh", "olly"),
        ("referrer.phone", None, "01514960217", "olly"),
    }
    assert all(c.note == "checked against the scan" for c in corrections)
    assert [(c.from_status, c.to_status) for c in changes] == [("check_scan", "new")]
    actions = [(e.action, e.detail) for e in events]
    assert ("value corrected", "child.name") in actions and ("scan checked", None) in actions
    assert ("status changed", "Check scan → New") in actions
    # The audit log says what changed, never the value (a child's name).
    assert not any("Lily" in (e.detail or "") for e in events)
    assert asked == []  # complete: nothing to ask for
    # Confirmed once: the page is read-only now, and a second confirmation is refused.
    again = _confirm(site, client, scanned, {})
    assert again.status_code == 303
    assert "not waiting for a check" in client.get(f"/referrals/{scanned}").text


def test_missing_answers_are_asked_for_only_after_the_check(site: Site, scanned: str) -> None:
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None
        kinds = [
            m.kind
            for m in db.exec(select(OutboxMessage).where(OutboxMessage.referral_id == referral.id))
        ]
    assert "needs_info" not in kinds  # the acknowledgement only, before the check
    client = site.client("olly")
    response = _confirm(site, client, scanned, {"child.nhs_number": "", "referrer.phone": ""})
    assert response.status_code == 303
    flash = client.get(response.headers["location"].removesuffix("#flash")).text
    assert "now Awaiting information" in flash and "the referrer was asked for them" in flash
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None
        (reply,) = db.exec(
            select(OutboxMessage).where(
                OutboxMessage.referral_id == referral.id, col(OutboxMessage.kind) == "needs_info"
            )
        ).all()
        assert referral.status == "needs_info" and not referral.complete
        assert [p["key"] for p in referral.problems] == ["referrer.phone"]
    assert reply.to_addr == SENDER and scanned in reply.subject
    assert "checked your scanned form" in reply.body_text
    assert "  - Telephone number (not completed)" in reply.body_text
    assert "Lily" not in reply.subject + reply.body_text


def test_a_wrong_value_is_shown_again_and_nothing_is_stored(site: Site, scanned: str) -> None:
    client = site.client("olly")
    response = _confirm(site, client, scanned, {"child.dob": "31/02/2019", "child.name": "Lily"})
    assert response.status_code == 400
    assert "1 answer(s) need putting right" in response.text
    assert 'value="31/02/2019"' in response.text and 'value="Lily"' in response.text
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None and referral.status == "check_scan"
        assert referral.record["child.name"] == "Lily-Mae Kavanagh"


def test_a_viewer_sees_the_check_read_only_and_cannot_confirm(site: Site, scanned: str) -> None:
    viewer = site.client("vera")
    page = viewer.get(f"/referrals/{scanned}/check").text
    assert "Confirm the checked referral" not in page
    assert "Only officers can confirm a scan" in page
    assert 'name="child.name"' not in page
    response = viewer.post(
        f"/referrals/{scanned}/check",
        data={"csrf_token": token(viewer), "child.name": "Someone Else"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None and referral.status == "check_scan"


def test_the_work_list_and_queue_show_referrals_to_check(site: Site, scanned: str) -> None:
    client = site.client("vera")
    dashboard = client.get("/dashboard").text
    assert re.search(
        r'href="/\?status=check_scan" id="work-check-scan"><span class="count">1</span>', dashboard
    )
    queue = client.get("/?status=check_scan").text
    assert scanned in queue and "Check scan" in queue
    assert '<option value="check_scan" selected>Check scan</option>' in queue
    # The generic status form never moves it: only the check does.
    officer = site.client("olly")
    moved = officer.post(
        f"/referrals/{scanned}/status",
        data={"csrf_token": token(officer), "to_status": "new"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    with session_scope(site.engine) as db:
        referral = by_reference(db, scanned)
        assert referral is not None and referral.status == "check_scan"
