"""Helpers for the review tests: users, a movable clock, signing in, direct inserts.

(A module of its own, not conftest.py, so test files import it by a name no other
test folder uses.)
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from intake.runner import filing_for, process_stored
from intake.settings import Settings
from storage import messages
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.tables import Attachment, InboundMessage, Outcome, RawMessage, Referral

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new"
PASSWORD = "a long enough password"
USERS = {"vera": "viewer", "olly": "officer", "ada": "admin"}


class Clock:
    """The app's clock, which a test can move (lock-outs, idle sessions, days left)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**kwargs)


@dataclass
class Site:
    """An app over its own copy of the pipeline's database, with a user of each role."""

    app: FastAPI
    engine: Engine
    clock: Clock
    settings: Settings

    def client(self, name: str | None = None, **kwargs: Any) -> TestClient:
        """A client, signed in as `name` when given."""
        client = TestClient(self.app, **kwargs)
        if name is not None:
            login(client, name)
        return client


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a browser does."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def token(client: TestClient, path: str = "/") -> str:
    """The signed-in client's CSRF token, read from a page."""
    return csrf_of(client.get(path).text)


def add_referral(
    engine: Engine,
    reference: str,
    *,
    urgent: bool = False,
    received: datetime | None = None,
    panel_due: date | None = None,
    rapid_review_due: date | None = None,
    status: str = "new",
    agency: str = "Test Agency",
    record: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    problems: list[dict[str, Any]] | None = None,
    content: bytes = b"not a form",
) -> int:
    """Insert a referral directly (with its message and attachment); returns its id."""
    received = received or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    record = record if record is not None else {"child.name": "Test Child"}
    with session_scope(engine) as db:
        message = InboundMessage(
            source="test",
            folder="INBOX",
            uid=reference,
            sha256="0" * 64,
            size=10,
            received_at=received,
            stored_at=received,
            state="processed",
            outcome="referral",
        )
        db.add(message)
        db.flush()
        assert message.id is not None
        db.add(RawMessage(message_id=message.id, content=b"Subject: test\r\n\r\nhello\r\n"))
        attachment = Attachment(
            message_id=message.id,
            position=0,
            filename=f"{reference}.docx",
            content_type="application/octet-stream",
            sha256=reference.ljust(64, "0")[:64],
            size=len(content),
            outcome="referral",
            reason="test",
            content=content,
        )
        db.add(attachment)
        db.flush()
        assert attachment.id is not None
        referral = Referral(
            reference=reference,
            message_id=message.id,
            attachment_id=attachment.id,
            status=status,
            complete=True,
            urgent=urgent,
            child_name=record.get("child.name"),
            referrer_name=record.get("referrer.name"),
            referrer_agency=agency,
            received_at=received,
            panel_due=panel_due,
            rapid_review_due=rapid_review_due,
            record=record,
            problems=problems or [],
            provenance=provenance or {},
            form_id="sirg-2024",
            created_at=received,
        )
        db.add(referral)
        db.flush()
        assert referral.id is not None
        return referral.id


# --------------------------------------------------------------------------- scans

SCAN_RECEIVED = datetime(2026, 12, 23, 16, 30, tzinfo=UTC)  # due dates run over Christmas
SCAN_SENDER = "ngozi.okonkwo-reid@nhs.example"


def scan_pdf() -> bytes:
    """A one-page PDF that is only an image, as a scanner makes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (595, 842), (250, 250, 250)).save(buf, "PDF", resolution=72)
    return buf.getvalue()


def scan_email(uid: str, attach_scan: bool = True) -> bytes:
    """A referral email from a nurse with a scanned form attached (or none)."""
    msg = EmailMessage()
    msg["From"] = f"Ngozi Okonkwo-Reid <{SCAN_SENDER}>"
    msg["To"] = "sirg@lscp.example"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = f"<{uid}@nhs.example>"
    msg["Date"] = "Wed, 23 Dec 2026 16:30:00 +0000"
    msg.set_content("Please find the referral attached (scanned).")
    if attach_scan:
        msg.add_attachment(
            scan_pdf(), maintype="application", subtype="pdf", filename="referral-scan.pdf"
        )
    return bytes(msg)


def rejected_scan(site: Site, uid: str, attach_scan: bool = True) -> int:
    """Store an email and run the real pipeline on it: a scan is rejected, kept, no referral."""
    raw = scan_email(uid, attach_scan)
    row = messages.receive(
        site.engine,
        ServerIdentity("test", "INBOX", 1, uid),
        raw,
        f"<{uid}@nhs.example>",
        SCAN_RECEIVED,
    )
    process_stored(filing_for(site.engine, site.settings), site.settings, row, raw)
    with session_scope(site.engine) as db:
        stored = db.get(InboundMessage, row.id)
        assert stored is not None and stored.outcome in (Outcome.REJECTED, Outcome.NEEDS_INFO)
        assert db.exec(select(Referral).where(Referral.message_id == row.id)).first() is None
    assert row.id is not None
    return row.id


# axe-core 4.14.1 (vendor/axe-core, MPL-2.0): WCAG 2.0, 2.1 and 2.2 rules, levels A and AA.
AXE_JS = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it stands, one line each (the
    page's context needs bypass_csp: the app allows no script at all)."""
    page.add_script_tag(content=AXE_JS)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} – {v['help']}"
        for v in result["violations"]
    ]


def queue_references(html: str) -> list[str]:
    """The references of a queue page, in the order shown."""
    return re.findall(r'<td class="ref nowrap"[^>]*><a href="/referrals/([^"]+)">', html)
