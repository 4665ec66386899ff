"""Creating a referral by hand from the quarantine page: a scanned form keyed in beside the
original, checked like a correction, stored with its due dates, reply, alerts and audit."""

from __future__ import annotations

import json
import re
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from review_support import SCAN_RECEIVED as RECEIVED
from review_support import SCAN_SENDER as SENDER
from review_support import Site, rejected_scan, scan_email, token
from sqlmodel import col, select

from intake.runner import filing_for, process_stored
from parsers.statutory import due_dates
from storage import messages
from storage.db import session_scope
from storage.messages import ServerIdentity
from storage.tables import (
    Attachment,
    AuditEvent,
    InboundMessage,
    OutboxMessage,
    Outcome,
    Referral,
)

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = json.loads((ROOT / "samples/forms/cc-health-sudi.expected.json").read_text())


def _posted(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """A filled form's values as the page's inputs send them."""
    out: list[tuple[str, str]] = []
    for key, value in fields.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                out.extend((f"{key}[{i}].{col_key}", str(v)) for col_key, v in row.items())
        elif isinstance(value, list):
            out.extend((key, v) for v in value)
        else:
            out.append((key, str(value)))
    return out


def _source(site: Site, message_id: int) -> int:
    with session_scope(site.engine) as db:
        attachment = db.exec(select(Attachment).where(Attachment.message_id == message_id)).one()
        assert attachment.id is not None
        return attachment.id


def _post(site: Site, client: Any, message_id: int, data: list[tuple[str, str]]) -> Any:
    csrf = token(client, f"/quarantine/{message_id}/referral")
    # Encoded by hand: a multi-choice answer sends one input name several times.
    return client.post(
        f"/quarantine/{message_id}/referral",
        content=urlencode([("csrf_token", csrf), *data]),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


@pytest.fixture
def routed(site: Site) -> Site:
    """The site with the sample routing file, so alerts have somewhere to go."""
    site.settings.routing_file = ROOT / "samples" / "routing.toml"
    return site


def test_a_scanned_form_is_keyed_in_beside_the_original_and_stored_whole(routed: Site) -> None:
    site = routed
    message_id = rejected_scan(site, "scan-1")
    attachment_id = _source(site, message_id)
    client = site.client("olly")

    listing = client.get("/quarantine").text
    assert f'href="/quarantine/{message_id}/referral"' in listing
    page = client.get(f"/quarantine/{message_id}/referral")
    assert page.status_code == 200
    # The original beside the form: the scanned PDF shown in the page.
    assert f'src="/quarantine/{message_id}/files/{attachment_id}?inline=1"' in page.text
    shown = client.get(f"/quarantine/{message_id}/files/{attachment_id}?inline=1")
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.content.startswith(b"%PDF")

    data = [
        ("source", f"file-{attachment_id}"),
        ("acknowledge", "1"),
        *_posted(EXPECTED | {"child.dob": "27th February 2024"}),  # typed as on the scan
    ]
    response = _post(site, client, message_id, data)
    assert response.status_code == 303, response.text
    reference = response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1]
    assert re.fullmatch(r"SIRG-2026-\d{4}", reference)

    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
        message = db.get(InboundMessage, message_id)
        outbox = db.exec(
            select(OutboxMessage).where(OutboxMessage.inbound_message_id == message_id)
        ).all()
        audit = [
            (e.entity, e.action, e.entity_id)
            for e in db.exec(select(AuditEvent).where(AuditEvent.actor == "olly"))
        ]
    # Every value typed is stored exactly as the reader would have stored it.
    assert referral.record == EXPECTED
    assert referral.complete and referral.status == "new" and referral.problems == []
    assert referral.attachment_id == attachment_id
    assert referral.child_name == "Reggie Thornton"
    assert referral.received_at.replace(tzinfo=UTC) == RECEIVED
    assert (referral.panel_due, referral.rapid_review_due) == due_dates(RECEIVED)
    prov = referral.provenance["child.dob"]
    assert prov == {
        "raw": "27th February 2024",
        "where": "keyed in by hand by olly from referral-scan.pdf",
    }
    assert referral.provenance["household[0].name"]["raw"] == EXPECTED["household"][0]["name"]
    # The message has its referral now: off the quarantine page, its history kept.
    assert message is not None and message.outcome == Outcome.REFERRAL
    assert "keyed in by hand by olly" in (message.outcome_reason or "")
    assert f'href="/quarantine/{message_id}/referral"' not in client.get("/quarantine").text
    # The referrer hears the reference; SIRG is alerted (the sample routing: urgent).
    replies = [o for o in outbox if o.kind == "ack"]
    assert len(replies) == 1 and replies[0].to_addr == SENDER
    assert reference in replies[0].subject and reference in replies[0].body_text
    assert "entered it by hand" in replies[0].body_text
    assert "Reggie" not in replies[0].subject
    assert [o for o in outbox if o.kind == "alert"]
    assert ("referral", "created by hand", referral.id) in audit
    assert ("message", "referral keyed in", message_id) in audit
    assert ("message", "viewed file", message_id) in audit
    # The referral page shows the scan beside the record.
    view = client.get(f"/referrals/{reference}").text
    assert f'src="/referrals/{reference}/document?inline=1"' in view
    assert "keyed in by hand by olly" in view


def test_wrong_values_are_shown_again_and_nothing_is_stored(site: Site) -> None:
    message_id = rejected_scan(site, "scan-2")
    client = site.client("olly")
    data = [
        ("source", f"file-{_source(site, message_id)}"),
        ("child.name", "Zoë O'Neill"),
        ("child.nhs_number", "123 456 7890"),  # fails the check digit
        ("child.dob", "31/02/2024"),
        ("child.gender", "Not an option"),
    ]
    response = _post(site, client, message_id, data)
    assert response.status_code == 400
    assert "3 answer(s) need putting right" in response.text
    assert 'value="Zoë O&#39;Neill"' in response.text  # what was typed is kept
    assert 'value="123 456 7890"' in response.text
    with session_scope(site.engine) as db:
        assert db.exec(select(Referral).where(Referral.message_id == message_id)).first() is None
        # Still the outcome reading gave it (a blank scan: rejected, or no form found).
        outcome = db.get(InboundMessage, message_id).outcome  # type: ignore[union-attr]
        assert outcome in (Outcome.REJECTED, Outcome.NEEDS_INFO)


def test_missing_mandatory_answers_make_a_referral_awaiting_information(site: Site) -> None:
    message_id = rejected_scan(site, "scan-3")
    client = site.client("olly")
    data = [
        ("source", f"file-{_source(site, message_id)}"),
        ("acknowledge", "1"),
        ("child.name", "<script>alert(1)</script>"),
        ("referrer.email", "Someone@NHS.example"),
    ]
    response = _post(site, client, message_id, data)
    assert response.status_code == 303
    reference = response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1]
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
        # The keyed referral's request (the scan itself may have had one: no form found).
        reply = db.exec(
            select(OutboxMessage).where(
                OutboxMessage.inbound_message_id == message_id,
                col(OutboxMessage.kind) == "needs_info",
                OutboxMessage.referral_id == referral.id,
            )
        ).one()
    assert referral.status == "needs_info" and not referral.complete
    assert referral.record["referrer.email"] == "someone@nhs.example"
    missing = {p["key"] for p in referral.problems}
    assert "child.dob" in missing and "child.name" not in missing
    assert "  - Date of birth (not completed)" in reply.body_text
    assert "Child's full name" not in reply.body_text  # it was entered
    page = client.get(f"/referrals/{reference}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_referral_written_in_the_email_is_keyed_from_the_email_itself(site: Site) -> None:
    message_id = rejected_scan(site, "body-1", attach_scan=False)
    client = site.client("olly")
    response = _post(
        site, client, message_id, [("source", "email"), ("child.name", "Łukasz Nowak")]
    )
    assert response.status_code == 303
    reference = response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1]
    document = client.get(f"/referrals/{reference}/document")
    assert document.status_code == 200
    assert document.content == scan_email("body-1", attach_scan=False)
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
        outbox = db.exec(
            select(OutboxMessage).where(OutboxMessage.inbound_message_id == message_id)
        ).all()
    assert referral.provenance["child.name"]["where"] == ("keyed in by hand by olly from the email")
    # The box was left unticked: the pipeline's earlier reply stands, no second one.
    assert [o.kind for o in outbox if o.referral_id == referral.id] == []


