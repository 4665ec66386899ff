"""The receiving server's verdict on who sent an email (Authentication-Results, RFC 8601):
whether the From domain was verified (DMARC, or Microsoft 365's composite check)."""

from __future__ import annotations

import re
from email.message import Message
from enum import StrEnum

MAX_HEADERS = 20  # Authentication-Results headers looked at, newest (topmost) first
COMMENT = re.compile(r"\([^()]*\)")
RESULT = re.compile(r"([a-z][a-z0-9_.-]*)\s*=\s*([a-z]+)", re.IGNORECASE)


class SenderCheck(StrEnum):
    """What the receiving mail server said about the sender."""

    VERIFIED = "verified"  # DMARC (or compauth) passed for the From domain
    NOT_VERIFIED = "not_verified"  # it failed: the From address may be forged
    UNKNOWN = "unknown"  # no verdict (no header, or none from the trusted server)


def _parse(value: str) -> tuple[str | None, dict[str, str]]:
    """(authserv-id or None, {method: result}) of one header value."""
    text = " ".join(COMMENT.sub(" ", value).split())
    parts = [p.strip() for p in text.split(";") if p.strip()]
    authserv: str | None = None
    if parts and not RESULT.match(parts[0]):
        authserv = parts[0].split()[0].lower()
        parts = parts[1:]
    results: dict[str, str] = {}
    for part in parts:
        found = RESULT.match(part)
        if found:
            results.setdefault(found.group(1).lower(), found.group(2).lower())
    return authserv, results


def sender_check(message: Message, trusted_server: str = "") -> SenderCheck:
    """The verdict of the server that received the email for us.

    Only headers from one server count: `trusted_server` (its authserv-id) when set, else
    whichever added the topmost header (the last hop, ours). Headers lower down were
    written by servers on the way, or by the sender, and prove nothing.
    """
    try:
        values = [str(v) for v in message.get_all("Authentication-Results", [])][:MAX_HEADERS]
    except (ValueError, IndexError, TypeError):
        return SenderCheck.UNKNOWN
    parsed = [_parse(v[:8000]) for v in values]
    if not parsed:
        return SenderCheck.UNKNOWN
    server = trusted_server.lower() or parsed[0][0]
    merged: dict[str, str] = {}
    for authserv, results in parsed:
        if authserv == server or (server is None and authserv is None):
            for method, result in results.items():
                merged.setdefault(method, result)
    dmarc, compauth = merged.get("dmarc"), merged.get("compauth")
    if dmarc == "pass" or compauth == "pass":
        return SenderCheck.VERIFIED
    if dmarc in ("fail", "quarantine", "reject") or compauth in ("fail", "softfail"):
        return SenderCheck.NOT_VERIFIED
    if merged.get("spf") in ("fail", "softfail") and merged.get("dkim") != "pass":
        return SenderCheck.NOT_VERIFIED
    return SenderCheck.UNKNOWN
