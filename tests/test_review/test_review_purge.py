"""Purge leaves nothing behind: not in the database, not on the mail server (the Processed
folder of real Dovecot), not in the audit log's record of searches; and a purged referral
is read-only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_support import PASSWORD, Clock, Site, token
from sqlmodel import select

from intake.runner import run_once
from intake.wiring import make_source, make_transport, open_database
from parsers.mime import parse_message
from review.app import create_app
from review.users import add_user
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import AuditEvent, RawMessage, Referral

sys.path.insert(0, str(ROOT / "tests" / "test_intake"))
from conversation_mail import reply  # noqa: E402

NEEDS_INFO = ROOT / "samples" / "maildir" / "new" / "0004.needs-info"


@pytest.fixture
def site(tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer) -> Iterator[Site]:
    """The review app over the database the worker fills from Dovecot."""
    settings = settings_for(tmp_path, dovecot_mailbox, smtp_server, review_secure_cookies=False)
    engine = open_database(settings)
    add_user(engine, "olly", "officer", PASSWORD)
    add_user(engine, "ada", "admin", PASSWORD)
    yield Site(create_app(settings, engine=engine, clock=Clock()), engine, Clock(), settings)
    engine.dispose()


def worker_pass(site: Site) -> None:
    s = site.settings
    assert run_once(site.engine, s, make_source(s), make_transport(s)).errors == 0


def test_purge_removes_the_conversation_everywhere_and_freezes_the_referral(
    site: Site, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    raw = NEEDS_INFO.read_bytes()
    first = parse_message(raw)
    sender = first["From"].addresses[0].addr_spec
    dovecot_mailbox.append(raw)
    worker_pass(site)
    (asked,) = [m.message for m in smtp_server.messages]
    answer = reply(asked, sender=sender, to="sirg@lscp.test", text="Kacper's brother is 12.")
    dovecot_mailbox.append(answer)
    worker_pass(site)
    assert len(dovecot_mailbox.messages("Processed")) == 2

    officer = site.client("olly")
    assert officer.get("/?q=Kacper+Mazur").status_code == 200  # a search by name
    with session_scope(site.engine) as db:
        reference = db.exec(select(Referral.reference)).one()
    admin = site.client("ada")
    csrf = token(admin)
    base = f"/referrals/{reference}"
    for status in ("ready_for_sirg", "decision_nfa", "closed"):
        admin.post(
            f"{base}/status",
            data={"csrf_token": csrf, "to_status": status, "decision_date": "2026-11-20"},
        )
    page = admin.post(f"{base}/purge", data={"csrf_token": csrf, "confirm": reference})
    assert "Personal data removed" in page.text

    worker_pass(site)  # the worker removes the server's copies
    assert dovecot_mailbox.messages("Processed") == []
    assert dovecot_mailbox.messages("INBOX") == []
    with session_scope(site.engine) as db:
        assert all(r.content == b"" for r in db.exec(select(RawMessage)).all())
        events = db.exec(select(AuditEvent)).all()
    for event in events:
        assert "Kacper" not in (event.detail or ""), (event.action, event.detail)
    assert any("q=(search not kept)" in (e.detail or "") for e in events)

    # Read-only now: no correction, row, assignment or link.
    csrf = token(officer, base)
    refused = [
        officer.get(f"{base}/correct?key=child.name"),
        officer.post(
            f"{base}/correct", data={"csrf_token": csrf, "key": "child.name", "value": "X"}
        ),
        officer.post(f"{base}/rows", data={"csrf_token": csrf, "grid": "household"}),
        officer.post(f"{base}/assign", data={"csrf_token": csrf, "assignee": "olly"}),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409, 409]