def test_only_officers_key_referrals_and_never_from_a_virus(site: Site) -> None:
    message_id = rejected_scan(site, "scan-4")
    viewer = site.client("vera")
    assert viewer.get(f"/quarantine/{message_id}/referral").status_code == 403
    assert 'href="/quarantine/{message_id}/referral"' not in viewer.get("/quarantine").text
    virus = messages.receive(
        site.engine,
        ServerIdentity("test", "INBOX", 1, "virus"),
        b"Subject: x\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR\r\n",
        "<virus@example.test>",
        RECEIVED,
        infected="Eicar-Test-Signature",
    )
    messages.quarantine(site.engine, virus.id or 0, "virus")
    officer = site.client("olly")
    assert officer.get(f"/quarantine/{virus.id}/referral").status_code == 404
    response = _post(site, officer, message_id, [("source", "file-999999")])
    assert response.status_code == 400  # a file of another message is refused
    # A message that already made a referral is not on the quarantine page: refused.
    with session_scope(site.engine) as db:
        made = db.exec(select(Referral)).first()
        assert made is not None
    assert officer.get(f"/quarantine/{made.message_id}/referral").status_code == 404


def test_more_rows_keep_what_was_typed_and_store_nothing(site: Site) -> None:
    message_id = rejected_scan(site, "scan-5")
    client = site.client("olly")
    source = ("source", f"file-{_source(site, message_id)}")
    typed = [source, ("child.name", "Zoë Ahmed"), ("household[4].name", "Aisha Ahmed")]
    page = _post(site, client, message_id, [*typed, ("grid_rows", "5"), ("more", "1")])
    assert page.status_code == 200
    assert 'name="household[9].name"' in page.text and 'name="household[10].name"' not in page.text
    assert 'value="Aisha Ahmed"' in page.text and 'value="Zoë Ahmed"' in page.text
    assert 'name="grid_rows" value="10"' in page.text
    with session_scope(site.engine) as db:
        assert db.exec(select(Referral).where(Referral.message_id == message_id)).first() is None
    # A row typed into the added rows is stored, as the first row of its table.
    response = _post(
        site,
        client,
        message_id,
        [*typed[:2], ("household[8].name", "Aisha Ahmed"), ("grid_rows", "10")],
    )
    assert response.status_code == 303
    reference = response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1]
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == reference)).one()
    assert referral.record["household"] == [{"name": "Aisha Ahmed"}]
    assert referral.provenance["household[0].name"]["raw"] == "Aisha Ahmed"


