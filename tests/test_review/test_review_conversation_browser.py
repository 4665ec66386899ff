"""A referral's conversation in a real browser, with the real worker, Dovecot and SMTP.

An officer asks the referrer for the missing answers from the referral page; the email
reaches the SMTP server threaded; the referrer's answer (a line of text) and a later
chronology join the referral and are shown on its timeline, and the officer (whose address
is on record) is told in a note that names no child.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_support import PASSWORD, Clock, Site
from test_review_browser import expect, shot, sign_in

from intake.runner import RunReport, run_once
from intake.wiring import make_source, make_transport, open_database
from parsers.mime import parse_message
from review.app import create_app
from review.users import add_user
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import AuditEvent

sys.path.insert(0, str(ROOT / "tests" / "test_intake"))
from conversation_mail import DOCX, chronology, reply, stranger  # noqa: E402

NEEDS_INFO = ROOT / "samples" / "maildir" / "new" / "0004.needs-info"
MAILBOX = "sirg.referrals@lscp.test"
OFFICER_MAIL = "olly.officer@liverpool.gov.uk"


@pytest.fixture
def site(tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer) -> Iterator[Site]:
    """The review app over the database the worker fills from Dovecot (overrides the
    conftest's copy of the sample pipeline)."""
    settings = settings_for(
        tmp_path,
        dovecot_mailbox,
        smtp_server,
        mail_from=f"LSCP SIRG Referrals <{MAILBOX}>",
        routing_file=ROOT / "samples" / "routing.toml",
        review_secure_cookies=False,  # served over plain http to the browser
    )
    engine = open_database(settings)
    add_user(engine, "olly", "officer", PASSWORD, email=OFFICER_MAIL)
    add_user(engine, "vera", "viewer", PASSWORD)
    clock = Clock()
    yield Site(create_app(settings, engine=engine, clock=clock), engine, clock, settings)
    engine.dispose()


def worker_pass(site: Site) -> RunReport:
    """One pass of the real worker: fetch, file, send the outbox."""
    s = site.settings
    report = run_once(site.engine, s, make_source(s), make_transport(s))
    assert report.errors == 0
    return report


def test_an_officer_asks_for_information_and_the_answers_join_the_referral(
    site: Site, live: str, browser: Any, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    raw = NEEDS_INFO.read_bytes()
    sender = parse_message(raw)["From"].addresses[0].addr_spec.lower()
    dovecot_mailbox.append(raw)
    worker_pass(site)
    (ack,) = [
        m.message for m in smtp_server.messages if [a.lower() for a in m.rcpt_tos] == [sender]
    ]
    reference = ack["Subject"].rsplit(" ", 1)[-1]

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    sign_in(page, live, "olly")
    page.goto(f"{live}/referrals/{reference}")
    # The page offers the officer to take it, so notes of new mail reach their address.
    page.select_option("#assignee", "olly")
    page.get_by_role("button", name="Assign", exact=True).click()
    draft = page.locator("#ask-body")
    assert "Date of birth" in draft.input_value()  # the missing answers, by their labels
    draft.fill(draft.input_value() + "\nA phone number would help too.")
    shot(page, "ask-for-information.png")
    page.get_by_role("button", name="Send request for information").click()
    expect(page.locator(".flash")).to_contain_text("on its way")

    sent_before = len(smtp_server.messages)
    worker_pass(site)
    (asked,) = [m.message for m in smtp_server.messages[sent_before:] if m.rcpt_tos == [sender]]
    assert asked["Subject"] == f"SIRG referral {reference} – information needed"
    assert asked["In-Reply-To"] == parse_message(raw)["Message-ID"]  # threaded
    assert asked["Auto-Submitted"] == "no"  # written by a person
    assert "A phone number would help too." in asked.get_body(("plain",)).get_content()

    # The referrer answers the officer's email in words, then sends the chronology.
    dovecot_mailbox.append(
        reply(asked, sender=sender, to=MAILBOX, text="Her brother attends Croxteth Park High.")
    )
    dovecot_mailbox.append(
        reply(
            asked,
            sender=sender,
            to=MAILBOX,
            text="And the chronology.",
            attachments=[("Chronology.docx", chronology(), DOCX)],
        )
    )
    sent_before = len(smtp_server.messages)
    worker_pass(site)
    new = smtp_server.messages[sent_before:]
    subjects = [m.message["Subject"] for m in new]
    assert not any("no referral form found" in s for s in subjects), subjects
    notes = [m.message for m in new if m.rcpt_tos == [OFFICER_MAIL]]
    assert len(notes) == 2  # the assigned officer, not the whole team
    for note in notes:
        text = note.get_body(("plain",)).get_content()
        assert "Kacper" not in text and "Mazur" not in text and "Croxteth" not in text

    # The queue shows new mail; the referral page shows both emails on its timeline.
    page.goto(f"{live}/")
    row = page.locator("table.queue tbody tr", has_text=reference)
    expect(row).to_contain_text("New mail")
    row.locator("td.ref a").click()
    timeline = page.locator("#timeline")
    page.locator("#timeline summary").first.click()
    expect(timeline).to_contain_text("Her brother attends Croxteth Park High.")
    expect(timeline).to_contain_text("Chronology.docx")
    expect(timeline).to_contain_text("officer asked for information")
    shot(page, "timeline.png", full=True)
    page.goto(f"{live}/")
    expect(page.locator("table.queue tbody tr", has_text=reference)).not_to_contain_text(
        "New mail"
    )  # opened by an officer: seen


def test_a_stranger_s_email_is_linked_by_hand_and_audited(
    site: Site, live: str, browser: Any, dovecot_mailbox: DovecotServer
) -> None:
    dovecot_mailbox.append(NEEDS_INFO.read_bytes())
    worker_pass(site)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    sign_in(page, live, "olly")
    page.goto(f"{live}/")
    reference = page.locator("table.queue tbody tr td.ref a").first.inner_text()
    dovecot_mailbox.append(stranger(reference, "I am the child's aunt; please call me."))
    worker_pass(site)

    # Officers see it among the mail that made no referral, marked as mentioning it.
    page.goto(f"{live}/quarantine")
    expect(page.locator("main")).to_contain_text(f"Mentions {reference}")
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(f"{live}/referrals/{reference}#mentions")
    mentions = page.locator("#mentions")
    expect(mentions).to_contain_text("someone.else@example.org")
    assert "the child's aunt" not in page.locator("#timeline").inner_text()
    page.get_by_role("button", name=f"Link this email to {reference}").click()
    expect(page.locator(".flash")).to_contain_text(f"now part of {reference}")
    assert page.locator("#mentions").count() == 0
    page.goto(f"{live}/quarantine")  # joined now: no longer among the mail turned away
    expect(page.locator("main")).not_to_contain_text(f"Mentions {reference}")
    page.goto(f"{live}/referrals/{reference}")
    page.locator("#timeline summary").first.click()
    expect(page.locator("#timeline")).to_contain_text("the child's aunt")
    expect(page.locator("#timeline")).to_contain_text("linked by olly")
    with session_scope(site.engine) as db:
        actions = [(e.actor, e.action) for e in db.exec(select_audit()).all()]
    assert ("olly", "linked by hand") in actions

    # A viewer sees the timeline but may neither link nor write.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live, "vera")
    page.goto(f"{live}/referrals/{reference}")
    assert page.locator("#write").count() == 0


def select_audit() -> Any:
    from sqlmodel import select

    return select(AuditEvent)
