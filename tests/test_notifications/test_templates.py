"""Every template renders with a full and a minimal record and leaks nothing personal.

No child name, address or date of birth may appear in any subject line, nor anywhere in
mail to an address outside the partnership's internal domains.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from notifications.compose import MailConfig, alert_rows, reply_row
from notifications.render import render
from notifications.routing import Representative, Routing
from storage.referrals import initials
from storage.tables import OutboxMessage, Referral

FORMS = Path(__file__).resolve().parents[2] / "samples" / "forms"
CONFIG = MailConfig("LSCP <sirg@liverpool.gov.uk>", "lscp.test", "https://review.lscp.test")
ROUTING = Routing(
    internal_domains=["liverpool.gov.uk"],
    representatives=[
        Representative(name="Inside", email="in@liverpool.gov.uk", agency="LCC"),
        Representative(name="Outside", email="out@partner.example", agency="P", role="chair"),
    ],
)


def full_record() -> dict:
    records = [json.loads(p.read_text()) for p in sorted(FORMS.glob("cc-*.expected.json"))]
    return next(r for r in records if r.get("child.address") and r.get("child.dob"))


def referral(record: dict, complete: bool = True) -> Referral:
    return Referral(
        reference="SIRG-2026-0042",
        message_id=1,
        attachment_id=1,
        status="new",
        complete=complete,
        urgent=True,
        child_name=record.get("child.name"),
        referrer_agency=record.get("referrer.agency"),
        received_at=datetime(2026, 12, 23, 9, 30, tzinfo=UTC),
        panel_due=date(2027, 1, 4),
        rapid_review_due=date(2027, 1, 18),
        record=record,
        problems=[] if complete else [{"key": "child.dob"}],
        provenance={},
        form_id="sirg-2024",
        created_at=datetime(2026, 12, 23, 9, 31, tzinfo=UTC),
    )


def personal_strings(record: dict) -> list[str]:
    found = []
    name = record.get("child.name") or ""
    found += [name] + [part for part in name.split() if len(part) > 2]
    for line in (record.get("child.address") or "").replace(",", "\n").splitlines():
        # The identifying parts: house and street, and the postcode (both hold digits);
        # a town name alone ("Liverpool") is in every email we send.
        if any(ch.isdigit() for ch in line):
            found.append(line.strip())
    if record.get("child.dob"):
        dob = date.fromisoformat(record["child.dob"])
        found += [dob.isoformat(), dob.strftime("%d/%m/%Y"), dob.strftime("%-d %B %Y")]
    return found


def mails(record: dict, complete: bool) -> list[OutboxMessage]:
    ref = referral(record, complete)
    files = [
        {
            "filename": "Kacper Mazur referral.docx",
            "outcome": "referral" if complete else "needs_info",
            "reason": "",
            "reference": ref.reference,
            "initials": initials(ref.child_name),
            "problems": [] if complete else ["Date of birth (not completed)"],
        }
    ]
    out = alert_rows(CONFIG, ROUTING, ref, 1)
    for outcome in ("referral", "needs_info", "rejected"):
        out.append(
            reply_row(
                CONFIG,
                to_addr="referrer@police.example",
                outcome=outcome,
                reason="the email is larger than 40 MB",
                received_at=ref.received_at,
                files=files,
                referrals=[ref] if outcome != "rejected" else [],
                inbound_message_id=1,
                in_reply_to="<x@y>",
            )
        )
    return out


@pytest.mark.parametrize("which", ["full", "minimal"])
def test_no_child_details_in_subjects_or_external_mail(which: str) -> None:
    record = full_record() if which == "full" else {"criteria": []}
    secrets = personal_strings(full_record())
    rendered = mails(record, complete=which == "full")
    assert len(rendered) == 5
    for mail in rendered:  # a reply never echoes a file name (it may name the child)
        assert "Kacper Mazur referral" not in mail.body_text + (mail.body_html or "")
    for mail in rendered:
        for secret in secrets:
            assert secret not in mail.subject, (mail.kind, secret)
        if not ROUTING.is_internal(mail.to_addr):
            body = mail.body_text + (mail.body_html or "")
            for secret in secrets:
                assert secret not in body, (mail.kind, mail.to_addr, secret)


def test_the_full_record_really_holds_the_details_we_look_for() -> None:
    # Guards the test above: it must have something to find.
    record = full_record()
    assert record["child.name"] and record["child.address"] and record["child.dob"]


def test_alerts_carry_reference_urgency_criteria_due_dates_and_link() -> None:
    record = full_record()
    (inside, outside) = alert_rows(CONFIG, ROUTING, referral(record), 1)
    assert inside.to_addr == "in@liverpool.gov.uk" and outside.to_addr == "out@partner.example"
    text = inside.body_text
    assert "SIRG-2026-0042" in inside.subject and "URGENT" in inside.subject
    for criterion in record["criteria"]:
        assert criterion in text
    assert "Monday 04 January 2027" in text and "Monday 18 January 2027" in text
    assert "https://review.lscp.test/referrals/SIRG-2026-0042" in text
    assert initials(record["child.name"]) in text  # internal: initials help recognise a case
    assert initials(record["child.name"]) not in outside.body_text
    assert inside.auto_submitted == "auto-generated"


def test_html_is_escaped_and_missing_values_fail_loudly() -> None:
    record = full_record() | {"referrer.agency": "<script>alert(1)</script>"}
    ref = referral(record)
    ref.referrer_agency = record["referrer.agency"]
    (alert, _) = alert_rows(CONFIG, ROUTING, ref, 1)
    assert "<script>" not in (alert.body_html or "")
    assert "&lt;script&gt;" in (alert.body_html or "")
    with pytest.raises(Exception, match="undefined"):
        render("alert", {"reference": "x"})  # StrictUndefined: no silent blanks


def test_templates_can_be_overridden_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "alert.subject.j2").write_text("Local wording {{ reference }}")
    config = MailConfig(CONFIG.mail_from, CONFIG.message_id_domain, CONFIG.review_url, tmp_path)
    (alert, _) = alert_rows(config, ROUTING, referral(full_record()), 1)
    assert alert.subject == "Local wording SIRG-2026-0042"
    assert "Dear Inside" in alert.body_text  # the other templates are still ours
