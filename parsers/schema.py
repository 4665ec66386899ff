"""A pydantic model of the flat record, generated from the form definition.

`ParsedForm.to_json()` is checked against it before a record is stored, so a reader bug
can never put a value of the wrong shape (an option the form does not offer, a date that
is not ISO, a malformed NHS number) into the database: the message is quarantined for a
person instead. A new form version gets its model from its own definition file.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from parsers.formdef import ColumnDef, FieldDef, FormDef, load_form

# What each kind of answer looks like once normalised (see FIELDS.md, "value conventions").
PATTERNS = {
    "phone": r"^0\d{9,10}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "nhs_number": r"^\d{10}$",
}
_CONFIG = ConfigDict(extra="forbid", populate_by_name=False)


def _annotation(kind: str, options: list[str]) -> Any:
    if kind in ("choice", "multi-choice"):
        choice = Literal[tuple(options)]  # type: ignore[valid-type]
        return list[choice] if kind == "multi-choice" else choice  # type: ignore[valid-type]
    if kind == "date":
        return date
    return str


def _field(spec: FieldDef | ColumnDef) -> tuple[Any, Any]:
    key = spec.key
    pattern = PATTERNS.get(spec.type)
    default = Field(None, alias=key, pattern=pattern) if pattern else Field(None, alias=key)
    return _annotation(spec.type, spec.options) | None, default


def _name(key: str) -> str:
    return key.replace(".", "__")


@lru_cache(maxsize=8)
def record_model(form_id: str = "sirg-2024") -> type[BaseModel]:
    """The model of one form's flat record (keys as in FIELDS.md, via aliases)."""
    form: FormDef = load_form(form_id)
    fields: dict[str, Any] = {_name(f.key): _field(f) for f in form.fields}
    for grid in form.grids:
        row = create_model(  # type: ignore[call-overload]
            f"{grid.key.title()}Row",
            __config__=_CONFIG,
            **{_name(c.key): _field(c) for c in grid.columns},
        )
        fields[_name(grid.key)] = (list[row] | None, Field(None, alias=grid.key))
    model: type[BaseModel] = create_model(f"Record_{_name(form_id)}", __config__=_CONFIG, **fields)
    return model


def check_record(form_id: str, record: dict[str, Any]) -> None:
    """Raise pydantic.ValidationError when `record` does not fit its form's definition."""
    record_model(form_id).model_validate(record)
