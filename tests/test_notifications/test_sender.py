"""The outbox sender against a real SMTP server (aiosmtpd): sent, retried, dead."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import Engine

from notifications.sender import build_message, deliver_due, retry_delay
from notifications.transport import FolderTransport, SmtpTransport
from servers.smtp import CapturingHandler, SmtpServer
from storage.db import make_engine, session_scope, upgrade
from storage.outbox import rows
from storage.tables import OutboxMessage


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def add_row(engine: Engine, to_addr: str, n: int) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    with session_scope(engine) as session:
        session.add(
            OutboxMessage(
                kind="ack",
                mail_from="LSCP <sirg@lscp.test>",
                to_addr=to_addr,
                subject=f"SIRG referral received – SIRG-2026-{n:04d}",
                body_text=f"Our reference: SIRG-2026-{n:04d}\n",
                body_html=f"<p>Our reference: SIRG-2026-{n:04d}</p>",
                header_message_id=f"<{n}.reply@lscp.test>",
                in_reply_to="<original@sender.test>",
                next_attempt_at=now,
                created_at=now,
            )
        )


def transport(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(host=server.host, port=server.port, security="none", timeout=5)


def test_due_rows_are_delivered_with_loop_guard_headers(engine: Engine) -> None:
    add_row(engine, "referrer@police.test", 1)
    with SmtpServer() as server:
        report = deliver_due(engine, transport(server))
        got = server.wait_for(1)
    assert report.sent == 1
    message = got[0].message
    assert got[0].rcpt_tos == ["referrer@police.test"]
    assert message["Message-ID"] == "<1.reply@lscp.test>"
    assert message["In-Reply-To"] == "<original@sender.test>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert "SIRG-2026-0001" in message.get_body(("plain",)).get_content()


def test_a_550_makes_that_row_dead_and_the_others_are_delivered(engine: Engine) -> None:
    add_row(engine, "gone@nhs.test", 1)
    add_row(engine, "here@nhs.test", 2)
    with SmtpServer(fail_recipients={"gone@nhs.test": "550 5.1.1 no such user"}) as server:
        report = deliver_due(engine, transport(server))
        got = server.wait_for(1)
    assert (report.sent, report.dead) == (1, 1)
    assert [m.rcpt_tos for m in got] == [["here@nhs.test"]]
    with session_scope(engine) as session:
        dead = rows(session, "dead")
    assert len(dead) == 1 and dead[0].to_addr == "gone@nhs.test"
    assert "550" in (dead[0].last_error or "")


def test_server_down_then_up_delivers_each_message_exactly_once(engine: Engine) -> None:
    for n in range(3):
        add_row(engine, f"r{n}@school.test", n)
    server = SmtpServer()  # port chosen, nothing listening yet: connection refused
    report = deliver_due(engine, transport(server))
    assert (report.sent, report.retrying) == (0, 3)
    with session_scope(engine) as session:
        for row in rows(session):
            row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)  # the wait is over
            session.add(row)
    with server:
        report = deliver_due(engine, transport(server))
        again = deliver_due(engine, transport(server))
        got = server.wait_for(3)
    assert report.sent == 3 and again.sent == 0
    assert sorted(m.rcpt_tos[0] for m in got) == [
        "r0@school.test",
        "r1@school.test",
        "r2@school.test",
    ]


def test_a_451_is_retried_later_not_dropped(engine: Engine) -> None:
    add_row(engine, "busy@council.test", 1)
    with SmtpServer(data_reply="451 4.3.0 try later") as server:
        report = deliver_due(engine, transport(server))
    assert report.retrying == 1
    with session_scope(engine) as session:
        (row,) = rows(session)
    assert row.status == "pending" and row.attempts == 1 and "451" in (row.last_error or "")
    assert row.next_attempt_at.replace(tzinfo=UTC) > datetime.now(UTC)


def test_backoff_grows_and_is_capped_then_gives_up() -> None:
    delays = [retry_delay(n) for n in range(1, 13)]
    assert delays[0] == timedelta(minutes=1)
    assert delays[1] == timedelta(minutes=2)
    assert max(d for d in delays if d is not None) == timedelta(hours=2)
    assert delays[-1] is None


def test_folder_transport_writes_one_file_per_message_id(engine: Engine, tmp_path) -> None:
    add_row(engine, "a@b.test", 7)
    with session_scope(engine) as session:
        (row,) = rows(session)
    folder = FolderTransport(tmp_path / "out")
    folder.send(build_message(row))
    folder.send(build_message(row))  # a resend after a crash overwrites, never doubles
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["7.reply_at_lscp.test.eml"]


class OAuthHandler(CapturingHandler):
    """The capturing handler plus an XOAUTH2 mechanism that accepts one token."""

    def __init__(self, good_token: str) -> None:
        super().__init__()
        self.good = good_token
        self.seen: list[str] = []

    async def auth_XOAUTH2(self, server: object, args: list[str]) -> AuthResult:
        raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        self.seen.append(raw)
        fields = dict(p.split("=", 1) for p in raw.split("\x01") if "=" in p)
        ok = fields.get("auth") == f"Bearer {self.good}"
        return AuthResult(success=ok, handled=False, auth_data=fields.get("user"))


@pytest.mark.parametrize(("token", "delivered"), [("good-token", True), ("stolen", False)])
def test_xoauth2_login_with_a_real_sasl_exchange(
    engine: Engine, token: str, delivered: bool
) -> None:
    add_row(engine, "referrer@police.test", 1)
    server = SmtpServer()
    handler = OAuthHandler("good-token")
    server.handler = handler
    server.start(auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"])
    try:
        oauth = SmtpTransport(
            host=server.host,
            port=server.port,
            security="none",
            user="sirg.referrals@lscp.test",
            timeout=5,
            token_provider=lambda: token,
        )
        report = deliver_due(engine, oauth)
    finally:
        server.stop()
    assert handler.seen == [f"user=sirg.referrals@lscp.test\x01auth=Bearer {token}\x01\x01"]
    if delivered:
        assert report.sent == 1 and len(server.messages) == 1
    else:
        # A refused login is our configuration, not the message: kept for a retry.
        assert (report.sent, report.retrying, report.dead) == (0, 1, 0)
        assert server.messages == []


def test_three_senders_at_once_never_send_a_row_twice(database_url: str) -> None:
    import threading

    engine = make_engine(database_url)
    upgrade(engine)
    for n in range(30):
        add_row(engine, f"r{n}@agency.test", n)
    with SmtpServer() as server:
        reports = []

        def work() -> None:
            # An engine each, as separate worker processes would have (on SQLite: their
            # own connections to one file, with no row locks to rely on).
            own = make_engine(database_url)
            try:
                reports.append(deliver_due(own, transport(server)))
            finally:
                own.dispose()

        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        got = server.wait_for(30)
    engine.dispose()
    assert sum(r.sent for r in reports) == 30
    recipients = [m.rcpt_tos[0] for m in got]
    assert sorted(recipients) == sorted(set(recipients)) and len(recipients) == 30
    assert len(reports) == 3  # every sender finished


LONG_HOST = "LO4P265MB6650.GBRP265.PROD.OUTLOOK.COM"  # as Outlook's Message-IDs end


def outbox_row(**changes: str) -> OutboxMessage:
    now = datetime.now(UTC)
    values = {
        "kind": "needs_info",
        "mail_from": "LSCP <sirg@lscp.test>",
        "to_addr": "referrer@nhs.test",
        "subject": "SIRG referral – more information needed – SIRG-2026-0001, SIRG-2026-0002",
        "body_text": "Dear colleague,\nplease send the child’s date of birth.\n",
        "body_html": "<p>Dear colleague,</p><p>please send the child’s date of birth.</p>",
        "header_message_id": "<1.reply@lscp.test>",
        "in_reply_to": f"<{'LO4P265MB6650C3F0D7A1B2E94F5A11C6D9422'}@{LONG_HOST}>",
        **changes,
    }
    return OutboxMessage(**values, next_attempt_at=now, created_at=now)


@pytest.mark.parametrize(
    "changes",
    [{}, {"to_addr": "jörg@beispiel.test"}, {"mail_from": "Équipe LSCP <sirg@lscp.test>"}],
    ids=["ascii addresses", "international address", "accented name"],
)
def test_a_built_reply_reads_back_as_written(changes: dict[str, str]) -> None:
    # What the referrer's mail program reads: every header whole (a long In-Reply-To is
    # not broken before its value, or threading fails), the dashes of the subject, both
    # bodies, and the headers that stop mail loops.
    row = outbox_row(**changes)
    message = build_message(row)
    # As smtplib flattens it: an internationalised address needs the server's SMTPUTF8.
    international = not row.to_addr.isascii()
    raw = message.as_bytes(policy=message.policy.clone(utf8=True) if international else None)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    for name, value in [
        ("From", row.mail_from),
        ("To", row.to_addr),
        ("Subject", row.subject),
        ("Message-ID", row.header_message_id),
        ("In-Reply-To", row.in_reply_to),
        ("References", row.in_reply_to),
        ("Auto-Submitted", "auto-replied"),
        ("X-Auto-Response-Suppress", "All"),
    ]:
        assert str(parsed[name]) == value, name
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and plain.get_content() == row.body_text
    assert html is not None and row.body_html in html.get_content()
    assert all(len(line) <= 998 for line in raw.splitlines())


@pytest.mark.parametrize("name", ["subject", "in_reply_to", "to_addr"])
def test_a_header_value_with_a_line_break_is_never_built(name: str) -> None:
    # A line break would let a value add a header of its own (a Bcc, say).
    with pytest.raises(ValueError):
        build_message(outbox_row(**{name: "<a@b>\r\nBcc: everyone@example.test"}))
