"""The review queue on PostgreSQL: the same queries and changes as on SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from review_support import (
    PASSWORD,
    Clock,
    Site,
    add_referral,
    login,
    queue_references,
    rejected_scan,
    token,
)
from sqlmodel import select

from intake.settings import Settings
from review.app import create_app
from review.users import add_user
from storage.db import make_engine, session_scope
from storage.tables import Attachment, AuditEvent, ReferralCorrection
from storage.workflow import by_reference


def test_queue_search_and_work_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    app = create_app(
        Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False),
        engine=engine,
        clock=Clock(),
    )
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        add_referral(engine, "SIRG-2026-0001", panel_due=date(2026, 12, 1))
        add_referral(
            engine,
            "SIRG-2026-0002",
            urgent=True,
            panel_due=date(2026, 12, 3),
            record={"child.name": "Percy 100% O'Hara", "referrer.name": "Dr Who"},
            agency="Merseyside Police",
        )
        add_referral(engine, "SIRG-2026-0003", panel_due=None, status="closed")
        client = TestClient(app)
        assert login(client, "olly").status_code == 303

        def refs(query: str) -> list[str]:
            return queue_references(client.get(query).text)

        assert refs("/") == ["SIRG-2026-0002", "SIRG-2026-0001"]  # urgent first; closed hidden
        assert refs("/?status=all&sort=due") == [
            "SIRG-2026-0001",
            "SIRG-2026-0002",
            "SIRG-2026-0003",
        ]
        assert refs("/?q=100%25") == ["SIRG-2026-0002"]  # % matched literally
        assert refs("/?q=o'hara") == ["SIRG-2026-0002"]
        assert refs("/?agency=Merseyside+Police&urgency=urgent") == ["SIRG-2026-0002"]

        csrf = token(client)
        base = "/referrals/SIRG-2026-0002"
        client.post(f"{base}/assign", data={"csrf_token": csrf, "assignee": "olly"})
        client.post(f"{base}/status", data={"csrf_token": csrf, "to_status": "ready_for_sirg"})
        # Correcting the criteria of a routine referral makes it urgent, as the pipeline would.
        criteria = ["The child has died", "Abuse or neglect is known or suspected"]
        client.post(
            "/referrals/SIRG-2026-0001/correct",
            data={"csrf_token": csrf, "key": "criteria", "values": criteria},
        )
        assert refs("/?assignee=olly&status=ready_for_sirg") == ["SIRG-2026-0002"]
        with session_scope(engine) as db:
            referral = by_reference(db, "SIRG-2026-0001")
            assert referral is not None and referral.urgent
            assert referral.record["criteria"] == criteria
            assert db.exec(select(ReferralCorrection)).one().before is None
            assert len(db.exec(select(AuditEvent).where(AuditEvent.actor == "olly")).all()) >= 6
    finally:
        engine.dispose()


def test_keying_a_referral_by_hand_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False)
    engine = make_engine(postgres_url)
    clock = Clock()
    site = Site(create_app(settings, engine=engine, clock=clock), engine, clock, settings)
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        scanned = rejected_scan(site, "pg-scan")
        in_body = rejected_scan(site, "pg-body", attach_scan=False)
        client = site.client("olly")
        made = []
        for message_id, source in ((scanned, "file"), (in_body, "email")):
            if source == "file":
                with session_scope(engine) as db:
                    attachment = db.exec(
                        select(Attachment).where(Attachment.message_id == message_id)
                    ).one()
                source = f"file-{attachment.id}"
            csrf = token(client, f"/quarantine/{message_id}/referral")
            response = client.post(
                f"/quarantine/{message_id}/referral",
                data={"csrf_token": csrf, "source": source, "child.name": "Zoë O'Neill"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            made.append(response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1])
        assert made == ["SIRG-2026-0001", "SIRG-2026-0002"]  # numbered without gaps
        with session_scope(engine) as db:
            keyed = [by_reference(db, r) for r in made]
            assert all(r is not None and r.status == "needs_info" for r in keyed)
            assert all(r is not None and r.child_name == "Zoë O'Neill" for r in keyed)
            email_copy = db.get(Attachment, keyed[1].attachment_id)  # type: ignore[union-attr]
            assert email_copy is not None and email_copy.filename.endswith(".eml")
    finally:
        engine.dispose()
