"""Every generated sample in samples/forms/ (made by samples/make_samples.py), field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from parser_fixtures import ROOT

from parsers.documents import read_document
from parsers.formdef import load_form

SAMPLES = ROOT / "samples" / "forms"
CASES = sorted(SAMPLES.glob("*.expected.json")) if SAMPLES.is_dir() else []


def _document(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    for ext in (".docx", ".pdf"):
        if (SAMPLES / f"{stem}{ext}").is_file():
            return SAMPLES / f"{stem}{ext}"
    pytest.skip(f"no document for {expected.name}")


@pytest.mark.skipif(not CASES, reason="samples/forms has not been generated")
@pytest.mark.parametrize(
    "expected_path", CASES, ids=[p.name.removesuffix(".expected.json") for p in CASES]
)
def test_generated_sample(expected_path: Path) -> None:
    expected: dict[str, Any] = json.loads(expected_path.read_text(encoding="utf-8"))
    doc = _document(expected_path)
    result = read_document(doc.name, "application/octet-stream", doc.read_bytes())
    if "outcome" in expected:  # not a form, or blank
        assert result.outcome == expected["outcome"], result.reason
        if expected.get("blank"):
            assert "blank" in result.reason
        return
    assert result.form is not None, result.reason
    got = result.form.to_json()
    wrong = {
        key: {"got": got.get(key), "expected": expected.get(key)}
        for key in sorted(set(got) | set(expected))
        if got.get(key) != expected.get(key)
    }
    assert wrong == {}
    mandatory_missing = [k for k in load_form().mandatory_keys() if k not in expected]
    assert result.form.missing() == mandatory_missing
    assert result.outcome == ("needs_info" if mandatory_missing else "referral")
