"""Secure-email notices and emails whose files are not the form: what the sender is told."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import select

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from parsers.secure_mail import secure_notice
from storage.db import session_scope
from storage.tables import InboundMessage, MessageState, OutboxMessage

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "forms"

EGRESS = (
    "Dr Amina Rahman has sent you a secure email.\n"
    "To read it, sign in to Egress Protect: https://switch.egress.com/ui/...\n"
)
MICROSOFT = (
    "Amina Rahman (amina.rahman@nhs.net) has sent you a protected message.\n"
    "Read the message\nLearn about messages protected by Microsoft Purview Message Encryption."
)


def notice(
    subject: str, text: str, files: list[tuple[str, bytes, str]] | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Amina Rahman <amina.rahman@nhs.net>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash(subject + text))}@nhs.net>"
    msg.set_content(text)
    for name, data, ctype in files or []:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def test_the_notices_of_each_service_are_recognised() -> None:
    html = [("message.html", b"<html>encrypted</html>", "text/html")]
    assert "Egress" in str(secure_notice(notice("Referral", EGRESS, html)))
    rpmsg = [("message_v2.rpmsg", b"\x00" * 64, "application/x-microsoft-rpmsg-message")]
    assert "Microsoft" in str(secure_notice(notice("Referral", "See attached.", rpmsg)))
    assert "Microsoft" in str(secure_notice(notice("Referral", MICROSOFT, html)))
    assert "NHSmail" in str(secure_notice(notice("[secure] SIRG referral", "Referral.")))


@pytest.mark.parametrize(
    "text",
    [
        "Please find our newsletter below. Keep your data secure.",
        "Read the message from the chair at the bottom of this page.",
        "We use Egress at our office.",
    ],
)
def test_ordinary_emails_are_not_taken_for_notices(text: str) -> None:
    assert secure_notice(notice("LSCP news", text)) is None


def ingest(tmp_path: Path, *mails: EmailMessage) -> Settings:
    settings = Settings(data_dir=tmp_path, database_url="", mail_source="maildir", smtp_host="")
    source = MaildirSource(settings.resolved_maildir)
    for n, mail in enumerate(mails):
        (source.path / "new" / f"{n}.mail").write_bytes(bytes(mail))
    engine = open_database(settings)
    run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    return settings


def test_a_secure_notice_is_quarantined_for_the_team_and_the_sender_told(tmp_path: Path) -> None:
    html = [("message.html", b"<html>encrypted</html>", "text/html")]
    settings = ingest(tmp_path, notice("SIRG referral", EGRESS, html))
    with session_scope(open_database(settings)) as session:
        (row,) = session.exec(select(InboundMessage)).all()
        assert row.state == MessageState.QUARANTINED  # officers see it at once
        assert "Egress" in str(row.outcome_reason)
        (reply,) = session.exec(select(OutboxMessage)).all()
    assert reply.to_addr == "amina.rahman@nhs.net"
    assert reply.subject == "SIRG referral – your secure email was received"
    assert "you do not need to send it again" in reply.body_text
    assert (
        "did not find" not in reply.body_text and "not a SIRG referral form" not in reply.body_text
    )
    assert "message.html" not in reply.body_text


def test_a_file_that_is_not_the_form_is_named_by_kind_not_as_nothing(tmp_path: Path) -> None:
    letter = (SAMPLES / "not-a-form.docx").read_bytes()
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    settings = ingest(
        tmp_path, notice("Referral", "Please see the letter.", [("Letter.docx", letter, docx)])
    )
    with session_scope(open_database(settings)) as session:
        (row,) = session.exec(select(InboundMessage)).all()
        assert row.state == MessageState.PROCESSED
        reason = str(row.outcome_reason)
        (reply,) = session.exec(select(OutboxMessage)).all()
    assert reason.startswith("no referral form: the first attached file is a Word document")
    assert "Letter" not in reason
    assert "did not find a SIRG referral form attached" not in reply.body_text
    assert "a Word document, not an LSCP SIRG referral form" in reply.body_text
    assert "Letter.docx" not in reply.body_text
