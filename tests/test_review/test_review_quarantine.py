"""Working the quarantine: reading a held email as plain text, dismissing it as not a
referral (and undoing that), attaching it to a referral's thread, and reprocess pending."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, Clock, Site, add_referral, login, token
from sqlmodel import col, select

from intake.settings import Settings
from review.app import create_app
from review.users import add_user
from storage import held_mail, messages
from storage.db import make_engine, session_scope
from storage.messages import ServerIdentity
from storage.tables import (
    AuditEvent,
    InboundMessage,
    MessageDismissal,
    MessageState,
    Outcome,
    Referral,
    ReferralMessage,
)

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LINES = [f"Line {n} of the letter." for n in range(1, 16)]
VIRUS_EML = b"Subject: invoice\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR\r\n"


def letter(subject: str = "About a child <script>alert(1)</script>") -> bytes:
    """A held email with a plain and an HTML body and two attached files."""
    msg = EmailMessage()
    msg["From"] = "Ann Other <Ann.Other@example.org>"
    msg["To"] = "sirg@lscp.example"
    msg["Subject"] = subject
    msg.set_content("\n\n".join(LINES[:2]) + "\n" + "\n".join(LINES[2:]))
    msg.add_alternative("<p>Hello <img src=x onerror=alert(2)></p>", subtype="html")
    msg.add_attachment(
        b"%PDF-1.4 tiny", maintype="application", subtype="pdf", filename="notes.pdf"
    )
    msg.add_attachment(b"x" * 2048, maintype="image", subtype="png", filename="photo\u202egnp.exe")
    return bytes(msg)


def store(site: Site | Any, uid: str, raw: bytes, *, quarantined: bool = True, **kw: Any) -> int:
    """Store an email and leave it where the quarantine page lists it."""
    engine = site.engine if isinstance(site, Site) else site
    row = messages.receive(
        engine, ServerIdentity("test", "INBOX", 1, uid), raw, f"<{uid}@t>", RECEIVED, **kw
    )
    assert row.id is not None
    if quarantined and kw.get("infected") is None:
        messages.quarantine(engine, row.id, "Traceback: boom")
    elif not quarantined:
        with session_scope(engine) as db:
            stored = db.get(InboundMessage, row.id)
            assert stored is not None
            stored.state, stored.outcome = MessageState.PROCESSED, Outcome.REJECTED
            stored.outcome_reason = "no referral form was attached"
    return row.id


def audit(site: Site, actor: str) -> list[tuple[str, str, int, str | None]]:
    with session_scope(site.engine) as db:
        return [
            (e.entity, e.action, e.entity_id, e.detail)
            for e in db.exec(select(AuditEvent).where(AuditEvent.actor == actor))
        ]


def card(html: str, element_id: str) -> str:
    """One message's card on the quarantine page."""
    start = html.index(f'id="{element_id}"')
    return html[start:].split("</li>", 1)[0]


def a_reference(site: Site) -> str:
    with session_scope(site.engine) as db:
        return db.exec(select(Referral.reference).order_by(col(Referral.id))).first() or ""


# --------------------------------------------------------------------------- reading


def test_an_officer_reads_sender_subject_first_lines_and_files_as_plain_text(site: Site) -> None:
    held = store(site, "read-1", letter())
    client = site.client("olly")

    listing = client.get("/quarantine").text
    assert "ann.other@example.org" in card(listing, f"message-{held}").lower()
    assert f'href="/quarantine/{held}"' in listing

    page = client.get(f"/quarantine/{held}")
    assert page.status_code == 200
    text = page.text
    assert "Ann.Other@example.org" in text
    assert "About a child &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text and "<img" not in text and "onerror" not in text
    shown = re.search(r'<pre class="mailtext"[^>]*>(.*?)</pre>', text, re.S)
    assert shown is not None
    lines = shown.group(1).split("\n")
    assert lines[0] == "Line 1 of the letter." and lines[1] == ""  # a blank line kept as one
    assert len(lines) == 10 and "Line 10 of" not in shown.group(1)
    assert "The text goes on" in text
    assert "notes.pdf" in text and "application/pdf" in text and "13 bytes" in text
    # A right-to-left override in a name cannot make "photo.exe" read as a picture.
    assert "\u202e" not in text and "photognp.exe" in text and "2.0 KB" in text
    assert ("message", "viewed", held, "quarantine") in audit(site, "olly")


