"""`intake outbox`: an operator sees who each email goes to and its subject."""

from __future__ import annotations

import shutil
from pathlib import Path

from servers.intake_config import ROOT, intake_env, run_intake

SAMPLE = ROOT / "samples" / "maildir" / "new" / "0001.police"


def test_the_outbox_listing_shows_recipient_and_subject(tmp_path: Path) -> None:
    env = intake_env(tmp_path)
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE, maildir / "new" / "m")
    ran = run_intake(env, "run", "--once")
    assert ran.returncode == 0, ran.stderr
    listing = run_intake(env, "outbox")
    assert listing.returncode == 0, listing.stderr
    header, *lines = listing.stdout.splitlines()
    assert header.split("\t")[:6] == ["id", "status", "kind", "queued (UTC)", "to", "subject"]
    acks = [line.split("\t") for line in lines if line.split("\t")[2] == "ack"]
    assert len(acks) == 1
    assert acks[0][4].lower() == "siobhan.mulcahy@merseyside.police.uk"
    assert acks[0][5].startswith("SIRG referral received – SIRG-")
