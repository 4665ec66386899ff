"""Merging a duplicate referral into the one kept: documents and thread kept, the earliest
clock wins, later mail follows, audited; the pages, roles and errors; the admin's undo."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, Clock, Site, add_referral, login, token
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from intake.runner import filing_for, process_stored
from intake.settings import Settings
from parsers.thread import ThreadClues
from review.app import create_app
from review.users import add_user
from storage import messages, workflow
from storage.db import make_engine, session_scope
from storage.duplicates import Input, MergeError, merge, merged_into, plan, undo_refused, unmerge
from storage.messages import ServerIdentity
from storage.milestones import Milestone, current
from storage.tables import (
    AuditEvent,
    InboundMessage,
    LinkHow,
    Referral,
    ReferralMerge,
    ReferralMessage,
    ReferralMilestone,
)
from storage.threads import Joined, find_thread
from storage.timeline import EntryKind, timeline
from storage.workflow import WorkflowError, by_reference

KEEP, DUP = "SIRG-2026-0901", "SIRG-2026-0902"
CHILD = {"child.name": "Amelia Jane Okafor", "referrer.name": "P. Referrer"}
SENDER = "dsl@school.example"


def _pair(engine: Engine, *, dup_status: str = "new") -> None:
    """A kept referral received later, and its duplicate received first, urgent."""
    add_referral(
        engine,
        KEEP,
        received=datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
        panel_due=date(2026, 11, 17),
        rapid_review_due=date(2026, 12, 1),
        record=dict(CHILD),
        agency="Merseyside Police",
    )
    add_referral(
        engine,
        DUP,
        urgent=True,
        received=datetime(2026, 11, 3, 14, 0, tzinfo=UTC),
        panel_due=date(2026, 11, 10),
        rapid_review_due=date(2026, 11, 24),
        record=dict(CHILD),
        agency="St Mary's Primary",
        status=dup_status,
    )
    with session_scope(engine) as db:
        for reference in (KEEP, DUP):
            referral = by_reference(db, reference)
            assert referral is not None and referral.id is not None
            db.add(
                ReferralMessage(
                    referral_id=referral.id,
                    message_id=referral.message_id,
                    how="first",
                    effect="created",
                    actor="system",
                    at=referral.received_at,
                )
            )
            message = db.get(InboundMessage, referral.message_id)
            assert message is not None
            message.sender = SENDER if reference == DUP else "officer@police.example"
            message.message_id = f"<{reference}@example.test>"
            db.add(message)


def _both(db: Session) -> tuple[Referral, Referral]:
    keep, dup = by_reference(db, KEEP), by_reference(db, DUP)
    assert keep is not None and dup is not None
    return keep, dup


def _events(db: Session, referral: Referral) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "referral", AuditEvent.entity_id == referral.id)
            .order_by(col(AuditEvent.id))
        )
    )


def _merged(site: Site, now: datetime) -> None:
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        merge(db, keep, dup, "olly", "Same child, the PDF resend of the Word form", now)


# --------------------------------------------------------------------------- storage


def test_documents_and_thread_are_kept_and_the_earliest_clock_wins(site: Site) -> None:
    _pair(site.engine)
    now = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
    with session_scope(site.engine) as db:
        _keep, dup = _both(db)
        workflow.add_note(db, dup, "Spoke to the DSL about Amelia", "olly", now)
        assert dup.id is not None
        db.add(
            ReferralMilestone(
                referral_id=dup.id,
                kind=Milestone.PANEL_NOTIFIED,
                on_date=date(2026, 11, 6),
                notified_by="J Smith",
                recorded_by="olly",
                recorded_at=now,
            )
        )
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        planned = plan(db, keep, dup)
        assert (planned.clock_from, planned.panel_due, planned.urgent) == (
            DUP,
            date(2026, 11, 10),
            True,
        )
        assert planned.emails == 1 and planned.notes == 1
        assert planned.milestones == (Milestone.PANEL_NOTIFIED,)
    _merged(site, now)
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        assert keep.id is not None and dup.id is not None
        # The earliest clock wins; urgent because the duplicate was.
        assert keep.received_at == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
        assert (keep.panel_due, keep.rapid_review_due) == (date(2026, 11, 10), date(2026, 11, 24))
        assert keep.urgent and keep.status == "new"
        # The duplicate stays, closed and read-only, pointing at the kept one.
        assert dup.status == "closed" and dup.duplicate_of_id == keep.id
        assert [r.reference for r in merged_into(db, keep.id)] == [DUP]
        with pytest.raises(WorkflowError):
            workflow.add_note(db, dup, "more", "olly", now)
        # Its email (and the form in it) is in the kept conversation and still its own.
        links = db.exec(
            select(ReferralMessage).where(ReferralMessage.message_id == dup.message_id)
        ).all()
        assert {(link.referral_id, link.how) for link in links} == {
            (dup.id, "first"),
            (keep.id, LinkHow.MERGED),
        }
        entries = timeline(db, keep)
        files = [f.filename for e in entries if e.kind == EntryKind.EMAIL_IN for f in e.files]
        assert f"{DUP}.docx" in files and f"{KEEP}.docx" in files
        assert any(e.summary.startswith(f"Case note (on {DUP}") for e in entries)
        assert Milestone.PANEL_NOTIFIED in current(db, [keep.id])[keep.id]
        # Audited on both; the reason (which may name people) is sealed in the merge row.
        kept_lines = [(e.action, e.detail or "") for e in _events(db, keep)]
        dup_lines = [(e.action, e.detail or "") for e in _events(db, dup)]
        assert ("merged into", KEEP) in dup_lines
        assert any(a == "merged in" and d.startswith(DUP) for a, d in kept_lines)
        for _action, detail in kept_lines + dup_lines:
            assert "Amelia" not in detail and "PDF resend" not in detail
        record = db.exec(select(ReferralMerge)).one()
        assert record.reason.startswith("Same child") and record.merged_by == "olly"


def test_a_merge_needs_a_reason_and_a_running_duplicate(site: Site) -> None:
    _pair(site.engine, dup_status="decision_nfa")
    now = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        with pytest.raises(MergeError) as caught:
            merge(db, keep, dup, "olly", "  ", now)
        assert set(caught.value.errors) == {Input.OTHER, Input.REASON}
        assert "keep it, and mark the other" in caught.value.errors[Input.OTHER]
        with pytest.raises(MergeError) as caught:
            merge(db, keep, keep, "olly", "why", now)
        assert "with itself" in caught.value.errors[Input.OTHER]
        # The other way round is fine: the decided referral is the one kept.
        merge(db, dup, keep, "olly", "the decided one is the record", now)
        assert keep.duplicate_of_id == dup.id
        with pytest.raises(MergeError):
            merge(db, dup, keep, "olly", "again", now)


def _email(site: Site, uid: str, subject: str, in_reply_to: str | None = None) -> InboundMessage:
    """A plain email from the duplicate's sender, run through the real pipeline."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = "sirg@lscp.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="school.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg["Date"] = "Fri, 13 Nov 2026 09:00:00 +0000"
    msg.set_content("Some more about the incident: the chronology follows.")
    raw = bytes(msg)
    row = messages.receive(
        site.engine,
        ServerIdentity("test", "INBOX", 1, uid),
        raw,
        msg["Message-ID"],
        datetime(2026, 11, 13, 9, 0, tzinfo=UTC),
    )
    process_stored(filing_for(site.engine, site.settings), site.settings, row, raw)
    return row


