"""Turn a stored referral into outbox rows: the reply to the sender and SIRG alerts.

Rows are only built here; the caller adds them to the session that stores the referral,
so the record and its notifications commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from notifications.render import RenderedMail, render
from notifications.routing import Routing
from storage.clock import utcnow
from storage.referrals import initials
from storage.tables import OutboxMessage, Referral

UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class MailConfig:
    """What composing needs from the settings."""

    mail_from: str
    message_id_domain: str
    review_url: str
    templates_dir: Path | None = None


def uk_time(moment: datetime) -> str:
    """'Wednesday 25 November 2026 at 09:41' in UK time."""
    return moment.astimezone(UK).strftime("%A %d %B %Y at %H:%M")


def uk_date(day: date | None) -> str:
    """'02 December 2026', or '' when unknown."""
    return day.strftime("%A %d %B %Y") if day else ""


def outbox_row(
    config: MailConfig,
    kind: str,
    to_addr: str,
    mail: RenderedMail,
    inbound_message_id: int | None,
    referral_id: int | None,
    in_reply_to: str | None,
    auto_submitted: str,
) -> OutboxMessage:
    now = utcnow()
    return OutboxMessage(
        kind=kind,
        inbound_message_id=inbound_message_id,
        referral_id=referral_id,
        mail_from=config.mail_from,
        to_addr=to_addr,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        # Fixed before the first attempt, so a resend after a crash is recognisable.
        header_message_id=f"<{uuid.uuid4().hex}.{kind}@{config.message_id_domain}>",
        in_reply_to=in_reply_to,
        auto_submitted=auto_submitted,
        next_attempt_at=now,
        created_at=now,
    )


def reply_row(
    config: MailConfig,
    *,
    to_addr: str,
    outcome: str,
    reason: str,
    received_at: datetime,
    files: list[dict[str, Any]],
    referrals: list[Referral],
    inbound_message_id: int,
    in_reply_to: str | None,
    keyed_by_hand: bool = False,
    secure: str | None = None,
    checked_scan: bool = False,
) -> OutboxMessage:
    """The acknowledgement (or request for information, or rejection) to the sender.

    `keyed_by_hand`: the LSCP team typed the referral in from what was sent (a scan, say).
    `checked_scan`: an officer checked a referral read from a scan; this asks for what it lacks.
    `secure`: the email was a secure-email notice from this service; the team opens it.
    """
    first = referrals[0] if referrals else None
    mail = render(
        "reply",
        {
            "outcome": outcome,
            "reason": reason,
            "received": uk_time(received_at),
            "forms": files,
            "references": [r.reference for r in referrals],
            "panel_due": uk_date(first.panel_due if first else None),
            "rapid_review_due": uk_date(first.rapid_review_due if first else None),
            "keyed_by_hand": keyed_by_hand,
            "secure": secure,
            "checked_scan": checked_scan,
        },
        config.templates_dir,
    )
    kind = "ack" if outcome == "referral" else outcome
    return outbox_row(
        config,
        kind,
        to_addr,
        mail,
        inbound_message_id,
        first.id if first else None,
        in_reply_to,
        "auto-replied",
    )


def alert_context(referral: Referral, config: MailConfig, internal: bool) -> dict[str, Any]:
    """What an alert may say. Never the child's name, address or date of birth."""
    record = referral.record
    return {
        "reference": referral.reference,
        "urgent": referral.urgent,
        "complete": referral.complete,
        "criteria": list(record.get("criteria") or []),
        "review_type": record.get("review_type") or "",
        "agency": referral.referrer_agency or "not given",
        "received": uk_time(referral.received_at),
        "panel_due": uk_date(referral.panel_due),
        "rapid_review_due": uk_date(referral.rapid_review_due),
        "link": f"{config.review_url.rstrip('/')}/referrals/{referral.reference}",
        # Initials help SIRG members recognise a case, but only inside the partnership.
        "initials": initials(referral.child_name) if internal else "",
        "missing_count": len(referral.problems),
        "unverified": False,
    }


def alert_rows(
    config: MailConfig,
    routing: Routing,
    referral: Referral,
    inbound_message_id: int,
    sender_unverified: bool = False,
) -> list[OutboxMessage]:
    """One alert per representative the routing rules choose for this referral.

    `sender_unverified`: the receiving server found the From address may be forged. Such
    an email never raises the urgent alert to the chair by itself: it is routed as a
    routine referral, and every alert says the sender was not verified.
    """
    record = referral.record
    agencies = [referral.referrer_agency or ""] + [
        str(row.get("agency", "")) for row in record.get("agencies") or []
    ]
    urgent = referral.urgent and not sender_unverified
    rows = []
    for rep in routing.alert_recipients(urgent, agencies):
        internal = routing.is_internal(rep.email)
        context = alert_context(referral, config, internal) | {
            "name": rep.name,
            "urgent": urgent,
            "unverified": sender_unverified,
        }
        mail = render("alert", context, config.templates_dir)
        rows.append(
            outbox_row(
                config,
                "alert",
                rep.email,
                mail,
                inbound_message_id,
                referral.id,
                None,
                "auto-generated",
            )
        )
    return rows


def security_rows(config: MailConfig, routing: Routing, reason: str) -> list[OutboxMessage]:
    """Tell the LSCP business managers that a message was quarantined for a virus.

    Says nothing of the sender or content beyond the scanner's words; the details are in
    the review queue's quarantine page.
    """
    rows = []
    for rep in routing.representatives:
        if rep.role != "business_manager":
            continue
        mail = render(
            "security",
            {
                "name": rep.name,
                "reason": reason,
                "link": f"{config.review_url.rstrip('/')}/quarantine",
            },
            config.templates_dir,
        )
        rows.append(
            outbox_row(config, "security", rep.email, mail, None, None, None, "auto-generated")
        )
    return rows


def operations_row(
    config: MailConfig, to_addr: str, headline: str, detail: str, advice: str = ""
) -> OutboxMessage:
    """A message to whoever runs the service (no personal data: counts and states only)."""
    mail = render(
        "operations",
        {"headline": headline, "detail": detail, "advice": advice},
        config.templates_dir,
    )
    return outbox_row(config, "operations", to_addr, mail, None, None, None, "auto-generated")
