"""`intake demo` processes the sample mailbox once, and a second run makes nothing twice."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir"


def demo(cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    result = subprocess.run(
        [sys.executable, "-m", "intake", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def table_count(db: Path, table: str, where: str = "1=1") -> int:
    with sqlite3.connect(db) as connection:
        query = f"select count(*) from {table} where {where}"
        return int(connection.execute(query).fetchone()[0])


def test_demo_twice_stores_and_acknowledges_each_sample_once(tmp_path: Path) -> None:
    expected = json.loads((SAMPLES / "EXPECTED.json").read_text())
    answered = [n for n, e in expected.items() if e["outcome"] in ("referral", "needs_info")]
    forms = sum(len(e["forms"]) for e in expected.values())

    first = demo(tmp_path)
    db = tmp_path / "var" / "intake.db"
    assert table_count(db, "referral") == forms
    replies = "kind != 'alert'"
    assert table_count(db, "outbox", replies) == len(answered)
    mails = sorted((tmp_path / "var" / "outbox-mail").glob("*.eml"))
    assert len(mails) == table_count(db, "outbox", "status = 'sent'")
    assert f"{len(expected)} new" in first

    second = demo(tmp_path)
    assert "0 new" in second and f"{len(expected)} already stored" in second
    assert table_count(db, "referral") == forms
    assert table_count(db, "outbox", replies) == len(answered)
    assert sorted((tmp_path / "var" / "outbox-mail").glob("*.eml")) == mails