def test_later_email_quoting_the_duplicates_reference_joins_the_kept_one(site: Site) -> None:
    _pair(site.engine)
    _merged(site, datetime(2026, 11, 12, 10, 0, tzinfo=UTC))
    by_subject = _email(site, "later-1", f"Re: {DUP} more information")
    by_reply = _email(site, "later-2", "Re: referral", in_reply_to=f"<{DUP}@example.test>")
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        for row, how in ((by_subject, LinkHow.SUBJECT), (by_reply, LinkHow.REPLY)):
            links = db.exec(
                select(ReferralMessage).where(ReferralMessage.message_id == row.id)
            ).all()
            assert [(link.referral_id, link.how) for link in links] == [(keep.id, how)]
        clues = ThreadClues(answers=(), references=(DUP,), sender="stranger@example.org")
        found = find_thread(db, clues)
        assert not isinstance(found, Joined) and found is not None
        assert found.reference == KEEP  # a stranger's mention is shown on the kept one
        # Mail has moved on in the kept conversation: undoing could misfile it.
        refused = undo_refused(db, dup)
        assert refused is not None and "2 emails joined" in refused


def test_an_admin_undoes_a_merge_while_it_is_safe(site: Site) -> None:
    _pair(site.engine)
    _merged(site, datetime(2026, 11, 12, 10, 0, tzinfo=UTC))
    later = datetime(2026, 11, 12, 11, 0, tzinfo=UTC)
    with session_scope(site.engine) as db:
        _keep, dup = _both(db)
        with pytest.raises(MergeError):
            unmerge(db, dup, "ada", " ", later)
        kept = unmerge(db, dup, "ada", "different incidents after all", later)
        assert kept.reference == KEEP
    with session_scope(site.engine) as db:
        keep, dup = _both(db)
        assert keep.received_at == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
        assert (keep.panel_due, keep.urgent) == (date(2026, 11, 17), False)
        assert (dup.status, dup.duplicate_of_id) == ("new", None)
        assert db.exec(
            select(ReferralMessage).where(ReferralMessage.referral_id == keep.id)
        ).all() == [
            link
            for link in db.exec(select(ReferralMessage)).all()
            if link.referral_id == keep.id and link.how == "first"
        ]
        assert db.exec(select(ReferralMerge)).one().undone_by == "ada"
        assert ("merge undone", KEEP) in [(e.action, e.detail) for e in _events(db, dup)]
        with pytest.raises(WorkflowError):
            unmerge(db, dup, "ada", "again", later)


