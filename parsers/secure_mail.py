"""Secure-email notices: an encrypted message whose content waits behind a portal."""

from __future__ import annotations

import re
from email.message import EmailMessage

from parsers.thread import body_text

# Each service by the signs its notices carry; the first that matches names the email.
# The words are those of the notices as their recipients see them (Egress Protect and
# Switch, NHSmail's "[secure]" subject tag, Microsoft Purview Message Encryption).
_MICROSOFT = "a Microsoft 365 protected (encrypted) message"
_EGRESS = "an Egress secure (encrypted) email"
_NHSMAIL = "an NHSmail secure (encrypted) email"
_OTHER = "a secure (encrypted) email"

_EGRESS_WORDS = re.compile(r"(?i)\begress\b|switch\.egress\.com|egress\.com/")
_MICROSOFT_WORDS = re.compile(
    r"(?i)protected message|message encryption|office 365 message encryption|"
    r"outlook\.office365\.com/Encryption|read the message"
)
_SECURE_SUBJECT = re.compile(r"(?i)\[\s*secure\s*\]")
_GENERIC_WORDS = re.compile(
    r"(?i)(sent you|received) an? (secure|encrypted|protected) (e-?mail|message)"
)


def _attached_names(message: EmailMessage) -> list[str]:
    names: list[str] = []
    for part in message.walk():
        name = part.get_filename()
        if name:
            names.append(name.lower())
    return names


def secure_notice(message: EmailMessage) -> str | None:
    """What kind of secure-email notice `message` is ("an Egress secure ... email"), or
    None when it is not one. Only called for an email in which no form was found."""
    names = _attached_names(message)
    if any(n.endswith(".rpmsg") for n in names):
        return _MICROSOFT
    text = body_text(message, 4000)
    subject = str(message.get("Subject", ""))[:500]
    if _EGRESS_WORDS.search(text) and re.search(r"(?i)secure|encrypt|protect", text):
        return _EGRESS
    has_html_file = any(n.endswith((".html", ".htm")) for n in names)
    if _MICROSOFT_WORDS.search(text) and (has_html_file or "encrypt" in text.lower()):
        return _MICROSOFT
    if _SECURE_SUBJECT.search(subject):
        return _NHSMAIL
    if _GENERIC_WORDS.search(text):
        return _OTHER
    return None
