"""Accuracy over every sample form and example e-mail, and no confidently wrong value.

Field accuracy: a field is right when its value equals the expected one exactly. Every
grid cell is a field ("household[2].dob"); a multi-choice answer is one field. A value
the reader gives that is not expected at all (an invented value) counts as a wrong field.
Outcome accuracy: referral / needs_info / not_a_form as expected, per document.

The summary line ("parser accuracy: fields N/M (x.x %), outcomes K/L") is printed at the
end of the run by the hook in conftest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from parser_fixtures import EXAMPLES, ROOT, attachments

from parsers.documents import DocumentResult, read_document
from parsers.formdef import load_form

SAMPLES = ROOT / "samples" / "forms"
MIN_FIELD_ACCURACY = 0.99


@dataclass
class Case:
    """One document read, with what it should have given."""

    name: str
    outcome: str  # expected outcome
    expected: dict[str, Any] | None  # expected to_json(), None when not a form
    result: DocumentResult
    wrong: list[str] = field(default_factory=list)  # keys of wrong or invented fields


def flatten(form_json: dict[str, Any]) -> dict[str, Any]:
    """Field key -> value, with one key per grid cell ("agencies[1].contact")."""
    out: dict[str, Any] = {}
    for key, value in form_json.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value, start=1):
                for col, cell in row.items():
                    out[f"{key}[{i}].{col}"] = cell
        else:
            out[key] = value
    return out


def _outcome_for(expected: dict[str, Any]) -> str:
    missing = [k for k in load_form().mandatory_keys() if k not in expected]
    return "needs_info" if missing else "referral"


def _sample_cases() -> list[Case]:
    cases: list[Case] = []
    for exp_path in sorted(SAMPLES.glob("*.expected.json")):
        stem = exp_path.name.removesuffix(".expected.json")
        docs = [SAMPLES / f"{stem}{ext}" for ext in (".docx", ".pdf")]
        doc = next((d for d in docs if d.is_file()), None)
        assert doc is not None, f"no document for {exp_path.name}"
        exp = json.loads(exp_path.read_text(encoding="utf-8"))
        result = read_document(doc.name, "application/octet-stream", doc.read_bytes())
        if "outcome" in exp:
            cases.append(Case(doc.name, exp["outcome"], None, result))
        else:
            cases.append(Case(doc.name, _outcome_for(exp), exp, result))
    return cases


def _example_cases() -> list[Case]:
    cases: list[Case] = []
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        forms = iter(exp.get("forms", []))
        for att in attachments(folder / "message.eml"):
            result = read_document(att.filename, att.content_type, att.data)
            name = f"{folder.name}/{att.filename}"
            if exp["outcome"] in ("referral", "needs_info") and result.form is not None:
                cases.append(Case(name, exp["outcome"], next(forms, {}), result))
            elif result.form is not None:
                cases.append(Case(name, "not_a_form", None, result))  # a form in an auto-reply
        for left in forms:  # an expected form that no attachment gave
            cases.append(Case(f"{folder.name}/(missing form)", exp["outcome"], left, _NOTHING))
    return cases


_NOTHING = DocumentResult("not_a_form", "no form found", None)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    """Every sample and example document, read once for all tests here."""
    found = _sample_cases() + _example_cases()
    assert len(found) >= 20
    for case in found:
        if case.expected is None:
            continue
        got = flatten(case.result.form.to_json()) if case.result.form else {}
        want = flatten(case.expected)
        case.wrong = [k for k in {**want, **got} if got.get(k) != want.get(k)]
    return found


def test_field_and_outcome_accuracy(cases: list[Case], accuracy_totals: dict[str, int]) -> None:
    fields_total = fields_right = 0
    for case in cases:
        if case.expected is None:
            continue
        got = flatten(case.result.form.to_json()) if case.result.form else {}
        keys = set(flatten(case.expected)) | set(got)
        fields_total += len(keys)
        fields_right += len(keys) - len(case.wrong)
    outcomes_right = sum(c.result.outcome == c.outcome for c in cases)
    accuracy_totals.update(
        fields_right=fields_right,
        fields_total=fields_total,
        outcomes_right=outcomes_right,
        outcomes_total=len(cases),
    )
    wrong_fields = {c.name: c.wrong for c in cases if c.wrong}
    wrong_outcomes = {
        c.name: (c.result.outcome, c.outcome) for c in cases if c.result.outcome != c.outcome
    }
    assert fields_right >= MIN_FIELD_ACCURACY * fields_total, wrong_fields
    assert wrong_outcomes == {}, "outcome (got, expected) differs"


def test_no_confidently_wrong_value(cases: list[Case]) -> None:
    """A value is right, or its key is reported as missing or a problem; none is invented."""
    offenders: dict[str, list[str]] = {}
    for case in cases:
        form = case.result.form
        if case.expected is None:
            if form is not None and form.to_json():
                offenders[case.name] = [f"{k} (not a form)" for k in form.to_json()]
            continue
        want = flatten(case.expected)
        got = flatten(form.to_json()) if form else {}
        reported = set(form.missing()) | {p.key for p in form.problems} if form else set()
        bad = [
            f"{k}: got {got.get(k)!r}, expected {want.get(k)!r}"
            for k in case.wrong
            if k not in want or k not in reported  # invented, or wrong and unreported
        ]
        if bad:
            offenders[case.name] = bad
    assert offenders == {}


def test_documents_without_a_form_give_none(cases: list[Case]) -> None:
    for case in cases:
        if case.outcome in ("not_a_form", "rejected"):
            assert case.result.form is None, case.name
            assert case.result.reason, case.name


def test_the_samples_include_pdfs_and_a_long_one(cases: list[Case]) -> None:
    pdfs = [c for c in cases if c.name.endswith(".pdf") and c.expected is not None]
    assert len(pdfs) >= 3
    assert any(Path(c.name).stem.startswith("pdf-rows-long") for c in pdfs)
