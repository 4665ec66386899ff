"""What reading a form produces: values with provenance, problems, and the flat JSON."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from parsers.formdef import FormDef
from parsers.normalise import NO_YEAR, date_in_year

Value = str | list[str]
# "inferred": a value is stored but part of it was not written (the year of "3 Sep",
# taken from the date of referral); a person should confirm it.
# "uncertain": a value read from a scan or photo that the OCR was not sure of; it is
# stored for the officer's check (never passed as certain), and is not counted missing.
ProblemKind = Literal["missing", "invalid", "unreadable", "inferred", "uncertain"]
STORED_WITH_DOUBT = ("inferred", "uncertain")  # kinds whose value is kept, to be confirmed

REFERRAL_DATE = "referrer.referral_date"
# Dates that fall on or before the referral, so a missing year can be the referral's.
# Never a date of birth: "3 Sep" says nothing about the year someone was born.
YEAR_FROM_REFERRAL = (
    "child.incident_date",
    "child.death_date",
    "notifications.national_panel_date",
    "authorisation.date",
)


@dataclass(frozen=True)
class FieldValue:
    """One normalised answer, the text it came from and where it was found."""

    key: str
    value: Value
    raw: str
    where: str
    confidence: float | None = None  # 0-1 when read from pixels (a scan), else None


@dataclass(frozen=True)
class ScanPage:
    """One page of a scanned form as read: the file and page it came from, and how it
    was turned to be read upright (so a review page can show the same view)."""

    file: int  # index among the message's scanned files (0 for a single PDF)
    page: int  # page index within that file, 0-based
    turn: int  # degrees turned clockwise to stand it upright: 0, 90, 180 or 270
    skew: float = 0.0  # then degrees of deskewing (small, either sign; positive = clockwise)


@dataclass(frozen=True)
class ScanBox:
    """Where on an upright scanned page a value was read, as fractions of the page."""

    page: int  # index into ParsedForm.scan_pages (the form's page order)
    x0: float
    y0: float
    x1: float
    y1: float

    def to_text(self) -> str:
        """ "2:0.1200,0.3000,0.5500,0.3400": how provenance stores it."""
        return f"{self.page}:{self.x0:.4f},{self.y0:.4f},{self.x1:.4f},{self.y1:.4f}"

    @classmethod
    def from_text(cls, text: str) -> ScanBox | None:
        """The box `to_text` wrote, or None for anything else."""
        m = re.fullmatch(r"(\d+):([\d.]+),([\d.]+),([\d.]+),([\d.]+)", text)
        if m is None:
            return None
        x0, y0, x1, y1 = (float(v) for v in m.groups()[1:])
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            return None
        return cls(int(m.group(1)), x0, y0, x1, y1)


@dataclass(frozen=True)
class Problem:
    """Something a person needs to look at, in words fit for a reply to the sender."""

    key: str
    label: str
    kind: ProblemKind
    message: str
    raw: str = ""
    where: str = ""


GridRow = dict[str, FieldValue]


@dataclass
class ParsedForm:
    """A referral form as read: values by FIELDS.md key, grid rows, problems."""

    definition: FormDef
    values: dict[str, FieldValue] = field(default_factory=dict)
    grids: dict[str, list[GridRow]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = ""  # "docx", "odt", "pdf" or "scan"
    # A scan only: its pages in form order, and where each value was read (by the
    # provenance key: "child.name", "household[0].dob").
    scan_pages: list[ScanPage] = field(default_factory=list)
    scan_boxes: dict[str, ScanBox] = field(default_factory=dict)

    def infer_years(self) -> None:
        """Give "3 Sep" the referral's year where that is safe; flag it "inferred".

        Called by the reader once every value is read: only then is the date of
        referral known."""
        referral = self.values.get(REFERRAL_DATE)
        if referral is None or not isinstance(referral.value, str):
            return  # no date of referral: the year stays unknown, the problem stays
        reference = dt.date.fromisoformat(referral.value)
        problems: list[Problem] = []
        for p in self.problems:
            if p.kind != "invalid" or p.message != NO_YEAR or p.key not in YEAR_FROM_REFERRAL:
                problems.append(p)
                continue
            result = date_in_year(p.raw, reference)
            if result.value is None:
                problems.append(
                    Problem(p.key, p.label, "invalid", result.problem or p.message, p.raw, p.where)
                )
                continue
            self.values[p.key] = FieldValue(p.key, result.value, p.raw, p.where)
            message = (
                f"the year was not written; {reference.year} was taken from the date of referral"
            )
            problems.append(Problem(p.key, p.label, "inferred", message, p.raw, p.where))
        self.problems = problems

    @property
    def form_id(self) -> str:
        """Id of the form definition used (e.g. "sirg-2024")."""
        return self.definition.id

    def value(self, key: str) -> Value | None:
        """The normalised value of a field, or None."""
        fv = self.values.get(key)
        return fv.value if fv is not None else None

    def label_for(self, key: str) -> str:
        """The form's label for a key, without the mandatory ' *' ("Date of birth").

        Grid keys work too: "household", "household.dob" and "household[2].dob".
        """
        if self.definition.has_field(key):
            return self.definition.plain_label(key)
        m = re.fullmatch(r"([\w.]+?)(?:\[(\d+)\])?(?:\.(\w+))?", key)
        for grid in self.definition.grids if m else []:
            if m and m.group(1) == grid.key:
                row = f" row {m.group(2)}" if m.group(2) else ""
                col = next((c for c in grid.columns if c.key == m.group(3)), None)
                return f"{grid.title}{row} – {col.header}" if col else f"{grid.title}{row}"
        return key

    def to_json(self) -> dict[str, Any]:
        """The flat dict of expected.json: empty answers and empty grids left out."""
        out: dict[str, Any] = {}
        for kind, key in self.definition.order:
            if kind == "field":
                fv = self.values.get(key)
                if fv is not None and fv.value:
                    out[key] = list(fv.value) if isinstance(fv.value, list) else fv.value
            else:
                rows = [
                    {col: cell.value for col, cell in row.items() if cell.value}
                    for row in self.grids.get(key, [])
                ]
                rows = [r for r in rows if r]
                if rows:
                    out[key] = rows
        return out

    def missing(self) -> list[str]:
        """Mandatory keys left empty or not valid, in form order.

        On a blank form that is every mandatory key. An inferred or uncertain value is
        not missing: it is stored, and its problem asks a person to confirm it.
        """
        bad = {p.key for p in self.problems if p.kind not in STORED_WITH_DOUBT}
        return [
            key
            for key in self.definition.mandatory_keys()
            if key in bad or not (self.values.get(key) and self.values[key].value)
        ]

    def is_blank(self) -> bool:
        """True for an unfilled form: no answer anywhere, not even a grid row."""
        has_value = any(fv.value for fv in self.values.values())
        has_rows = any(
            any(c.value for c in row.values()) for rows in self.grids.values() for row in rows
        )
        has_invalid = any(p.kind == "invalid" for p in self.problems)
        return not (has_value or has_rows or has_invalid)

    def problems_json(self) -> list[dict[str, str]]:
        """Problems as plain dicts, for storage or a review screen."""
        return [
            {
                "key": p.key,
                "label": p.label,
                "kind": p.kind,
                "message": p.message,
                "raw": p.raw,
                "where": p.where,
            }
            for p in self.problems
        ]
