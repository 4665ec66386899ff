"""Delivery reports (bounces): which of our messages failed, and why, in the server's words.

Reads RFC 3464 reports (multipart/report with message/delivery-status) and falls back to
the headers most bounces carry, so a bounce can be linked to the outbox row that caused it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from parsers.mime import parse_message

MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


@dataclass(frozen=True)
class Bounce:
    """The Message-IDs a report is about, and its status in the reporting server's words."""

    message_ids: list[str]
    detail: str


def _status_detail(part: Message) -> str:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    text = " ".join(str(b) for b in blocks) if blocks else str(payload)
    found = {}
    for name in ("Status", "Action", "Diagnostic-Code", "Final-Recipient"):
        match = re.search(rf"^{name}:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
        if match:
            found[name] = match.group(1).strip()
    return "; ".join(f"{k} {v}" for k, v in found.items())


def _original_ids(part: Message) -> list[str]:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        original = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(original, Message):
            return MESSAGE_ID.findall(str(original.get("Message-ID", "")))
    if part.get_content_type() == "text/rfc822-headers":
        data = part.get_payload(decode=True)
        headers = parse_message(data if isinstance(data, bytes) else b"")
        return MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
    return []


def read_bounce(message: Message) -> Bounce | None:
    """What a delivery report says about our messages, or None if it names none."""
    ids: list[str] = []
    detail = ""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            detail = detail or _status_detail(part)
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            ids.extend(i for i in _original_ids(part) if i not in ids)
    for header in ("In-Reply-To", "References"):
        for found in MESSAGE_ID.findall(str(message.get(header, ""))):
            if found not in ids:
                ids.append(found)
    if not ids:
        return None
    return Bounce(message_ids=ids, detail=detail or "delivery failed (no status given)")
