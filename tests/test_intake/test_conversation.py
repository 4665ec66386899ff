"""A referral is a conversation: later emails join it, through real Dovecot and SMTP.

The referrer answers "more information needed" with the completed form, or sends a
chronology or a line of text in reply to the acknowledgement: each joins the referral it
answers, never makes a second one, and is never told "no referral form found".
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from conversation_mail import (
    DOCX,
    chronology,
    completed_early_help_form,
    other_child_form,
    reply,
    stranger,
)
from sqlmodel import select

from parsers.mime import parse_message
from servers.dovecot import DovecotServer
from servers.intake_config import ROOT, intake_env, run_intake
from servers.smtp import CapturedMessage, SmtpServer
from storage.db import make_engine, session_scope
from storage.tables import AuditEvent, InboundMessage, Referral, ReferralMessage

NEEDS_INFO = ROOT / "samples" / "maildir" / "new" / "0004.needs-info"
MAILBOX = "sirg.referrals@lscp.test"
TEAM = "lscp.business.manager@liverpool.gov.uk"


def _env(
    tmp_path: Path, imap: DovecotServer, smtp: SmtpServer, database_url: str = ""
) -> dict[str, str]:
    return intake_env(
        tmp_path / "var",
        imap,
        smtp,
        database_url=database_url,
        mail_from=f"LSCP SIRG Referrals <{MAILBOX}>",
        routing_file=ROOT / "samples" / "routing.toml",
    )


def _run(env: dict[str, str]) -> None:
    result = run_intake(env, "run", "--once")
    assert result.returncode == 0, result.stdout + result.stderr


def _referrals(env: dict[str, str]) -> list[dict[str, object]]:
    result = run_intake(env, "referrals", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    listed: list[dict[str, object]] = json.loads(result.stdout)
    return listed


def _to(messages: list[CapturedMessage], address: str) -> list[EmailMessage]:
    return [m.message for m in messages if address.lower() in (a.lower() for a in m.rcpt_tos)]


def _first_referral(
    tmp_path: Path, imap: DovecotServer, smtp: SmtpServer, database_url: str = ""
) -> tuple[dict[str, str], EmailMessage, str, EmailMessage]:
    """The Early Help referral with gaps, sent and answered: (env, its email, sender, reply)."""
    raw = NEEDS_INFO.read_bytes()
    original = parse_message(raw)
    sender = original["From"].addresses[0].addr_spec
    imap.append(raw)
    env = _env(tmp_path, imap, smtp, database_url)
    _run(env)
    (asked,) = _to(smtp.messages, sender)
    assert "more information needed" in asked["Subject"]
    return env, original, sender, asked


def test_the_completed_form_in_reply_completes_the_same_referral(
    tmp_path: Path, database_url: str, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env, original, sender, asked = _first_referral(
        tmp_path, dovecot_mailbox, smtp_server, database_url
    )
    (before,) = _referrals(env)
    assert before["status"] == "needs_info" and "child.dob" in before["missing"]  # type: ignore[operator]
    alerts_before = [m for m in smtp_server.messages if m.rcpt_tos != [sender]]
    assert alerts_before, "the routing file names representatives to alert"

    answer = reply(
        asked,
        sender=sender,
        to=MAILBOX,
        text="Please find the completed form attached.",
        attachments=[("Referral form - completed.docx", completed_early_help_form(), DOCX)],
    )
    dovecot_mailbox.append(answer)
    _run(env)

    listed = _referrals(env)
    assert len(listed) == 1, "the answer made a second referral"
    (after,) = listed
    assert after["reference"] == before["reference"]
    assert after["status"] == "new" and after["missing"] == [] and after["complete"] is True
    answer_id = parse_message(answer)["Message-ID"]
    assert after["message_ids"] == [original["Message-ID"], answer_id]
    assert after["version"] == 2

    new = smtp_server.messages[len(alerts_before) + 1 :]
    (thanks,) = _to(new, sender)
    assert thanks["Subject"] == f"SIRG referral {before['reference']} is now complete – thank you"
    assert thanks["In-Reply-To"] == answer_id
    assert "Kacper" not in thanks.get_body(("plain",)).get_content()
    # SIRG were alerted when the referral first came; completing it alerts nobody twice.
    assert [m for m in new if m.message["Subject"].startswith("New SIRG referral")] == []
    assert all(m.rcpt_tos != [sender] for m in alerts_before if m in new)
    assert not any("no referral form found" in m.message["Subject"] for m in smtp_server.messages)

    engine = make_engine(env["INTAKE_DATABASE_URL"] or f"sqlite:///{tmp_path}/var/intake.db")
    with session_scope(engine) as session:
        referral = session.exec(select(Referral)).one()
        assert referral.record["child.dob"] == "2015-02-11"
        assert referral.received_at == session.exec(select(InboundMessage)).first().received_at  # type: ignore[union-attr]
    engine.dispose()


def test_a_chronology_and_a_line_of_text_join_without_a_no_form_reply(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env, _original, sender, asked = _first_referral(tmp_path, dovecot_mailbox, smtp_server)
    (listed,) = _referrals(env)
    sent_before = len(smtp_server.messages)
    dovecot_mailbox.append(
        reply(
            asked,
            sender=sender,
            to=MAILBOX,
            text="The chronology you asked for is attached.",
            attachments=[("Chronology.docx", chronology(), DOCX)],
        )
    )
    dovecot_mailbox.append(
        reply(asked, sender=sender, to=MAILBOX, text="Her brother attends Croxteth Park High.")
    )
    _run(env)

    assert len(_referrals(env)) == 1
    new = smtp_server.messages[sent_before:]
    subjects = [m.message["Subject"] for m in new]
    assert not any("no referral form found" in s for s in subjects), subjects
    to_sender = _to(new, sender)
    assert [m["Subject"] for m in to_sender] == [
        f"SIRG referral {listed['reference']} – your email has been added"
    ] * 2
    notes = _to(new, TEAM)
    assert len(notes) == 2 and all(listed["reference"] in n["Subject"] for n in notes)
    for note in notes:  # the officer's note names no child
        text = note.get_body(("plain",)).get_content()
        assert "Kacper" not in text and "Mazur" not in text and "Croxteth" not in text
        assert "Kacper" not in note["Subject"]

    engine = make_engine(f"sqlite:///{tmp_path}/var/intake.db")
    with session_scope(engine) as session:
        links = session.exec(select(ReferralMessage)).all()
        follow_ups = session.exec(
            select(InboundMessage).where(InboundMessage.outcome == "follow_up")
        ).all()
    engine.dispose()
    assert len(follow_ups) == 2
    assert sorted(link.effect for link in links) == ["created", "follow_up", "follow_up"]


def test_a_form_for_another_child_is_a_new_linked_referral(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env, _original, sender, asked = _first_referral(tmp_path, dovecot_mailbox, smtp_server)
    dovecot_mailbox.append(
        reply(
            asked,
            sender=sender,
            to=MAILBOX,
            text="Kacper's sister: a referral for her too.",
            attachments=[("Sister.docx", other_child_form(), DOCX)],
        )
    )
    _run(env)
    first, sibling = _referrals(env)
    assert sibling["sibling_of"] == first["reference"]
    assert sibling["status"] == "new" and first["status"] == "needs_info"


def test_a_stranger_quoting_a_reference_does_not_join_it(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env, _original, _sender, _asked = _first_referral(tmp_path, dovecot_mailbox, smtp_server)
    (listed,) = _referrals(env)
    reference = str(listed["reference"])
    dovecot_mailbox.append(stranger(reference, "I have information about this child."))
    _run(env)
    (still,) = _referrals(env)
    assert len(still["message_ids"]) == 1  # type: ignore[arg-type]
    engine = make_engine(f"sqlite:///{tmp_path}/var/intake.db")
    with session_scope(engine) as session:
        message = session.exec(
            select(InboundMessage).where(InboundMessage.sender == "someone.else@example.org")
        ).one()
        assert message.mentions == reference and message.outcome == "needs_info"
        joined = session.exec(select(AuditEvent).where(AuditEvent.action == "email joined")).all()
    engine.dispose()
    assert joined == []


def test_an_out_of_office_reply_is_shown_on_the_referral_and_never_answered(
    tmp_path: Path, dovecot_mailbox: DovecotServer, smtp_server: SmtpServer
) -> None:
    env, _original, sender, asked = _first_referral(tmp_path, dovecot_mailbox, smtp_server)
    sent_before = len(smtp_server.messages)
    away = parse_message(reply(asked, sender=sender, to=MAILBOX, text="I am on leave."))
    away.replace_header("Subject", f"Automatic reply: {asked['Subject']}")
    away["Auto-Submitted"] = "auto-replied"
    dovecot_mailbox.append(bytes(away))
    _run(env)
    assert smtp_server.messages[sent_before:] == []  # no reply, no note: it is automatic
    (listed,) = _referrals(env)
    assert listed["message_ids"] == [_original["Message-ID"], away["Message-ID"]]
    engine = make_engine(f"sqlite:///{tmp_path}/var/intake.db")
    with session_scope(engine) as session:
        effects = sorted(link.effect for link in session.exec(select(ReferralMessage)).all())
        referral = session.exec(select(Referral)).one()
    engine.dispose()
    assert effects == ["automatic", "created"]
    assert referral.new_mail is False  # nothing for an officer to read
