"""`intake referrals [--json]` and `intake referrals show REFERENCE`, run as a user runs them,
over a SQLite database whose referrals were made by the one referral path."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from intake.wiring import open_database
from servers.intake_config import intake_env, run_intake, settings_for
from storage import messages
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.referrals import FormReading, create_referral, link_message
from storage.tables import Attachment, InboundMessage, LinkEffect, LinkHow
from storage.workflow import by_reference

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENDER = "sam.referrer@liverpool.example"
CHILD = "Jordan Testchild"
COMPLETE: dict[str, Any] = {
    "referrer.name": "Sam Referrer",
    "referrer.job_title": "Social worker",
    "referrer.agency": "Liverpool Children's Services",
    "referrer.phone": "01514960000",
    "referrer.email": SENDER,
    "referrer.referral_date": "2026-03-01",
    "referrer.discussed_with_safeguarding_lead": "Yes",
    "child.name": "Casey Otherchild",
    "child.dob": "2015-06-01",
    "child.incident_date": "2026-02-20",
    "criteria": ["The child has been seriously harmed"],
    "summary": "What happened, in the referrer's words.",
    "learning": "What agencies might learn.",
    "authorisation.manager_name": "Pat Manager",
    "authorisation.manager_role": "Team manager",
    "authorisation.date": "2026-03-01",
}
# Blanks and an answer the reader flagged, scattered so that form order differs from
# alphabetical order (the authorisation keys come last on the form).
GAPS = {
    **COMPLETE,
    "child.name": CHILD,
    "referrer.referral_date": None,
    "child.dob": None,
    "criteria": [],
    "learning": "",
    "authorisation.manager_name": None,
    "authorisation.manager_role": "",
    "authorisation.date": None,
}
FLAGGED = [
    {
        "key": "child.incident_date",
        "label": "Date of incident",
        "kind": "invalid",
        "message": "the date is after the date of the referral",
        "raw": "20/02/2026",
    }
]
MISSING_IN_FORM_ORDER = [
    "referrer.referral_date",
    "child.dob",
    "child.incident_date",
    "criteria",
    "learning",
    "authorisation.manager_name",
    "authorisation.manager_role",
    "authorisation.date",
]


def _email(engine: Engine, uid: str, message_id: str, at: datetime, filename: str | None) -> int:
    """Store an inbound email as the worker does (raw bytes first), with its form file."""
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = "sirg.referrals@lscp.test"
    mail["Subject"] = "SIRG referral"
    mail["Message-ID"] = message_id
    mail.set_content("Please find the form attached.")
    row = messages.receive(
        engine, ServerIdentity("test", "INBOX", 1, uid), mail.as_bytes(), message_id, at
    )
    assert row.id is not None
    with session_scope(engine) as session:
        stored = session.get(InboundMessage, row.id)
        assert stored is not None
        stored.sender = SENDER  # the pipeline records the From address when it files
        session.add(stored)
        if filename is not None:
            content = f"form in {message_id}".encode()
            session.add(
                Attachment(
                    message_id=row.id,
                    position=0,
                    filename=filename,
                    content_type="application/octet-stream",
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                    outcome="referral",
                    reason="completed referral form",
                    content=content,
                )
            )
    return row.id


def _refer(
    engine: Engine,
    message_row_id: int,
    at: datetime,
    record: dict[str, Any],
    problems: list[dict[str, str]] | None = None,
    sibling_of: str | None = None,
) -> str:
    with session_scope(engine) as session:
        attachment = session.exec(
            select(Attachment).where(Attachment.message_id == message_row_id)
        ).one()
        assert attachment.id is not None
        beside = None
        if sibling_of is not None:
            beside = by_reference(session, sibling_of)
            assert beside is not None
        referral = create_referral(
            session,
            FormReading(
                message_id=message_row_id,
                attachment_id=attachment.id,
                form_id="sirg-2024",
                record=record,
                problems=problems or [],
                provenance={},
            ),
            aware_at=at,
            actor="system",
            how=LinkHow.REPLY,
            sibling_of=beside,
        )
        return referral.reference


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Three referrals: one with gaps that later emails joined, one complete but from an
    older email (made second), and one for another child made beside the first."""
    data_dir = tmp_path_factory.mktemp("referrals") / "var"
    engine = open_database(settings_for(data_dir))
    gaps_mail = _email(engine, "1", "<first@referrer.example>", T0 + timedelta(days=1), "gaps.docx")
    gaps = _refer(engine, gaps_mail, T0 + timedelta(days=1), GAPS, FLAGGED)
    older_mail = _email(engine, "2", "<older@referrer.example>", T0, "complete.docx")
    older = _refer(engine, older_mail, T0, COMPLETE)
    follow_up = _email(engine, "3", "<reply@referrer.example>", T0 + timedelta(days=2), None)
    with session_scope(engine) as session:
        referral = by_reference(session, gaps)
        assert referral is not None
        link_message(
            session,
            referral,
            follow_up,
            LinkHow.REPLY,
            LinkEffect.FOLLOW_UP,
            "system",
            T0 + timedelta(days=2),
        )
    sibling_mail = _email(
        engine, "4", "<sibling@referrer.example>", T0 + timedelta(days=3), "other-child.docx"
    )
    sibling = _refer(engine, sibling_mail, T0 + timedelta(days=3), COMPLETE, sibling_of=gaps)
    engine.dispose()
    # Numbers are given in the order referrals are made, not the order the emails came.
    assert (gaps, older, sibling) == ("SIRG-2026-0001", "SIRG-2026-0002", "SIRG-2026-0003")
    return intake_env(data_dir)


