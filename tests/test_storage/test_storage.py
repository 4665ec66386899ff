"""Storage on SQLite and PostgreSQL: migrations, keep-first receive, references, outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel, select

from storage import messages, outbox
from storage.db import make_engine, session_scope, upgrade
from storage.messages import ServerIdentity
from storage.references import next_reference
from storage.tables import (
    AuditEvent,
    InboundMessage,
    MessageState,
    OutboxMessage,
    Outcome,
    RawMessage,
)
from storage.threads import message_ids_of

RAW = b"From: a@example.test\r\nMessage-ID: <one@example.test>\r\n\r\nhello\r\n"


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def ident(uid: str, uidvalidity: int = 7) -> ServerIdentity:
    return ServerIdentity(source="imap://test", folder="INBOX", uidvalidity=uidvalidity, uid=uid)


# SQLite cannot reflect an index on an expression, so Alembic cannot compare that one
# there (PostgreSQL compares it); `test_the_reply_limit_count_reads_one_recipients_day`
# checks it on SQLite.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_create_exactly_the_tables_the_models_describe(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    names = set(inspect(engine).get_table_names())
    assert {
        "inbound_message",
        "raw_message",
        "attachment",
        "referral",
        "outbox",
        "audit_event",
        "reference_counter",
        "alembic_version",
    } <= names


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None


def test_receive_keeps_raw_bytes_and_recognises_the_same_server_identity(engine: Engine) -> None:
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    first = messages.receive(engine, ident("1"), RAW, "<one@example.test>", now)
    again = messages.receive(engine, ident("1"), RAW, "<one@example.test>", now)
    assert first.id == again.id
    with session_scope(engine) as session:
        assert session.get(RawMessage, first.id).content == RAW
        assert len(session.exec(select(InboundMessage)).all()) == 1
    assert first.state == MessageState.RECEIVED
    assert first.sha256 == messages.sha256_hex(RAW)


def test_a_copy_under_a_new_uid_is_kept_but_marked_duplicate(engine: Engine) -> None:
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    first = messages.receive(engine, ident("1"), RAW, "<one@example.test>", now)
    # After a UIDVALIDITY change the same message comes back with a new identity.
    copy = messages.receive(engine, ident("1", uidvalidity=8), RAW, "<one@example.test>", now)
    assert copy.id != first.id
    assert copy.outcome == Outcome.DUPLICATE
    assert copy.duplicate_of == first.id
    assert copy.state == MessageState.PROCESSED


def test_same_message_id_with_other_bytes_is_a_duplicate(engine: Engine) -> None:
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    first = messages.receive(engine, ident("1"), RAW, "<one@example.test>", now)
    other = messages.receive(engine, ident("2"), RAW + b"x", "<one@example.test>", now)
    assert other.duplicate_of == first.id


def test_references_count_up_per_year_without_repeats(engine: Engine) -> None:
    with session_scope(engine) as session:
        got = [next_reference(session, 2026) for _ in range(3)]
        got.append(next_reference(session, 2027))
    with session_scope(engine) as session:
        got.append(next_reference(session, 2026))
    assert got == [
        "SIRG-2026-0001",
        "SIRG-2026-0002",
        "SIRG-2026-0003",
        "SIRG-2027-0001",
        "SIRG-2026-0004",
    ]


def test_quarantine_keeps_the_error_for_a_person(engine: Engine) -> None:
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    row = messages.receive(engine, ident("1"), RAW, None, now)
    messages.quarantine(engine, row.id, "Traceback: boom")
    with session_scope(engine) as session:
        stored = session.get(InboundMessage, row.id)
        assert stored.state == MessageState.QUARANTINED
        assert stored.error == "Traceback: boom"


def _outbox_row(engine: Engine, when: datetime) -> int:
    with session_scope(engine) as session:
        row = OutboxMessage(
            kind="ack",
            mail_from="a@x.test",
            to_addr="b@y.test",
            subject="s",
            body_text="t",
            header_message_id=f"<{when.timestamp()}@x.test>",
            next_attempt_at=when,
            created_at=when,
        )
        session.add(row)
        session.flush()
        return row.id


def test_outbox_claims_only_due_rows_and_records_failures(engine: Engine) -> None:
    now = datetime.now(UTC)
    due = _outbox_row(engine, now - timedelta(seconds=1))
    later = _outbox_row(engine, now + timedelta(hours=1))
    claim = outbox.claim_next(engine, now)
    assert claim is not None and claim.row.id == due and not claim.in_doubt
    outbox.record_failure(engine, due, "451 try later", timedelta(minutes=5))
    assert outbox.claim_next(engine, now) is None  # the failed row waits; the other is not due
    claim = outbox.claim_next(engine, now + timedelta(minutes=10))
    assert claim is not None and claim.row.id == due  # its retry is due now
    outbox.record_failure(engine, due, "550 no such user", None)
    claim = outbox.claim_next(engine, now + timedelta(hours=2))
    assert claim is not None and claim.row.id == later  # a dead row is never claimed again
    outbox.record_sent(engine, later)
    with session_scope(engine) as session:
        rows = {r.id: r for r in outbox.rows(session)}
    assert (rows[due].status, rows[due].attempts, rows[due].last_error) == (
        "dead",
        2,
        "550 no such user",
    )
    assert (rows[later].status, rows[later].attempts, rows[later].last_error) == ("sent", 1, None)
    assert rows[due].handover_started_at is None and rows[later].handover_started_at is None


def test_an_unfinished_hand_over_is_left_alone_then_comes_back_in_doubt(engine: Engine) -> None:
    now = datetime.now(UTC)
    row_id = _outbox_row(engine, now - timedelta(seconds=1))
    claim = outbox.claim_next(engine, now)
    assert claim is not None and not claim.in_doubt
    with session_scope(engine) as session:
        stored = session.get(OutboxMessage, row_id)
        assert stored is not None and stored.handover_started_at is not None  # committed
    # Its sender died here, mid-hand-over. Within the lease another sender may still be
    # talking to the server about it: nobody else takes it.
    lease = timedelta(minutes=5)
    assert outbox.claim_next(engine, now + timedelta(minutes=4), lease) is None
    again = outbox.claim_next(engine, now + timedelta(minutes=6), lease)
    assert again is not None and again.row.id == row_id and again.in_doubt
    outbox.record_sent(engine, row_id, confirmed=True)
    with session_scope(engine) as session:
        events = [(e.entity, e.entity_id, e.action) for e in session.exec(select(AuditEvent)).all()]
    assert ("outbox", row_id, "confirmed sent") in events


def test_upgrading_a_database_that_holds_referrals_keeps_them(database_url: str) -> None:
    """Every migration after the first runs over real rows (SQLite copies tables to alter
    them, which foreign keys from other tables must not stop)."""
    from alembic import command as alembic_command
    from sqlalchemy import text

    from storage.db import alembic_config

    engine = make_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, "0001")
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    rows = [
        # Plain SQL throughout: the models describe the newest schema, not 0001's.
        """INSERT INTO inbound_message (source, folder, uidvalidity, uid, sha256, message_id,
               size, received_at, stored_at, state, server_done)
           VALUES ('imap://test', 'INBOX', 7, '1', 'h', '<one@example.test>', 1, :t, :t,
               'processed', false)""",
        """INSERT INTO attachment (message_id, position, filename, content_type, sha256,
               size, outcome, reason, content)
           VALUES (1, 0, 'f.docx', 'x', 'h', 1, 'referral', '', :c)""",
        """INSERT INTO referral (reference, message_id, attachment_id, status, complete,
               urgent, received_at, record, problems, provenance, form_id, created_at)
           VALUES ('SIRG-2026-0001', 1, 1, 'new', true, false, :t, '{}', '[]', '{}',
               'sirg-2024', :t)""",
        """INSERT INTO outbox (kind, referral_id, mail_from, to_addr, subject, body_text,
               header_message_id, auto_submitted, status, attempts, next_attempt_at,
               created_at)
           VALUES ('ack', 1, 'a@x', 'b@y', 's', 't', '<m@x>', 'auto-replied', 'sent', 1,
               :t, :t)""",
    ]
    with engine.begin() as connection:
        for sql in rows:
            connection.execute(text(sql), {"c": b"x", "t": now})
    upgrade(engine)
    with session_scope(engine) as session:
        from storage.tables import Referral

        (referral,) = session.exec(select(Referral)).all()
        assert referral.reference == "SIRG-2026-0001" and referral.legal_hold is False
        assert referral.version == 1 and referral.new_mail is False
        assert len(outbox.rows(session)) == 1
        # The referral's first email is in its conversation, as a new one's would be.
        assert message_ids_of(session, referral.id or 0) == ["<one@example.test>"]
    engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revision

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revision() == script.get_current_head()


def test_a_start_on_an_up_to_date_database_does_not_load_alembic(
    engine: Engine, database_url: str
) -> None:
    """Alembic takes a tenth of a second to import: the usual start (schema at the head)
    reads the revision itself. One at another revision still goes to Alembic, which
    refuses a revision it does not know."""
    import subprocess
    import sys

    from sqlalchemy import text

    probe = (
        "import sys; from storage.db import make_engine, upgrade; "
        f"upgrade(make_engine({database_url!r})); print('alembic' in sys.modules)"
    )

    def loads_alembic() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() or done.stderr.strip().splitlines()[-1]

    assert loads_alembic() == "False"
    with engine.begin() as connection:  # as if a newer intake had upgraded it
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert "its schema is not one this version of intake knows" in loads_alembic()


def test_the_reply_limit_count_reads_one_recipients_day(tmp_path) -> None:
    """The count behind the reply limit, made for every email that may be answered, is
    answered from the recipient-and-time index, not by reading the whole outbox."""
    from sqlalchemy.dialects import sqlite

    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    since = datetime(2026, 12, 1, tzinfo=UTC)
    query = outbox.replies_since("Someone@NHS.test", ("needs_info", "rejected"), since)
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    assert any("USING INDEX ix_outbox_recipient_time" in str(step) for step in plan), plan
    engine.dispose()
