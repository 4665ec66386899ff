"""Form definitions: load the TOML data files; normalise label text for matching."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, SupportsIndex

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

FORMS_DIR = Path(__file__).parent / "forms"

FieldType = Literal["text", "date", "phone", "email", "choice", "multi-choice", "nhs_number"]
ColumnType = Literal["text", "date", "phone", "email", "choice", "nhs_number"]

_STRICT = ConfigDict(extra="forbid", frozen=True)

_CELL_KEY = re.compile(r"(\w+)\[(\d+)\]\.(\w+)")


class FieldDef(BaseModel):
    """One answer on the form, keyed as in FIELDS.md."""

    model_config = _STRICT

    key: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    # Short, generic labels ("Name", "Date") that only count inside the field's own section.
    local_aliases: list[str] = Field(default_factory=list)
    type: FieldType
    mandatory: bool = False
    options: list[str] = Field(default_factory=list)
    section: int = 0

    @model_validator(mode="after")
    def _options_match_type(self) -> FieldDef:
        if self.type in ("choice", "multi-choice") and not self.options:
            raise ValueError(f"{self.key}: a {self.type} field needs options")
        if self.type not in ("choice", "multi-choice") and self.options:
            raise ValueError(f"{self.key}: only choice fields have options")
        return self


class ColumnDef(BaseModel):
    """One column of a grid, found by its header text."""

    model_config = _STRICT

    key: str
    header: str
    variants: list[str] = Field(default_factory=list)
    # Headers of columns that each hold part of this one ("First name", "Surname"):
    # their values are joined, left to right.
    parts: list[str] = Field(default_factory=list)
    type: ColumnType = "text"
    options: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _options_match_type(self) -> ColumnDef:
        if (self.type == "choice") != bool(self.options):
            raise ValueError(f"column {self.key}: options go with type 'choice' only")
        return self


class GridDef(BaseModel):
    """A repeating table (household, agencies, key dates) found by its header row."""

    model_config = _STRICT

    key: str
    title: str
    columns: list[ColumnDef]
    min_header_matches: int = 2


class ProcessRowDef(BaseModel):
    """A fixed row of the parallel-processes grid."""

    model_config = _STRICT

    key: str
    label: str
    aliases: list[str] = Field(default_factory=list)


class ProcessGridDef(BaseModel):
    """A grid with one fixed row per process: a status choice and a details text."""

    model_config = _STRICT

    key: str
    process_header: str
    process_variants: list[str] = Field(default_factory=list)
    status_header: str
    status_variants: list[str] = Field(default_factory=list)
    details_header: str
    details_variants: list[str] = Field(default_factory=list)
    status_options: list[str]
    rows: list[ProcessRowDef]

    def status_key(self, row: ProcessRowDef) -> str:
        """Dotted key of a row's status answer."""
        return f"{self.key}.{row.key}.status"

    def details_key(self, row: ProcessRowDef) -> str:
        """Dotted key of a row's details answer."""
        return f"{self.key}.{row.key}.details"


class SectionDef(BaseModel):
    """A numbered section of the form."""

    model_config = _STRICT

    number: int
    title: str
    heading: str
    fields: list[FieldDef] = Field(default_factory=list)
    grids: list[GridDef] = Field(default_factory=list)
    processes: ProcessGridDef | None = None


