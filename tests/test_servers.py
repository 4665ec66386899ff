"""Prove the real-server fixtures work: Dovecot IMAP, aiosmtpd SMTP, PostgreSQL/SQLite."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from servers.dovecot import ALL_FOLDERS, DovecotServer
from servers.postgres import fresh_postgres_url
from servers.smtp import SmtpServer


def _raw(subject: str) -> bytes:
    # CRLF line ends: Dovecot stores LF but serves CRLF, so this round-trips byte for byte.
    return (
        f"From: School <dsl@school.example>\r\n"
        f"To: referrals@example.test\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@school.example>\r\n"
        f"\r\n"
        f"Referral body for {subject}.\r\n"
    ).encode()


# -- Dovecot -------------------------------------------------------------------------------


def test_dovecot_append_and_read_back(dovecot_mailbox: DovecotServer) -> None:
    raw = _raw("append test")
    uid = dovecot_mailbox.append(raw)
    assert uid is not None
    assert dovecot_mailbox.messages("INBOX") == [raw]
    assert set(ALL_FOLDERS) <= set(dovecot_mailbox.folder_names())


def test_dovecot_move_to_processed(dovecot_mailbox: DovecotServer) -> None:
    # Runs after the append test in the same session: proves the fixture emptied the INBOX.
    assert all(dovecot_mailbox.messages(folder) == [] for folder in ALL_FOLDERS)
    raw = _raw("move test")
    dovecot_mailbox.append(raw)
    with dovecot_mailbox.client() as client:
        client.select_folder("INBOX")
        uids = client.search("ALL")
        assert len(uids) == 1
        client.move(uids, "Processed")
    assert dovecot_mailbox.messages("INBOX") == []
    assert dovecot_mailbox.messages("Processed") == [raw]


def test_dovecot_bad_password_is_refused(dovecot: DovecotServer) -> None:
    for _ in range(2):
        client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
        try:
            with pytest.raises(LoginError):
                client.login(dovecot.user, "wrong password")
        finally:
            client.shutdown()
    # Failed logins must not slow down later ones (Dovecot's auth penalty is switched off).
    started = time.monotonic()
    with dovecot.client() as client:
        assert client.noop()
    assert time.monotonic() - started < 1.5


# -- SMTP ----------------------------------------------------------------------------------


def _mail(to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "referrals@example.test"
    msg["To"] = to
    msg["Subject"] = "Referral received"
    msg.set_content("Thank you, we have your referral.")
    return msg


def test_smtp_captures_message(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.send_message(_mail("dsl@school.example"))
    (captured,) = smtp_server.wait_for(1)
    assert captured.mail_from == "referrals@example.test"
    assert captured.rcpt_tos == ["dsl@school.example"]
    assert captured.message["Subject"] == "Referral received"
    assert "we have your referral" in captured.message.get_content()


def test_smtp_refuses_chosen_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.fail_recipients["Gone@School.Example"] = "550 5.1.1 no such user"
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        refused = smtp.sendmail(
            "referrals@example.test",
            ["gone@school.example", "dsl@school.example"],
            _mail("dsl@school.example").as_bytes(),
        )
    assert refused == {"gone@school.example": (550, b"5.1.1 no such user")}
    (captured,) = smtp_server.wait_for(1)
    assert captured.rcpt_tos == ["dsl@school.example"]


# -- Databases -----------------------------------------------------------------------------


def test_database_url_roundtrip(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE referral (id INTEGER PRIMARY KEY, child TEXT)"))
            conn.execute(text("INSERT INTO referral (id, child) VALUES (1, 'A.B.')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT child FROM referral")).scalar_one() == "A.B."
    finally:
        engine.dispose()


def test_postgres_url_roundtrip_and_database_dropped() -> None:
    with fresh_postgres_url() as url:
        name = make_url(url).database
        assert name is not None and name.startswith("intake_test_")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (42)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT x FROM t")).scalar_one() == 42
        # Deliberately leave the pool's connection open: the drop must still succeed.
        leftover = engine.connect()
    leftover.close()
    admin = create_engine(make_url(url).set(database="postgres"), poolclass=NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one()
        assert exists == 0
    finally:
        admin.dispose()
        engine.dispose()


def test_postgres_url_fixture(postgres_url: str) -> None:
    assert make_url(postgres_url).drivername == "postgresql+psycopg"
