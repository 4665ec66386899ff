"""The one referral path: a later form for the same child is a version (gaps filled,
changes kept with before and after), and completeness is worked out again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from storage import messages
from storage.db import make_engine, session_scope, upgrade
from storage.messages import ServerIdentity
from storage.referrals import FormReading, add_version, create_referral, same_child
from storage.tables import (
    Attachment,
    LinkHow,
    Referral,
    ReferralCorrection,
    ReferralStatusChange,
)
from storage.threads import message_ids_of

ARRIVED = datetime(2026, 11, 27, 16, 45, tzinfo=UTC)  # a Friday afternoon
FIRST = {
    "referrer.name": "Gráinne Moriarty",
    "referrer.job_title": "Early Help Practitioner",
    "referrer.agency": "Early Help",
    "referrer.email": "grainne@liverpool.gov.uk",
    "referrer.referral_date": "2026-11-27",
    "child.name": "Kacper Mazur",
    "child.incident_date": "2026-11-20",
    "criteria": ["Abuse or neglect is known or suspected"],
    "summary": "A burn to the back of his hand.",
}
LATER = {
    "referrer.phone": "01514960388",
    "referrer.discussed_with_safeguarding_lead": "Yes",
    "child.name": "KACPER  MAZUR",  # the same child, written otherwise
    "child.dob": "2015-02-11",
    "child.incident_date": "2026-11-19",  # corrected by the referrer
    "learning": "How attendance concerns reach the family hub.",
    "authorisation.manager_name": "Dominic Ashworth",
    "authorisation.manager_role": "Team Manager",
    "authorisation.date": "2026-11-30",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _reading(engine: Engine, uid: str, record: dict[str, object], when: datetime) -> FormReading:
    raw = f"Message-ID: <{uid}@x.test>\r\nSubject: r\r\n\r\nhi\r\n".encode()
    row = messages.receive(
        engine, ServerIdentity("t", "INBOX", 1, uid), raw, f"<{uid}@x.test>", when
    )
    assert row.id is not None
    with session_scope(engine) as db:
        attachment = Attachment(
            message_id=row.id,
            position=0,
            filename="f.docx",
            content_type="x",
            sha256="h",
            size=1,
            outcome="referral",
            reason="",
            content=b"x",
        )
        db.add(attachment)
        db.flush()
        assert attachment.id is not None
        attachment_id = attachment.id
    missing = (
        [
            {
                "key": "child.dob",
                "label": "Date of birth",
                "kind": "missing",
                "message": "not completed",
                "raw": "",
                "where": "",
            }
        ]
        if "child.dob" not in record
        else []
    )
    return FormReading(
        message_id=row.id,
        attachment_id=attachment_id,
        form_id="sirg-2024",
        record=record,
        problems=missing,
        provenance={k: {"raw": str(v), "where": uid} for k, v in record.items()},
    )


def test_a_later_form_fills_gaps_keeps_changes_and_completes_the_referral(engine: Engine) -> None:
    first = _reading(engine, "one", FIRST, ARRIVED)
    with session_scope(engine) as db:
        referral = create_referral(db, first, aware_at=ARRIVED, actor="system")
        assert referral.status == "needs_info" and not referral.complete
        panel, rapid = referral.panel_due, referral.rapid_review_due
        rid = referral.id
    later = _reading(engine, "two", LATER, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    with session_scope(engine) as db:
        referral = db.get(Referral, rid)
        assert referral is not None
        version = add_version(db, referral, later, how=LinkHow.REPLY, where="the reply")
        assert version.number == 2 and version.became_complete
        assert "child.incident_date" in version.changed and "child.dob" in version.filled
        assert "child.name" in version.changed  # written otherwise: kept as a change, visibly
        assert referral.status == "new" and referral.complete and referral.problems == []
        # The statutory clock still runs from the first email, not from the completion.
        assert (referral.panel_due, referral.rapid_review_due) == (panel, rapid)
        assert referral.record["summary"] == FIRST["summary"]  # not in the later form: kept
        assert referral.child_dob is not None and referral.child_dob.isoformat() == "2015-02-11"
        change = db.exec(
            select(ReferralCorrection).where(ReferralCorrection.key == "child.incident_date")
        ).one()
        assert (change.before, change.after) == ("2026-11-20", "2026-11-19")
        assert change.note == "version 2, from the reply"
        (step,) = db.exec(select(ReferralStatusChange)).all()
        assert (step.from_status, step.to_status) == ("needs_info", "new")
        assert message_ids_of(db, rid or 0) == ["<one@x.test>", "<two@x.test>"]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"child.name": "Zoë Ahmed"}, {"child.name": "zoe  ahmed"}, True),
        ({"child.name": "Zoë Ahmed"}, {"child.name": "Amir Ahmed"}, False),
        # Twins: the same date of birth, other names.
        (
            {"child.name": "A B", "child.dob": "2020-01-01"},
            {"child.name": "C B", "child.dob": "2020-01-01"},
            False,
        ),
        (
            {"child.nhs_number": "9434765919", "child.name": "A"},
            {"child.nhs_number": "9434765919", "child.name": "Alice"},
            True,
        ),
        ({"child.dob": "2020-01-01"}, {"child.dob": "2020-02-02"}, False),
        ({"child.name": "A B"}, {}, True),  # names no child: adds to the conversation
    ],
)
def test_same_child(a: dict[str, str], b: dict[str, str], same: bool) -> None:
    assert same_child(a, b) is same
