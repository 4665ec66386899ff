"""Turn typed answers into the stored conventions (ISO dates, digit-only phones, ...).

Every normaliser returns a `Normalised`: a value, or a problem in plain words. None of
them guesses: anything ambiguous is a problem for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Normalised:
    """Outcome of normalising one answer: `value` (None when empty) or a `problem`."""

    value: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when there is no problem (the value may still be empty)."""
        return self.problem is None


EMPTY = Normalised()

# Invisible characters that Word and web forms leave behind; never meaningful.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u2002\u2003\t"), " ")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\v\f\x85]")


_CLEAN = {**_INVISIBLE, **_SPACES}


def clean_spaces(text: str) -> str:
    """Remove invisible characters and turn odd spaces (NBSP, tab) into plain spaces."""
    return text.translate(_CLEAN)


def normalise_text(text: str) -> Normalised:
    """Trim, NFC, trim each line, drop blank lines, join lines with a newline."""
    t = clean_spaces(text)
    if not t.isascii():  # ASCII is already composed: most answers skip the work
        t = unicodedata.normalize("NFC", t)
    lines = [line.strip() for line in _LINE_BREAKS.split(t)]
    joined = "\n".join(line for line in lines if line)
    return Normalised(joined) if joined else EMPTY


def normalise_name(text: str) -> Normalised:
    """A person's name exactly as written, only trimmed and composed (NFC)."""
    return normalise_text(text)


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_WEEKDAY = re.compile(
    r"^(mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday"
    r"|fri|friday|sat|saturday|sun|sunday)\.?,?(?:\s+|(?=\d))"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WRONG_WEEKDAY = "this answer's day of the week does not match its date"
# An ordinal suffix ends at a space, punctuation or a month name: the text layer of a
# PDF can lose the spaces ("3rdSeptember2024").
_ORDINAL = re.compile(
    r"(\d)(?:st|nd|rd|th)(?=$|[\s.,/\-]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
)
_NUMERIC = re.compile(r"^(\d{1,4})\s*([./\-\s])\s*(\d{1,2})\s*\2\s*(\d{1,4})$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]+)\.?[\s\-/.]*(\d{2,4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.?[\s\-]*(\d{1,2})[\s\-]+(\d{2,4})$")
# A day and a month name with no year ("3 Sep", "Sept 3rd"). Numbers alone ("3/9") are
# not read this way: without a year they are too easily something else.
_DAY_MONTH = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]+)$")
_MONTH_DAY = re.compile(r"^([a-z]+)[\s\-.]*(\d{1,2})$")
NO_YEAR = "this answer has no year; please give day, month and year"


def normalise_date(text: str, today: dt.date | None = None) -> Normalised:
    """A UK (day-first) date in any common spelling -> ISO `YYYY-MM-DD`.

    Two-digit years are this century unless that would be in the future, then last
    century (so a DOB of 11/11/63 is 1963). Month-first dates are not accepted.
    """
    cleaned = _clean_date(text)
    if cleaned is None:
        return EMPTY
    t, weekday = cleaned
    today = today or dt.date.today()
    parts = _split_date(t)
    if parts is None:
        if _day_month(t) is not None:
            return Normalised(problem=NO_YEAR)
        return Normalised(
            problem="this answer is not a date we can read; please give day, month and year"
        )
    day, month, year_text = parts
    year = _full_year(year_text, today)
    if year is None:
        return Normalised(problem="this answer does not have a four-digit or two-digit year")
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return Normalised(problem="this answer is not a real date; dates are read day first")
    if not 1900 <= value.year <= today.year + 10:
        return Normalised(problem="this answer has a year that cannot be right")
    if weekday is not None and weekday != value.weekday():
        # One of the two is wrong and nothing says which.
        return Normalised(problem=WRONG_WEEKDAY)
    return Normalised(value.isoformat())


def date_in_year(text: str, reference: dt.date) -> Normalised:
    """A day and month written without a year ("3 Sep"), in the year of `reference`.

    For dates on a form that happen on or before the date of referral (the incident,
    the sign-off): the referral's year is taken only when that puts the date on or before
    the referral date. Anything else (a date after it, a date with a year, not a date)
    gets no value: the year would be a guess.
    """
    cleaned = _clean_date(text)
    if cleaned is None:
        return EMPTY
    t, weekday = cleaned
    parts = _day_month(t)
    if parts is None:
        return Normalised(problem="this answer is not a day and month we can read")
    day, month = parts
    try:
        value = dt.date(reference.year, month, day)
    except ValueError:
        return Normalised(problem="this answer is not a real date; dates are read day first")
    if value > reference:
        # Last year, or a date written in error: either way not ours to choose.
        return Normalised(problem=NO_YEAR)
    if weekday is not None and weekday != value.weekday():
        return Normalised(problem=WRONG_WEEKDAY)  # the weekday says it is another year
    return Normalised(value.isoformat())


def _clean_date(text: str) -> tuple[str, int | None] | None:
    """(the date lower-cased with weekday, ordinals, "of" and commas gone, the weekday
    written as 0-6 or None); None if empty."""
    raw = normalise_text(text).value
    if raw is None:
        return None
    t = unicodedata.normalize("NFKC", raw).casefold().strip()
    t = re.sub(r"[\u2010-\u2015\u2212]", "-", t)  # dashes of every width
    weekday = None
    m = _WEEKDAY.match(t)
    if m:
        weekday = _WEEKDAYS.index(m.group(1)[:3])
        t = t[m.end() :]
    t = _ORDINAL.sub(r"\1", t)
    t = re.sub(r"\bof\b", " ", t)
    t = t.replace(",", " ").rstrip(".").strip()
    return " ".join(t.split()), weekday


