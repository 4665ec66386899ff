"""Every message of the shared mail corpus passes through the whole service without harm.

The corpus (../shared/mail-corpus) holds odd MIME, bounces, auto-replies and winmail.dat
from public email-library test suites. Each message must get a stored outcome, none may
stop the run, and no bounce or automatic reply may ever be answered.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from intake.inspect import inspect_message
from intake.runner import run_once
from intake.sources.imap import ImapSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from servers.dovecot import DovecotServer
from servers.intake_config import settings_for
from storage.db import session_scope
from storage.tables import InboundMessage, MessageState, OutboxMessage

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus"
NEVER_ANSWER = {"bounce", "auto-reply"}


def corpus_index() -> dict[str, dict[str, str]]:
    with (CORPUS / "INDEX.tsv").open(newline="", encoding="utf-8") as handle:
        return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory, dovecot: DovecotServer):
    """Every corpus message APPENDed to real Dovecot, then one worker pass over them."""
    if not (CORPUS / "INDEX.tsv").exists():
        pytest.fail(f"the shared mail corpus is missing at {CORPUS}")
    dovecot.empty_folders()
    root = tmp_path_factory.mktemp("corpus")
    settings = settings_for(root, dovecot)
    index = corpus_index()
    uid_of = {}
    for path in index:
        uid_of[path] = str(dovecot.append((CORPUS / path).read_bytes()))
    engine = open_database(settings)
    source = ImapSource(settings)
    try:
        report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    finally:
        source.close()
    with session_scope(engine) as session:
        by_uid = {m.uid: m for m in session.exec(select(InboundMessage))}
        answered = {o.inbound_message_id for o in session.exec(select(OutboxMessage))}
    stored = {path: by_uid.get(uid) for path, uid in uid_of.items()}
    yield index, report, stored, answered, dovecot
    engine.dispose()
    dovecot.empty_folders()


def test_every_corpus_message_is_stored_with_an_outcome(corpus_run) -> None:
    index, report, stored, _answered, imap = corpus_run
    assert report.errors == 0
    assert report.fetched == len(index)
    missing = [p for p in index if stored[p] is None]
    assert missing == []
    no_outcome = [p for p, m in stored.items() if m is None or not m.outcome_reason]
    assert no_outcome == []  # every message has an outcome and a reason a person can read
    assert imap.messages("INBOX") == []  # all moved on, none lost


def test_no_corpus_message_is_quarantined(corpus_run) -> None:
    _index, _report, stored, _answered, _imap = corpus_run
    failed = {
        path: (m.error or "").strip().splitlines()[-1:]
        for path, m in stored.items()
        if m is not None and m.state == MessageState.QUARANTINED
    }
    assert failed == {}


def test_bounces_and_automatic_replies_are_never_answered(corpus_run) -> None:
    index, _report, stored, answered, _imap = corpus_run
    wrongly_answered = sorted(
        path
        for path, row in index.items()
        if row["category"] in NEVER_ANSWER and stored[path].id in answered
    )
    assert wrongly_answered == []


def test_inspect_reaches_the_same_outcome_as_the_worker(corpus_run, tmp_path) -> None:
    _index, _report, stored, _answered, _imap = corpus_run
    settings = settings_for(tmp_path)
    differ = {}
    for path, message in stored.items():
        if message.outcome == "duplicate":
            continue  # a second copy: the worker recognised it, inspect has no memory
        seen = inspect_message((CORPUS / path).read_bytes(), settings)["outcome"]
        if seen != message.outcome:
            differ[path] = (seen, message.outcome)
    assert differ == {}
