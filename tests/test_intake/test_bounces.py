"""Bounces without the report format are still recognised, and never answered."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from intake.pipeline.screen import automated_reason
from intake.runner import run_once
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from parsers.mime import parse_message
from servers.intake_config import ROOT, settings_for
from storage.db import session_scope
from storage.outbox import rows

REFERRAL = ROOT / "samples" / "maildir" / "new" / "0001.police"


def returned(sender: str, subject: str, **headers: str) -> EmailMessage:
    """A delivery failure carrying our message back, with no report-type."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = subject
    msg["Message-ID"] = "<bounce-1@mx.example.org>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Delivery to the following recipient failed permanently.")
    msg.add_attachment(parse_message(REFERRAL.read_bytes()))  # message/rfc822
    return msg


@pytest.mark.parametrize(
    "bounce",
    [
        returned("Mail Delivery Subsystem <bounces+abc@mx.example.org>", "Delivery Status"),
        returned("MAILER-DAEMON+x@mx.example.org", "Returned mail: see transcript"),
        returned(
            "System Administrator <admin@mx.example.org>",
            "Message not delivered",
            X_Failed_Recipients="someone@example.org",
        ),
        returned("Exchange Online <exchange@mx.example.org>", "Your message could not be sent"),
    ],
    ids=["mail-delivery-name", "mailer-daemon-plus", "x-failed-recipients", "returned-rfc822"],
)
def test_bounces_without_a_report_type_are_never_answered(
    bounce: EmailMessage, tmp_path: Path
) -> None:
    assert automated_reason(bounce, "lscp.test") is not None
    settings = settings_for(tmp_path)
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / "bounce").write_bytes(bytes(bounce))
    engine = open_database(settings)
    source = MaildirSource(settings.resolved_maildir)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.outcomes == {"ignored": 1}
    with session_scope(engine) as session:
        assert rows(session) == []  # no "no referral form found" reply
    engine.dispose()


def test_a_forwarded_referral_is_not_taken_for_a_bounce() -> None:
    forward = returned("Pat Jones <pat.jones@merseyside.police.uk>", "FW: SIRG referral")
    assert automated_reason(forward, "lscp.test") is None