# --------------------------------------------------------------------------- pages


def test_viewers_cannot_merge(site: Site) -> None:
    _pair(site.engine)
    client = site.client("vera")
    assert client.get(f"/referrals/{KEEP}/merge").status_code == 403
    posted = client.post(
        f"/referrals/{KEEP}/merge",
        data={"csrf_token": token(client), "other": DUP, "keep": "this", "reason": "x"},
    )
    assert posted.status_code == 403
    page = client.get(f"/referrals/{KEEP}").text
    assert "Possible duplicates" in page and "/merge" not in page


def test_the_officer_confirms_a_merge_side_by_side(site: Site) -> None:
    _pair(site.engine)
    client = site.client("olly")
    page = client.get(f"/referrals/{KEEP}").text
    assert f"/referrals/{KEEP}/merge?other={DUP}&amp;keep=this" in page
    assert f"Mark as duplicate of {DUP}" in page
    # A typed reference that names nothing: the error is tied to its field.
    wrong = client.get(f"/referrals/{KEEP}/merge", params={"other": "SIRG-1999-0001"})
    assert wrong.status_code == 400
    assert '<a href="#other">There is no referral SIRG-1999-0001' in wrong.text
    assert re.search(r'id="other"[^>]*aria-describedby="other-hint other-error"', wrong.text)
    assert 'aria-invalid="true"' in wrong.text and wrong.text.count("Error:") >= 2
    itself = client.get(f"/referrals/{KEEP}/merge", params={"other": KEEP.lower()})
    assert itself.status_code == 400 and "with itself" in itself.text
    # The confirmation page: both side by side, and the earliest clock.
    confirm = client.get(f"/referrals/{KEEP}/merge", params={"other": f" {DUP} "})
    assert confirm.status_code == 200
    text = confirm.text
    assert f"Kept: {KEEP}" in text and f"Duplicate: {DUP}" in text
    assert "A.J.O." in text and "Amelia" not in text
    assert "St Mary" in text and "Merseyside Police" in text
    assert "The earliest clock wins" in text and f"(from {DUP})" in text
    assert "Panel due Tue 10 Nov 2026; Rapid Review due Tue 24 Nov 2026" in text
    # Confirming without a reason: the reason field carries the error.
    csrf = token(client, f"/referrals/{KEEP}")
    form = {"csrf_token": csrf, "other": DUP, "keep": "this", "reason": ""}
    bad = client.post(f"/referrals/{KEEP}/merge", data=form)
    assert bad.status_code == 400
    assert '<a href="#reason">' in bad.text
    assert re.search(
        r'id="reason"[^>]*aria-invalid="true" aria-describedby="reason-error"', bad.text
    )
    done = client.post(
        f"/referrals/{KEEP}/merge",
        data=form | {"reason": "the same incident, two agencies"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/referrals/{KEEP}#flash"
    kept_page = client.get(f"/referrals/{KEEP}").text
    assert "was merged into" in kept_page and f'href="/referrals/{DUP}"' in kept_page
    dup_page = client.get(f"/referrals/{DUP}").text
    assert f"Merged into {KEEP}" in dup_page and f'<a href="/referrals/{KEEP}">' in dup_page
    assert f'action="/referrals/{DUP}/notes"' not in dup_page  # read-only
    note = client.post(f"/referrals/{DUP}/notes", data={"csrf_token": csrf, "text": "x"})
    assert note.status_code == 409
    write = client.post(f"/referrals/{DUP}/write", data={"csrf_token": csrf, "body": "hello"})
    assert write.status_code == 409


def test_marking_this_referral_as_the_duplicate_keeps_the_other(site: Site) -> None:
    _pair(site.engine)
    client = site.client("olly")
    confirm = client.get(f"/referrals/{DUP}/merge", params={"other": KEEP, "keep": "other"})
    assert confirm.status_code == 200 and f"Kept: {KEEP}" in confirm.text
    done = client.post(
        f"/referrals/{DUP}/merge",
        data={
            "csrf_token": token(client),
            "other": KEEP,
            "keep": "other",
            "reason": "the PDF resend",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == f"/referrals/{KEEP}#flash"
    # Only an admin may undo, and must say why.
    assert "Undo the merge" not in client.get(f"/referrals/{DUP}").text
    assert (
        client.post(f"/referrals/{DUP}/unmerge", data={"csrf_token": token(client)}).status_code
        == 403
    )
    admin = site.client("ada")
    csrf = token(admin)
    assert "Undo the merge" in admin.get(f"/referrals/{DUP}").text
    bad = admin.post(f"/referrals/{DUP}/unmerge", data={"csrf_token": csrf, "reason": ""})
    assert bad.status_code == 400
    assert re.search(r'id="undo_reason"[^>]*aria-invalid="true"', bad.text)
    undone = admin.post(
        f"/referrals/{DUP}/unmerge",
        data={"csrf_token": csrf, "reason": "two incidents"},
        follow_redirects=False,
    )
    assert undone.status_code == 303
    with session_scope(site.engine) as db:
        _keep, dup = _both(db)
        assert dup.duplicate_of_id is None and dup.status == "new"


# --------------------------------------------------------------------------- PostgreSQL


def test_merge_and_undo_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False)
    app = create_app(settings, engine=engine, clock=Clock())
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        add_user(engine, "ada", "admin", PASSWORD)
        _pair(engine)
        client = TestClient(app)
        assert login(client, "olly").status_code == 303
        confirm = client.get(f"/referrals/{KEEP}/merge", params={"other": DUP})
        assert confirm.status_code == 200 and "The earliest clock wins" in confirm.text
        done = client.post(
            f"/referrals/{KEEP}/merge",
            data={"csrf_token": token(client), "other": DUP, "keep": "this", "reason": "same"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        with session_scope(engine) as db:
            keep, dup = _both(db)
            assert keep.panel_due == date(2026, 11, 10) and keep.urgent
            assert dup.duplicate_of_id == keep.id and dup.status == "closed"
            clues = ThreadClues(answers=(), references=(DUP,), sender=SENDER)
            found = find_thread(db, clues)
            assert isinstance(found, Joined) and found.referrals[0].reference == KEEP
        admin = TestClient(app)
        assert login(admin, "ada").status_code == 303
        undone = admin.post(
            f"/referrals/{DUP}/unmerge",
            data={"csrf_token": token(admin), "reason": "not the same"},
            follow_redirects=False,
        )
        assert undone.status_code == 303
        with session_scope(engine) as db:
            keep, dup = _both(db)
            assert keep.panel_due == date(2026, 11, 17) and dup.duplicate_of_id is None
    finally:
        engine.dispose()
