"""The six example emails: each attachment read gives exactly the expected form."""

from __future__ import annotations

import json

import pytest
from parser_fixtures import EXAMPLES, attachments

from parsers.documents import read_document

CASES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())


def test_all_six_examples_are_here() -> None:
    assert len(CASES) == 6


@pytest.mark.parametrize("case", CASES)
def test_example(case: str) -> None:
    folder = EXAMPLES / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    results = [
        read_document(a.filename, a.content_type, a.data)
        for a in attachments(folder / "message.eml")
    ]
    forms = [r for r in results if r.form is not None]
    if expected["outcome"] == "ignored":
        assert forms == []  # an auto-reply carries no form
        return
    assert [r.form.to_json() for r in forms if r.form] == expected["forms"]
    for r in forms:
        assert r.outcome == expected["outcome"]
        assert r.reason == expected["reason"]
    others = [r for r in results if r.form is None]
    assert all(r.outcome == "not_a_form" for r in others)  # e.g. the signature logo
    if expected["outcome"] == "needs_info":
        assert forms[0].form is not None
        assert forms[0].form.missing() == expected["missing"]
    else:
        assert forms[0].form is not None and forms[0].form.missing() == []


def test_w01_values_say_where_they_came_from() -> None:
    (att,) = [
        a
        for a in attachments(EXAMPLES / "w01-outlook-police-logo" / "message.eml")
        if a.filename.endswith(".docx")
    ]
    form = read_document(att.filename, "application/octet-stream", att.data).form
    assert form is not None
    fv = form.values["child.nhs_number"]
    assert fv.raw == "9990551901"
    assert fv.where.startswith("docx table ") and "cell 2" in fv.where
    assert form.grids["household"][0]["name"].where.startswith("docx table")
    assert form.label_for("child.dob") == "Date of birth"
    assert form.label_for("household") == "Household members and significant others"


def test_p02_pdf_values_have_page_positions() -> None:
    (att,) = attachments(EXAMPLES / "p02-pdf-word-alderhey" / "message.eml")
    form = read_document(att.filename, "application/octet-stream", att.data).form
    assert form is not None and form.source == "pdf"
    assert form.values["referrer.name"].where.startswith("pdf page 1 at (")
    assert form.values["summary"].where.startswith("pdf page 3 at (")


def test_n06_problems_are_plain_words() -> None:
    (att,) = attachments(EXAMPLES / "n06-missing-mandatory" / "message.eml")
    form = read_document(att.filename, att.content_type, att.data).form
    assert form is not None
    by_key = {p.key: p for p in form.problems}
    assert by_key["child.dob"].kind == "missing"
    assert by_key["child.dob"].label == "Date of birth"
    assert by_key["child.dob"].message == "must be completed but was left empty"
    assert by_key["child.dob"].where == "docx table 4 row 3 cell 2"


def test_decision_does_not_depend_on_name_or_type() -> None:
    (att,) = attachments(EXAMPLES / "t03-delete-options-gmail" / "message.eml")
    for name, ctype in [
        ("x.pdf", "application/pdf"),
        ("", "application/octet-stream"),
        ("img.png", "image/png"),
    ]:
        assert read_document(name, ctype, att.data).outcome == "referral"
