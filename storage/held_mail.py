"""What an officer may read of a held email: sender, subject, first lines and file names,
or (to key a referral from it) the whole of its text."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses

from sqlmodel import Session

from parsers.limits import MAX_MIME_DEPTH, MAX_MIME_PARTS
from parsers.mime import parse_headers, parse_message, safe_filename
from storage import crypto
from storage.messages import DEFANGED_MARK
from storage.tables import InboundMessage, RawMessage

# An email bigger than this is not parsed whole for the page (only its header fields): an
# officer reading the first lines need not wait on a 40 MB scan. It can still be downloaded.
MAX_PARSE_BYTES = 15 * 1024 * 1024
FIRST_LINES = 10
MAX_LINE = 300  # characters of one line shown; a one-line HTML body would fill the page
MAX_TEXT = 20_000  # characters of body text looked at, or shown whole to key from
MAX_FIELD = 300  # characters of a subject or sender shown
MAX_FILES = 50  # files listed; an email with more says so


@dataclass(frozen=True)
class MailFile:
    """A file attached to the email, as listed (never opened here)."""

    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailHeadline:
    """Who sent a held email, and its subject, read from its header fields only."""

    sender: str
    subject: str


@dataclass(frozen=True)
class HeldMail:
    """A held email as an officer reads it on the quarantine page: plain text only."""

    id: int
    received_at: datetime
    sender: str
    subject: str
    lines: tuple[str, ...]  # the first lines of its own words
    more: bool  # the text goes on past these lines
    from_html: bool  # the email has no plain text: the lines are its HTML, tags removed
    files: tuple[MailFile, ...]
    more_files: bool
    note: str = ""  # why some of it is not shown (too big to open whole)


def _clean(text: str, limit: int) -> str:
    """Text safe to show on one line: no control or format characters (bidi overrides
    could make a name read backwards), spaces collapsed, cut at `limit`."""
    shown = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    shown = " ".join(shown.split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _field(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, LookupError, TypeError, IndexError):
        return ""  # a malformed header field: shown as missing, not as an error page
    return "" if value is None else str(value)


def _sender(message: Message) -> str:
    raw = _field(message, "From")
    try:
        addresses = [a for _name, a in getaddresses([raw]) if a]
    except (ValueError, TypeError, IndexError):
        addresses = []
    return _clean(addresses[0] if addresses else raw, MAX_FIELD)


def headline_of(raw: bytes) -> MailHeadline:
    """Sender and subject from the header fields alone (cheap: for the list page)."""
    headers = parse_headers(raw)
    return MailHeadline(_sender(headers), _clean(_field(headers, "Subject"), MAX_FIELD))


def _decoded(part: Message) -> str:
    """A text part's words; an unknown charset is read as UTF-8 with replacements."""
    try:
        text = part.get_content() if isinstance(part, EmailMessage) else None
    except (LookupError, ValueError, TypeError, AttributeError, AssertionError):
        text = None
    if isinstance(text, str):
        return text[: MAX_TEXT * 4]
    try:
        data = part.get_payload(decode=True)
    except (ValueError, LookupError, TypeError):
        return ""
    return data[: MAX_TEXT * 4].decode("utf-8", "replace") if isinstance(data, bytes) else ""


def _whole_body(message: EmailMessage) -> tuple[str, bool]:
    """The email's own words, uncut (but bounded by `_decoded`), and whether they came
    from HTML (tags removed, never shown as HTML: the page escapes them like any text)."""
    try:
        part = message.get_body(("plain", "html"))
    except (LookupError, ValueError, TypeError, AttributeError):
        return "", False
    if part is None:
        return "", False
    text = _decoded(part)
    from_html = part.get_content_type() == "text/html"
    if from_html:
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
        text = re.sub(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", "\n", text)
        text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    return text, from_html


def _body(message: EmailMessage) -> tuple[str, bool]:
    text, from_html = _whole_body(message)
    return text[:MAX_TEXT], from_html


def _first_lines(text: str) -> tuple[tuple[str, ...], bool]:
    lines = [_clean(line, MAX_LINE) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):  # runs of blank lines shown as one
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return tuple(kept[:FIRST_LINES]), len(kept) > FIRST_LINES


def _size(part: Message) -> int:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, LookupError, TypeError):
        return 0
    return len(data) if isinstance(data, bytes) else 0


