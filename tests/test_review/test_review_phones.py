"""Phone numbers on the referral page: spaced for reading, stored as digits."""

from __future__ import annotations

import re

import pytest
from review_support import Site, token

from review.phones import spaced_phone
from storage.db import session_scope
from storage.workflow import by_reference


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("01514960777", "0151 496 0777"),  # Liverpool: a city code, 4-3-4
        ("01134960000", "0113 496 0000"),
        ("02079460018", "020 7946 0018"),  # London: 3-4-4
        ("02890180999", "028 9018 0999"),
        ("07700900123", "07700 900123"),  # mobiles: 5-6
        ("01632960123", "01632 960123"),  # other areas: 5-6
        ("0163296012", "01632 96012"),  # a five-digit local number
        ("03001234567", "0300 123 4567"),
        ("08001234567", "0800 123 4567"),
        ("0800123456", "0800 123 456"),
        ("+441514960777", "+44 151 496 0777"),  # written internationally, kept so
        ("+44 (0)7700 900123", "+44 7700 900123"),
        ("0044 151 496 0777", "+44 151 496 0777"),
    ],
)
def test_uk_numbers_are_grouped_as_they_are_said(stored: str, shown: str) -> None:
    assert spaced_phone(stored) == shown


@pytest.mark.parametrize(
    "stored",
    ["", "999", "0151 496 0777 ext 21", "+1 212 555 0100", "ask at reception", "015149607770"],
)
def test_anything_else_is_shown_as_stored(stored: str) -> None:
    assert spaced_phone(stored) == stored


def test_the_referral_page_spaces_the_number_and_the_record_keeps_digits(site: Site) -> None:
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        referral.record = {**referral.record, "referrer.phone": "07700900123"}
        db.add(referral)
    page = site.client("vera").get("/referrals/SIRG-2026-0001").text
    row = re.search(r'id="f-referrer-phone".*?<span class="value">([^<]*)</span>', page, re.S)
    assert row and row.group(1) == "07700 900123"
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None and referral.record["referrer.phone"] == "07700900123"


def test_a_corrected_number_shows_what_it_was_spaced_too(site: Site) -> None:
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        referral.record = {**referral.record, "referrer.phone": "01514960217"}
        db.add(referral)
    client = site.client("olly")
    done = client.post(
        "/referrals/SIRG-2026-0001/correct",
        data={
            "csrf_token": token(client, "/referrals/SIRG-2026-0001"),
            "key": "referrer.phone",
            "value": "07700 900123",
            "note": "a mobile now",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#flash")
    page = client.get("/referrals/SIRG-2026-0001").text
    row = re.search(r'id="f-referrer-phone".*?<div class="prov">', page, re.S)
    assert row is not None
    assert '<span class="value">07700 900123</span>' in row.group(0)
    assert "“0151 496 0217”" in row.group(0)  # the number it replaced
