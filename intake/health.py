"""Health: the heartbeat after each pass, the dead-man alert, and `intake status`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine

from intake.settings import Settings
from notifications.compose import MailConfig, operations_row
from storage.clock import utcnow
from storage.db import session_scope
from storage.heartbeat import record_pass

log = logging.getLogger(__name__)


def mailbox_name(settings: Settings) -> str:
    """The name a worker's mailbox goes by in locks and heartbeats."""
    if settings.mail_source == "maildir":
        return f"maildir:{settings.resolved_maildir.resolve()}"
    return f"imap://{settings.imap_user}@{settings.imap_host}/{settings.imap_folder}"


def after_pass(
    engine: Engine,
    settings: Settings,
    mail: MailConfig,
    error: BaseException | None,
    token_expires_at: datetime | None = None,
) -> None:
    """Record the pass; queue an operations email for each new incident (once each)."""
    try:
        incidents = record_pass(
            engine,
            mailbox_name(settings),
            utcnow(),
            type(error).__name__ if error else None,
            timedelta(minutes=settings.alert_after_minutes),
            token_expires_at,
        )
    except Exception as exc:  # the database itself is unreachable: the log is all we have
        log.error("could not record the heartbeat (%s)", type(exc).__name__)
        return
    if not settings.admin_email:
        return
    rows = []
    if incidents.down_since is not None:
        rows.append(
            operations_row(
                mail,
                settings.admin_email,
                "the referral mailbox cannot be read",
                f"The worker has not been able to read the mailbox since "
                f"{incidents.down_since:%d %B %Y %H:%M} UTC ({type(error).__name__}). "
                "New referrals wait in the mailbox and are not acknowledged.",
                "check the mailbox password or OAuth application, the mail server and the "
                "network; the worker keeps trying and reads the waiting mail once it can.",
            )
        )
    if incidents.recovered:
        rows.append(
            operations_row(
                mail,
                settings.admin_email,
                "the referral mailbox can be read again",
                "The worker read the mailbox successfully; waiting mail is being processed.",
            )
        )
    if incidents.new_dead_rows:
        rows.append(
            operations_row(
                mail,
                settings.admin_email,
                f"{incidents.new_dead_rows} email(s) could not be delivered",
                "The mail server refused them for good or they failed too many times.",
                "see `intake outbox --status dead`; after fixing the cause, "
                "`intake outbox retry ID` sends one again.",
            )
        )
    if rows:
        with session_scope(engine) as session:
            session.add_all(rows)