def test_an_html_only_email_is_shown_as_text_never_as_html(site: Site) -> None:
    msg = EmailMessage()
    msg["From"] = "x@example.org"
    msg["Subject"] = "html"
    msg.set_content(
        "<p>Dear team,<br>please <b>call</b> me.</p><script>alert(3)</script>"
        '<a href="javascript:alert(4)">link</a>',
        subtype="html",
    )
    held = store(site, "html-1", bytes(msg))
    text = site.client("olly").get(f"/quarantine/{held}").text
    assert "no plain text" in text
    assert ">Dear team,\nplease call me.\nlink</pre>" in text
    assert "<b>" not in text and "alert(3)" not in text and "javascript:" not in text


def test_a_viewer_sees_no_content_and_may_not_act(site: Site) -> None:
    held = store(site, "viewer-1", letter())
    client = site.client("vera")
    listing = client.get("/quarantine").text
    assert f'id="message-{held}"' in listing
    assert "ann.other" not in listing.lower() and "About a child" not in listing
    assert f'href="/quarantine/{held}"' not in listing
    assert client.get(f"/quarantine/{held}").status_code == 403
    csrf = token(client, "/quarantine")
    for action, data in (
        ("dismiss", {"reason": "spam"}),
        ("attach", {"reference": a_reference(site)}),
        ("undismiss", {}),
        ("reprocess", {}),
    ):
        response = client.post(f"/quarantine/{held}/{action}", data={"csrf_token": csrf, **data})
        assert response.status_code == 403, action
    with session_scope(site.engine) as db:
        assert db.get(InboundMessage, held).state == MessageState.QUARANTINED  # type: ignore[union-attr]
    assert not [a for a in audit(site, "vera") if a[0] == "message"]


def test_a_virus_is_never_opened_but_can_be_dismissed(site: Site) -> None:
    virus = store(site, "virus-1", VIRUS_EML, infected="Eicar-Test-Signature")
    client = site.client("olly")
    page = client.get(f"/quarantine/{virus}").text
    assert "EICAR" not in page and "held a virus" in page
    assert f'action="/quarantine/{virus}/attach"' not in page
    csrf = token(client, "/quarantine")
    refused = client.post(
        f"/quarantine/{virus}/attach", data={"csrf_token": csrf, "reference": a_reference(site)}
    )
    assert refused.status_code == 400 and "held a virus" in refused.text
    done = client.post(
        f"/quarantine/{virus}/dismiss", data={"csrf_token": csrf, "reason": "spam with a virus"}
    )
    assert done.status_code == 200 and f'id="dismissed-{virus}"' in done.text


