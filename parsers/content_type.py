"""A MIME part's Content-Type as the standard library's feed parser will read it."""

from __future__ import annotations

import email
import re

from parsers.mail_policy import default_policy

_SIMPLE_TYPE = re.compile(rb"[^:]*:\s*([^;\s]*)")


def content_type(ctype: bytes | None, default: bytes) -> tuple[bytes, bytes, bytes | None]:
    """(maintype, subtype, boundary or None) as the feed parser will read this
    Content-Type field; the default type when there is none.

    A type that cannot be a multipart or an email is read here; any other is given to
    the standard library itself (on this one field, already cut to size), so encoded
    words, RFC 2231 parameters and comments are read exactly as the parser reads them.
    """
    if ctype is None:
        maintype, _, subtype = default.partition(b"/")
        return maintype, subtype, None
    lowered = ctype.lower()
    if b"=?" not in ctype and b"multipart" not in lowered and b"message" not in lowered:
        match = _SIMPLE_TYPE.match(lowered)
        text = match.group(1) if match is not None else b""
        maintype, _, subtype = (text if text.count(b"/") == 1 else b"text/plain").partition(b"/")
        return maintype, subtype, None
    simple = _simple_multipart(ctype, lowered)
    if simple is not None:
        return simple
    try:
        one = email.message_from_bytes(ctype.rstrip(b"\r\n") + b"\r\n\r\n", policy=default_policy)
        text = one.get_content_type().encode("ascii", "surrogateescape")
        found = one.get_boundary()
        boundary = found.encode("ascii", "surrogateescape") if found is not None else None
    except (Exception, RecursionError):  # noqa: BLE001 - any failure reads as text
        # A boundary no line can match (not ASCII), or a field the parser cannot read:
        # the part holds no parts the parser would find.
        return b"text", b"plain", None
    maintype, _, subtype = text.partition(b"/")
    return maintype, subtype, boundary


# One plain boundary parameter, quoted or not, on one line: as nearly every mailer
# writes it. Anything else (comments, encoded words, RFC 2231 pieces, escapes, folded
# lines, a second boundary) goes to the standard library's parser.
_TOKEN = rb"[A-Za-z0-9!#$&+.^_`{|}~-]+"  # RFC 2045 token characters, less % ' and *
_PLAIN_MULTIPART = re.compile(
    rb"[^:]*:[ \t]*multipart/([a-z0-9.+-]+)[ \t]*"
    rb'(?:;[ \t]*[a-z0-9_.-]+[ \t]*=[ \t]*(?:"[^"\\\r\n;]*"|' + _TOKEN + rb")[ \t]*)*"
    rb";?[ \t]*\r?\n?\Z",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(
    rb';[ \t]*boundary[ \t]*=[ \t]*(?:"([^"]*)"|(' + _TOKEN + rb"))", re.IGNORECASE
)


def _simple_multipart(ctype: bytes, lowered: bytes) -> tuple[bytes, bytes, bytes | None] | None:
    """(b"multipart", subtype, boundary) for a plainly written multipart type, as the
    standard library reads it (about 1 ms a field there); None for any other."""
    if lowered.count(b"boundary") != 1 or any(c in ctype for c in (b"(", b"*", b"=?", b"\\")):
        return None
    match = _PLAIN_MULTIPART.match(lowered)
    if match is None:
        return None
    found = _BOUNDARY.search(ctype, pos=lowered.index(b":"))
    if found is None:
        return None
    boundary = found.group(1) if found.group(1) is not None else found.group(2)
    return b"multipart", match.group(1), boundary
