"""A referral's record laid out by the form's sections, each value with where it came from.

The form definition (parsers.formdef) gives the section titles, labels and field types;
the referral gives values, provenance (raw text and place) and problems; corrections
made in the review mark the values people changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from parsers.answers import AnswerReader
from parsers.formdef import ColumnDef, FieldDef, FormDef, GridDef, load_form
from parsers.statutory import is_urgent
from storage.scans import record_key
from storage.tables import Referral, ReferralCorrection
from storage.workflow import record_value

# The intake pipeline's urgency rule (intake/pipeline/file.py), applied again when a
# person corrects the criteria: a death or serious harm, with abuse or neglect.
_GRID_KEY = re.compile(r"([a-z_]+)\[(\d+)\]\.([a-z_]+)")
_REWRITTEN = ("date", "phone", "email", "nhs_number")
C = TypeVar("C")  # what a grid cell is on a page


@dataclass(frozen=True)
class Flag:
    """A problem the reader found with a value."""

    kind: str  # missing, invalid, unreadable or inferred (stored, but to be checked)
    message: str
    raw: str
    resolved: bool  # a person has since corrected the value


@dataclass(frozen=True)
class Shown:
    """One value as the referral page shows it."""

    key: str
    label: str
    type: str
    mandatory: bool
    value: Any
    raw: str | None
    where: str | None
    flag: Flag | None
    correction: ReferralCorrection | None

    @property
    def empty(self) -> bool:
        """True when there is no value to show."""
        return self.value in (None, "", [])

    @property
    def raw_differs(self) -> bool:
        """True when the form's text was rewritten to store it (a date, phone or NHS number
        in another spelling): worth showing. Tick boxes and text are shown as stored."""
        if not self.raw or self.correction is not None or self.type not in _REWRITTEN:
            return False
        shown = "\n".join(self.value) if isinstance(self.value, list) else str(self.value or "")
        if self.type == "email":  # stored in lower case; a capital is not worth a note
            return self.raw.strip().lower() != shown.lower()
        return " ".join(self.raw.split()) != " ".join(shown.split())


@dataclass(frozen=True)
class GridView(Generic[C]):
    """A repeating table of the form (household, agencies, key dates): values to read
    (`Shown`) on the referral page, or inputs (`Editable`) when keying one in."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[C]]


@dataclass(frozen=True)
class ProcessRow:
    """One row of the parallel-processes grid."""

    label: str
    status: Shown
    details: Shown


@dataclass
class SectionView:
    """A numbered section of the form with its values."""

    number: int
    title: str
    fields: list[Shown] = field(default_factory=list)
    grids: list[GridView[Shown]] = field(default_factory=list)
    processes: list[ProcessRow] = field(default_factory=list)
    flags: int = 0  # unresolved problems in this section


def form_for(referral: Referral) -> FormDef:
    """The form definition a referral was read with (the current one if it is unknown)."""
    try:
        return load_form(referral.form_id)
    except KeyError:
        return load_form()


def latest_corrections(corrections: list[ReferralCorrection]) -> dict[str, ReferralCorrection]:
    """The last correction of each key."""
    out: dict[str, ReferralCorrection] = {}
    for c in corrections:
        out[c.key] = c
    return out


def _flags(referral: Referral, corrected: dict[str, ReferralCorrection]) -> dict[str, Flag]:
    out: dict[str, Flag] = {}
    for p in referral.problems:
        key = record_key(str(p.get("key", "")))  # a table's rows: counted from 0 here
        out[key] = Flag(
            kind=str(p.get("kind", "")),
            message=str(p.get("message", "")),
            raw=str(p.get("raw", "")),
            resolved=key in corrected,
        )
    return out


def _shown(
    referral: Referral,
    key: str,
    label: str,
    kind: str,
    mandatory: bool,
    flags: dict[str, Flag],
    corrected: dict[str, ReferralCorrection],
) -> Shown:
    prov = referral.provenance.get(key) or {}
    flag = flags.get(key)
    return Shown(
        key=key,
        label=label.strip().removesuffix("*").strip(),
        type=kind,
        mandatory=mandatory,
        value=record_value(referral.record, key),
        raw=prov.get("raw"),
        where=prov.get("where") or (flag and _problem_where(referral, key)) or None,
        flag=flag,
        correction=corrected.get(key),
    )


def _problem_where(referral: Referral, key: str) -> str | None:
    for p in referral.problems:
        if record_key(str(p.get("key", ""))) == key and p.get("where"):
            return str(p["where"])
    return None


