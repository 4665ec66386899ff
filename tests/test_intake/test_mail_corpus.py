"""Every message of the shared mail corpus passes through the whole service without harm.

The corpus (../shared/mail-corpus) holds odd MIME, bounces, auto-replies and winmail.dat
from public email-library test suites. Each message must get a stored outcome, none may
stop the run, and no bounce or automatic reply may ever be answered.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from intake.runner import open_database, run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from notifications.transport import FolderTransport
from storage.db import session_scope
from storage.tables import InboundMessage, MessageState, OutboxMessage

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus"
NEVER_ANSWER = {"bounce", "auto-reply"}


def corpus_index() -> dict[str, dict[str, str]]:
    with (CORPUS / "INDEX.tsv").open(newline="", encoding="utf-8") as handle:
        return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}


def key_for(path: str) -> str:
    return path.replace("/", "__").replace(":", "_")


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory):
    if not (CORPUS / "INDEX.tsv").exists():
        pytest.fail(f"the shared mail corpus is missing at {CORPUS}")
    root = tmp_path_factory.mktemp("corpus")
    settings = Settings(data_dir=root, database_url="", mail_source="maildir", smtp_host="")
    source = MaildirSource(settings.resolved_maildir)
    index = corpus_index()
    for path in index:
        shutil.copyfile(CORPUS / path, settings.resolved_maildir / "new" / key_for(path))
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    with session_scope(engine) as session:
        stored = {m.uid: m for m in session.exec(select(InboundMessage))}
        answered = {o.inbound_message_id for o in session.exec(select(OutboxMessage))}
    yield index, report, stored, answered, settings
    engine.dispose()


def test_every_corpus_message_is_stored_with_an_outcome(corpus_run) -> None:
    index, report, stored, _answered, settings = corpus_run
    assert report.errors == 0
    assert report.fetched == len(index)
    missing = [p for p in index if key_for(p) not in stored]
    assert missing == []
    no_outcome = [uid for uid, m in stored.items() if not m.outcome]
    assert no_outcome == []
    assert list((settings.resolved_maildir / "new").iterdir()) == []  # all moved on


def test_no_corpus_message_is_quarantined(corpus_run) -> None:
    _index, _report, stored, _answered, _settings = corpus_run
    failed = {
        uid: (m.error or "").strip().splitlines()[-1:]
        for uid, m in stored.items()
        if m.state == MessageState.QUARANTINED
    }
    assert failed == {}


def test_bounces_and_automatic_replies_are_never_answered(corpus_run) -> None:
    index, _report, stored, answered, _settings = corpus_run
    wrongly_answered = sorted(
        path
        for path, row in index.items()
        if row["category"] in NEVER_ANSWER and stored[key_for(path)].id in answered
    )
    assert wrongly_answered == []
