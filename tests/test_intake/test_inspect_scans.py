"""`intake inspect --json` on a scanned form: its fields, each value's confidence, and
the answers a person must check, as an acceptance check would read them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scan_support import scan_email, scan_of_sample


def test_a_scan_is_inspected_with_confidences_shaped_like_its_fields(tmp_path: Path) -> None:
    email = tmp_path / "scan.eml"
    email.write_bytes(scan_email("inspect", [(scan_of_sample(), "application/pdf", "s.pdf")]))
    run = subprocess.run(
        [sys.executable, "-m", "intake", "inspect", "--json", str(email)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(x) for x in run.stdout.splitlines() if x.startswith("{")]
    (form,) = line["forms"]
    assert form["source"] == "scan" and form["outcome"] in ("referral", "needs_info")
    fields, confidence = form["fields"], form["confidence"]
    assert fields["child.name"] and 0 < confidence["child.name"] <= 1
    # Every value has a confidence, under the same key; a table row by row.
    for key, value in fields.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            assert len(confidence[key]) == len(value), key
            for row, scores in zip(value, confidence[key], strict=True):
                assert set(scores) == set(row), key
        else:
            assert key in confidence, key
    assert all(c["kind"] in ("uncertain", "unreadable") for c in form["check"])