def layout(referral: Referral, corrections: list[ReferralCorrection]) -> list[SectionView]:
    """The record by the form's sections, in form order; unknown keys go last."""
    form = form_for(referral)
    corrected = latest_corrections(corrections)
    flags = _flags(referral, corrected)
    seen: set[str] = set()
    sections: list[SectionView] = []
    process_keys = {g.key for g in form.process_grids}
    for section in form.sections:
        view = SectionView(section.number, section.title)
        for f in section.fields:
            view.fields.append(
                _shown(referral, f.key, f.label, f.type, f.mandatory, flags, corrected)
            )
            seen.add(f.key)
        for grid in section.grids:
            rows_value = referral.record.get(grid.key) or []
            rows = [
                [
                    _shown(
                        referral,
                        f"{grid.key}[{i}].{c.key}",
                        c.header,
                        c.type,
                        False,
                        flags,
                        corrected,
                    )
                    for c in grid.columns
                ]
                for i in range(len(rows_value) if isinstance(rows_value, list) else 0)
            ]
            view.grids.append(
                GridView(grid.key, grid.title, [c.header for c in grid.columns], rows)
            )
            seen.add(grid.key)
        if section.processes is not None:
            pg = section.processes
            for row in pg.rows:
                status = _shown(
                    referral, pg.status_key(row), row.label, "choice", False, flags, corrected
                )
                details = _shown(
                    referral, pg.details_key(row), row.label, "text", False, flags, corrected
                )
                view.processes.append(ProcessRow(row.label, status, details))
                seen.update((status.key, details.key))
        sections.append(view)
    extra = SectionView(0, "Other values found")
    for key in referral.record:
        if key not in seen and key.split(".")[0] not in process_keys:
            extra.fields.append(_shown(referral, key, key, "text", False, flags, corrected))
    if extra.fields:
        sections.append(extra)
    for view in sections:
        keys = [s.key for s in view.fields]
        keys += [c.key for g in view.grids for r in g.rows for c in r]
        keys += [k for p in view.processes for k in (p.status.key, p.details.key)]
        view.flags = sum(1 for k in keys if k in flags and not flags[k].resolved)
    # Problems about whole grids or keys no section shows still count somewhere visible.
    return sections


# --------------------------------------------------------------------------- corrections


@dataclass(frozen=True)
class Editable:
    """What the correction form needs to know about one key."""

    key: str
    label: str
    type: str  # text, date, phone, email, nhs_number, choice, multi-choice
    options: list[str]
    multiline: bool


def field_editable(f: FieldDef) -> Editable:
    """How a single-value field is entered."""
    multiline = f.type == "text" and (
        f.key in ("summary", "learning") or "address" in f.key or "details" in f.key
    )
    label = f.label.strip().removesuffix("*").strip()
    return Editable(f.key, label, f.type, list(f.options), multiline)


def column_editable(grid: GridDef, column: ColumnDef, index: int) -> Editable:
    """How one cell of a grid row is entered (rows counted from 0)."""
    label = f"{grid.title}, row {index + 1}: {column.header}"
    key = f"{grid.key}[{index}].{column.key}"
    return Editable(key, label, column.type, list(column.options), column.key == "address")


def editable(referral: Referral, key: str) -> Editable | None:
    """The field or grid cell behind `key`, or None when the form has no such place."""
    form = form_for(referral)
    if form.has_field(key):
        return field_editable(form.field(key))
    m = _GRID_KEY.fullmatch(key)
    if m is None:
        return None
    try:
        grid = form.grid(m.group(1))
    except KeyError:
        return None
    rows = referral.record.get(grid.key) or []
    if not isinstance(rows, list) or int(m.group(2)) >= len(rows):
        return None
    column: ColumnDef | None = next((c for c in grid.columns if c.key == m.group(3)), None)
    if column is None:
        return None
    return column_editable(grid, column, int(m.group(2)))


def clean_value(form: FormDef, target: Editable, raw: str, chosen: list[str]) -> Any:
    """The value to store for what a person entered, normalised like the reader does.

    Raises ValueError (plain words) when the value cannot be right for the field's type.
    """
    if target.type == "multi-choice":
        unknown = [c for c in chosen if c not in target.options]
        if unknown:
            raise ValueError("choose from the form's options")
        return [o for o in target.options if o in chosen]  # in form order, like the reader
    if target.type == "choice":
        text = raw.strip()
        if text and text not in target.options:
            raise ValueError("choose one of the form's options")
        return text or None
    normalised = AnswerReader(form).normalise(target.type, raw)
    if normalised.problem:
        raise ValueError(normalised.problem)
    return normalised.value


def recomputed(referral: Referral, corrected_keys: set[str]) -> tuple[bool, bool]:
    """(complete, urgent) of the referral's record as it now stands."""
    form = form_for(referral)
    open_problems = {
        str(p.get("key")) for p in referral.problems if str(p.get("key")) not in corrected_keys
    }
    complete = all(
        record_value(referral.record, k) not in (None, "", []) and k not in open_problems
        for k in form.mandatory_keys()
    )
    return complete, is_urgent(referral.record)
