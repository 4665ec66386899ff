"""MIME to candidate documents: every attached file that might be a referral form.

Walks nested multiparts and forwarded messages (message/rfc822, forwards of forwards),
opens winmail.dat (application/ms-tnef) with tnefparse, drops inline images (logos in
signatures) and counts the same file attached twice once. Filenames are cleaned so that
nothing taken from an email can name a path on our disk.
"""

from __future__ import annotations

import email
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import getaddresses
from functools import lru_cache
from typing import cast

from parsers.limits import MAX_HEADER_BLOCK_BYTES, MAX_MIME_DEPTH
from parsers.mail_policy import default_policy
from parsers.mime_limits import Scan, is_blank, is_header_line

MAX_DEPTH = 10  # forwards nested deeper than this are not opened (a guard against loops)
# Parts of delivery reports: they describe a message, they are not documents.
SKIPPED_TYPES = {"message/delivery-status", "message/disposition-notification"}


@dataclass(frozen=True)
class Candidate:
    """One file found in an email."""

    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        """SHA-256 of the content."""
        return hashlib.sha256(self.data).hexdigest()


# Every email is parsed under limits (`mime_limits` says why and how): the standard
# library's parser is slow on long header fields and recursive on nested brackets and
# parts. `message_problem` says in plain words when an email broke a limit, for the
# pipeline to refuse it; `header_block_too_big` is a cheaper first look.


def parse_message(raw: bytes) -> EmailMessage:
    """Parse raw RFC 822 bytes with the modern policy, under the limits; never raises.

    The parser is given the email as `mime_limits.Scan` leaves it (over-long header
    fields cut, parts nested too deep made text, ...); the stored bytes never change.
    Should the standard library still recurse too deep, only the email's own header
    fields are kept.
    """
    data = _scan(raw).data
    try:
        return cast(EmailMessage, email.message_from_bytes(data, policy=default_policy))
    except RecursionError:
        return _headers_only(data)


@lru_cache(maxsize=2)
def _scan(raw: bytes) -> Scan:
    """One look over an email's bytes, shared by `parse_message` and `message_problem`
    (the pipeline asks both of the same email, one after the other)."""
    return Scan(raw)


def parse_headers(raw: bytes) -> EmailMessage:
    """Only the email's own header fields, read from at most its first
    MAX_HEADER_BLOCK_BYTES: for an email too big to parse whole, or to find its
    Message-ID and Date cheaply (the body is not even looked at)."""
    end = _header_block_end(raw, MAX_HEADER_BLOCK_BYTES)
    return _headers_only(Scan(raw[: MAX_HEADER_BLOCK_BYTES if end is None else end]).data)


def message_problem(raw: bytes) -> str | None:
    """Why this email breaks a reading limit, in plain words safe to send back, or None.

    The pipeline should refuse such an email with this reason (outcome rejected):
    `parse_message` reads it safely, but what it reads is not the whole email. One pass
    over the bytes, without the standard library's parser.
    """
    return _scan(raw).problem()


def header_block_too_big(raw: bytes, limit: int = MAX_HEADER_BLOCK_BYTES) -> bool:
    """True when the email's own header block (up to the first empty line) is longer
    than `limit` bytes. Reads at most `limit` bytes: cheap enough before anything else,
    even before the email is stored."""
    return _header_block_end(raw, limit) is None and len(raw) > limit


def _header_block_end(raw: bytes, limit: int) -> int | None:
    """Where the email's own header block ends (after its empty line, or before the first
    line that is no header field), or None when no end is found in its first `limit`
    bytes."""
    at = 0
    for match in _EOL.finditer(raw, 0, limit + 1):
        line = raw[at : match.end()]
        if is_blank(line):
            return match.end()
        if not is_header_line(line):
            return at
        at = match.end()
    return None


_EOL = re.compile(rb"\r\n|\r|\n")


def _headers_only(data: bytes) -> EmailMessage:
    """The email's own header fields (Content- fields left out) and no content: what is
    kept when the standard library cannot parse the rest."""
    fields: list[bytes] = []
    keep = False
    at = 0
    for match in _EOL.finditer(data):
        line = data[at : match.end()]
        at = match.end()
        if is_blank(line) or not is_header_line(line):
            break
        if line[:1] not in (b" ", b"\t"):
            keep = not line.lower().startswith(b"content-")
        if keep:
            fields.append(line)
    try:
        head = b"".join(fields) + b"\r\n"
        return cast(EmailMessage, email.message_from_bytes(head, policy=default_policy))
    except RecursionError:
        return EmailMessage(policy=default_policy)


def _addresses(message: Message, header: str) -> list[str]:
    """The usable addresses in one header, in order."""
    try:
        values = [str(v) for v in message.get_all(header, [])]
    except (ValueError, IndexError, TypeError):
        return []
    out = []
    for _name, addr in getaddresses(values):
        addr = addr.strip()
        if "@" in addr and not any(ch.isspace() for ch in addr) and len(addr) <= 320:
            out.append(addr)
    return out


def _same_organisation(a: str, b: str) -> bool:
    """True when two addresses share a mail domain (or one's is a subdomain of the other's)."""
    da, db = a.rsplit("@", 1)[-1].lower(), b.rsplit("@", 1)[-1].lower()
    return da == db or da.endswith(f".{db}") or db.endswith(f".{da}")


