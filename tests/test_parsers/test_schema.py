"""The record model generated from the form definition accepts every good record only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from parsers.formdef import load_form
from parsers.schema import check_record, record_model

FORMS = Path(__file__).resolve().parents[2] / "samples" / "forms"
GOOD = sorted(
    p for p in FORMS.glob("*.expected.json") if "outcome" not in json.loads(p.read_text())
)


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_every_sample_record_fits_the_model(path: Path) -> None:
    check_record("sirg-2024", json.loads(path.read_text()))


def test_the_model_has_a_field_for_every_key_of_the_definition() -> None:
    form = load_form()
    aliases = {f.alias for f in record_model().model_fields.values()}
    assert {f.key for f in form.fields} | {g.key for g in form.grids} == aliases


@pytest.mark.parametrize(
    "record",
    [
        {"child.gender": "Boy"},  # not an option of the form
        {"criteria": ["The child was sad"]},
        {"child.dob": "03/04/2024"},  # dates are stored ISO
        {"child.nhs_number": "999 402 7484"},  # digits only
        {"referrer.phone": "+44 151 496 0123"},  # national form, digits only
        {"referrer.email": "not an address"},
        {"household": [{"name": "A", "parental_responsibility": "Maybe"}]},
        {"household": [{"nickname": "A"}]},  # a column the grid does not have
        {"child.favourite_colour": "blue"},  # a key the form does not have
    ],
)
def test_a_record_of_the_wrong_shape_is_refused(record: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        check_record("sirg-2024", record)
