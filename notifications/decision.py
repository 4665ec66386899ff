"""Emails telling the referrer and the alerted representatives what SIRG decided (or withdrew)."""

# Rows are only built here; the review app adds them to the transaction that records the
# decision, so a decision and its emails commit together. They carry the reference and the
# decision, never the child's name or the chair's reasons (those may name people).

from __future__ import annotations

from datetime import date
from enum import StrEnum

from notifications.compose import MailConfig, outbox_row, uk_date
from notifications.render import render
from storage.agenda import Decision, Recipient
from storage.tables import OutboxMessage, Referral


class DecisionMail(StrEnum):
    """Which decision email: its outbox kind."""

    DECIDED = "decision"
    WITHDRAWN = "decision_withdrawn"


def decision_rows(
    config: MailConfig,
    referral: Referral,
    *,
    mail: DecisionMail,
    decision: Decision,
    meeting_day: date,
    recipients: list[Recipient],
) -> list[OutboxMessage]:
    """One email per recipient: the referrer's answers their newest email, each
    representative's answers the alert they had, so every mail program threads it."""
    rows = []
    link = f"{config.review_url.rstrip('/')}/referrals/{referral.reference}"
    for recipient in recipients:
        rendered = render(
            "decision",
            {
                "reference": referral.reference,
                "decision": decision.label,
                "code": str(decision),
                "meeting": uk_date(meeting_day),
                "withdrawn": mail == DecisionMail.WITHDRAWN,
                "referrer": recipient.referrer,
                # Only SIRG representatives can sign in to the review queue.
                "link": "" if recipient.referrer else link,
            },
            config.templates_dir,
        )
        rows.append(
            outbox_row(
                config,
                str(mail),
                recipient.address,
                rendered,
                None,
                referral.id,
                recipient.in_reply_to,
                "auto-generated",
            )
        )
    return rows
