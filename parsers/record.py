"""What reading a form produces: values with provenance, problems, and the flat JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from parsers.formdef import FormDef

Value = str | list[str]
ProblemKind = Literal["missing", "invalid", "unreadable"]


@dataclass(frozen=True)
class FieldValue:
    """One normalised answer, the text it came from and where it was found."""

    key: str
    value: Value
    raw: str
    where: str


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
    source: str = ""  # "docx" or "pdf"

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
        """Mandatory keys left empty or not valid, in form order."""
        bad = {p.key for p in self.problems}
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
