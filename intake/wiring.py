"""Wiring: the mail source, the reply transport and the database the settings name.

Kept apart from the loop (`intake.runner`), so that what is connected and how it is driven
can change apart.
"""

from __future__ import annotations

from sqlalchemy import Engine

from intake.settings import Settings
from intake.sources.base import MailSource
from intake.sources.oauth import token_provider_from_settings
from notifications.transport import FolderTransport, SentCopies, SmtpTransport, Transport
from storage import crypto
from storage.db import Durability, make_engine, upgrade


def make_source(settings: Settings) -> MailSource:
    """The configured mail source."""
    if settings.mail_source == "imap":
        from intake.sources.imap import ImapSource

        return ImapSource(settings)
    from intake.sources.maildir import MaildirSource

    return MaildirSource(settings.resolved_maildir)


def _sent_copies(settings: Settings) -> SentCopies | None:
    """The Sent folder to look in after an interrupted hand-over, when there is one."""
    if not settings.smtp_sent_folder or settings.mail_source != "imap":
        return None
    from intake.sources.sent import SentFolder

    return SentFolder(settings)


def make_transport(settings: Settings) -> Transport:
    """SMTP when a host is set, else the local outbox folder."""
    if settings.smtp_host:
        token = None
        if settings.smtp_auth == "xoauth2":
            token = token_provider_from_settings(settings).token
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            timeout=settings.smtp_timeout,
            token_provider=token,
            sent_copies=_sent_copies(settings),
        )
    return FolderTransport(settings.outbox_mail_dir)


def open_database(settings: Settings, durability: Durability = Durability.EVERY_COMMIT) -> Engine:
    """An engine with the schema upgraded to the newest migration, and the storage keys set.
    The worker's engine syncs at barriers (`storage.db.Durability`)."""
    crypto.configure(settings.encryption_keys.get_secret_value().split(","))
    engine = make_engine(settings.resolved_database_url, durability)
    upgrade(engine)
    return engine