def test_json_lists_every_referral_oldest_first_with_its_gaps_and_emails(
    env: dict[str, str],
) -> None:
    result = run_intake(env, "referrals", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)
    assert [r["reference"] for r in listed] == [
        "SIRG-2026-0002",
        "SIRG-2026-0001",
        "SIRG-2026-0003",
    ]
    older, gaps, sibling = listed

    assert older["status"] == "new" and older["complete"] is True and older["missing"] == []
    assert older["message_ids"] == ["<older@referrer.example>"]
    assert older["received_at"] == T0.isoformat()
    assert older["sibling_of"] is None and older["new_mail"] is False and older["version"] == 1

    assert gaps["status"] == "needs_info" and gaps["complete"] is False
    assert gaps["missing"] == MISSING_IN_FORM_ORDER
    # The email it was made from first, then the reply, then the email with the other form.
    assert gaps["message_ids"] == [
        "<first@referrer.example>",
        "<reply@referrer.example>",
        "<sibling@referrer.example>",
    ]
    assert gaps["new_mail"] is True
    assert gaps["received_at"] == (T0 + timedelta(days=1)).isoformat()

    assert sibling["sibling_of"] == "SIRG-2026-0001"
    assert sibling["status"] == "new" and sibling["missing"] == []
    assert sibling["message_ids"] == ["<sibling@referrer.example>"]
    assert CHILD not in result.stdout


def test_plain_listing_has_one_line_per_referral_and_no_names(env: dict[str, str]) -> None:
    result = run_intake(env, "referrals")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "SIRG-2026-0002\tNew\tcomplete\treceived 2026-03-02\t1 email",
        "SIRG-2026-0001\tAwaiting information\t8 missing\treceived 2026-03-03\t3 emails",
        "SIRG-2026-0003\tNew\tcomplete\treceived 2026-03-05\t1 email",
    ]
    for personal in (CHILD, "Casey Otherchild", "Sam Referrer", SENDER):
        assert personal not in result.stdout


def test_show_lists_the_emails_of_a_referral_newest_first(env: dict[str, str]) -> None:
    result = run_intake(env, "referrals", "show", "SIRG-2026-0001")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert [line[0] for line in lines] == [
        "2026-03-05 09:00",
        "2026-03-04 09:00",
        "2026-03-03 09:00",
    ]
    assert lines[0][1].startswith("Email in: a form for another child")
    assert lines[0][4] == "other-child.docx"
    assert lines[1][1] == "Email in: added to the referral, a reply in the thread"
    assert lines[2][1] == "Email in: made this referral (version 1)"
    assert lines[2][2] == SENDER and lines[2][4] == "gaps.docx"


def test_show_an_unknown_reference_fails_with_one_line(env: dict[str, str]) -> None:
    result = run_intake(env, "referrals", "show", "SIRG-2026-9999")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "intake referrals show: no referral SIRG-2026-9999"
    ]