def test_a_very_big_email_shows_only_its_header_fields(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = store(site, "big-1", letter("Big one"))
    monkeypatch.setattr(held_mail, "MAX_PARSE_BYTES", 100)
    with session_scope(site.engine) as db:
        mail = held_mail.read_held_mail(db, held)
    assert mail is not None and mail.subject == "Big one" and mail.lines == ()
    assert "too big" in mail.note and mail.files == ()


# --------------------------------------------------------------------------- not a referral


def test_dismissing_without_a_reason_points_at_the_field(site: Site) -> None:
    held = store(site, "dismiss-0", letter())
    client = site.client("olly")
    csrf = token(client, f"/quarantine/{held}")
    response = client.post(f"/quarantine/{held}/dismiss", data={"csrf_token": csrf, "reason": " "})
    assert response.status_code == 400
    text = response.text
    assert "<title>Error: " in text and "There is a problem" in text
    assert '<a href="#reason">Say why this email is not a referral.</a>' in text
    assert 'id="reason-error"' in text
    assert re.search(r'<textarea id="reason"[^>]*aria-describedby="reason-hint reason-error"', text)
    assert re.search(r'<textarea id="reason"[^>]*aria-invalid="true"', text)
    assert 'aria-invalid="true"' not in text.split('id="reference"', 1)[1].split(">", 1)[0]
    with session_scope(site.engine) as db:
        assert db.get(InboundMessage, held).state == MessageState.QUARANTINED  # type: ignore[union-attr]


def test_dismissed_mail_leaves_the_page_with_who_and_why_and_can_come_back(site: Site) -> None:
    held = store(site, "dismiss-1", letter())
    away = store(site, "dismiss-2", letter("No form"), quarantined=False)
    client = site.client("olly")
    csrf = token(client, "/quarantine")
    reason = "A newsletter that names Zoë Example; not a referral"
    for message_id in (held, away):
        response = client.post(
            f"/quarantine/{message_id}/dismiss",
            data={"csrf_token": csrf, "reason": reason},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/quarantine#flash"

    listing = client.get("/quarantine").text
    assert f'id="message-{held}"' not in listing and f'id="message-{away}"' not in listing
    dismissed = card(listing, f"dismissed-{held}")
    assert "olly" in dismissed and "Zoë Example" in dismissed
    # A viewer sees that it was dismissed and by whom, not the reason (it may name people).
    seen = site.client("vera").get("/quarantine").text
    assert "olly" in card(seen, f"dismissed-{held}") and "Zoë" not in seen
    # The audit log says what was done, never the reason.
    lines = audit(site, "olly")
    assert ("message", "dismissed", held, "not a referral") in lines
    assert not [line for line in lines if "Zoë" in str(line[3])]
    with session_scope(site.engine) as db:
        row = db.get(MessageDismissal, held)
        assert row is not None and row.reason == reason and row.from_state == "quarantined"
        assert db.get(InboundMessage, held).state == MessageState.DISMISSED  # type: ignore[union-attr]
    # It is not worked from the quarantine page any more.
    assert client.get(f"/quarantine/{held}").status_code == 404

    for message_id in (held, away):
        back = client.post(f"/quarantine/{message_id}/undismiss", data={"csrf_token": csrf})
        assert back.status_code == 200 and "back on the quarantine page" in back.text
    listing = client.get("/quarantine").text
    assert f'id="message-{held}"' in listing and f'id="message-{away}"' in listing
    assert f'id="dismissed-{held}"' not in listing
    with session_scope(site.engine) as db:
        assert db.get(MessageDismissal, held) is None
        assert db.get(InboundMessage, held).state == MessageState.QUARANTINED  # type: ignore[union-attr]
        assert db.get(InboundMessage, away).state == MessageState.PROCESSED  # type: ignore[union-attr]
    assert ("message", "dismissal undone", held, "back on the page") in audit(site, "olly")
    again = client.post(f"/quarantine/{held}/undismiss", data={"csrf_token": csrf})
    assert again.status_code == 404


# --------------------------------------------------------------------------- attach


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Enter the reference of the referral"),
        ("SIRG-12", "A reference looks like SIRG-2026-0042"),
        ("SIRG-2026-9999", "There is no referral SIRG-2026-9999."),
    ],
)
def test_attaching_to_a_wrong_reference_points_at_the_field(
    site: Site, typed: str, said: str
) -> None:
    held = store(site, "attach-0", letter())
    client = site.client("olly")
    csrf = token(client, f"/quarantine/{held}")
    response = client.post(
        f"/quarantine/{held}/attach", data={"csrf_token": csrf, "reference": typed}
    )
    assert response.status_code == 400
    text = response.text
    assert '<a href="#reference">' + said in text and 'id="reference-error"' in text
    field = text.split('id="reference"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="reference-hint reference-error"' in field
    assert f'value="{typed}"' in field
    with session_scope(site.engine) as db:
        assert (
            db.exec(select(ReferralMessage).where(ReferralMessage.message_id == held)).first()
            is None
        )


def test_a_purged_referral_takes_no_more_mail(site: Site) -> None:
    add_referral(site.engine, "SIRG-2026-0300")
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == "SIRG-2026-0300")).one()
        referral.purged_at = RECEIVED
        db.add(referral)
    held = store(site, "attach-p", letter())
    client = site.client("olly")
    response = client.post(
        f"/quarantine/{held}/attach",
        data={"csrf_token": token(client), "reference": "SIRG-2026-0300"},
    )
    assert response.status_code == 400 and "personal data was removed" in response.text


