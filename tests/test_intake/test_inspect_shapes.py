"""`intake inspect --json` on every shape of the corpus gives the shape's outcome and fields.

The shapes are written as referrers' emails (`tests/test_parsers/shape_emails.py`) and
read by the real command in one run, as an acceptance check would read them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PARSER_TESTS = Path(__file__).resolve().parents[1] / "test_parsers"
sys.path[:0] = [str(PARSER_TESTS)]

from shape_emails import export, file_name  # noqa: E402


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("shapes")
    export(folder)
    emails = sorted(str(p) for p in folder.glob("*.eml"))
    run = subprocess.run(
        [sys.executable, "-m", "intake", "inspect", "--json", *emails],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(emails)
    return {str(line["message"]): line for line in lines}


def test_every_shape_is_inspected_with_its_outcome_and_fields(
    inspected: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    from shapes import all_shapes

    differ = {}
    for shape in all_shapes():
        got = inspected[file_name(shape) + ".eml"]
        attachments = got["attachments"]
        assert isinstance(attachments, list) and attachments, shape.name
        forms = got["forms"]
        assert isinstance(forms, list)
        seen = {
            "outcome": attachments[0]["outcome"],
            "fields": forms[0]["fields"] if forms else None,
        }
        want = {"outcome": shape.outcome, "fields": shape.expected}
        if shape.outcome == "not_a_form":
            want["fields"] = None
        if seen != want:
            differ[shape.name] = (seen, want)
    assert differ == {}
