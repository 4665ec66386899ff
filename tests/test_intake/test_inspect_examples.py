"""`intake inspect --json` on the public example emails gives exactly the expected result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "forms" / "examples"
CASES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) if EXAMPLES.is_dir() else []


def test_the_examples_are_there() -> None:
    assert len(CASES) >= 6, f"expected the shared example emails at {EXAMPLES}"


@pytest.mark.parametrize("case", CASES)
def test_inspect_matches_expected(case: str) -> None:
    expected = json.loads((EXAMPLES / case / "expected.json").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "intake", "inspect", str(EXAMPLES / case / "message.eml"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["outcome"] == expected["outcome"]
    assert [f["fields"] for f in got["forms"]] == expected.get("forms", [])
    if "missing" in expected:
        assert got["missing"] == expected["missing"]
