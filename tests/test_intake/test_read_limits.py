"""Every message is read under a time and a memory limit, in a child process: a message
that breaks one is quarantined with the reason, and the others go on in the same pass.
A message whose reading kept killing the worker itself is quarantined after three starts."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import select

from intake.runner import MAX_BAK_COUNT, open_database, run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from notifications.transport import FolderTransport
from servers.intake_config import ROOT, settings_for
from storage import messages
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.tables import InboundMessage, Referral

SAMPLES = ROOT / "samples" / "maildir" / "new"
FORM = ROOT / "samples" / "forms" / "cc-police-window-fall.docx"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def heavy_form(paragraphs: int = 120_000) -> bytes:
    """The police sample form with a long run of short paragraphs before it: an honest
    document that takes far more memory (and time) to read than any referral needs."""
    rnd = random.Random(7)  # varied text, so the zip is not refused as a bomb first
    filler = b"".join(
        b"<w:p><w:r><w:t>%d %x</w:t></w:r></w:p>" % (n, rnd.getrandbits(64))
        for n in range(paragraphs)
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(FORM.read_bytes())) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                at = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:at] + filler + data[at:]
            zout.writestr(item, data)
    return out.getvalue()


def email_with(data: bytes, uid: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@merseyside.police.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = f"<{uid}@merseyside.police.uk>"
    msg.set_content("Referral attached.")
    msg.add_attachment(data, maintype=DOCX[0], subtype=DOCX[1], filename="referral.docx")
    return bytes(msg)


def _run(settings: Settings, mails: dict[str, bytes]) -> tuple[dict[str, str], int]:
    """Deliver `mails` to the Maildir, run one pass; outcome reason by Message-ID."""
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name, raw in mails.items():
        (new / name).write_bytes(raw)
    engine = open_database(settings)
    source = MaildirSource(settings.resolved_maildir)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        out = {str(r.message_id): f"{r.outcome}: {r.outcome_reason}" for r in rows}
        referrals = len(session.exec(select(Referral)).all())
    engine.dispose()
    assert report.errors == 0  # nothing stopped the pass
    return out, referrals


def test_a_message_over_the_memory_limit_is_quarantined_and_the_rest_go_on(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, read_memory_mb=64, read_timeout_seconds=300)
    outcomes, referrals = _run(
        settings,
        {
            "1.heavy": email_with(heavy_form(), "heavy"),
            "2.good": (SAMPLES / "0001.police").read_bytes(),
        },
    )
    heavy = outcomes["<heavy@merseyside.police.uk>"]
    assert heavy.startswith("quarantined: ") and "memory" in heavy, heavy
    assert referrals == 1  # the good referral, read in the same pass


def test_a_message_over_the_time_limit_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, read_timeout_seconds=2)
    outcomes, referrals = _run(
        settings,
        {
            "1.slow": email_with(heavy_form(), "slow"),
            "2.good": (SAMPLES / "0001.police").read_bytes(),
        },
    )
    slow = outcomes["<slow@merseyside.police.uk>"]
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
    for _ in range(MAX_BAK_COUNT):  # three workers died while reading it
        messages.count_attempt(engine, row.id)
    with session_scope(engine) as session:
        stored = session.get(InboundMessage, row.id)
        assert stored is not None and stored.attempts == MAX_BAK_COUNT
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