def _files(message: Message) -> list[MailFile]:
    """Attached files, in order; iterative and bounded like the pipeline's own walk.
    An attached email is listed as one file, not opened."""
    found: list[MailFile] = []
    todo: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while todo and seen < MAX_MIME_PARTS:
        part, level = todo.pop()
        seen += 1
        ctype = part.get_content_type()
        if part.is_multipart():
            children = part.get_payload()
            if level < MAX_MIME_DEPTH and isinstance(children, list):
                todo.extend((c, level + 1) for c in reversed(children) if isinstance(c, Message))
            continue
        try:
            name = part.get_filename()
            disposition = (part.get_content_disposition() or "").lower()
        except (ValueError, LookupError, TypeError):
            name, disposition = None, ""
        unnamed = name is None and disposition != "attachment"
        if unnamed and ctype.startswith(("text/", "image/")):
            continue  # the body itself (shown as text above), or a logo in it
        found.append(MailFile(safe_filename(name, "(no name)"), _clean(ctype, 100), _size(part)))
    return found


def read_held_mail(session: Session, message_id: int) -> HeldMail | None:
    """A stored email as plain text for a person; None when it is not kept or held a
    virus (an infected email is never parsed)."""
    row = session.get(InboundMessage, message_id)
    stored = session.get(RawMessage, message_id)
    if row is None or row.id is None or stored is None or not stored.content:
        return None
    raw = crypto.unseal(stored.content)
    if not raw or raw.startswith(DEFANGED_MARK):
        return None
    note = ""
    lines: tuple[str, ...] = ()
    files: list[MailFile] = []
    more = from_html = False
    if len(raw) > MAX_PARSE_BYTES:
        message: EmailMessage = parse_headers(raw)
        note = "This email is too big to open here: download it to read the text and files."
    else:
        message = parse_message(raw)
        text, from_html = _body(message)
        lines, more = _first_lines(text)
        files = _files(message)
    return HeldMail(
        id=row.id,
        received_at=row.received_at,
        sender=_sender(message) or (row.sender or ""),
        subject=_clean(_field(message, "Subject"), MAX_FIELD),
        lines=lines,
        more=more,
        from_html=from_html,
        files=tuple(files[:MAX_FILES]),
        more_files=len(files) > MAX_FILES,
        note=note,
    )


def headline(session: Session, message_id: int) -> MailHeadline | None:
    """Sender and subject of a stored email; None when not kept or it held a virus."""
    stored = session.get(RawMessage, message_id)
    if stored is None or not stored.content:
        return None
    raw = crypto.unseal(stored.content)
    if not raw or raw.startswith(DEFANGED_MARK):
        return None
    return headline_of(raw)


@dataclass(frozen=True)
class MailText:
    """A stored email as an officer keys a referral from it: who, what, when, and its text
    in full (up to MAX_TEXT characters), still plain text for the page to escape."""

    sender: str
    subject: str
    received_at: datetime
    text: str
    cut: bool  # the text goes on past MAX_TEXT characters
    from_html: bool
    note: str = ""  # why the text is not shown (too big to open whole)

    @property
    def limit(self) -> int:
        """The most characters of text shown (for the page's note when `cut`)."""
        return MAX_TEXT


def _readable(text: str) -> str:
    """Body text keeping its lines: control and format characters (a bidi override could
    make a name read backwards) become spaces, runs of blank lines become one."""
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        shown = "".join(
            " " if unicodedata.category(ch)[0] == "C" and ch != "\t" else ch for ch in line
        ).rstrip()
        if shown or (lines and lines[-1]):
            lines.append(shown)
    return "\n".join(lines).strip("\n")


def read_mail_text(session: Session, message_id: int) -> MailText | None:
    """A stored email's whole text for keying a referral from it; None when it is not
    kept or held a virus (an infected email is never parsed)."""
    row = session.get(InboundMessage, message_id)
    stored = session.get(RawMessage, message_id)
    if row is None or stored is None or not stored.content:
        return None
    raw = crypto.unseal(stored.content)
    if not raw or raw.startswith(DEFANGED_MARK):
        return None
    if len(raw) > MAX_PARSE_BYTES:
        headers = parse_headers(raw)
        note = "This email is too big to open here: download it to read the text."
        return MailText(
            _sender(headers) or (row.sender or ""),
            _clean(_field(headers, "Subject"), MAX_FIELD),
            row.received_at,
            "",
            False,
            False,
            note,
        )
    message = parse_message(raw)
    text, from_html = _whole_body(message)
    text = _readable(text)
    return MailText(
        sender=_sender(message) or (row.sender or ""),
        subject=_clean(_field(message, "Subject"), MAX_FIELD),
        received_at=row.received_at,
        text=text[:MAX_TEXT],
        cut=len(text) > MAX_TEXT,
        from_html=from_html,
    )