class FormDef(BaseModel):
    """A whole form version, as loaded from `parsers/forms/<id>.toml`."""

    model_config = _STRICT

    id: str
    title: str
    version: str
    markers: list[str]
    min_label_share: float = Field(default=0.4, gt=0, le=1)
    label_threshold: float = Field(default=0.86, ge=0.5, le=1)
    placeholders: list[str] = Field(default_factory=list)
    ignore_tables: list[str] = Field(default_factory=list)
    choice_aliases: dict[str, list[str]] = Field(default_factory=dict)
    sections: list[SectionDef]

    _fields: list[FieldDef] = PrivateAttr(default_factory=list)
    _by_key: dict[str, FieldDef] = PrivateAttr(default_factory=dict)
    _order: list[tuple[str, str]] = PrivateAttr(default_factory=list)
    _shipped: bool = PrivateAttr(default=False)  # loaded by `load_form` from FORMS_DIR

    @model_validator(mode="after")
    def _index(self) -> FormDef:
        fields: list[FieldDef] = []
        order: list[tuple[str, str]] = []
        for section in self.sections:
            for f in section.fields:
                # The section number lives on the field so matching can prefer the
                # section being read; it is not repeated in the data file.
                fields.append(f.model_copy(update={"section": section.number}))
                order.append(("field", f.key))
            for grid in section.grids:
                order.append(("grid", grid.key))
            if section.processes is not None:
                for pf in _process_fields(section.processes, section.number):
                    fields.append(pf)
                    order.append(("field", pf.key))
        keys = [f.key for f in fields] + [g.key for s in self.sections for g in s.grids]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"duplicate keys in form definition: {sorted(dupes)}")
        self._fields = fields
        self._by_key = {f.key: f for f in fields}
        self._order = order
        return self

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # A shipped form goes by its id: every read form names its definition, and
        # pickling a hundred fields for each email the reader process sends back costs
        # more than reading the email. Both sides load the same file.
        if self._shipped:
            return (load_form, (self.id,))
        return super().__reduce_ex__(protocol)

    @property
    def fields(self) -> list[FieldDef]:
        """Every single-value field (process rows included), in form order."""
        return list(self._fields)

    @property
    def grids(self) -> list[GridDef]:
        """Every repeating grid, in form order."""
        return [g for s in self.sections for g in s.grids]

    @property
    def process_grids(self) -> list[ProcessGridDef]:
        """Every fixed-row process grid."""
        return [s.processes for s in self.sections if s.processes is not None]

    @property
    def order(self) -> list[tuple[str, str]]:
        """("field", key) and ("grid", key) in the order they appear on the form."""
        return list(self._order)

    def field(self, key: str) -> FieldDef:
        """The field with this dotted key (KeyError if unknown)."""
        return self._by_key[key]

    def has_field(self, key: str) -> bool:
        """True when the key names a single-value field."""
        return key in self._by_key

    def grid(self, key: str) -> GridDef:
        """The grid with this key (KeyError if unknown)."""
        for g in self.grids:
            if g.key == key:
                return g
        raise KeyError(key)

    def plain_label(self, key: str) -> str:
        """A field's label as a sentence names it ("Date of birth", without the ' *'); a
        grid cell's as "Household, row 2: Date of birth" (its key counts rows from 0)."""
        cell = _CELL_KEY.fullmatch(key)
        if cell is not None:
            grid = next((g for g in self.grids if g.key == cell[1]), None)
            column = next((c for c in grid.columns if c.key == cell[3]), None) if grid else None
            if grid is not None and column is not None:
                return f"{grid.title}, row {int(cell[2]) + 1}: {column.header}"
        if not self.has_field(key):
            return key
        return self.field(key).label.strip().removesuffix("*").strip()

    def mandatory_keys(self) -> list[str]:
        """Keys that must be answered, in form order."""
        return [f.key for f in self._fields if f.mandatory]


def _process_fields(grid: ProcessGridDef, section: int) -> list[FieldDef]:
    """Status and details fields for each process row, labelled as in FIELDS.md."""
    out: list[FieldDef] = []
    for row in grid.rows:
        out.append(
            FieldDef(
                key=grid.status_key(row),
                label=f"{row.label} – {grid.status_header}",
                type="choice",
                options=list(grid.status_options),
                section=section,
            )
        )
        out.append(
            FieldDef(
                key=grid.details_key(row),
                label=f"{row.label} – {grid.details_header}",
                type="text",
                section=section,
            )
        )
    return out


# --------------------------------------------------------------------------- loading


def available_forms() -> list[str]:
    """Ids of the form definitions shipped in `parsers/forms/`."""
    # Listed again only when the folder changes (a file added or removed): every
    # document read asks, and a stat is far cheaper than a directory scan.
    return list(_form_ids(FORMS_DIR.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _form_ids(_mtime: int) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in FORMS_DIR.glob("*.toml")))


@lru_cache(maxsize=16)
def load_form(form_id: str = "sirg-2024") -> FormDef:
    """Load and validate a form definition by id."""
    path = FORMS_DIR / f"{form_id}.toml"
    if not path.is_file():
        raise KeyError(f"no form definition called {form_id!r}")
    form = load_form_file(path)
    form._shipped = True
    return form


def load_form_file(path: Path) -> FormDef:
    """Load and validate a form definition from any TOML file."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return FormDef.model_validate(data)


# --------------------------------------------------------------------------- matching

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)


def normalise_label(text: str) -> str:
    """Label text reduced for comparison: no case, accents, '*', punctuation or extra spaces."""
    if len(text) > 400:
        return _normalise_label(text)  # long answers: not worth a cache slot
    return _cached_label(text)


@lru_cache(maxsize=16384)
def _cached_label(text: str) -> str:
    # The same labels come back in every form: normalise each once.
    return _normalise_label(text)


def _normalise_label(text: str) -> str:
    t = text
    if not t.isascii():  # accents and compatibility forms only outside ASCII
        t = unicodedata.normalize("NFKD", t)
        t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.translate(_QUOTES).casefold().replace("&", " and ")
    # Apostrophes join ("child's" -> "childs") so "Childs name" still matches.
    t = t.replace("'", "")
    t = re.sub(r"[\W_]+", " ", t)
    return " ".join(t.split())
