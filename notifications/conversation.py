"""Emails of a referral's conversation: the reply to a follow-up, the short note that tells
an officer new mail has come, and an officer's own email to the referrer.

Each is threaded (In-Reply-To), so the answer to any of them joins the referral again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from notifications.compose import MailConfig, outbox_row, uk_time
from notifications.render import render
from storage.tables import OutboxMessage, Referral


class FollowUp(StrEnum):
    """What a joined email did, as the reply to its sender says it."""

    COMPLETE = "complete"  # a later form made the referral complete
    STILL_MISSING = "still_missing"  # a later form, some mandatory answers still missing
    UPDATED = "updated"  # a later form for a referral that was already complete
    ADDED = "added"  # documents or text, added to the referral


class OfficerMail(StrEnum):
    """An email an officer writes from the referral page."""

    ASK = "officer_ask"  # "Ask for information": the missing answers, by label
    EMAIL = "officer_email"  # "Email the referrer": free text


@dataclass(frozen=True)
class Joining:
    """One email that joined a referral, as the notes about it may describe it (no names)."""

    referral: Referral
    follow_up: FollowUp
    documents: int  # files the email brought
    unreadable: int  # of which could not be read
    has_text: bool  # the email had words of its own
    received_at: datetime


def follow_up_reply(
    config: MailConfig,
    joining: Joining,
    *,
    to_addr: str,
    missing: list[str],
    inbound_message_id: int,
    in_reply_to: str | None,
) -> OutboxMessage:
    """The reply to the referrer's follow-up: thanks, and what (if anything) is still needed."""
    referral = joining.referral
    mail = render(
        "followup",
        {
            "reference": referral.reference,
            "mode": str(joining.follow_up),
            "received": uk_time(joining.received_at),
            "missing": missing,
            "unreadable": joining.unreadable,
        },
        config.templates_dir,
    )
    kind = "complete" if joining.follow_up == FollowUp.COMPLETE else "follow_up"
    return outbox_row(
        config, kind, to_addr, mail, inbound_message_id, referral.id, in_reply_to, "auto-replied"
    )


def new_mail_notes(
    config: MailConfig, joining: Joining, to_addrs: list[str], inbound_message_id: int
) -> list[OutboxMessage]:
    """Tell the assigned officer (or the team) that new mail joined a referral.

    Only the reference, what kind of mail it was and a link: never the child's name or
    anything the email said, since the note may be read on any device.
    """
    referral = joining.referral
    mail = render(
        "newmail",
        {
            "reference": referral.reference,
            "mode": str(joining.follow_up),
            "documents": joining.documents,
            "unreadable": joining.unreadable,
            "has_text": joining.has_text,
            "received": uk_time(joining.received_at),
            "link": f"{config.review_url.rstrip('/')}/referrals/{referral.reference}#timeline",
        },
        config.templates_dir,
    )
    return [
        outbox_row(
            config, "new_mail", to, mail, inbound_message_id, referral.id, None, "auto-generated"
        )
        for to in dict.fromkeys(a.lower() for a in to_addrs)
    ]


def officer_email(
    config: MailConfig,
    referral: Referral,
    *,
    kind: OfficerMail,
    to_addr: str,
    body: str,
    in_reply_to: str | None,
) -> OutboxMessage:
    """An officer's email to the referrer, from the referral page: written by a person, so
    not marked automatic; its Message-ID lets the answer thread back to the referral."""
    mail = render(
        "officer",
        {"reference": referral.reference, "ask": kind == OfficerMail.ASK, "body": body},
        config.templates_dir,
    )
    return outbox_row(config, str(kind), to_addr, mail, None, referral.id, in_reply_to, "no")
