"""Scanned and photographed forms become referrals waiting for an officer's check: filed
through the one referral path as "Check scan", acknowledged with the reference (never a
rejection, never yet a list of missing answers), SIRG alerted as for any referral."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from scan_support import (
    SENDER,
    file_email,
    scan_email,
    scan_of_sample,
    stand_in_form,
    stand_in_result,
    use_stand_in,
)
from sqlmodel import select

from intake.wiring import open_database
from parsers import documents
from parsers.record import ScanBox, ScanPage
from servers.intake_config import ROOT, settings_for
from storage.db import session_scope
from storage.scans import pages_for, record_key
from storage.tables import Attachment, AuditEvent, InboundMessage, OutboxMessage, Referral

ROUTING = ROOT / "samples" / "routing.toml"
# The child's and family's names and the raw answers a reply must never echo.
SECRETS = ("Lily-Mae", "Kavanagh", "scan.pdf", "page-1.png", "0151 496 0217")


@pytest.fixture
def intake(tmp_path: Path) -> Any:
    settings = settings_for(tmp_path, routing_file=ROUTING)
    engine = open_database(settings)
    yield engine, settings
    engine.dispose()


def _one(engine: Any, message_id: int) -> tuple[Referral, list[OutboxMessage], InboundMessage]:
    with session_scope(engine) as db:
        referral = db.exec(select(Referral).where(Referral.message_id == message_id)).one()
        mail = list(
            db.exec(select(OutboxMessage).where(OutboxMessage.inbound_message_id == message_id))
        )
        message = db.get(InboundMessage, message_id)
        assert message is not None
        db.expunge_all()
        return referral, mail, message


def test_a_scanned_form_waits_for_a_check_and_is_acknowledged(
    intake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = intake
    # An unreadable mandatory answer: a typed form would be asked for it at once.
    form = stand_in_form(uncertain=("child.dob",), unreadable=("referrer.phone",))
    use_stand_in(monkeypatch, form)
    message_id = file_email(engine, settings, "scan-ack", scan_email("scan-ack"))
    referral, mail, message = _one(engine, message_id)

    assert referral.status == "check_scan" and not referral.complete
    assert referral.panel_due is not None and referral.rapid_review_due is not None  # clocks run
    assert message.outcome == "referral"
    prov = referral.provenance["child.dob"]
    assert prov["source"] == "scan" and prov["confidence"] == "0.55"
    assert prov["box"] == form.scan_boxes["child.dob"].to_text()
    assert ScanBox.from_text(prov["box"]) is not None
    assert referral.provenance["child.name"]["confidence"] == "0.96"
    # The unreadable answer has no value, but where to look for it is kept.
    assert "box" in referral.provenance["referrer.phone"]
    assert "referrer.phone" not in referral.record
    with session_scope(engine) as db:
        assert referral.id is not None
        pages = pages_for(db, referral.id)
        assert [p.page for p in pages] == form.scan_pages
        assert {p.attachment_id for p in pages} == {referral.attachment_id}
        created = db.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == referral.id, AuditEvent.action == "created"
            )
        ).one()
        assert created.detail == "check_scan"

    (ack,) = [m for m in mail if m.to_addr == SENDER]
    assert ack.kind == "ack"  # an acknowledgement, not a rejection nor a request
    assert ack.subject.startswith("SIRG referral received") and referral.reference in ack.subject
    assert "We received your scanned form; the LSCP team will check it." in ack.body_text
    assert referral.reference in ack.body_text
    assert "Please send the following" not in ack.body_text  # not yet: after the check
    assert "Telephone" not in ack.body_text
    assert "could not read" not in ack.body_text.lower()
    for secret in SECRETS:
        assert secret not in f"{ack.subject}\n{ack.body_text}\n{ack.body_html}", secret
    alerts = [m for m in mail if m.kind == "alert"]
    assert alerts and all(referral.reference in a.body_text for a in alerts)
    assert all("Lily-Mae" not in a.subject for a in alerts)


def test_a_complete_typed_form_is_still_new(intake: Any) -> None:
    engine, settings = intake
    message_id = file_email(engine, settings, "typed", scan_email("typed"))
    referral, mail, _ = _one(engine, message_id)
    assert referral.status == "new"
    assert "source" not in referral.provenance["child.name"]
    assert not any("scanned form" in m.body_text for m in mail)


def _png(colour: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (colour, colour, colour)).save(out, "PNG")
    return out.getvalue()


def test_photos_of_one_forms_pages_are_read_as_one_document(
    intake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = intake
    form = stand_in_form()
    # Two photos, a page each: the reader is given both files at once.
    form.scan_pages = [ScanPage(0, 0, 90), ScanPage(1, 0, 0, -1.5)]
    form.scan_boxes = {k: ScanBox(0, 0.1, 0.1, 0.5, 0.2) for k in ("child.name", "child.dob")}

    def read_scan_set(files: list[bytes]) -> Any:
        # (Reading runs in a forked child: what it sees is checked by what it returns.)
        assert len(files) == 2 and all(f.startswith(b"\x89PNG") for f in files)
        return stand_in_result(form)

    monkeypatch.setattr(documents, "read_scan_set", read_scan_set, raising=False)
    photos = [(_png(250), "image/png", "page-1.png"), (_png(240), "image/png", "page-2.png")]
    raw = scan_email("photos", photos)
    message_id = file_email(engine, settings, "photos", raw)
    referral, mail, message = _one(engine, message_id)
    assert referral.status == "check_scan" and message.outcome == "referral"
    with session_scope(engine) as db:
        files = db.exec(
            select(Attachment)
            .where(Attachment.message_id == message_id)
            .order_by(Attachment.position)
        ).all()
        assert [a.outcome for a in files] == ["referral", "not_a_form"]
        assert referral.id is not None
        pages = pages_for(db, referral.id)
    assert [p.attachment_id for p in pages] == [files[0].id, files[1].id]
    assert [(p.page.file, p.page.turn, p.page.skew) for p in pages] == [(0, 90, 0.0), (1, 0, -1.5)]
    (ack,) = [m for m in mail if m.to_addr == SENDER]
    assert "We received your scanned form" in ack.body_text
    assert "page-2.png" not in ack.body_text


def test_a_real_scan_is_read_into_a_referral_to_check(intake: Any) -> None:
    engine, settings = intake
    raw = scan_email("real", [(scan_of_sample(), "application/pdf", "scan.pdf")])
    message_id = file_email(engine, settings, "real", raw)
    with session_scope(engine) as db:
        message = db.get(InboundMessage, message_id)
        assert message is not None and message.outcome == "referral", message.outcome_reason
    referral, mail, _ = _one(engine, message_id)
    assert referral.status == "check_scan"
    assert referral.provenance["child.name"]["source"] == "scan"
    assert ScanBox.from_text(referral.provenance["child.name"]["box"]) is not None
    assert 0 < float(referral.provenance["child.name"]["confidence"]) <= 1
    with session_scope(engine) as db:
        assert referral.id is not None
        assert len(pages_for(db, referral.id)) == 4
    (ack,) = [m for m in mail if m.to_addr == SENDER]
    assert ack.kind == "ack" and "We received your scanned form" in ack.body_text
    assert "Please send the following" not in ack.body_text
    for secret in SECRETS:
        assert secret not in f"{ack.subject}\n{ack.body_text}\n{ack.body_html}", secret


def test_table_rows_in_problems_are_counted_from_one() -> None:
    assert record_key("household[1].dob") == "household[0].dob"
    assert record_key("child.dob") == "child.dob"
    assert record_key("parallel_processes.cdop_notified.status") == (
        "parallel_processes.cdop_notified.status"
    )


def test_photos_without_a_form_are_read_once_as_a_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from intake.pipeline import decide, new_context
    from intake.pipeline import read as read_stage

    calls: list[int] = []

    def read_scan_set(files: list[bytes]) -> Any:
        calls.append(len(files))
        return documents.DocumentResult("not_a_form", "scanned images, not a form", None)

    def read_alone(filename: str, content_type: str, data: bytes) -> Any:
        raise AssertionError("an image of the set was read again on its own")

    monkeypatch.setattr(documents, "read_scan_set", read_scan_set, raising=False)
    monkeypatch.setattr(read_stage, "read_document", read_alone)
    photos = [(_png(250), "image/png", "a.png"), (_png(240), "image/png", "b.png")]
    raw = scan_email("no-form", photos)
    settings = settings_for(tmp_path)
    ctx = decide(new_context(raw, settings, datetime(2024, 11, 14, tzinfo=UTC), None))
    assert calls == [2]
    assert [d.result.reason for d in ctx.documents] == ["scanned images, not a form"] * 2
    assert ctx.outcome == "needs_info" and "not a form" in ctx.reason


def test_a_scanned_follow_up_never_changes_the_record_unchecked(
    intake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later scan of the same child's form joins the referral's timeline for an officer
    to read; its values, read from pixels, are not merged into the record as a version."""
    from dataclasses import replace

    from storage.tables import ReferralMessage

    engine, settings = intake
    first = file_email(engine, settings, "typed-first", scan_email("typed-first"))
    referral, _, _ = _one(engine, first)
    assert referral.status == "new"  # the typed sample, read by the real reader
    form = stand_in_form()
    form.values["child.school"] = replace(form.values["child.school"], value="Read Wrongly School")
    use_stand_in(monkeypatch, form)
    raw = scan_email("scan-later").replace(
        b"Message-ID:", b"In-Reply-To: <typed-first@police.example>\nMessage-ID:", 1
    )
    later = file_email(engine, settings, "scan-later", raw)
    with session_scope(engine) as db:
        again = db.get(Referral, referral.id)
        assert again is not None
        assert again.record == referral.record and again.version == referral.version
        link = db.exec(select(ReferralMessage).where(ReferralMessage.message_id == later)).one()
        assert link.referral_id == referral.id and link.effect == "follow_up"
