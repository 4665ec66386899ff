"""What an email says about the conversation it belongs to: the Message-IDs it answers,
the SIRG references in its subject, who sent it, and its own words.

Pure reading of headers and the text part, so `intake inspect` can show it without a
database; `storage.threads` decides which referral (if any) those clues lead to.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import getaddresses

REFERENCE = re.compile(r"\bSIRG-(\d{4})-(\d{4,6})\b", re.IGNORECASE)
# A Message-ID as it may safely be looked up or copied into a header: one token in angle
# brackets, no spaces or line breaks (a decoded header can hold anything).
MESSAGE_ID = re.compile(r"<[^<>\s\"]{1,250}@[^<>\s\"]{1,250}>")
MAX_IDS = 50  # the newest References only: a long thread's oldest ids add nothing
MAX_HEADER = 16_000  # characters of a header looked at
MAX_TEXT = 20_000  # characters of body text kept for the timeline


@dataclass(frozen=True)
class ThreadClues:
    """Everything that can tie an email to an earlier one."""

    answers: tuple[str, ...]  # Message-IDs from In-Reply-To then References, newest first
    references: tuple[str, ...]  # SIRG-YYYY-NNNN quoted in the subject, in order
    sender: str | None  # the From address, lower case (never Reply-To)
    own_id: str | None = None  # the email's own Message-ID, fit to answer in In-Reply-To

    @property
    def any(self) -> bool:
        """True when there is something to look up."""
        return bool(self.answers or self.references)


def _header(message: Message, name: str) -> str:
    if name not in message:
        return ""
    try:
        values = message.get_all(name, [])
    except (ValueError, IndexError, TypeError):
        return ""
    return " ".join(str(v) for v in values)[:MAX_HEADER]


def message_ids(text: str) -> list[str]:
    """The well-formed Message-IDs in a header's text, in order, each once."""
    return list(dict.fromkeys(MESSAGE_ID.findall(text)))


def clean_message_id(value: str | None) -> str | None:
    """A Message-ID fit to store or to copy into a reply's headers, or None."""
    found = message_ids(value or "")
    return found[0] if found else None


def sender_address(message: Message) -> str | None:
    """The From address in lower case, or None when there is no usable one."""
    for _name, addr in getaddresses([_header(message, "From")]):
        addr = addr.strip().lower()
        if "@" in addr and not any(ch.isspace() for ch in addr) and len(addr) <= 320:
            return addr
    return None


def subject_references(subject: str) -> list[str]:
    """'RE: more information needed – sirg-2026-0001' -> ['SIRG-2026-0001']."""
    found = [f"SIRG-{m.group(1)}-{m.group(2)}" for m in REFERENCE.finditer(subject[:2000])]
    return list(dict.fromkeys(found))


def thread_clues(message: Message) -> ThreadClues:
    """The clues an email carries; In-Reply-To first, since it names the message answered."""
    replied = message_ids(_header(message, "In-Reply-To"))
    older = list(reversed(message_ids(_header(message, "References"))))
    answers = list(dict.fromkeys(replied + older))[:MAX_IDS]
    return ThreadClues(
        answers=tuple(answers),
        references=tuple(subject_references(_header(message, "Subject"))),
        sender=sender_address(message),
        own_id=clean_message_id(_header(message, "Message-ID")),
    )


def body_text(message: EmailMessage, limit: int = MAX_TEXT) -> str:
    """The email's own words (plain text, else HTML stripped of tags), at most `limit`
    characters; '' when it has none that can be read."""
    try:
        part = message.get_body(("plain", "html"))
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError, TypeError, AttributeError):
        return ""
    if not isinstance(text, str):
        return ""
    if part is not None and part.get_content_type() == "text/html":
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text[: limit * 4])
        text = re.sub(r"(?s)<[^>]*>", " ", text)
        text = re.sub(r"[ \t]+", " ", html.unescape(text))
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()
    return text[:limit]
