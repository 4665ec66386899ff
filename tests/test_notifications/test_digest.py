"""The daily digest: the day's referrals, urgent first, once per day per recipient."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from notifications.compose import MailConfig
from notifications.digest import digest_rows
from notifications.routing import Representative, Routing
from storage.db import make_engine, session_scope, upgrade
from storage.outbox import requeue, rows
from storage.tables import Attachment, InboundMessage, Referral

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
CONFIG = MailConfig("LSCP <sirg@liverpool.gov.uk>", "lscp.test", "https://review.lscp.test")
ROUTING = Routing(
    representatives=[
        Representative(name="Chair", email="chair@liverpool.gov.uk", agency="L", alerts="digest"),
        Representative(name="Other", email="other@liverpool.gov.uk", agency="L", alerts="all"),
    ]
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/d.db")
    upgrade(engine)
    with session_scope(engine) as session:
        message = InboundMessage(
            source="t",
            folder="INBOX",
            uid="1",
            sha256="0" * 64,
            size=1,
            received_at=NOW,
            stored_at=NOW,
        )
        session.add(message)
        session.flush()
        for n, (hours_ago, urgent) in enumerate([(2, False), (5, True), (30, True)], start=1):
            attachment = Attachment(
                message_id=message.id,
                position=n,
                filename="f.docx",
                content_type="x",
                sha256="1" * 64,
                size=1,
                outcome="referral",
                reason="",
                content=b"x",
            )
            session.add(attachment)
            session.flush()
            session.add(
                Referral(
                    reference=f"SIRG-2026-000{n}",
                    message_id=message.id,
                    attachment_id=attachment.id,
                    status="new",
                    complete=True,
                    urgent=urgent,
                    child_name="Secret Childname",
                    referrer_agency=f"Agency {n}",
                    received_at=NOW - timedelta(hours=hours_ago),
                    panel_due=date(2026, 12, 2),
                    record={},
                    problems=[],
                    provenance={},
                    form_id="sirg-2024",
                    created_at=NOW,
                )
            )
    yield engine
    engine.dispose()


def test_digest_lists_the_last_day_urgent_first_for_digest_recipients_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        (mail,) = digest_rows(session, CONFIG, ROUTING, date(2026, 11, 25), NOW)
    assert mail.to_addr == "chair@liverpool.gov.uk"
    text = mail.body_text
    assert text.index("SIRG-2026-0002") < text.index("SIRG-2026-0001")  # urgent first
    assert "SIRG-2026-0003" not in text  # 30 hours ago: yesterday's digest
    assert "2 new, 1 urgent" in mail.subject
    assert "Secret" not in text + mail.subject + (mail.body_html or "")


def test_asking_twice_for_the_same_day_queues_one_digest(engine: Engine) -> None:
    for _ in range(2):
        with session_scope(engine) as session:
            session.add_all(digest_rows(session, CONFIG, ROUTING, date(2026, 11, 25), NOW))
    with session_scope(engine) as session:
        assert [r.kind for r in rows(session)] == ["digest"]


def test_retry_requeues_dead_mail_but_never_resends_sent_mail(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add_all(digest_rows(session, CONFIG, ROUTING, date(2026, 11, 25), NOW))
    with session_scope(engine) as session:
        (row,) = rows(session)
        row.status = "dead"
        session.add(row)
    with session_scope(engine) as session:
        assert requeue(session, row.id) == "queued"
    with session_scope(engine) as session:
        (row,) = rows(session)
        assert row.status == "pending"
        row.status = "sent"
        session.add(row)
    with session_scope(engine) as session:
        assert requeue(session, row.id) == "already sent; not queued again"
        assert requeue(session, 999) == "no such email"
