"""Dates, phones and NHS numbers written the ways people write them, and blank forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parser_fixtures import BLANK_DOCX, FormEditor, complete_form

from parsers.formdef import load_form
from shapes import Shape

MODULE = "written_values"
Edit = Callable[[FormEditor], object]


def _filled(
    what: str,
    edit: Edit,
    changes: dict[str, Any],
    outcome: str = "referral",
    flagged: frozenset[str] = frozenset(),
) -> Shape:
    """The complete form with `edit` applied; expected is the complete form's own input
    with `changes` (a value of None: no value, the key flagged)."""
    editor, base = complete_form()
    edit(editor)
    expected = dict(base)
    for key, value in changes.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = value
    none = frozenset(k for k, v in changes.items() if v is None)
    return Shape(
        name=f"{MODULE}/{what}",
        filename=f"{what}.docx",
        data=editor.save(),
        outcome=outcome,
        expected=expected,
        flagged=none | flagged,
    )


def _dates(
    referral: str, incident: str, dob: str = "09/06/2016", authorised: str = "29/2/24"
) -> Edit:
    def edit(e: FormEditor) -> None:
        e.type_over("Date of referral", referral)
        e.type_over("Date of incident", incident)
        e.type_over("Date of birth", dob)
        e.type_over("Date authorised", authorised)

    return edit


def _date_cases() -> list[Shape]:
    return [
        _filled(
            "dates-as-written",
            _dates("Tues 3rd Sept 2024", "31January2024", dob="03.09.14", authorised="2024-09-03"),
            {
                "referrer.referral_date": "2024-09-03",
                "child.incident_date": "2024-01-31",
                "child.dob": "2014-09-03",
                "authorisation.date": "2024-09-03",
            },
        ),
        _filled(
            "dates-two-digit-year-dots",
            _dates("03.09.24", "Sept 1st 2024", authorised="Tuesday, 3rd of September 2024"),
            {
                "referrer.referral_date": "2024-09-03",
                "child.incident_date": "2024-09-01",
                "authorisation.date": "2024-09-03",
            },
        ),
        # No year: the referral's year, stored and reported as inferred.
        _filled(
            "incident-no-year-referral-year-inferred",
            _dates("10/09/2024", "3 Sep", authorised="10/09/2024"),
            {
                "referrer.referral_date": "2024-09-10",
                "child.incident_date": "2024-09-03",
                "authorisation.date": "2024-09-10",
            },
        ),
        # No year and no date of referral to take it from: nothing stored.
        _filled(
            "incident-no-year-no-referral-date",
            _dates("", "3 Sep"),
            {"referrer.referral_date": None, "child.incident_date": None},
            outcome="needs_info",
        ),
        # The referral's year would put it after the referral: not guessed.
        _filled(
            "authorised-no-year-after-referral",
            _dates("01/09/2024", "20/08/2024", authorised="11 Sep"),
            {
                "referrer.referral_date": "2024-09-01",
                "child.incident_date": "2024-08-20",
                "authorisation.date": None,
            },
            outcome="needs_info",
        ),
        # A date of birth never takes the referral's year.
        _filled(
            "dob-no-year",
            _dates("10/09/2024", "20/08/2024", dob="3 Sep"),
            {
                "referrer.referral_date": "2024-09-10",
                "child.incident_date": "2024-08-20",
                "child.dob": None,
            },
            outcome="needs_info",
        ),
        _filled(
            "weekday-disagrees-with-date",
            _dates("10/09/2024", "Mon 3rd Sept 2024"),
            {"referrer.referral_date": "2024-09-10", "child.incident_date": None},
            outcome="needs_info",
        ),
        _filled(
            "impossible-and-month-first-dates",
            _dates("31/09/2024", "09/23/2024"),
            {"referrer.referral_date": None, "child.incident_date": None},
            outcome="needs_info",
        ),
    ]


def _phone(written: str) -> Edit:
    return lambda e: e.type_over("Telephone number", written)


def _phone_cases() -> list[Shape]:
    written = {
        "phone-plus44-bracket-zero": "+44 (0)151 496 0217",
        "phone-plus44": "+44 151 496 0217",
        "phone-dashes": "0151-496-0217",
    }
    return [
        _filled(what, _phone(text), {"referrer.phone": "01514960217"})
        for what, text in written.items()
    ]


def _nhs(written: str) -> Edit:
    return lambda e: e.fill("NHS number", written)


def _nhs_cases() -> list[Shape]:
    return [
        _filled("nhs-number-spaced", _nhs("943 476 5919"), {"child.nhs_number": "9434765919"}),
        _filled("nhs-number-dashed", _nhs("943-476-5919"), {"child.nhs_number": "9434765919"}),
        # Check digit wrong (…5918): reported, nothing stored; not mandatory, so the
        # referral goes ahead with the problem beside it.
        _filled("nhs-number-check-digit-wrong", _nhs("943 476 5918"), {"child.nhs_number": None}),
    ]


def _blank_cases() -> list[Shape]:
    mandatory = load_form("sirg-2024").mandatory_keys()
    nearly = FormEditor().fill("Name of referrer", "Priya Ó Briain")
    return [
        Shape(
            name=f"{MODULE}/nearly-blank-only-referrer-name",
            filename="nearly-blank.docx",
            data=nearly.save(),
            outcome="needs_info",
            expected={"referrer.name": "Priya Ó Briain"},
            flagged=frozenset(mandatory) - {"referrer.name"},
        ),
        # Wholly blank: every mandatory answer is asked for.
        Shape(
            name=f"{MODULE}/wholly-blank",
            filename="LSCP-SIRG-Referral-Form-2024.docx",
            data=BLANK_DOCX.read_bytes(),
            outcome="needs_info",
            expected={},
            flagged=frozenset(mandatory),
        ),
        Shape(
            name=f"{MODULE}/wholly-blank-pdf",
            filename="LSCP-SIRG-Referral-Form-2024.pdf",
            data=BLANK_DOCX.with_suffix(".pdf").read_bytes(),
            outcome="needs_info",
            expected={},
            flagged=frozenset(mandatory),
        ),
    ]


def cases() -> list[Shape]:
    """Every written-value case: dates, phones, NHS numbers, blank forms."""
    return _date_cases() + _phone_cases() + _nhs_cases() + _blank_cases()
