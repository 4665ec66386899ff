"""Encryption at rest: stored emails, files and records unreadable without a key; keys rotate."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import select

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from storage import crypto
from storage.clock import utcnow
from storage.db import session_scope
from storage.messages import attachment_bytes, raw_bytes, rotate_keys
from storage.tables import Attachment, InboundMessage, Referral, ReferralCorrection

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new" / "0001.police"


@pytest.fixture(autouse=True)
def no_keys_after() -> Iterator[None]:
    yield
    crypto.configure([])  # keys are process-wide; leave none behind for other tests


def ingest(tmp_path: Path, keys: str) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        database_url="",
        mail_source="maildir",
        smtp_host="",
        encryption_keys=keys,
    )
    shutil.copyfile(SAMPLE, MaildirSource(settings.resolved_maildir).path / "new" / "m")
    engine = open_database(settings)
    report = run_once(
        engine,
        settings,
        MaildirSource(settings.resolved_maildir),
        FolderTransport(settings.outbox_mail_dir),
    )
    assert report.outcomes == {"referral": 1}
    return settings


def stored_blobs(db: Path) -> list[bytes]:
    with sqlite3.connect(db) as connection:
        raws = [r[0] for r in connection.execute("select content from raw_message")]
        files = [r[0] for r in connection.execute("select content from attachment")]
    return raws + files


def test_with_a_key_nothing_readable_is_stored_and_the_pipeline_still_works(tmp_path: Path) -> None:
    key = crypto.new_key()
    settings = ingest(tmp_path, key)
    blobs = stored_blobs(tmp_path / "intake.db")
    assert blobs and all(b.startswith(crypto.PREFIX) for b in blobs)
    original = SAMPLE.read_bytes()
    assert all(b"Subject:" not in b and b"PK\x03\x04" not in b for b in blobs)
    engine = open_database(settings)
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        assert raw_bytes(session, message.id) == original
        (attachment,) = session.exec(select(Attachment)).all()
        assert attachment_bytes(session, attachment.id).startswith(b"PK\x03\x04")
        assert session.exec(select(Referral)).one().child_name  # parsed before sealing


def test_rotation_moves_everything_to_the_new_key_and_the_old_one_can_go(tmp_path: Path) -> None:
    old = crypto.new_key()
    settings = ingest(tmp_path, old)
    new = crypto.new_key()
    both = SecretStr(f"{new},{old}")
    engine = open_database(settings.model_copy(update={"encryption_keys": both}))
    assert rotate_keys(engine) == 3  # the email, its file and the referral
    crypto.configure([new])  # the old key is gone now
    with session_scope(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
        assert raw_bytes(session, message.id) == SAMPLE.read_bytes()
        assert session.exec(select(Referral)).one().record["child.name"]
    crypto.configure([old])
    with session_scope(engine) as session, pytest.raises(crypto.KeyError_):
        raw_bytes(session, message.id)
    with session_scope(engine) as session, pytest.raises(crypto.KeyError_):
        session.exec(select(Referral)).one()


def stored_records(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("select record, problems, provenance from referral").fetchall()
        fixes = connection.execute("select before, after from referral_correction").fetchall()
    return [str(v) for row in rows + fixes for v in row]


def test_with_a_key_the_record_its_sources_and_corrections_are_sealed(tmp_path: Path) -> None:
    settings = ingest(tmp_path, crypto.new_key())
    engine = open_database(settings)
    with session_scope(engine) as session:
        referral = session.exec(select(Referral)).one()
        name, address = referral.record["child.name"], referral.record["child.address"]
        assert referral.provenance["child.name"]  # read back through the key
        referral_id = referral.id
        assert referral_id is not None
        session.add(
            ReferralCorrection(
                referral_id=referral_id,
                key="child.address",
                before=address,
                after="Same street, another flat",
                actor="officer",
                at=utcnow(),
            )
        )
    stored = stored_records(tmp_path / "intake.db")
    assert len(stored) == 5
    assert all(crypto.SEALED_KEY in text for text in stored)
    assert not any(name in text or address in text for text in stored)
    with session_scope(engine) as session:
        fix = session.exec(select(ReferralCorrection)).one()
        assert (fix.before, fix.after) == (address, "Same street, another flat")


def test_records_stored_before_a_key_was_set_still_read(tmp_path: Path) -> None:
    settings = ingest(tmp_path, "")
    engine = open_database(
        settings.model_copy(update={"encryption_keys": SecretStr(crypto.new_key())})
    )
    with session_scope(engine) as session:
        assert session.exec(select(Referral)).one().record["child.name"]
    assert rotate_keys(engine) == 3
    assert all(crypto.SEALED_KEY in text for text in stored_records(tmp_path / "intake.db"))


def test_without_a_key_content_is_stored_as_it_came(tmp_path: Path) -> None:
    ingest(tmp_path, "")
    blobs = stored_blobs(tmp_path / "intake.db")
    assert blobs[0] == SAMPLE.read_bytes()
