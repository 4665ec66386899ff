"""The form definition as data, and label matching."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from parser_fixtures import FIELDS_MD
from pydantic import ValidationError

from parsers.formdef import (
    FORMS_DIR,
    available_forms,
    load_form,
    load_form_file,
    normalise_label,
)
from parsers.label_match import LabelMatcher


def _fields_md_rows() -> list[tuple[str, str, str, bool, list[str]]]:
    """(label, key, type, mandatory, options) for every non-grid row of FIELDS.md."""
    rows = []
    for line in FIELDS_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[2].startswith("`"):
            continue
        _section, label, key, kind, mandatory, options = cells
        if kind.startswith("grid"):
            continue
        opts = [o.strip() for o in options.split(";") if o.strip()]
        rows.append((label, key.strip("`").removesuffix("[]"), kind, mandatory == "yes", opts))
    return rows


def test_sirg_2024_is_available() -> None:
    assert "sirg-2024" in available_forms()
    form = load_form()
    assert form.id == "sirg-2024"
    assert form.title == "LSCP SIRG Referral Form 2024"


def test_definition_agrees_with_fields_md() -> None:
    form = load_form()
    rows = _fields_md_rows()
    assert len(rows) == len(form.fields) == 51
    for label, key, kind, mandatory, options in rows:
        f = form.field(key)
        assert f.mandatory == mandatory, key
        assert f.options == options, key
        if kind != "text" or key != "child.nhs_number":  # NHS number is checked as such
            assert f.type == kind, key
        if not key.startswith("parallel_processes."):
            # Exact labels of the blank form (FIELDS.md trims the trailing space).
            assert f.label.strip() == label, key
        else:
            assert f.label == label, key
    assert form.mandatory_keys() == [r[1] for r in rows if r[3]]


def test_grids_agree_with_fields_md() -> None:
    form = load_form()
    text = FIELDS_MD.read_text(encoding="utf-8")
    for grid in form.grids:
        for col in grid.columns:
            assert f"`{grid.key}[].{col.key}`" in text
            assert f"“{col.header}”" in text


def test_order_interleaves_grids_where_they_sit() -> None:
    order = load_form().order
    keys = [k for _kind, k in order]
    assert keys.index("household") > keys.index("child.open_to_csc")
    assert keys.index("agencies") < keys.index("criteria")
    assert (
        keys.index("learning")
        < keys.index("key_dates")
        < keys.index("parallel_processes.police_investigation.status")
    )


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Name of referrer *", "name of referrer"),
        ("Child’s full name:", "childs full name"),
        ("Child's  FULL name", "childs full name"),
        ("D.O.B.", "d o b"),
        ("Job title / role *", "job title role"),
        ("Zoë", "zoe"),
        (
            "Was the child open to Children's Social Care at the time? ",
            "was the child open to childrens social care at the time",
        ),
    ],
)
def test_normalise_label(written: str, normalised: str) -> None:
    assert normalise_label(written) == normalised


@pytest.mark.parametrize(
    ("label", "section", "key"),
    [
        ("Referrer name", 1, "referrer.name"),
        ("Referrer's name", 1, "referrer.name"),
        ("Referrer’s Name:", 0, "referrer.name"),
        ("Tel", 1, "referrer.phone"),
        ("Telephone", 1, "referrer.phone"),
        ("Tel. no.", 1, "referrer.phone"),
        ("E-mail", 1, "referrer.email"),
        ("DOB", 2, "child.dob"),
        ("D.O.B.", 2, "child.dob"),
        ("Child name", 2, "child.name"),
        ("Name of referer", 1, "referrer.name"),  # misspelt
        ("Date of ref.", 1, "referrer.referral_date"),  # abbreviated
        ("Age", 2, "child.age"),
        ("Date of death", 2, "child.death_date"),
        ("Address", 1, "referrer.address"),
        ("Address", 2, "child.address"),  # a short label belongs to its section
        ("Name", 8, "authorisation.manager_name"),
        ("Role", 8, "authorisation.manager_role"),
        ("Date", 8, "authorisation.date"),
        ("Date", 7, "notifications.national_panel_date"),
        ("Date of birth", 8, "child.dob"),  # distinctive labels match from anywhere
    ],
)
def test_label_matching(label: str, section: int, key: str) -> None:
    hit = LabelMatcher(load_form()).match(label, section)
    assert hit is not None and hit[0].key == key


@pytest.mark.parametrize(
    "text",
    [
        "LSCP reference",
        "Date received",
        "SIRG meeting date",
        "Decision",
        "Notes for completion",
        "Name",
        "",
    ],
)
def test_unrelated_text_matches_no_field(text: str) -> None:
    assert LabelMatcher(load_form()).match(text, 0) is None


def test_a_new_version_is_only_a_data_file(tmp_path: Path) -> None:
    src = FORMS_DIR / "sirg-2024.toml"
    text = src.read_text(encoding="utf-8")
    text = text.replace('id = "sirg-2024"', 'id = "sirg-2099"').replace(
        'label = "Name of referrer *"', 'label = "Full name of the person referring *"'
    )
    path = tmp_path / "sirg-2099.toml"
    path.write_text(text, encoding="utf-8")
    form = load_form_file(path)
    assert form.id == "sirg-2099"
    hit = LabelMatcher(form).match("Full name of the person referring", 1)
    assert hit is not None and hit[0].key == "referrer.name"


def test_invalid_definitions_are_refused(tmp_path: Path) -> None:
    src = (FORMS_DIR / "sirg-2024.toml").read_text(encoding="utf-8")
    no_options = re.sub(r'options = \["Yes", "No"\]\n', "", src, count=1)
    bad = tmp_path / "bad.toml"
    bad.write_text(no_options, encoding="utf-8")
    with pytest.raises(ValidationError):
        load_form_file(bad)
    dup = src.replace('key = "child.aliases"', 'key = "child.name"')
    bad.write_text(dup, encoding="utf-8")
    with pytest.raises(ValidationError):
        load_form_file(bad)
    typo = src.replace('type = "date"', 'type = "datetime"', 1)
    bad.write_text(typo, encoding="utf-8")
    with pytest.raises(ValidationError):
        load_form_file(bad)


def test_unknown_form_id() -> None:
    with pytest.raises(KeyError):
        load_form("no-such-form")


def test_shipped_definitions_all_load(tmp_path: Path) -> None:
    for form_id in available_forms():
        shutil.copy(FORMS_DIR / f"{form_id}.toml", tmp_path)
        assert load_form_file(tmp_path / f"{form_id}.toml").id == form_id


def test_plain_labels_name_grid_cells_by_grid_row_and_column() -> None:
    form = load_form()
    grid = form.grids[0]
    column = grid.columns[0]
    label = form.plain_label(f"{grid.key}[1].{column.key}")
    assert label == f"{grid.title}, row 2: {column.header}"
    assert form.plain_label("referrer.phone") == "Telephone number"
    assert form.plain_label("nothing[0].x") == "nothing[0].x"  # unknown: the key itself
