"""No personal data in the logs, even at DEBUG, over the whole sample mailbox."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from servers.dovecot import DovecotServer
from servers.intake_config import intake_env, run_intake
from servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def personal_strings() -> set[str]:
    found: set[str] = set()
    for path in (SAMPLES / "forms").glob("*.expected.json"):
        record = json.loads(path.read_text())
        names = [record.get("child.name"), record.get("referrer.name")]
        names += [row.get("name") for row in record.get("household", [])]
        for name in filter(None, names):
            found.add(name)
            found.update(part for part in name.split() if len(part) > 3)
        for key in ("referrer.email", "child.nhs_number"):
            if record.get(key):
                found.add(record[key])
        if record.get("child.dob"):
            dob = date.fromisoformat(record["child.dob"])
            found.update({dob.isoformat(), dob.strftime("%d/%m/%Y"), dob.strftime("%-d %B %Y")})
        for line in (record.get("child.address") or "").replace(",", "\n").splitlines():
            if any(ch.isdigit() for ch in line):
                found.add(line.strip())
    # Words that are also ordinary log or place words are not evidence of a leak.
    return {s for s in found if s.lower() not in {"liverpool", "merseyside", "police"}}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_debug_logs_of_the_whole_sample_mailbox_hold_no_personal_data(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer, fmt: str
) -> None:
    for path in sorted((SAMPLES / "maildir" / "new").iterdir()):
        dovecot_mailbox.append(path.read_bytes())
    env = intake_env(
        tmp_path,
        dovecot_mailbox,
        smtp_server,
        routing_file=SAMPLES / "routing.toml",
        log_level="DEBUG",
        log_format=fmt,
    )
    result = run_intake(env, "run", "--once")
    assert result.returncode == 0, result.stderr
    log = result.stderr + result.stdout
    assert "message" in log and "SIRG-" in log  # the log does say what happened
    if fmt == "json":
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert all(json.loads(line)["level"] for line in lines)
    secrets = personal_strings()
    assert len(secrets) > 30
    leaked = sorted(s for s in secrets if s in log)
    assert leaked == []
