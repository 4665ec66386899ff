"""The receiving server's verdict on the sender (Authentication-Results) is kept and shown,
and an email whose sender may be forged never raises the urgent alert to the chair."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from intake.runner import run_once
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from parsers.authresults import SenderCheck, sender_check
from parsers.mime import parse_message
from servers.intake_config import ROOT, settings_for
from storage.db import session_scope
from storage.tables import InboundMessage, OutboxMessage

URGENT = ROOT / "samples" / "maildir" / "new" / "0001.police"  # a child's death: urgent
CHAIR = "sirg.chair@liverpool.gov.uk"


def with_results(raw: bytes, *headers: str) -> bytes:
    """The email with Authentication-Results headers on top, as receiving servers add them."""
    return b"".join(f"Authentication-Results: {h}\r\n".encode() for h in headers) + raw


@pytest.mark.parametrize(
    ("headers", "trusted", "verdict"),
    [
        (
            ["mx.lscp.test; spf=pass smtp.mailfrom=x; dkim=pass; dmarc=pass header.from=x"],
            "",
            SenderCheck.VERIFIED,
        ),
        # Microsoft 365 writes no authserv-id, and its own composite verdict.
        (
            [
                "spf=fail (sender IP is 192.0.2.1) smtp.mailfrom=x; dkim=none; dmarc=fail "
                "action=none header.from=x;compauth=fail reason=000"
            ],
            "",
            SenderCheck.NOT_VERIFIED,
        ),
        (["mx.lscp.test; spf=softfail smtp.mailfrom=x; dkim=none"], "", SenderCheck.NOT_VERIFIED),
        (["mx.lscp.test; spf=none; dkim=none"], "", SenderCheck.UNKNOWN),
        ([], "", SenderCheck.UNKNOWN),
        # A header lower down (written by the sender) proves nothing: only our server's.
        (
            ["mx.lscp.test; dmarc=fail header.from=x", "mx.lscp.test; dmarc=pass"],
            "",
            SenderCheck.NOT_VERIFIED,
        ),
        (
            ["evil.example; dmarc=pass", "mx.lscp.test; dmarc=fail"],
            "mx.lscp.test",
            SenderCheck.NOT_VERIFIED,
        ),
        (["evil.example; dmarc=pass"], "mx.lscp.test", SenderCheck.UNKNOWN),
    ],
)
def test_the_verdict_of_the_receiving_server(
    headers: list[str], trusted: str, verdict: SenderCheck
) -> None:
    message = parse_message(with_results(URGENT.read_bytes(), *headers))
    assert sender_check(message, trusted) == verdict


def _alerts(tmp_path: Path, raw: bytes) -> tuple[list[OutboxMessage], str | None]:
    settings = settings_for(tmp_path, routing_file=ROOT / "samples" / "routing.toml")
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / "referral").write_bytes(raw)
    engine = open_database(settings)
    source = MaildirSource(settings.resolved_maildir)
    run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        alerts = list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "alert")))
        check = session.exec(select(InboundMessage.sender_check)).one()
    engine.dispose()
    return alerts, check


def test_a_forged_sender_never_raises_the_urgent_alert_by_itself(tmp_path: Path) -> None:
    trusted, check = _alerts(tmp_path / "a", with_results(URGENT.read_bytes(), "mx; dmarc=pass"))
    assert check == "verified"
    assert CHAIR in {a.to_addr for a in trusted}  # urgent: the chair hears at once
    assert all(a.subject.startswith("URGENT") for a in trusted)

    forged, check = _alerts(tmp_path / "b", with_results(URGENT.read_bytes(), "mx; dmarc=fail"))
    assert check == "not_verified"
    assert forged, "the routine alerts still go"
    assert CHAIR not in {a.to_addr for a in forged}
    for alert in forged:
        assert not alert.subject.startswith("URGENT") and "(sender not verified)" in alert.subject
        assert "SENDER NOT VERIFIED" in alert.body_text
