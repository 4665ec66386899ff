"""Real servers for the test suite (Dovecot IMAP, aiosmtpd SMTP, PostgreSQL) and shared helpers."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    There is a small race (another process may grab it before our server binds it); on a
    test machine that is rare enough not to be worth a retry loop.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def in_ci() -> bool:
    """True when env ``CI`` is set to anything but an explicit "off" value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip the test locally, but fail in CI: a missing server there must never pass silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)