def test_attaching_joins_the_referral_thread_and_shows_on_its_timeline(site: Site) -> None:
    reference = a_reference(site)
    held = store(site, "attach-1", letter())
    client = site.client("olly")
    csrf = token(client, f"/quarantine/{held}")
    response = client.post(
        f"/quarantine/{held}/attach",
        data={"csrf_token": csrf, "reference": f"  {reference.lower()} "},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/referrals/{reference}#flash"
    with session_scope(site.engine) as db:
        message = db.get(InboundMessage, held)
        referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
        link = db.exec(select(ReferralMessage).where(ReferralMessage.message_id == held)).one()
    assert message is not None and message.state == MessageState.PROCESSED
    assert message.outcome == Outcome.FOLLOW_UP
    assert f"attached by hand to {reference} by olly" in (message.outcome_reason or "")
    assert (link.referral_id, link.how, link.effect, link.actor) == (
        referral.id,
        "by_hand",
        "follow_up",
        "olly",
    )
    assert referral.new_mail
    lines = audit(site, "olly")
    assert ("message", "attached to referral", held, reference) in lines
    assert ("referral", "linked by hand", referral.id, f"message {held}") in lines
    assert ("referral", "email joined", referral.id, f"message {held}: follow_up") in lines
    timeline = client.get(f"/referrals/{reference}").text.split('id="timeline"', 1)[1]
    assert "linked by olly" in timeline and "linked by hand" in timeline
    assert "Line 1 of the letter." in timeline
    assert f'id="message-{held}"' not in client.get("/quarantine").text


# --------------------------------------------------------------------------- reprocess


def test_a_reprocess_shows_as_pending_and_no_operator_command_is_shown(site: Site) -> None:
    held = store(site, "again-1", letter())
    client = site.client("olly")
    page = client.get("/quarantine").text
    assert "intake reprocess" not in page and "Operator" not in page
    response = client.post(f"/quarantine/{held}/reprocess", data={"csrf_token": token(client)})
    assert response.status_code == 200
    row = card(response.text, f"message-{held}")
    assert "Reprocess pending</strong> — the worker picks it up on its next pass" in row
    assert "/reprocess" not in row and "intake reprocess" not in response.text
    # Everyone sees that it is pending; nobody can act on it until the worker has run.
    seen = site.client("vera").get("/quarantine").text
    assert "Reprocess pending" in card(seen, f"message-{held}")
    assert client.get(f"/quarantine/{held}").status_code == 404


# --------------------------------------------------------------------------- PostgreSQL


def test_dismiss_undo_and_attach_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    app = create_app(
        Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False),
        engine=engine,
        clock=Clock(),
    )
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        add_referral(engine, "SIRG-2026-0001")
        one = store(engine, "pg-1", letter())
        two = store(engine, "pg-2", letter("second"))
        client = TestClient(app)
        assert login(client, "olly").status_code == 303
        csrf = token(client)
        assert "Line 1 of the letter." in client.get(f"/quarantine/{one}").text
        client.post(f"/quarantine/{one}/dismiss", data={"csrf_token": csrf, "reason": "spam"})
        assert f'id="dismissed-{one}"' in client.get("/quarantine").text
        client.post(f"/quarantine/{one}/undismiss", data={"csrf_token": csrf})
        client.post(
            f"/quarantine/{two}/attach", data={"csrf_token": csrf, "reference": "SIRG-2026-0001"}
        )
        with session_scope(engine) as db:
            assert db.get(InboundMessage, one).state == MessageState.QUARANTINED  # type: ignore[union-attr]
            assert db.get(InboundMessage, two).outcome == Outcome.FOLLOW_UP  # type: ignore[union-attr]
            assert db.get(MessageDismissal, one) is None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- in a browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _sign_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_an_officer_attaches_one_message_and_dismisses_another(
    site: Site, live: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    reference = a_reference(site)
    joins = store(site, "browser-join", letter("Further information for the panel"))
    spam = store(site, "browser-spam", letter("Newsletter"))
    stays = store(site, "browser-stays", letter("A long subject " * 8))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    _sign_in(page, live, "olly")

    page.goto(f"{live}/quarantine")
    expect(page.locator("main")).not_to_contain_text("intake reprocess")
    _shot(page, "quarantine-list.png")
    page.locator(f"#message-{joins}").get_by_role("link", name=f"Open message {joins}").click()
    page.wait_for_url(f"{live}/quarantine/{joins}")
    expect(page.locator("pre.mailtext")).to_contain_text("Line 1 of the letter.")
    expect(page.locator("main")).to_contain_text("notes.pdf")

    # Nothing typed: the error summary links to the field, which says what is wrong.
    page.get_by_role("button", name="Attach to referral").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Enter the reference of the referral")
    expect(page.locator("#reference")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "reference"
    _shot(page, "quarantine-attach-error.png")
    page.keyboard.type(reference.lower())
    page.get_by_role("button", name="Attach to referral").click()
    page.wait_for_url(f"{live}/referrals/{reference}#flash")
    expect(page.locator(".flash")).to_contain_text(f"now part of {reference}")
    expect(page.locator("#timeline")).to_contain_text("linked by olly")
    _shot(page, "quarantine-attached-timeline.png")

    page.goto(f"{live}/quarantine/{spam}")
    page.get_by_label("Why it is not a referral").fill("A newsletter, not about a child")
    page.get_by_role("button", name="Dismiss: not a referral").click()
    page.wait_for_url(f"{live}/quarantine#flash")
    expect(page.locator(".flash")).to_contain_text("dismissed as not a referral")
    expect(page.locator(f"#dismissed-{spam}")).to_contain_text("A newsletter, not about a child")
    assert page.locator(f"#message-{spam}").count() == 0
    assert page.locator(f"#message-{joins}").count() == 0
    _shot(page, "quarantine-dismissed.png")

    # On a 320 px phone nothing scrolls sideways, the list or the message.
    phone = browser.new_page(viewport={"width": 320, "height": 720}, locale="en-GB")
    _sign_in(phone, live, "olly")
    phone.goto(f"{live}/quarantine")
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(phone, "quarantine-list-320.png")
    phone.goto(f"{live}/quarantine/{stays}")
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    _shot(phone, "quarantine-message-320.png")