def _day_month(t: str) -> tuple[int, int] | None:
    """(day, month) from a cleaned date string with a month name and no year, or None."""
    m = _DAY_MONTH.match(t)
    if m and m.group(2).rstrip(".") in _MONTHS:
        return int(m.group(1)), _MONTHS[m.group(2).rstrip(".")]
    m = _MONTH_DAY.match(t)
    if m and m.group(1) in _MONTHS:
        return int(m.group(2)), _MONTHS[m.group(1)]
    return None


def _split_date(t: str) -> tuple[int, int, str] | None:
    """(day, month, year text) from a cleaned date string, or None."""
    m = _NUMERIC.match(t)
    if m:
        a, _sep, b, c = m.groups()
        if len(a) == 4:  # ISO order: 2024-04-03
            return int(c), int(b), a
        if len(a) <= 2:
            return int(a), int(b), c
        return None
    m = _DAY_MONTH_YEAR.match(t)
    if m and m.group(2) in _MONTHS:
        return int(m.group(1)), _MONTHS[m.group(2)], m.group(3)
    m = _MONTH_DAY_YEAR.match(t)
    if m and m.group(1) in _MONTHS:
        return int(m.group(2)), _MONTHS[m.group(1)], m.group(3)
    return None


def _full_year(text: str, today: dt.date) -> int | None:
    if len(text) == 4:
        return int(text)
    if len(text) == 2:
        year = 2000 + int(text)
        return year if year <= today.year else year - 100
    return None


# --------------------------------------------------------------------------- NHS numbers


def nhs_check_digit_ok(digits: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def normalise_nhs_number(text: str) -> Normalised:
    """An NHS number written with or without spaces/dashes -> 10 digits (checked)."""
    raw = normalise_text(text).value
    if raw is None:
        return EMPTY
    digits = re.sub(r"[\s\-‐‑–—.]", "", unicodedata.normalize("NFKC", raw))
    if not digits.isdigit() or len(digits) != 10:
        return Normalised(problem="this answer is not an NHS number; it should have 10 digits")
    if not nhs_check_digit_ok(digits):
        return Normalised(problem="this answer is not a valid NHS number; its check digit is wrong")
    return Normalised(digits)


# --------------------------------------------------------------------------- phones

# The only UK ranges with 10-digit numbers (0 + 9): some freephone and a few
# small 01 areas (Ofcom numbering plan); everything else has 11 digits.
_TEN_DIGITS = ("0800", "0500", "01387", "015242", "01539", "01697", "01768", "019467")
_PHONE_LABEL = re.compile(
    r"^(?:tel(?:ephone)?|phone|mob(?:ile)?|t|m)\s*(?:no\.?|number)?\s*[:.]\s*"
)


def normalise_phone(text: str) -> Normalised:
    """A UK phone number -> national digits (`+44 (0)151 496 0123` -> `01514960123`)."""
    raw = normalise_text(text).value
    if raw is None:
        return EMPTY
    t = unicodedata.normalize("NFKC", raw).strip()
    t = _PHONE_LABEL.sub("", t.casefold())
    if re.search(r"[a-z]", t):
        return Normalised(problem="this answer has words in it; give just one phone number")
    if not re.fullmatch(r"[\d\s+()\-.]+", t):
        return Normalised(problem="this answer is not a phone number")
    t = re.sub(r"\(\s*0\s*\)", "", t)  # the "(0)" in +44 (0)151 ...
    digits = re.sub(r"[\s()\-.]", "", t)
    if digits.count("+") > 1 or ("+" in digits and not digits.startswith("+")):
        return Normalised(problem="this answer is not a phone number")
    if digits.startswith("+44"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("0044"):
        digits = "0" + digits[4:].lstrip("0")
    elif digits.startswith("+") or digits.startswith("00"):
        return Normalised(problem="this answer is not a UK phone number")
    if not digits.startswith("0"):
        return Normalised(problem="this answer should start with 0 or +44")
    if len(digits) > 11:
        return Normalised(problem="this answer has too many digits for one UK phone number")
    if len(digits) < 10:
        return Normalised(problem="this answer has too few digits for a UK phone number")
    if digits[1] not in "1235789" or (len(digits) == 10 and not digits.startswith(_TEN_DIGITS)):
        return Normalised(problem="this answer is not a possible UK phone number")
    return Normalised(digits)


# --------------------------------------------------------------------------- email

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def normalise_email(text: str) -> Normalised:
    """An email address -> lower case, validated; `mailto:` and `Name <...>` unwrapped."""
    raw = normalise_text(text).value
    if raw is None:
        return EMPTY
    t = unicodedata.normalize("NFKC", raw).strip()
    if t.count("@") > 1:
        return Normalised(problem="this answer has more than one email address")
    m = re.fullmatch(r"[^<>]*<([^<>]+)>\s*", t)
    if m:
        t = m.group(1)
    t = re.sub(r"^mailto:", "", t.strip(), flags=re.IGNORECASE).strip().rstrip(".").lower()
    if not _EMAIL.match(t) or len(t.split("@")[0]) > 64:
        return Normalised(problem="this answer is not a valid email address")
    return Normalised(t)
