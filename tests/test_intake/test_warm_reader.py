"""The worker warms its readers once, by deciding an email with the blank forms, and
collects every child that has answered: no zombie processes pile up in a long run."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from intake.pipeline import isolate, new_context
from intake.pipeline.isolate import ReadLimits, decide_limited
from intake.settings import Settings
from servers.intake_config import DOCX, ROOT, referrer_email

FORM = (ROOT / "samples" / "forms" / "cc-police-window-fall.docx").read_bytes()


def _zombie_children() -> int:
    me, count = str(os.getpid()), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            count += fields[0] == "Z" and fields[1] == me
    return count


def test_the_warm_up_email_goes_through_every_stage_and_reads_both_blank_forms() -> None:
    ctx = isolate._rehearse()
    assert ctx is not None
    assert ctx.outcome == "needs_info"  # the blank form: every answer missing
    read = sorted(d.candidate.filename for d in ctx.documents if d.result.form is not None)
    blanks = isolate.BLANK_FORMS.iterdir()
    assert read == sorted(p.name for p in blanks if p.suffix in (".docx", ".pdf"))
    assert len(read) == 2


def test_children_that_have_answered_are_collected() -> None:
    settings = Settings(_env_file=None)
    for n in range(8):
        raw = referrer_email(f"reap-{n}", [("referral.docx", FORM, DOCX)])
        ctx = new_context(raw, settings, datetime.now(UTC), None)
        assert decide_limited(ctx, ReadLimits()).outcome == "referral"
    assert _zombie_children() <= 1  # at most the one that has just answered
