"""The daily digest for representatives who prefer one summary to an alert per referral."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from notifications.compose import MailConfig, uk_date, uk_time
from notifications.render import render
from notifications.routing import Routing
from storage.clock import utcnow
from storage.tables import OutboxMessage, Referral


def digest_rows(
    session: Session, config: MailConfig, routing: Routing, day: date, now: datetime | None = None
) -> list[OutboxMessage]:
    """Digest emails for `day` (referrals received in the 24 hours before `now`).

    Each digest's Message-ID is made from the day and the recipient, so asking twice for
    the same day adds nothing: the outbox's unique Message-ID keeps one.
    """
    moment = now or utcnow()
    since = moment - timedelta(hours=24)
    referrals = session.exec(
        select(Referral)
        .where(Referral.received_at >= since, Referral.received_at < moment)
        .order_by(col(Referral.urgent).desc(), col(Referral.panel_due), col(Referral.id))
    ).all()
    items = [
        {
            "reference": r.reference,
            "urgent": r.urgent,
            "agency": r.referrer_agency or "not given",
            "status": "complete" if r.complete else "information missing",
            "received": uk_time(r.received_at),
            "panel_due": uk_date(r.panel_due),
            "link": f"{config.review_url.rstrip('/')}/referrals/{r.reference}",
        }
        for r in referrals
    ]
    rows = []
    for rep in routing.digest_recipients():
        message_id = f"<digest-{day.isoformat()}-{rep.email}@{config.message_id_domain}>"
        if session.exec(
            select(OutboxMessage).where(OutboxMessage.header_message_id == message_id)
        ).first():
            continue
        mail = render(
            "digest",
            {"name": rep.name, "day": uk_date(day), "items": items},
            config.templates_dir,
        )
        rows.append(
            OutboxMessage(
                kind="digest",
                mail_from=config.mail_from,
                to_addr=rep.email,
                subject=mail.subject,
                body_text=mail.text,
                body_html=mail.html,
                header_message_id=message_id,
                auto_submitted="auto-generated",
                next_attempt_at=moment,
                created_at=moment,
            )
        )
    return rows