def _written_in_the_body(site: Site, uid: str, body: str, subtype: str = "plain") -> int:
    """An email with the referral typed into its text and no file, run through the pipeline."""
    msg = EmailMessage()
    msg["From"] = f"Ngozi Okonkwo-Reid <{SENDER}>"
    msg["To"] = "sirg@lscp.example"
    msg["Subject"] = "SIRG referral <b>typed below</b>"
    msg["Message-ID"] = f"<{uid}@nhs.example>"
    msg.set_content(body, subtype=subtype)
    raw = bytes(msg)
    row = messages.receive(
        site.engine, ServerIdentity("test", "INBOX", 1, uid), raw, f"<{uid}@nhs.example>", RECEIVED
    )
    process_stored(filing_for(site.engine, site.settings), site.settings, row, raw)
    assert row.id is not None
    return row.id


def test_the_email_is_shown_whole_beside_the_form_and_escaped(site: Site) -> None:
    body = (
        "Child: Łukasz Nowak, born 03/04/2024.\n\n"
        "Concern: <script>alert('x')</script> found unresponsive.\n"
        + "".join(f"Line {n} of the history.\n" for n in range(1, 40))
        + "Referrer: Ngozi, health visitor."
    )
    message_id = _written_in_the_body(site, "body-2", body)
    page = site.client("olly").get(f"/quarantine/{message_id}/referral")
    assert page.status_code == 200
    text = page.text
    aside = text[text.index('<aside class="doc keyed"') :]
    # Who sent it, its subject and when, then every line of its text (not the first ten).
    assert SENDER in aside
    assert "SIRG referral &lt;b&gt;typed below&lt;/b&gt;" in aside
    assert "Wed 23 Dec 2026, 16:30" in aside
    assert "Line 39 of the history." in aside and "Referrer: Ngozi, health visitor." in aside
    assert "Łukasz Nowak" in aside
    # Escaped: a script in the email is text on the page, never markup.
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in aside
    # A region of its own that scrolls, reachable and named for the keyboard.
    region = '<div class="mailbody" tabindex="0" role="region" aria-label="Text of the email">'
    assert region in aside
    assert "Only the first" not in aside


def test_a_long_email_is_cut_with_a_note(site: Site) -> None:
    body = "".join(f"Paragraph {n}: " + "words " * 30 + "\n" for n in range(1000))
    message_id = _written_in_the_body(site, "body-3", body)
    text = site.client("olly").get(f"/quarantine/{message_id}/referral").text
    assert "Paragraph 0:" in text and "Paragraph 999:" not in text
    assert "Only the first 20,000 characters are shown" in text


def test_a_value_keyed_from_the_email_is_corrected_beside_the_email(site: Site) -> None:
    body = "Child: Łukasz Nowak <script>alert(1)</script>\nBorn 03/04/2024."
    message_id = _written_in_the_body(site, "body-4", body)
    client = site.client("olly")
    response = _post(
        site, client, message_id, [("source", "email"), ("child.name", "Łukasz Nowak")]
    )
    assert response.status_code == 303
    reference = re.findall(r"SIRG-\d{4}-\d{4}", response.headers["location"])[0]
    text = client.get(f"/referrals/{reference}/correct?key=child.name").text
    aside = text[text.index('<aside class="doc source-view"') :]
    assert "Source: keyed in by hand by olly from the email." in aside
    assert "SIRG referral &lt;b&gt;typed below&lt;/b&gt;" in aside
    assert "Child: Łukasz Nowak &lt;script&gt;alert(1)&lt;/script&gt;\nBorn 03/04/2024." in aside
    assert "<script>" not in text


def test_an_html_only_email_is_shown_as_its_words(site: Site) -> None:
    html = (
        "<html><head><style>p { color: red }</style></head><body>"
        "<p>Child: Ada &amp; Bo</p><script>alert(1)</script><p>Born 1/2/2024</p></body></html>"
    )
    message_id = _written_in_the_body(site, "body-5", html, "html")
    text = site.client("olly").get(f"/quarantine/{message_id}/referral").text
    aside = text[text.index('<aside class="doc keyed"') :]
    assert "these are the words of its HTML part" in aside
    assert "Child: Ada &amp; Bo" in aside and "Born 1/2/2024" in aside
    assert "alert(1)" not in aside and "color: red" not in aside and "&lt;p&gt;" not in aside
