"""One referral the whole way, for real: Dovecot -> `intake run --once` -> database -> SMTP.

Runs once with SQLite and once with PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlmodel import select

from parsers.mime import parse_message
from servers.dovecot import DovecotServer
from servers.intake_config import intake_env, run_intake
from servers.smtp import SmtpServer
from storage.db import make_engine, session_scope
from storage.tables import InboundMessage, Referral

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
INTAKE = [sys.executable, "-m", "intake"]


def first_complete_referral_sample() -> tuple[bytes, dict[str, object]]:
    """A sample email whose expected outcome is a complete referral, and its form's fields."""
    expected = json.loads((SAMPLES / "maildir" / "EXPECTED.json").read_text())
    for name, exp in sorted(expected.items()):
        if exp["outcome"] == "referral" and len(exp["forms"]) == 1:
            fields = json.loads(
                (SAMPLES / "forms" / f"{Path(exp['forms'][0]).stem}.expected.json").read_text()
            )
            return (SAMPLES / "maildir" / "new" / name).read_bytes(), fields
    raise AssertionError("samples/maildir has no complete referral to send")


def test_referral_email_travels_from_imap_to_acknowledgement(
    tmp_path: Path, database_url: str, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    raw, fields = first_complete_referral_sample()
    sender = parse_message(raw)["From"].addresses[0].addr_spec
    dovecot_mailbox.append(raw)
    env = intake_env(
        tmp_path / "var",
        dovecot_mailbox,
        smtp_server,
        database_url=database_url,
        mail_from="LSCP SIRG Referrals <sirg.referrals@lscp.test>",
    )

    result = run_intake(env, "run", "--once")
    assert result.returncode == 0, result.stdout + result.stderr

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        referrals = session.exec(select(Referral)).all()
        messages = session.exec(select(InboundMessage)).all()
    engine.dispose()
    assert len(referrals) == 1
    referral = referrals[0]
    assert referral.child_name == fields["child.name"]
    assert referral.referrer_email == fields["referrer.email"]
    assert referral.complete and referral.reference.startswith("SIRG-")
    assert messages[0].server_done and messages[0].server_folder == "Processed"

    (ack,) = smtp_server.wait_for(1)
    assert ack.rcpt_tos == [sender]
    assert referral.reference in ack.message["Subject"]
    assert referral.reference in ack.message.get_body(("plain",)).get_content()
    assert str(fields["child.name"]) not in ack.message["Subject"]

    assert dovecot_mailbox.messages("INBOX") == []
    processed = dovecot_mailbox.messages("Processed")
    assert len(processed) == 1
    assert parse_message(processed[0])["Message-ID"] == parse_message(raw)["Message-ID"]

    # A second pass finds nothing new and sends nothing again.
    again = run_intake(env, "run", "--once")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "fetched 0" in again.stdout
    assert len(smtp_server.messages) == 1
