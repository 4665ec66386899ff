"""Crash test: the worker is killed with SIGKILL at random points over a 200-message backlog.

About one message in five is a follow-up: a line of text answering an earlier referral email
of the backlog (In-Reply-To its Message-ID), which joins that referral. Every message must
end processed exactly once: none lost, no referral made twice (and none made from a
follow-up), no referral acknowledged twice and no follow-up answered twice (counted at the
SMTP server).
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from intake.wiring import open_database
from parsers.mime import parse_message
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, intake_env, run_intake, settings_for
from servers.smtp import SmtpServer
from storage.db import session_scope
from storage.tables import AuditEvent, InboundMessage, OutboxMessage, Referral, ReferralMessage

SAMPLES = ROOT / "samples" / "maildir" / "new"
REFERRALS = ("0001.police", "0002.health", "0003.school", "0006.forwarded")
BACKLOG = 200
FOLLOW_UPS = BACKLOG // 5  # about one message in five answers an earlier referral email
REFERRAL_EMAILS = BACKLOG - FOLLOW_UPS  # one form each: one referral each
RECENT = 20  # a follow-up answers one of the last RECENT referral emails before it
KILLS = 10
KILL_WITHIN = 0.6  # seconds of work before each kill, at most (about 0.3 on average)
LEASE = 2  # seconds: one worker at a time here, so an unfinished hand-over is a killed one
FOLLOW_UP_TEXT = "Her brother attends Croxteth Park High."
# Our Message-IDs are <hex.KIND@domain> (notifications.compose.outbox_row).
KIND = re.compile(r"^<[0-9a-f]+\.([a-z_]+)@")


def _stored(engine: Engine) -> int:
    """How many messages the worker has kept so far."""
    with session_scope(engine) as session:
        return len(session.exec(select(InboundMessage.id)).all())


def message_id(n: int) -> str:
    """The Message-ID of the backlog's message number n (its place in append order)."""
    return f"<crash-{n}@sender.example>"


@dataclass(frozen=True)
class Backlog:
    """What was appended: each follow-up's place -> the place of the referral email it
    answers (always earlier), and each message's sender address."""

    answers: dict[int, int]
    senders: dict[int, str]

    @property
    def referral_ids(self) -> set[str]:
        return {message_id(n) for n in range(BACKLOG) if n not in self.answers}

    @property
    def follow_up_ids(self) -> set[str]:
        return {message_id(n) for n in self.answers}


def follow_up(n: int, original: EmailMessage, answered: int) -> bytes:
    """A plain-text reply from the referrer to their own earlier referral email."""
    msg = EmailMessage()
    msg["From"] = str(original["From"])
    msg["To"] = str(original["To"])
    msg["Subject"] = f"Re: {original['Subject']}"
    msg["Date"] = "Thu, 28 Nov 2024 09:15:00 +0000"
    msg["Message-ID"] = message_id(n)
    msg["In-Reply-To"] = message_id(answered)
    msg["References"] = message_id(answered)
    msg.set_content(FOLLOW_UP_TEXT)
    return bytes(msg)


def backlog(imap: DovecotServer) -> Backlog:
    rng = random.Random(20261201)  # seeded, and apart from the kills' generator
    # Never the first message: a follow-up needs an earlier referral email to answer.
    follow_ups = set(rng.sample(range(1, BACKLOG), FOLLOW_UPS))
    originals: dict[int, EmailMessage] = {}
    answers: dict[int, int] = {}
    senders: dict[int, str] = {}
    with imap.client() as client:
        for n in range(BACKLOG):
            if n in follow_ups:
                answered = rng.choice(sorted(originals)[-RECENT:])
                answers[n] = answered
                senders[n] = senders[answered]
                raw = follow_up(n, originals[answered], answered)
            else:
                sample = REFERRALS[len(originals) % len(REFERRALS)]
                msg = parse_message((SAMPLES / sample).read_bytes())
                del msg["Message-ID"]
                msg["Message-ID"] = message_id(n)
                originals[n] = msg
                senders[n] = msg["From"].addresses[0].addr_spec.lower()
                raw = bytes(msg)
            client.append("INBOX", raw)  # Dovecot gives UIDs in append order
    assert len(originals) == REFERRAL_EMAILS and len(answers) == FOLLOW_UPS
    return Backlog(answers, senders)


