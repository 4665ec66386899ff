"""Every message is read under a time and a memory limit, in a child process: a message
that breaks one is quarantined with the reason, and the others go on in the same pass.
A message whose reading kept killing the worker itself is quarantined after three starts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import select

from intake.wiring import open_database
from servers.intake_config import DOCX, ROOT, intake_env, referrer_email, run_intake, settings_for
from storage import messages
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.tables import InboundMessage, Referral

SAMPLES = ROOT / "samples" / "maildir" / "new"
FORM = ROOT / "samples" / "forms" / "cc-police-window-fall.docx"


def many_forms(count: int = 60) -> EmailMessage:
    """One email carrying `count` different copies of the 5-page PDF sample: every file is
    an honest form, but reading them all takes seconds."""
    pdf = (ROOT / "samples" / "forms" / "pdf-rows-long-neglect-sibling-group.pdf").read_bytes()
    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@merseyside.police.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referrals"
    msg["Message-ID"] = "<many@merseyside.police.uk>"
    msg.set_content("All our referrals from this year.")
    for n in range(count):  # a comment after %%EOF makes each file different
        data = pdf + b"\n%% copy %d\n" % n
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"{n}.pdf")
    return msg


def email_with(data: bytes, uid: str) -> bytes:
    return referrer_email(uid, [("referral.docx", data, DOCX)])


def _run(data: Path, mails: dict[str, bytes], **limits: object) -> tuple[dict[str, str], int]:
    """Deliver `mails` to a Maildir and run one pass of the real worker as its own
    process (as deployed: a fresh heap, so the memory limit means what it says)."""
    settings = settings_for(data)
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (new / name).write_bytes(raw)
    result = run_intake(intake_env(data, **limits), "run", "--once", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr  # nothing stopped the pass
    engine = open_database(settings)
    with session_scope(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        out = {str(r.message_id): f"{r.outcome}: {r.outcome_reason}" for r in rows}
        referrals = len(session.exec(select(Referral)).all())
    engine.dispose()
    return out, referrals


def test_reading_over_the_memory_limit_is_stopped_with_the_reason(tmp_path: Path) -> None:
    # In a fresh process, as the worker is: a long-running test process has freed memory
    # of its own that a forked child could reuse without growing.
    script = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from intake.pipeline import new_context
from intake.pipeline.isolate import MIB, ReadingStopped, ReadLimits, decide_limited
from intake.settings import Settings
raw = Path(sys.argv[1]).read_bytes()
settings = Settings(data_dir=Path(sys.argv[2]), database_url="", max_attachments=100)
for mib in (4, 512):
    ctx = new_context(raw, settings, datetime.now(UTC), None)
    try:
        print(mib, decide_limited(ctx, ReadLimits(120, mib * MIB)).outcome)
    except ReadingStopped as exc:
        print(mib, exc)
"""
    mail = tmp_path / "many.eml"
    mail.write_bytes(bytes(many_forms(20)))
    done = subprocess.run(
        [sys.executable, "-c", script, str(mail), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    limited, generous = done.stdout.splitlines()
    # Python's MemoryError, or a C library (pdfium) aborting on a failed allocation: both
    # come back as a reason that says memory.
    assert limited.startswith("4 reading the email") and "memory" in limited, limited
    assert generous == "512 referral"


def test_a_message_over_the_time_limit_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    outcomes, referrals = _run(
        tmp_path,
        {
            "1.slow": bytes(many_forms()),
            "2.good": (SAMPLES / "0001.police").read_bytes(),
        },
        read_timeout_seconds=2,
        max_attachments=100,
    )
    slow = outcomes["<many@merseyside.police.uk>"]
    assert slow == (
        "quarantined: reading the email took longer than 2 seconds; kept for a person to look at"
    )
    assert referrals == 1


def test_a_message_that_kept_killing_the_worker_is_not_read_a_fourth_time(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    engine = open_database(settings)
    raw = (SAMPLES / "0001.police").read_bytes()
    ident = ServerIdentity("maildir:x", "INBOX", 0, "killer")
    row = messages.receive(engine, ident, raw, "<killer@x>", datetime.now(UTC))
    assert row.id is not None
    for _ in range(settings.max_read_starts):  # three workers died while reading it
        messages.count_attempt(engine, row.id)
    with session_scope(engine) as session:
        stored = session.get(InboundMessage, row.id)
        assert stored is not None and stored.attempts == settings.max_read_starts == 3
        session.expunge(stored)
    from intake.runner import filing_for, process_stored

    process_stored(filing_for(engine, settings), settings, stored)
    with session_scope(engine) as session:
        after = session.get(InboundMessage, row.id)
        assert after is not None and after.state == "quarantined"
        assert "cut short 3 times" in (after.outcome_reason or "")
        assert session.exec(select(Referral)).all() == []  # not read a fourth time
    # A person asks for it again: it gets its tries back, and is read.
    assert messages.reopen_quarantined(engine, row.id) == "reopened"
    (again,) = messages.reopened(engine) or [None]
    if again is None:  # reopened() lists only mail already moved on the server
        with session_scope(engine) as session:
            again = session.get(InboundMessage, row.id)
            assert again is not None
            session.expunge(again)
    process_stored(filing_for(engine, settings), settings, again)
    with session_scope(engine) as session:
        assert len(session.exec(select(Referral)).all()) == 1
    engine.dispose()
