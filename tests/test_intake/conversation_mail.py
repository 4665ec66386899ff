"""Emails of a referral conversation for the tests: the referrer's replies, built the way
a mail program builds them (Re: subject, In-Reply-To and References, quoted text)."""

from __future__ import annotations

import sys
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid

from servers.intake_config import ROOT

sys.path.insert(0, str(ROOT / "samples"))
from make_samples import build_form, build_letter  # noqa: E402
from sample_data import CC_NEEDS_INFO  # noqa: E402

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# What the Early Help sample left out, now given (FIELDS.md keys).
COMPLETED = {
    "referrer.phone": "0151 496 0388",
    "referrer.discussed_with_safeguarding_lead": "Yes",
    "child.dob": "2015-02-11",
    "learning": "How school attendance concerns reach the family hub.",
    "authorisation.manager_name": "Dominic Ashworth",
    "authorisation.manager_role": "Early Help Team Manager",
    "authorisation.date": "2024-06-13",
}


def completed_early_help_form() -> bytes:
    """The Early Help sample form (Kacper Mazur) with every mandatory answer given."""
    return build_form(replace(CC_NEEDS_INFO, fields=CC_NEEDS_INFO.fields | COMPLETED))


def other_child_form() -> bytes:
    """The same Early Help form, filled for Kacper's sister: another child."""
    fields = (
        CC_NEEDS_INFO.fields
        | COMPLETED
        | {
            "child.name": "Zofia Mazur",
            "child.dob": "2017-09-30",
        }
    )
    return build_form(replace(CC_NEEDS_INFO, fields=fields))


def chronology() -> bytes:
    """A Word document that is not the referral form: a chronology the team asked for."""
    return build_letter(
        ["Chronology of contacts", "3 June 2024: school nurse saw the burn."],
        [("Date", "Contact"), ("2024-06-03", "School nurse")],
        "Early Help",
    )


def reply(
    answering: EmailMessage,
    *,
    sender: str,
    to: str,
    text: str,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """The referrer's reply to one of our emails (In-Reply-To its Message-ID)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"RE: {answering['Subject']}"
    msg["Message-ID"] = make_msgid(domain="liverpool.gov.uk")
    msg["In-Reply-To"] = answering["Message-ID"]
    msg["References"] = answering["Message-ID"]
    msg["Date"] = "Thu, 13 Jun 2024 10:02:00 +0100"
    msg.set_content(text)
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(msg)


def stranger(reference: str, text: str) -> bytes:
    """Someone not on a referral's thread who quotes its reference (no In-Reply-To)."""
    msg = EmailMessage()
    msg["From"] = "someone.else@example.org"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = f"About {reference}"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg["Date"] = "Fri, 14 Jun 2024 09:00:00 +0100"
    msg.set_content(text)
    return bytes(msg)
