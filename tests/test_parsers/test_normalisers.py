"""Answer normalisers: dates, NHS numbers, phones, emails, text and names."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from parsers.formdef import load_form
from parsers.normalise import (
    NO_YEAR,
    WRONG_WEEKDAY,
    Normalised,
    date_in_year,
    nhs_check_digit_ok,
    normalise_date,
    normalise_email,
    normalise_name,
    normalise_nhs_number,
    normalise_phone,
    normalise_text,
)
from parsers.record import FieldValue, ParsedForm, Problem

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    "written",
    [
        "03/04/2024",
        "3/4/2024",
        "3/4/24",
        "03/04/24",
        "3rd April 2024",
        "3 April 2024",
        "3 Apr 2024",
        "3 Apr. 2024",
        "03-Apr-2024",
        "3-April-2024",
        "2024-04-03",
        "2024/04/03",
        "03.04.2024",
        "3.4.24",
        "03-04-2024",
        "03 04 2024",
        "April 3rd 2024",
        "April 3, 2024",
        "Apr 3 2024",
        "Wednesday 3 April 2024",
        "Wed, 3rd April 2024",
        "3rd of April 2024",
        "  3 APRIL 2024  ",
        "3rd April, 2024",
        "3\u00a0April\u00a02024",
        "3 April 2024.",
    ],
)
def test_dates_in_every_common_spelling(written: str) -> None:
    assert normalise_date(written, TODAY).value == "2024-04-03"


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("11/11/63", "1963-11-11"),  # a DOB: the 2063 reading would be in the future
        ("11/11/23", "2023-11-11"),
        ("1/1/25", "2025-01-01"),
        ("15/3/2023", "2023-03-15"),
        ("29/02/2024", "2024-02-29"),
        ("Sept 3 2024", "2024-09-03"),
        ("20th January 2024", "2024-01-20"),
    ],
)
def test_date_years_and_day_first(written: str, iso: str) -> None:
    assert normalise_date(written, TODAY).value == iso


@pytest.mark.parametrize(
    "written",
    [
        "31/02/2024",  # no such day
        "04/23/2024",  # month-first: never guessed
        "April 2024",  # no day
        "2024",
        "approx 2019",
        "20/01/2024 (approx)",
        "29/02/2023",
        "3/4/202",
        "13/13/2013",
        "tomorrow",
        "01/01/1850",
    ],
)
def test_dates_that_are_refused(written: str) -> None:
    result = normalise_date(written, TODAY)
    assert result.value is None
    # Words only: the answer as written is kept beside the problem (Problem.raw), never
    # quoted in it, so a reply to the sender can name the problem without echoing it.
    assert result.problem and written.strip() not in result.problem


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("Tues 3rd Sept 2024", "2024-09-03"),
        ("Tue. 3 Sep 2024", "2024-09-03"),
        ("Tuesday, 3rd of September 2024", "2024-09-03"),
        ("03.09.24", "2024-09-03"),
        ("3.9.2024", "2024-09-03"),
        ("2024-09-03", "2024-09-03"),
        # The text layer of a PDF can lose every space.
        ("31January2024", "2024-01-31"),
        ("3rdSeptember2024", "2024-09-03"),
        ("Tues3rdSept2024", "2024-09-03"),
        ("Wednesday31January2024", "2024-01-31"),
        ("Sept3,2024", "2024-09-03"),
    ],
)
def test_dates_as_people_write_them(written: str, iso: str) -> None:
    assert normalise_date(written, TODAY).value == iso


@pytest.mark.parametrize("written", ["3 Sep", "3rd Sept", "Sept 3rd", "Tues 3rd September", "3Sep"])
def test_date_without_a_year_is_not_completed(written: str) -> None:
    assert normalise_date(written, TODAY) == Normalised(problem=NO_YEAR)


@pytest.mark.parametrize(
    "written",
    [
        "Mon 3rd Sept 2024",  # 3 September 2024 was a Tuesday: one of the two is wrong
        "Friday 31 January 2024",
    ],
)
def test_date_whose_weekday_disagrees_is_refused(written: str) -> None:
    result = normalise_date(written, TODAY)
    assert result.value is None and result.problem == WRONG_WEEKDAY


@pytest.mark.parametrize(
    "written",
    [
        "3/9",  # numbers alone and no year: not read as a day and month
        "03.09",
        "31 Sept 2024",  # no such day
        "3 Sept 24 2024",
        "3rd",
        "Sept",
    ],
)
def test_ambiguous_or_impossible_dates_get_no_value(written: str) -> None:
    result = normalise_date(written, TODAY)
    assert result.value is None and result.problem


REFERRAL = dt.date(2024, 9, 10)


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("3 Sep", "2024-09-03"),
        ("3rd Sept", "2024-09-03"),
        ("Sept 3rd", "2024-09-03"),
        ("Tues 3rd Sept", "2024-09-03"),
        ("10 September", "2024-09-10"),  # the referral day itself
        ("1 Jan", "2024-01-01"),
    ],
)
def test_year_taken_from_the_referral(written: str, iso: str) -> None:
    assert date_in_year(written, REFERRAL).value == iso


@pytest.mark.parametrize(
    ("written", "referral"),
    [
        ("11 Sep", REFERRAL),  # after the referral: last year, or a slip; not ours to choose
        ("31 Dec", REFERRAL),
        ("Mon 3rd Sept", REFERRAL),  # the weekday says another year
        ("29 Feb", dt.date(2023, 9, 10)),  # no such day in the referral's year
        ("3/9", REFERRAL),
        ("3 Sep 2024", REFERRAL),  # has a year: that is normalise_date's
        ("soon", REFERRAL),
    ],
)
def test_year_not_taken_when_unsafe(written: str, referral: dt.date) -> None:
    result = date_in_year(written, referral)
    assert result.value is None and result.problem


def test_year_from_referral_on_empty_answer_is_empty() -> None:
    assert date_in_year("  ", REFERRAL).value is None
    assert date_in_year("  ", REFERRAL).ok


def _form_with_problem(key: str, raw: str, referral: str | None) -> ParsedForm:
    form = ParsedForm(load_form("sirg-2024"))
    if referral:
        form.values["referrer.referral_date"] = FieldValue(
            "referrer.referral_date", referral, referral, "t"
        )
    # As the reader does it: values first, then every problem at once.
    form.problems = [Problem(key, "Label", "invalid", NO_YEAR, raw, "w")]
    form.infer_years()
    return form


def test_record_takes_the_year_from_the_referral_and_flags_it_inferred() -> None:
    form = _form_with_problem("child.incident_date", "3 Sep", "2024-09-10")
    assert form.value("child.incident_date") == "2024-09-03"
    assert [(p.key, p.kind) for p in form.problems] == [("child.incident_date", "inferred")]
    assert "3 Sep" not in form.problems[0].message
    assert "child.incident_date" not in form.missing()  # a value, flagged for a person


def test_record_without_referral_date_keeps_no_value() -> None:
    form = _form_with_problem("child.incident_date", "3 Sep", None)
    assert form.value("child.incident_date") is None
    assert [(p.key, p.kind) for p in form.problems] == [("child.incident_date", "invalid")]
    assert "child.incident_date" in form.missing()


def test_record_never_gives_a_date_of_birth_the_referral_year() -> None:
    form = _form_with_problem("child.dob", "3 Sep", "2024-09-10")
    assert form.value("child.dob") is None
    assert [(p.key, p.kind) for p in form.problems] == [("child.dob", "invalid")]


def test_record_refuses_a_yearless_date_after_the_referral() -> None:
    form = _form_with_problem("authorisation.date", "11 Sep", "2024-09-10")
    assert form.value("authorisation.date") is None
    assert form.problems[0].kind == "invalid"


def test_blank_record_misses_every_mandatory_key_in_form_order() -> None:
    definition = load_form("sirg-2024")
    form = ParsedForm(definition)
    assert form.missing() == definition.mandatory_keys()
    assert len(form.missing()) > 10 and form.missing()[0] == "referrer.name"


def test_empty_date_is_not_a_problem() -> None:
    assert normalise_date("   ").value is None
    assert normalise_date("").ok


# --------------------------------------------------------------------------- NHS numbers


@pytest.mark.parametrize("good", ["9994027484", "9990551901", "9997086937", "9434765919"])
def test_nhs_numbers_with_valid_check_digit(good: str) -> None:
    assert nhs_check_digit_ok(good)
    spaced = f"{good[:3]} {good[3:6]} {good[6:]}"
    dashed = f"{good[:3]}-{good[3:6]}-{good[6:]}"
    for written in (good, spaced, dashed, f"  {spaced} "):
        assert normalise_nhs_number(written).value == good


@pytest.mark.parametrize(
    "bad",
    [
        "9994027485",  # check digit off by one
        "9434765918",
        "1234567890",  # check digit would be 10: never valid
        "999402748",  # nine digits
        "99940274841",
        "999 402 748X",
        "NHS 9994027484",
    ],
)
def test_nhs_numbers_refused(bad: str) -> None:
    result = normalise_nhs_number(bad)
    assert result.value is None and result.problem


@pytest.mark.parametrize("bad", ["943 476 5918", "943-476-5918", "999 402 7485"])
def test_nhs_number_failing_modulus_11_says_so_and_stores_nothing(bad: str) -> None:
    result = normalise_nhs_number(bad)
    assert result.value is None
    assert result.problem and "check digit" in result.problem


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("+44 (0)151 496 0123", "01514960123"),
        ("+44 151 496 0123", "01514960123"),
        ("0044 151 496 0123", "01514960123"),
        ("+44 0151 496 0123", "01514960123"),
        ("0151 496 0123", "01514960123"),
        ("0151-496-0123", "01514960123"),
        ("(0151) 496 0123", "01514960123"),
        ("  0151 496 016 4  ", "01514960164"),
        ("07700 900123", "07700900123"),
        ("+447700900123", "07700900123"),
        ("020 7946 0018", "02079460018"),
        ("Tel: 0151 496 0123", "01514960123"),
        ("016977 1234", "0169771234"),
        ("0800 123 456", "0800123456"),
        ("+44 (0)151 496 0217", "01514960217"),
        ("+44 151 496 0217", "01514960217"),
        ("0151-496-0217", "01514960217"),
        ("+44(0)1514960217", "01514960217"),
        ("+44 (0) 151-496-0217", "01514960217"),
    ],
)
def test_uk_phone_numbers(written: str, digits: str) -> None:
    assert normalise_phone(written).value == digits


@pytest.mark.parametrize(
    "bad",
    [
        "0451 496 0123",  # 04 is not in use
        "0651 496 0123",  # nor 06
        "0151 496 012",  # too short for 0151
        "0151 496 01234",  # too long
        "07700 90012",  # mobiles have 11 digits
        "+1 555 0100",  # not UK
        "151 496 0123",  # no leading 0
        "0151 496 0123 ext 4",
        "0151 496 0123 / 07700 900123",
        "ask switchboard",
    ],
)
def test_impossible_phone_numbers(bad: str) -> None:
    result = normalise_phone(bad)
    assert result.value is None and result.problem


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("Craig.Wisniewska@AlderHey.nhs.uk", "craig.wisniewska@alderhey.nhs.uk"),
        ("mailto:jo.bloggs@liverpool.gov.uk", "jo.bloggs@liverpool.gov.uk"),
        ("MAILTO:Jo@Example.org.uk", "jo@example.org.uk"),
        ("  jo@example.org.uk. ", "jo@example.org.uk"),
        ("Jo Bloggs <Jo.Bloggs@example.org.uk>", "jo.bloggs@example.org.uk"),
        ("o'neill@example.org.uk", "o'neill@example.org.uk"),
    ],
)
def test_emails(written: str, address: str) -> None:
    assert normalise_email(written).value == address


@pytest.mark.parametrize(
    "bad",
    [
        "jo.bloggs",
        "jo@",
        "@example.org",
        "jo@example",
        "jo bloggs@example.org",
        "a@b.c",
        "a@x.uk; b@x.uk",
    ],
)
def test_bad_emails(bad: str) -> None:
    result = normalise_email(bad)
    assert result.value is None and result.problem


# --------------------------------------------------------------------------- text and names


def test_text_lines_trimmed_blank_lines_dropped() -> None:
    raw = "  First line  \n\n\t Second line\u00a0\r\n   \nThird\u200b line "
    assert normalise_text(raw).value == "First line\nSecond line\nThird line"


def test_text_is_composed_and_otherwise_kept() -> None:
    nfd = unicodedata.normalize("NFD", "Zoë’s “home”")
    assert normalise_text(nfd).value == "Zoë’s “home”"
    assert normalise_text("   \n  ").value is None


@pytest.mark.parametrize(
    "name",
    ["Zoë Ahmed", "Craig Wiśniewska", "Bảo Byrne", "Agnieszka Ó Súilleabháin", "Liam O’Neill"],
)
def test_names_decomposed_become_composed_and_are_kept_as_written(name: str) -> None:
    nfd = unicodedata.normalize("NFD", name)
    result = normalise_name(f"  {nfd} ")
    assert result.value == name
    assert unicodedata.is_normalized("NFC", result.value)


def test_names_are_not_recased() -> None:
    assert normalise_name("mcDONALD-smith").value == "mcDONALD-smith"