def reply_address(message: Message) -> str | None:
    """Where a reply goes: the sender (From). Reply-To only when it is in the sender's own
    organisation (a shared team mailbox, say): anyone can write a Reply-To, and trusting it
    would let a stranger have our replies sent to a third party."""
    senders = _addresses(message, "From")
    if not senders:
        return None
    sender = senders[0]
    for other in _addresses(message, "Reply-To"):
        if _same_organisation(other, sender):
            return other
    return sender


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A filename safe to show and to store: no folders, control characters or dots first."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip().lstrip(".")
    return text[:200] or fallback


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (ValueError, LookupError, TypeError):
        return None  # a malformed RFC 2231 parameter; the content still counts


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, LookupError, TypeError):
        return b""
    return data if isinstance(data, bytes) else b""


def _is_inline_image(part: Message, ctype: str, disposition: str) -> bool:
    return ctype.startswith("image/") and (
        disposition == "inline" or (disposition != "attachment" and "Content-ID" in part)
    )


def _is_body_text(part: Message, ctype: str, disposition: str) -> bool:
    return ctype.startswith("text/") and disposition != "attachment" and _filename(part) is None


def _tnef_candidates(data: bytes) -> list[Candidate]:
    """Files inside a winmail.dat; an unreadable one is passed on as it is."""
    from tnefparse import TNEF  # imported here: only Outlook's rich-text mail needs it

    try:
        tnef = TNEF(data)
    except Exception:  # tnefparse raises many kinds of error on damaged input
        return [Candidate("winmail.dat", "application/ms-tnef", data)]
    found = []
    for att in tnef.attachments:
        payload = att.data if isinstance(att.data, bytes) else bytes(att.data or b"")
        name = safe_filename(att.long_filename() or att.name)
        found.append(Candidate(name, "application/octet-stream", payload))
    # Nothing inside: keep the winmail.dat itself, so the outcome says what was sent.
    return found or [Candidate("winmail.dat", "application/ms-tnef", data)]


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_MSG_BYTES = 10 * 1024 * 1024  # an Outlook .msg larger than this is not opened


def _is_outlook_msg(name: str, ctype: str, data: bytes) -> bool:
    # Old Word .doc files are OLE too: only a .msg name or Outlook's type says "email".
    return data.startswith(OLE_MAGIC) and (
        name.lower().endswith(".msg") or ctype == "application/vnd.ms-outlook"
    )


def _msg_candidates(name: str, data: bytes, depth: int) -> list[Candidate]:
    """Files inside an attached Outlook .msg; the .msg itself when it cannot be opened."""
    if len(data) > MAX_MSG_BYTES or depth >= MAX_DEPTH:
        return [Candidate(name, "application/vnd.ms-outlook", data)]
    import extract_msg  # imported here: only forwarded Outlook items need it

    try:
        item = extract_msg.openMsg(data)
    except Exception:  # extract_msg raises many kinds of error on damaged input
        return [Candidate(name, "application/vnd.ms-outlook", data)]
    found: list[Candidate] = []
    try:
        for att in getattr(item, "attachments", []):
            inner_name = safe_filename(att.longFilename or att.shortFilename)
            payload = att.data
            if isinstance(payload, bytes):
                found.append(Candidate(inner_name, "application/octet-stream", payload))
            elif payload is not None and hasattr(payload, "exportBytes"):
                found.extend(_msg_candidates(inner_name, payload.exportBytes(), depth + 1))
    except Exception:
        return [Candidate(name, "application/vnd.ms-outlook", data)]
    finally:
        item.close()
    return found


def _walk(message: Message) -> list[Candidate]:
    """Candidates in `message` and below, in document order.

    Iterative, so no nesting can exhaust the stack: multiparts are opened down to
    MAX_MIME_DEPTH levels and attached emails down to MAX_DEPTH; what is deeper is not
    opened (`parse_message` already made it plain text when the email came as bytes).
    """
    found: list[Candidate] = []
    todo: list[tuple[Message, int, int]] = [(message, 0, 0)]  # part, levels, forwards
    while todo:
        part, level, depth = todo.pop()
        ctype = part.get_content_type()
        if part.is_multipart() and ctype != "message/rfc822":
            payload = part.get_payload()
            children = payload if isinstance(payload, list) else []
            if level < MAX_MIME_DEPTH:
                todo.extend(
                    (c, level + 1, depth) for c in reversed(children) if isinstance(c, Message)
                )
            continue
        if ctype == "message/rfc822":
            if depth >= MAX_DEPTH or level >= MAX_MIME_DEPTH:
                continue
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner_msg, Message):
                todo.append((inner_msg, level + 1, depth + 1))
            continue
        found.extend(_leaf(part, ctype, depth))
    return found


def _leaf(part: Message, ctype: str, depth: int) -> list[Candidate]:
    """The files one part that holds no parts gives (none for body text and logos)."""
    # Each header read builds a header object (the costly part of MIME with the modern
    # policy), so the type and disposition are read once per part.
    disposition = (part.get_content_disposition() or "").lower()
    if (
        ctype in SKIPPED_TYPES
        or _is_inline_image(part, ctype, disposition)
        or _is_body_text(part, ctype, disposition)
    ):
        return []
    data = _payload(part)
    if not data:
        return []
    name = safe_filename(_filename(part))
    if ctype == "application/ms-tnef" or name.lower() == "winmail.dat":
        return _tnef_candidates(data)
    if _is_outlook_msg(name, ctype, data):
        return _msg_candidates(name, data, depth)
    return [Candidate(name, ctype, data)]


def candidates(message: Message) -> list[Candidate]:
    """Every distinct attached file in `message`, in the order they appear."""
    seen: set[str] = set()
    unique = []
    for cand in _walk(message):
        if cand.sha256 not in seen:
            seen.add(cand.sha256)
            unique.append(cand)
    return unique
