"""The runner's promises: keep first, move last, one bad message never stops the others."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.base import FetchedMessage
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from storage.db import session_scope
from storage.tables import InboundMessage, MessageState, OutboxMessage, Referral

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir"


def sample_names(outcome: str) -> list[str]:
    expected = json.loads((SAMPLES / "EXPECTED.json").read_text())
    return sorted(name for name, exp in expected.items() if exp["outcome"] == outcome)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url="", mail_source="maildir", smtp_host="")


def seed(settings: Settings, names: list[str]) -> MaildirSource:
    source = MaildirSource(settings.resolved_maildir)
    for name in names:
        shutil.copyfile(SAMPLES / "new" / name, settings.resolved_maildir / "new" / name)
    return source


def counts(settings: Settings) -> tuple[int, int, int]:
    engine = open_database(settings)
    with session_scope(engine) as session:
        result = (
            len(session.exec(select(InboundMessage)).all()),
            len(session.exec(select(Referral)).all()),
            len(session.exec(select(OutboxMessage)).all()),
        )
    engine.dispose()
    return result


def test_a_failing_message_is_quarantined_and_the_others_carry_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = sample_names("referral")[:2]
    source = seed(settings, names)
    import intake.pipeline.read as read_stage

    real_run = read_stage.run
    first_raw = (SAMPLES / "new" / names[0]).read_bytes()

    def fail_first(ctx):  # fault injection: the first message's read stage blows up
        # Chosen by the message, not by a call count: each message is read in its own
        # child process, where a counter would start again from nothing.
        if ctx.raw == first_raw:
            raise RuntimeError("reader crashed")
        real_run(ctx)

    monkeypatch.setattr(read_stage, "run", fail_first)
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.errors == 0
    with session_scope(engine) as session:
        rows = {m.uid: m for m in session.exec(select(InboundMessage))}
    first, second = rows[names[0]], rows[names[1]]
    assert first.state == MessageState.QUARANTINED
    assert "reader crashed" in (first.error or "")
    assert first.server_folder == "Quarantine"
    assert second.state == MessageState.PROCESSED and second.outcome == "referral"
    quarantined = list((settings.resolved_maildir / ".Quarantine" / "cur").iterdir())
    assert [p.name.split(":")[0] for p in quarantined] == [names[0]]


def test_a_crash_before_the_server_move_is_finished_next_time_without_repeats(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (name,) = sample_names("referral")[:1]
    source = seed(settings, [name])
    engine = open_database(settings)

    def lost_connection(self: MaildirSource, moves: object) -> list[str]:
        raise ConnectionError("server went away before the move")

    with monkeypatch.context() as patch:
        patch.setattr(MaildirSource, "finish_all", lost_connection)
        report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.errors == 1
    assert [p.name for p in (settings.resolved_maildir / "new").iterdir()] == [name]
    assert counts(settings) == (1, 1, 1)  # stored, filed and acknowledged once

    again = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert (again.errors, again.new, again.already_stored) == (0, 0, 1)
    assert counts(settings) == (1, 1, 1)  # nothing made twice
    assert list((settings.resolved_maildir / "new").iterdir()) == []
    assert len(list(settings.outbox_mail_dir.iterdir())) == 1


def test_automatic_replies_are_stored_ignored_and_never_answered(settings: Settings) -> None:
    names = sample_names("ignored")
    assert names, "samples/maildir needs an automatic reply"
    source = seed(settings, names)
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.outcomes == {"ignored": len(names)}
    assert counts(settings) == (len(names), 0, 0)
    ignored = settings.resolved_maildir / ".Ignored" / "cur"
    assert len(list(ignored.iterdir())) == len(names)


def test_a_crash_after_keeping_but_before_filing_is_finished_once(settings: Settings) -> None:
    (name,) = sample_names("referral")[:1]
    source = seed(settings, [name])
    engine = open_database(settings)
    # The worker stored the raw message and died before parsing it.
    (fetched,) = list(source.fetch())
    from storage import messages

    messages.receive(engine, fetched.identity, fetched.raw, None, fetched.arrived_at)
    assert counts(settings) == (1, 0, 0)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert (report.new, report.outcomes) == (1, {"referral": 1})
    assert counts(settings) == (1, 1, 1)
    run_once(engine, settings, seed(settings, [name]), FolderTransport(settings.outbox_mail_dir))
    assert counts(settings) == (1, 1, 1)


def test_a_reopened_quarantined_message_is_processed_on_the_next_pass(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.messages import reopen_quarantined

    (name,) = sample_names("referral")[:1]
    source = seed(settings, [name])
    import intake.pipeline.read as read_stage

    engine = open_database(settings)
    with monkeypatch.context() as patch:  # fault injection: a reader bug quarantines it
        patch.setattr(read_stage, "run", lambda ctx: (_ for _ in ()).throw(RuntimeError("bug")))
        run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert counts(settings) == (1, 0, 0)
    with session_scope(engine) as session:
        (row,) = session.exec(select(InboundMessage)).all()
    assert reopen_quarantined(engine, row.id) == "reopened"  # what the review page does
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert (report.fetched, report.reprocessed) == (0, 1)  # not in the mailbox any more
    assert counts(settings) == (1, 1, 1)
    again = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert again.reprocessed == 0 and counts(settings) == (1, 1, 1)


def test_the_reader_reads_each_message_while_the_one_before_is_settled(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two messages at a time: message n+1 is kept, what was decided for message n is
    # collected, n+1 is handed to the reader, and only then is n filed and answered. Each message
    # still goes take -> begin -> collect -> settle, and every one is settled.
    import intake.runner as runner

    names = sample_names("referral")[:4]
    source = seed(settings, names)
    events: list[tuple[str, str]] = []

    def recorded(step: str, original: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            hand = next(a for a in args if isinstance(a, runner.InHand | FetchedMessage))
            fetched = hand if isinstance(hand, FetchedMessage) else hand.fetched
            events.append((step, fetched.identity.uid))
            return original(*args)

        return wrapped

    for step in ("take", "begin", "collect", "settle"):
        monkeypatch.setattr(runner, step, recorded(step, getattr(runner, step)))
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    engine.dispose()
    assert report.moved == 4 and report.outcomes == {"referral": 4}
    uids = list(dict.fromkeys(uid for step, uid in events if step == "take"))
    order = [(step, uids.index(uid)) for step, uid in events]
    expected = [("take", 0), ("begin", 0)]
    for n in range(1, 4):
        expected += [("take", n), ("collect", n - 1), ("begin", n), ("settle", n - 1)]
    assert order == [*expected, ("collect", 3), ("settle", 3)]
    assert counts(settings) == (4, 4, 4)