def test_sigkill_at_random_points_loses_nothing_and_repeats_nothing(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    plan = backlog(dovecot_mailbox)
    # The SMTP server files each message it accepts in Sent, as Microsoft 365 does; the
    # worker looks there after a hand-over it could not finish recording.
    smtp_server.handler.keep_sent_copy = lambda data: dovecot_mailbox.append(data, "Sent")
    env = intake_env(
        tmp_path,
        dovecot_mailbox,
        smtp_server,
        poll_interval=1,
        smtp_sent_folder="Sent",
        outbox_lease_seconds=LEASE,
        # These kills are ours, not the messages' doing: ten of them in half a minute
        # can land on the same message's reading more than three times.
        max_read_starts=BACKLOG,
        # Four senders share some 40 follow-ups: the per-address limit on replies (a
        # guard against autoresponder loops, tested in test_loops) would hold the replies
        # after each sender's fifth. Here every follow-up must be answered, once.
        reply_limit_per_day=BACKLOG,
    )
    rng = random.Random(20261125)  # seeded: the same kill delays on every run
    engine = open_database(settings_for(tmp_path))  # the worker's database, read alongside
    for _ in range(KILLS):
        kept = _stored(engine)
        if kept == BACKLOG:
            break
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Killed at a random moment once it is at work (a new message stored), however
        # long its start-up and however fast it reads on this machine.
        at_work = time.monotonic() + 30
        while _stored(engine) == kept and worker.poll() is None:
            assert time.monotonic() < at_work, "the worker never got to work"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, KILL_WITHIN))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert _stored(engine) < BACKLOG, "the kills came too late to interrupt anything"
    engine.dispose()
    time.sleep(LEASE + 1)  # a hand-over cut short by the last kill is now past its lease
    final = run_intake(env, "run", "--once", timeout=300)
    assert final.returncode == 0, final.stderr

    assert dovecot_mailbox.messages("INBOX") == []
    assert dovecot_mailbox.messages("Quarantine") == []
    assert dovecot_mailbox.messages("Ignored") == []
    processed = Counter(
        str(parse_message(raw)["Message-ID"]) for raw in dovecot_mailbox.messages("Processed")
    )
    assert len(processed) == BACKLOG  # none lost
    assert processed.most_common(1)[0][1] == 1  # none doubled
    assert set(processed) == plan.referral_ids | plan.follow_up_ids

    engine = open_database(settings_for(tmp_path))
    with session_scope(engine) as session:
        stored = session.exec(select(InboundMessage)).all()
        referrals = session.exec(select(Referral)).all()
        links = session.exec(select(ReferralMessage)).all()
        outbox = session.exec(select(OutboxMessage)).all()
    assert Counter(m.message_id for m in stored) == Counter(processed)  # each stored once
    originals = {m.message_id for m in stored if m.outcome == "referral"}
    assert originals == plan.referral_ids
    assert Counter(r.message_id for r in referrals).most_common(1)[0][1] == 1
    assert len(referrals) == REFERRAL_EMAILS  # one form per sample email, none from follow-ups

    # Each follow-up joined the referral made by the email it answers, once.
    follow_ups = {m.message_id for m in stored if m.outcome == "follow_up"}
    assert follow_ups == plan.follow_up_ids
    row_id = {m.message_id: m.id for m in stored if m.id is not None}
    referral_of = {r.message_id: r.id for r in referrals}  # inbound row id -> referral id
    links_of: dict[int, list[tuple[int, str, str]]] = {}
    for link in links:
        links_of.setdefault(link.message_id, []).append((link.referral_id, link.how, link.effect))
    for n, answered in plan.answers.items():
        original = row_id[message_id(answered)]
        # One link each: the follow-up joined the referral its answered email made, and
        # that email still has only the link of the referral made from it.
        joined = referral_of[original]
        assert links_of[row_id[message_id(n)]] == [(joined, "reply", "follow_up")], n
        assert links_of[original] == [(joined, "first", "created")], answered

    sent = smtp_server.messages
    by_id = Counter(str(m.message["Message-ID"]) for m in sent)
    # Exactly one email per referral and per follow-up at the SMTP server: a kill between
    # the server's "250" and our commit is settled from the Sent folder, not by resending.
    assert len(sent) == BACKLOG, f"{len(sent) - BACKLOG} email(s) too many or too few"
    assert by_id.most_common(1)[0][1] == 1, "an email was sent twice with the same Message-ID"
    kinds = Counter(_kind(m.message) for m in sent)
    assert kinds == {"ack": REFERRAL_EMAILS, "follow_up": FOLLOW_UPS}
    answering = {
        kind: Counter(str(m.message["In-Reply-To"]) for m in sent if _kind(m.message) == kind)
        for kind in kinds
    }
    assert set(answering["ack"]) == plan.referral_ids  # every referral acknowledged
    assert answering["ack"].most_common(1)[0][1] == 1  # ... once
    assert set(answering["follow_up"]) == plan.follow_up_ids  # every follow-up answered
    assert answering["follow_up"].most_common(1)[0][1] == 1  # ... once
    place = {message_id(n): n for n in range(BACKLOG)}
    for m in sent:
        assert "no referral form found" not in str(m.message["Subject"]), m.message["Subject"]
        answered = place[str(m.message["In-Reply-To"])]
        assert [a.lower() for a in m.rcpt_tos] == [plan.senders[answered]]  # to its sender
    # What the outbox holds is what the server got: all of it sent, nothing else.
    assert {(o.header_message_id, o.kind, o.status) for o in outbox} == {
        (mid, _kind_of(mid), "sent") for mid in by_id
    }

    confirmed = _confirmed_from_sent(tmp_path)
    print(f"crash test: {KILLS} kills, {confirmed} hand-over(s) settled from the Sent folder")


def _kind_of(header_message_id: str) -> str:
    match = KIND.match(header_message_id)
    assert match, header_message_id
    return match.group(1)


def _kind(message: EmailMessage) -> str:
    """The outbox kind of an email we sent, from its Message-ID."""
    return _kind_of(str(message["Message-ID"]))


def _confirmed_from_sent(data_dir: Path) -> int:
    engine = open_database(settings_for(data_dir))
    with session_scope(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "confirmed sent"))
        return len(events.all())
