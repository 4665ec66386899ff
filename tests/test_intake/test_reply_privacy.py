"""A reply never echoes a file name or a raw answer: either may name a child or a family."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from conversation_mail import CC_NEEDS_INFO, DOCX, build_form

from intake.runner import run_once
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from servers.intake_config import settings_for
from storage.db import session_scope
from storage.outbox import rows

FILENAME = "SIRG referral Lily-Mae Kavanagh.docx"
RAW_PHONE = "0151 496 0217 (mum Chantelle Kavanagh, Flat 3 Croxteth Court)"


def test_no_file_name_or_raw_answer_in_the_reply(tmp_path: Path) -> None:
    fields = CC_NEEDS_INFO.fields | {"referrer.phone": RAW_PHONE}
    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@liverpool.gov.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = "<privacy-1@liverpool.gov.uk>"
    msg.set_content("Referral attached.")
    data = build_form(replace(CC_NEEDS_INFO, fields=fields))
    msg.add_attachment(
        data, maintype=DOCX.split("/")[0], subtype=DOCX.split("/")[1], filename=FILENAME
    )
    settings = settings_for(tmp_path)
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / "privacy").write_bytes(bytes(msg))
    engine = open_database(settings)
    source = MaildirSource(settings.resolved_maildir)
    run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        (reply,) = rows(session)
    engine.dispose()
    assert reply.kind == "needs_info"
    everything = f"{reply.subject}\n{reply.body_text}\n{reply.body_html}"
    assert "Telephone number" in everything  # the failing answer, by its label
    for secret in ("Lily-Mae", "Kavanagh", "Chantelle", "Croxteth", "0151 496 0217"):
        assert secret not in everything, secret
