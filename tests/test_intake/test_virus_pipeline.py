"""Virus scanning in the worker, against a real clamd with a local test signature."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from sqlmodel import select

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from servers.clamd import ClamdServer
from storage.db import session_scope
from storage.tables import Attachment, InboundMessage, OutboxMessage, RawMessage

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ROUTING = """
[[representatives]]
name = "Business Manager"
email = "bm@liverpool.gov.uk"
agency = "LSCP"
role = "business_manager"
alerts = "none"
"""


def infected_email(payload: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Someone <someone@partner.example>"
    msg["To"] = "sirg@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = "<virus-1@partner.example>"
    msg.set_content("Please see attached.")
    msg.add_attachment(
        payload, maintype="application", subtype="octet-stream", filename="referral.docx"
    )
    return bytes(msg)


def make_settings(tmp_path: Path, clamd: str) -> Settings:
    routing = tmp_path / "routing.toml"
    routing.write_text(ROUTING)
    return Settings(
        data_dir=tmp_path,
        database_url="",
        mail_source="maildir",
        smtp_host="",
        clamd=clamd,
        clamd_timeout=5,
        routing_file=routing,
    )


def run(settings: Settings, files: dict[str, bytes]):
    source = MaildirSource(settings.resolved_maildir)
    for name, raw in files.items():
        (settings.resolved_maildir / "new" / name).write_bytes(raw)
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    return engine, report


def test_an_infected_message_is_kept_defanged_quarantined_and_the_team_told(
    tmp_path: Path, clamd: ClamdServer
) -> None:
    settings = make_settings(tmp_path, clamd.address)
    engine, report = run(settings, {"virus": infected_email(clamd.eicar)})
    assert report.errors == 0 and report.outcomes == {"quarantined": 1}
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        raw = session.get(RawMessage, message.id).content
        attachments = session.exec(select(Attachment)).all()
        outbox = session.exec(select(OutboxMessage)).all()
    assert message.state == "quarantined" and clamd.signature in (message.outcome_reason or "")
    assert clamd.eicar not in raw  # never stored in the clear
    assert attachments == []  # never unpacked or parsed
    assert [(o.kind, o.to_addr) for o in outbox] == [("security", "bm@liverpool.gov.uk")]
    assert "someone@partner.example" not in outbox[0].body_text
    quarantine = settings.resolved_maildir / ".Quarantine" / "cur"
    assert len(list(quarantine.iterdir())) == 1


def test_a_clean_referral_passes_the_scanner(tmp_path: Path, clamd: ClamdServer) -> None:
    settings = make_settings(tmp_path, clamd.address)
    raw = (SAMPLES / "maildir" / "new" / "0001.police").read_bytes()
    engine, report = run(settings, {"0001.police": raw})
    assert report.outcomes == {"referral": 1}


def test_with_clamd_down_the_message_waits_then_goes_through(tmp_path: Path) -> None:
    raw = (SAMPLES / "maildir" / "new" / "0001.police").read_bytes()
    with ClamdServer() as server:
        address = server.address
    # The server is stopped: nothing answers at that address now.
    settings = make_settings(tmp_path, address)
    engine, report = run(settings, {"0001.police": raw})
    assert (report.waiting, report.errors, report.new) == (1, 0, 0)
    with session_scope(engine) as session:
        assert session.exec(select(InboundMessage)).all() == []  # not processed unscanned
    assert [p.name for p in (settings.resolved_maildir / "new").iterdir()] == ["0001.police"]

    with ClamdServer() as server:
        settings = make_settings(tmp_path, server.address)
        engine = open_database(settings)
        again = run_once(
            engine,
            settings,
            MaildirSource(settings.resolved_maildir),
            FolderTransport(settings.outbox_mail_dir),
        )
    assert again.outcomes == {"referral": 1} and again.waiting == 0
