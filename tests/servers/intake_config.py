"""Point the intake service at the test servers: settings in-process, env for subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from intake.settings import Settings

from .dovecot import DovecotServer
from .smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]


def server_values(
    data_dir: Path, imap: DovecotServer | None = None, smtp: SmtpServer | None = None
) -> dict[str, Any]:
    """Settings values (lower-case names) for a data folder and the given servers."""
    values: dict[str, Any] = {"data_dir": data_dir, "database_url": "", "smtp_host": ""}
    if imap is not None:
        values.update(
            mail_source="imap",
            imap_host=imap.host,
            imap_port=imap.port,
            imap_security="none",
            imap_user=imap.user,
            imap_password=imap.password,
        )
    else:
        values["mail_source"] = "maildir"
    if smtp is not None:
        values.update(smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none")
    return values


def settings_for(
    data_dir: Path,
    imap: DovecotServer | None = None,
    smtp: SmtpServer | None = None,
    **overrides: Any,
) -> Settings:
    """Settings for an in-process run against the test servers."""
    return Settings(**(server_values(data_dir, imap, smtp) | overrides))


def intake_env(
    data_dir: Path,
    imap: DovecotServer | None = None,
    smtp: SmtpServer | None = None,
    **overrides: Any,
) -> dict[str, str]:
    """Environment for an `intake` subprocess (no INTAKE_* leaks in from the caller)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    for name, value in (server_values(data_dir, imap, smtp) | overrides).items():
        env[f"INTAKE_{name.upper()}"] = str(value)
    return env


def run_intake(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the `intake` command line as a user would, from the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "intake", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
PDF = ("application", "pdf")


def referrer_email(uid: str, files: list[tuple[str, bytes, tuple[str, str]]]) -> bytes:
    """A referrer's email carrying `files` (name, data, (maintype, subtype))."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@merseyside.police.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = f"<{uid}@merseyside.police.uk>"
    msg.set_content("Referral attached.")
    for name, data, (maintype, subtype) in files:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)
