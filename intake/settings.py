"""Every setting of the service, read from `INTAKE_*` environment variables or `.env`.

Settings are a documented table (as Datasette does it): each field has a default and a
one-line description, and `tests/test_settings.py` fails when the README's table lacks one.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.compose import MailConfig

Security = Literal["ssl", "starttls", "none"]


class Settings(BaseSettings):
    """Configuration of the intake service. Field descriptions feed the README table."""

    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        Path("./var"), description="Folder for the local database, mailbox and outbox files."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database; empty means SQLite at DATA_DIR/intake.db. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
    )
    mail_source: Literal["maildir", "imap"] = Field(
        "maildir", description="Where referrals are read from: `maildir` or `imap`."
    )
    maildir: Path | None = Field(
        None, description="Path of the local Maildir; empty means DATA_DIR/maildir."
    )
    imap_host: str = Field("", description="IMAP server host name.")
    imap_port: int = Field(993, description="IMAP server port (993 for ssl, 143 otherwise).")
    imap_security: Security = Field(
        "ssl", description="IMAP transport security: `ssl`, `starttls` or `none`."
    )
    imap_user: str = Field("", description="IMAP login name (the referral mailbox).")
    imap_password: SecretStr = Field(SecretStr(""), description="IMAP password.")
    imap_folder: str = Field("INBOX", description="IMAP folder that referrals arrive in.")
    imap_processed_folder: str = Field(
        "Processed", description="Folder a message is moved to once its outcome is stored."
    )
    imap_quarantine_folder: str = Field(
        "Quarantine", description="Folder for messages that failed and wait for a person."
    )
    imap_ignored_folder: str = Field(
        "Ignored", description="Folder for automatic mail (auto-replies, bounces)."
    )
    imap_timeout: float = Field(60.0, description="Seconds before an IMAP network call fails.")
    imap_ca_file: Path | None = Field(
        None,
        description="PEM file of CA certificates to trust for IMAP TLS instead of the system's "
        "(a private CA or a test server's self-signed certificate).",
    )
    imap_auth: Literal["password", "xoauth2"] = Field(
        "password",
        description="IMAP sign-in: `password` (LOGIN) or `xoauth2` "
        "(a token from the `INTAKE_OAUTH_*` settings).",
    )
    imap_idle: bool = Field(
        True, description="Wait for new mail with IDLE when the server offers it; false polls."
    )
    imap_idle_recheck: float = Field(
        0.25,
        ge=0.0,
        description="While mail is arriving (the first 30 s after a pass), end IDLE and ask the "
        "server (NOOP) this often, in seconds: Dovecot holds IDLE notices back half a second. "
        "0: rely on the server's notices only.",
    )
    imap_reconnect_attempts: int = Field(
        5, description="Reconnections tried after a lost IMAP connection before giving up."
    )
    imap_reconnect_delay: float = Field(
        1.0, description="Seconds before the first reconnection; doubles each try, with jitter."
    )
    imap_reconnect_max_delay: float = Field(
        60.0, description="Longest wait in seconds between two reconnection tries."
    )
    oauth_tenant: str = Field(
        "", description="Microsoft Entra tenant (ID or domain) that issues XOAUTH2 tokens."
    )
    oauth_client_id: str = Field(
        "", description="Application (client) ID registered in Microsoft Entra for XOAUTH2."
    )
    oauth_client_secret: SecretStr = Field(
        SecretStr(""),
        description="Client secret for app-only XOAUTH2 (client credentials flow).",
    )
    oauth_refresh_token: SecretStr = Field(
        SecretStr(""),
        description="Refresh token for delegated XOAUTH2; used instead of the client secret.",
    )
    oauth_token: SecretStr = Field(
        SecretStr(""),
        description="A ready XOAUTH2 access token obtained elsewhere (e.g. Gmail); used as is.",
    )
    smtp_host: str = Field(
        "",
        description="SMTP server for outgoing mail; empty writes each message as an .eml file "
        "to DATA_DIR/outbox-mail/ instead of sending it.",
    )
    smtp_port: int = Field(587, description="SMTP port (465 for ssl, 587 for starttls).")
    smtp_security: Security = Field(
        "starttls", description="SMTP transport security: `ssl`, `starttls` or `none`."
    )
    smtp_auth: Literal["password", "xoauth2"] = Field(
        "password",
        description="SMTP sign-in: `password` (AUTH LOGIN/PLAIN when a user is set) or "
        "`xoauth2` (a token from the `INTAKE_OAUTH_*` settings; Microsoft 365 after 2026).",
    )
    smtp_user: str = Field("", description="SMTP login name; empty sends without AUTH.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP network call fails.")
    smtp_sent_folder: str = Field(
        "",
        description="IMAP folder of the mailbox where the SMTP server files what it accepts "
        "(Microsoft 365: `Sent Items`; Gmail: `[Gmail]/Sent Mail`). After a crash in the "
        "middle of sending, a message found there is not sent again. Empty: it is sent "
        "again, with the same Message-ID.",
    )
    outbox_lease_seconds: int = Field(
        300,
        description="Seconds a hand-over to SMTP may take before it counts as interrupted "
        "(then checked against `INTAKE_SMTP_SENT_FOLDER` and sent again if not there); "
        "keep it well above the SMTP timeouts.",
    )
    mail_from: str = Field(
        "LSCP SIRG Referrals <sirg.referrals@liverpool.gov.uk>",
        description="From address of acknowledgements and alerts.",
    )
    message_id_domain: str = Field(
        "lscp-intake.invalid",
        description="Domain of the Message-IDs we create; replies to it are never answered.",
    )
    trusted_auth_server: str = Field(
        "",
        description="authserv-id of the mail server that receives our mail, as written in "
        "its Authentication-Results headers; empty: the topmost such header is trusted.",
    )
    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as plain `text` or one `json` object per line."
    )
    admin_email: str = Field(
        "",
        description="Who is told (once per incident) when the mailbox cannot be read or "
        "mail cannot be delivered; empty: nobody.",
    )
    alert_after_minutes: int = Field(
        30, description="Minutes the mailbox may be unreadable before the admin is told."
    )
    retention_days: int = Field(
        0,
        description="`intake purge` removes closed referrals' personal data this many days "
        "after closing; 0: never (purge asks for --older-than).",
    )
    poll_interval: float = Field(60.0, description="Seconds between polls in `intake run`.")
    max_message_bytes: int = Field(
        40 * 1024 * 1024,
        description="Messages larger than this are not parsed; the sender is told.",
    )
    max_attachments: int = Field(
        30,
        description="Emails with more attached files than this are not read; the sender is told.",
    )
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, description="Files larger than this are not opened; the sender is told."
    )
    read_timeout_seconds: float = Field(
        120.0,
        gt=0,
        description="Longest time reading one message may take (in the reader process); "
        "beyond it the message is quarantined with the reason and the next one goes on. "
        "Above the scan reader's own 90 s of OCR a message (a typed form takes well under "
        "a second).",
    )
    max_read_starts: int = Field(
        3,
        ge=1,
        description="Starts of reading one message that may be cut short (the worker killed "
        "mid-read) before it is quarantined instead of read again.",
    )
    read_memory_mb: int = Field(
        512,
        ge=64,
        description="Memory reading one message may add (the reader process's limit, set "
        "afresh for each message); "
        "beyond it the message is quarantined with the reason.",
    )
    clamd: str = Field(
        "",
        description="clamd to scan every message and attachment: `host:port` or a socket "
        "path; empty: no virus scanning.",
    )
    clamd_timeout: float = Field(60.0, description="Seconds to wait for a clamd verdict.")
    reply_limit_per_day: int = Field(
        5,
        description="Most replies asking for information or rejecting a file sent to one "
        "address in 24 hours (a guard against autoresponder loops); acknowledgements of "
        "referrals are never limited.",
    )
    encryption_keys: SecretStr = Field(
        SecretStr(""),
        description="Fernet keys (comma-separated, newest first) that encrypt stored emails, "
        "files and referral records; empty stores them unencrypted. `intake new-key` makes one.",
    )
    routing_file: Path | None = Field(
        None,
        description="TOML file of SIRG representatives and alert rules; empty: no alerts.",
    )
    templates_dir: Path | None = Field(
        None, description="Folder of email templates that replace ours by file name."
    )
    review_url: str = Field(
        "http://localhost:8000",
        description="Base URL of the review queue, used in links in alerts.",
    )
    review_secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs review-queue session cookies; empty: one is generated "
        "and kept in DATA_DIR/review-secret (mode 0600).",
    )
    review_secure_cookies: bool = Field(
        True,
        description="Send review-queue cookies only over HTTPS (Secure, `__Host-` name); "
        "false only to try the queue over plain http on your own machine.",
    )
    review_session_minutes: int = Field(
        60, description="Minutes without activity after which a review-queue sign-in ends."
    )

    @cached_property
    def resolved_maildir(self) -> Path:
        """The Maildir path, defaulting under the data folder."""
        return self.maildir or self.data_dir / "maildir"

    @field_validator("encryption_keys", "review_secret")
    @classmethod
    def _not_a_placeholder(cls, value: SecretStr) -> SecretStr:
        # deploy/intake.env.example holds placeholders: starting with one would encrypt
        # with, or sign cookies by, a value printed in our own repository.
        if value.get_secret_value().strip().upper().startswith("REPLACE"):
            raise ValueError("still the placeholder from intake.env.example; set a real value")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'intake.db'}"

    @property
    def outbox_mail_dir(self) -> Path:
        """Where outgoing mail is written when no SMTP host is set."""
        return self.data_dir / "outbox-mail"

    @property
    def handover_lease(self) -> timedelta:
        """`outbox_lease_seconds` as a duration."""
        return timedelta(seconds=self.outbox_lease_seconds)

    @property
    def mail_config(self) -> MailConfig:
        """What composing replies and alerts needs from these settings."""
        return MailConfig(
            mail_from=self.mail_from,
            message_id_domain=self.message_id_domain,
            review_url=self.review_url,
            templates_dir=self.templates_dir,
        )


def settings_table() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting, for the README."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = ""
        rows.append(
            (
                f"INTAKE_{name.upper()}",
                "" if default is None else str(default),
                field.description or "",
            )
        )
    return rows
