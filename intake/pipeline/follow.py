"""Stage `file`, for an email that joins a referral's conversation.

What it does depends on what it holds: a filled form for the same child is a new version
of the record; a form for another child is a new referral linked to this one (a sibling);
anything else (a chronology, a letter, a line of text) goes on the referral's timeline.
It never answers "no form found": the referrer did what they were asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from intake.pipeline.context import Filing, MessageContext, ReadDocument
from notifications.compose import alert_rows, reply_row
from notifications.conversation import FollowUp, Joining, follow_up_reply, new_mail_notes
from parsers.authresults import SenderCheck
from parsers.formdef import load_form
from storage.clock import utcnow
from storage.referrals import (
    CHECK_SCAN,
    FormReading,
    Version,
    add_version,
    create_referral,
    initials,
    link_message,
    open_mandatory,
    same_child,
)
from storage.tables import InboundMessage, LinkEffect, OutboxMessage, Outcome, Referral, ReviewUser
from storage.threads import Joined


@dataclass
class Filed:
    """What a joined email changed, for the replies and notes about it."""

    versions: list[tuple[Referral, Version]] = field(default_factory=list)
    siblings: list[Referral] = field(default_factory=list)


def missing_lines(referral: Referral) -> list[str]:
    """The mandatory answers a referral still lacks, by the form's labels, in form order."""
    form = load_form(referral.form_id)
    keys = open_mandatory(referral.form_id, referral.record, referral.problems)
    return [f"{form.plain_label(k)} (not completed)" for k in keys]


def _alerted(session: Session, referral_id: int) -> bool:
    """True when SIRG representatives were already told of this referral."""
    found = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.referral_id == referral_id, OutboxMessage.kind == "alert"
        )
    ).first()
    return found is not None


def officer_addresses(session: Session, referral: Referral, team: list[str]) -> list[str]:
    """The assigned officer's address, or the team's when nobody is assigned (or the
    officer has no address on record)."""
    if referral.assigned_to:
        user = session.exec(
            select(ReviewUser).where(ReviewUser.name == referral.assigned_to)
        ).first()
        if user is not None and user.active and user.email:
            return [user.email]
    return team


def file_forms(
    session: Session,
    ctx: MessageContext,
    thread: Joined,
    message_row_id: int,
    forms: list[tuple[ReadDocument, FormReading]],
) -> Filed:
    """Versions for the same child, siblings for another, in the caller's transaction."""
    filed = Filed()
    for doc, reading in forms:
        match = next((r for r in thread.referrals if same_child(r.record, reading.record)), None)
        if match is not None and reading.scanned:
            # Values read from pixels never change a record unchecked: the scan joins the
            # referral's timeline (below) for an officer to read, as any other document.
            continue
        if match is not None and match.purged_at is None:
            where = f"{doc.candidate.filename} (email of {ctx.received_at:%d %b %Y %H:%M} UTC)"
            version = add_version(session, match, reading, how=thread.how, where=where)
            filed.versions.append((match, version))
        else:
            sibling = create_referral(
                session,
                reading,
                aware_at=ctx.received_at,
                actor="system",
                how=thread.how,
                sibling_of=thread.referrals[0],
            )
            filed.siblings.append(sibling)
    if not filed.versions:
        first = thread.referrals[0]
        effect = LinkEffect.FOLLOW_UP
        link_message(session, first, message_row_id, thread.how, effect, "system", utcnow())
    return filed


def _mode(version: Version | None, referral: Referral) -> FollowUp:
    if version is None:
        return FollowUp.ADDED
    if version.became_complete:
        return FollowUp.COMPLETE
    return FollowUp.UPDATED if referral.complete else FollowUp.STILL_MISSING


def _sibling_reply(
    filing: Filing, ctx: MessageContext, sibling: Referral, to_addr: str, row_id: int
) -> OutboxMessage:
    """The acknowledgement of a new referral made from a follow-up (another child)."""
    outcome = "referral" if sibling.complete else "needs_info"
    entry = {
        "filename": "the form for another child",
        "outcome": outcome,
        "reason": "",
        "reference": sibling.reference,
        "initials": initials(sibling.child_name),
        "problems": missing_lines(sibling),
    }
    if sibling.status == CHECK_SCAN:
        # Read from a scan: acknowledged; what it lacks is asked for once an officer
        # has checked what was read (review.scan_check).
        outcome = "referral"
        entry.update(outcome="scan", problems=[])
    return reply_row(
        filing.mail,
        to_addr=to_addr,
        outcome=outcome,
        reason="",
        received_at=ctx.received_at,
        files=[entry],
        referrals=[sibling],
        inbound_message_id=row_id,
        in_reply_to=ctx.clues.own_id,
    )


def tell(
    session: Session,
    ctx: MessageContext,
    filing: Filing,
    row: InboundMessage,
    thread: Joined,
    filed: Filed,
) -> None:
    """The replies and notes for a joined email, as outbox rows in the same transaction:
    the sender hears what became of it, SIRG is alerted once per referral, and the
    officer (or the team) is told that new mail came."""
    assert row.id is not None
    team = filing.routing.team_addresses()
    changes: list[tuple[Referral, Version | None]] = list(filed.versions)
    if not changes:
        changes = [(thread.referrals[0], None)]
    for referral, version in changes:
        assert referral.id is not None
        joining = Joining(
            referral=referral,
            follow_up=_mode(version, referral),
            documents=len(ctx.documents),
            unreadable=sum(1 for d in ctx.documents if d.result.outcome == "rejected"),
            has_text=ctx.has_text,
            received_at=ctx.received_at,
        )
        if ctx.clues.sender:
            reply = follow_up_reply(
                filing.mail,
                joining,
                to_addr=ctx.clues.sender,
                missing=missing_lines(referral),
                inbound_message_id=row.id,
                in_reply_to=ctx.clues.own_id,
            )
            session.add(reply)
        if joining.follow_up == FollowUp.COMPLETE and not _alerted(session, referral.id):
            unsure = ctx.sender_check == SenderCheck.NOT_VERIFIED
            session.add_all(alert_rows(filing.mail, filing.routing, referral, row.id, unsure))
        else:
            to = officer_addresses(session, referral, team)
            session.add_all(new_mail_notes(filing.mail, joining, to, row.id))
    for sibling in filed.siblings:
        if ctx.clues.sender:
            session.add(_sibling_reply(filing, ctx, sibling, ctx.clues.sender, row.id))
        unsure = ctx.sender_check == SenderCheck.NOT_VERIFIED
        session.add_all(alert_rows(filing.mail, filing.routing, sibling, row.id, unsure))


def outcome_of(thread: Joined, filed: Filed) -> tuple[Outcome, str]:
    """The joined email's outcome and its reason, in words for the LSCP team."""
    reference = thread.referrals[0].reference
    if filed.versions:
        parts = [f"new version {v.number} of {r.reference}" for r, v in filed.versions]
    else:
        parts = [f"added to {reference}"]
    parts += [f"new referral {s.reference} (another child)" for s in filed.siblings]
    return Outcome.FOLLOW_UP, "; ".join(parts)
