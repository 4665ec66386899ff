"""The referral page and the quarantine page say when the sender was not verified."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from review_support import SAMPLES, Site
from sqlmodel import select

from intake.runner import filing_for, process_stored
from storage import messages
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.tables import Referral

FORGED = b"Authentication-Results: mx.lscp.test; spf=fail; dkim=none; dmarc=fail\r\n"


def _store(site: Site, uid: str, raw: bytes) -> int:
    """Run the real pipeline on an email whose receiving server found the sender forged."""
    row = messages.receive(
        site.engine,
        ServerIdentity("test", "INBOX", 1, uid),
        FORGED + raw,
        f"<{uid}@x>",
        datetime.now(UTC),
    )
    process_stored(filing_for(site.engine, site.settings), site.settings, row, FORGED + raw)
    assert row.id is not None
    return row.id


def test_the_pages_say_the_sender_was_not_verified(site: Site) -> None:
    made = _store(site, "forged-referral", (SAMPLES / "0001.police").read_bytes())
    with session_scope(site.engine) as db:
        reference = db.exec(select(Referral.reference).where(Referral.message_id == made)).one()
    letter = EmailMessage()
    letter["From"] = "Someone <someone@example.org>"
    letter["Subject"] = "A child I am worried about"
    letter.set_content("Please call me about a child.")
    held = _store(site, "forged-letter", bytes(letter))  # no form: turned away, not a referral

    client = site.client("olly")
    assert "Sender not verified" in client.get(f"/referrals/{reference}").text
    quarantine = client.get("/quarantine").text
    row = quarantine[quarantine.index(f'id="message-{held}"') :].split("</li>", 1)[0]
    assert "Sender not verified" in row
    # A sender nobody checked (the sample mailbox has no such headers) is not marked.
    assert reference != "SIRG-2026-0001"
    assert "Sender not verified" not in client.get("/referrals/SIRG-2026-0001").text
