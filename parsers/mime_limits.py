"""One pass over an email's bytes, so the standard library's parser only sees it within limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.content_type import content_type
from parsers.limits import (
    KIB,
    MAX_HEADER_BLOCK_BYTES,
    MAX_HEADER_COMMENT_DEPTH,
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADER_TOTAL_BYTES,
    MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    MAX_PART_HEADER_BYTES,
)

# The standard library's email parser is slow or recursive in ways an email can exploit:
# its header parser costs about 10-30 microseconds a byte for structured fields (From,
# Content-Type...) and the square of the length for long ones (a 5 MB Subject: minutes),
# and re-parses a field each time it is read; it recurses once per bracket in a comment
# (RecursionError at about a thousand) and once per nested part (the same near a
# thousand), and checks every line against every open boundary. Here, before it parses,
# the email's structure is followed the way its feed parser follows it (header blocks,
# boundary lines, attached emails, delivery-report blocks) and, in the copy it is given:
#
# - a header field longer than MAX_HEADER_FIELD_BYTES is cut; one with brackets nested
#   past MAX_HEADER_COMMENT_DEPTH is dropped; copies of a field that may appear only once
#   share the room of one field; a block stops at MAX_HEADER_BLOCK_BYTES;
# - the header fields of parts that the readers parse (Content-*, delivery-report blocks)
#   share one budget, MAX_PART_HEADER_BYTES; past it they are dropped (the part is text);
# - a part nested past MAX_MIME_DEPTH becomes plain text; after MAX_MIME_PARTS parts, or
#   MAX_HEADER_TOTAL_BYTES of header lines, the rest of the email is left out.
#
# The body is searched for boundary lines with one regular expression (in C); only
# header lines are visited one by one.
#
# The stored bytes never change. `problem()` says, in plain words, when an email broke a
# limit (and so was not read whole).

_EOL = re.compile(rb"\r\n|\r|\n")
# What the standard library's feed parser takes for a header line (email.feedparser).
_HEADER_LINE = re.compile(rb"From |[\041-\071\073-\176]*:|[\t ]")
_PLAIN = b"Content-Type: text/plain"
# Fields an email or part may have once (RFC 5322 3.6, RFC 2045), which the readers ask
# for: asking parses every copy, so the copies together must fit one field's room.
_ONCE = frozenset(
    {
        b"from",
        b"sender",
        b"reply-to",
        b"to",
        b"cc",
        b"bcc",
        b"subject",
        b"date",
        b"message-id",
        b"in-reply-to",
        b"references",
        b"mime-version",
        b"content-type",
        b"content-disposition",
        b"content-transfer-encoding",
        b"content-id",
        b"content-description",
    }
)


def is_blank(line: bytes) -> bool:
    """True for an empty line (only its line break), which ends a header block."""
    return line[:1] in (b"\r", b"\n")


def is_header_line(line: bytes) -> bool:
    """True for a line the feed parser reads as a header (or a folded part of one)."""
    return _HEADER_LINE.match(line) is not None


@dataclass(frozen=True)
class _Frame:
    """A part that holds parts: a multipart (its "--boundary") or an attached email."""

    prefix: bytes | None
    digest: bool = False  # multipart/digest: its parts are emails unless they say otherwise


@dataclass
class _Block:
    """One header block while it is read."""

    start: int
    end: int = 0  # where its fields end (before the empty line)
    size: int = 0  # bytes of fields kept
    once: dict[bytes, int] = field(default_factory=dict)  # bytes kept of each _ONCE field
    ctype: bytes | None = None  # the first Content-Type field, as kept
    ctype_at: tuple[int, int] | None = None


# After "--boundary": "--" when it closes, blanks, then the line break (or the end).
_SEPARATOR_TAIL = rb"(--)?[ \t]*(?:\r\n|\r|\n|\Z)"


@dataclass
class Scan:
    """An email's bytes followed as the feed parser follows them; `data` is the copy the
    parser may be given, the flags say which limits were reached."""

    raw: bytes
    big_block: bool = False  # a header block over MAX_HEADER_BLOCK_BYTES (fields dropped)
    long_field: bool = False  # a field over MAX_HEADER_FIELD_BYTES (cut)
    deep_comment: bool = False  # brackets nested past MAX_HEADER_COMMENT_DEPTH (dropped)
    busy_parts: bool = False  # part headers past MAX_PART_HEADER_BYTES (dropped)
    too_deep: bool = False  # parts nested past MAX_MIME_DEPTH (made plain text)
    too_many: bool = False  # parts past MAX_MIME_PARTS, or header lines past
    # MAX_HEADER_TOTAL_BYTES (the rest of the email left out)
    edits: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # start: (end, new)
    stack: list[_Frame] = field(default_factory=list)
    parts: int = 0
    part_bytes: int = 0  # part header bytes kept, against MAX_PART_HEADER_BYTES
    header_bytes: int = 0  # header lines read, against MAX_HEADER_TOTAL_BYTES
    _patterns: dict[tuple[bytes, ...], tuple[re.Pattern[bytes], re.Pattern[bytes]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        at, state, default = 0, "headers", b"text/plain"
        while at < len(self.raw):
            if state == "body":
                at, state, default = self._body(at)
            elif state == "report":
                at, state, default = self._report(at)
            else:
                at, state, default = self._part(at, default)

    @property
    def data(self) -> bytes:
        """The email with every edit made (the same bytes when there is none)."""
        if not self.edits:
            return self.raw
        out: list[bytes] = []
        at = 0
        for start in sorted(self.edits):
            end, new = self.edits[start]
            out += (self.raw[at:start], new)
            at = end
        out.append(self.raw[at:])
        return b"".join(out)

    def problem(self) -> str | None:
        """Why the email was not read whole, in plain words safe to send back, or None."""
        if self.big_block:
            return (
                "the email's headers are far larger than any real email's "
                f"(over {MAX_HEADER_BLOCK_BYTES // KIB} KB); it was not read"
            )
        if self.too_deep:
            return (
                f"the email has parts nested more than {MAX_MIME_DEPTH} deep, which no real "
                "email has; it was not read"
            )
        if self.too_many:
            return (
                f"the email has more parts (over {MAX_MIME_PARTS}) or header lines than a "
                "real email has; it was not read"
            )
        if self.busy_parts:
            return (
                "the email's parts carry far more header data than a real email's; it was not read"
            )
        if self.deep_comment:
            return (
                "a header of the email is malformed (brackets nested too deeply); it was not read"
            )
        return None

    # -- lines ----------------------------------------------------------------------

    def _line_end(self, at: int) -> int:
        match = _EOL.search(self.raw, at)
        return match.end() if match is not None else len(self.raw)

    def _separators(self) -> tuple[re.Pattern[bytes], re.Pattern[bytes]] | None:
        """For the open multiparts: a pattern for a boundary line at a given place, and
        one that finds the next boundary line after a line break (in C, not line by line:
        a body of a million lines like "--boundary1" costs no more than any other)."""
        prefixes = tuple(f.prefix for f in self.stack if f.prefix is not None)
        if not prefixes:
            return None
        found = self._patterns.get(prefixes)
        if found is None:
            alt = b"(?:" + b"|".join(re.escape(p) for p in prefixes) + b")"
            found = (
                re.compile(alt + _SEPARATOR_TAIL),
                re.compile(rb"[\r\n]" + alt + _SEPARATOR_TAIL),
            )
            self._patterns[prefixes] = found
        return found

    def _separator(self, at: int) -> tuple[int, bool] | None:
        """(index in the stack, closing) when the line at `at` is a boundary line of an
        open multipart, the innermost first, as the feed parser checks them."""
        raw = self.raw
        if not raw.startswith(b"--", at):
            return None
        for k in range(len(self.stack) - 1, -1, -1):
            prefix = self.stack[k].prefix
            if prefix is None or not raw.startswith(prefix, at):
                continue
            match = re.compile(re.escape(prefix) + _SEPARATOR_TAIL).match(raw, at)
            if match is not None:
                return k, match.group(1) is not None
        return None

    def _boundary(self, at: int) -> tuple[int, str, bytes]:
        """At a boundary line: the next part's headers, or the rest of the outer part."""
        found = self._separator(at)
        end = self._line_end(at)
        if found is None:  # cannot be: callers found a boundary line here
            return end, "body", b"text/plain"
        k, closing = found
        digest = self.stack[k].digest
        del self.stack[k if closing else k + 1 :]
        if closing:
            return end, "body", b"text/plain"
        self.parts += 1
        if self.parts > MAX_MIME_PARTS:
            self.too_many = True
            self.edits[at] = (len(self.raw), b"")  # the rest of the email is left out
            return len(self.raw), "body", b"text/plain"
        return end, "headers", b"message/rfc822" if digest else b"text/plain"

    # -- states ---------------------------------------------------------------------

    def _body(self, at: int) -> tuple[int, str, bytes]:
        """Content, up to the next boundary line of an open multipart (or the end)."""
        patterns = self._separators()
        if patterns is None:
            return len(self.raw), "body", b"text/plain"
        here, after = patterns
        if here.match(self.raw, at) is None:
            match = after.search(self.raw, at)
            if match is None:
                return len(self.raw), "body", b"text/plain"
            at = match.start() + 1
        return self._boundary(at)

    def _report(self, at: int) -> tuple[int, str, bytes]:
        """A delivery report's content: blocks of header fields (each one read when the
        bounce is read), up to the next boundary line."""
        while at < len(self.raw):
            at, ended, _block = self._headers(at, "report")
            if ended == "boundary":
                return self._boundary(at)
            if ended == "other":
                at = self._line_end(at)  # no header line: left as it is
        return at, "body", b"text/plain"

    def _part(self, at: int, default: bytes) -> tuple[int, str, bytes]:
        """A part's (or an email's) header block, then where its content leads."""
        at, ended, block = self._headers(at, "part" if self.stack or self.parts else "email")
        if ended == "boundary":
            return self._boundary(at)
        maintype, subtype, boundary = content_type(block.ctype, default)
        nested = maintype == b"message" and subtype != b"delivery-status"
        container = nested or (maintype == b"multipart" and boundary is not None)
        if container and len(self.stack) >= MAX_MIME_DEPTH:
            # Too deep to open: the parser reads the part as text and never goes in.
            self.too_deep = True
            self._make_plain(block)
            return at, "body", b"text/plain"
        if maintype == b"message" and subtype == b"delivery-status":
            return at, "report", b"text/plain"
        if nested:
            self.stack.append(_Frame(None))
            return at, "headers", b"text/plain"
        if maintype == b"multipart" and boundary is not None:
            self.stack.append(_Frame(b"--" + boundary, digest=subtype == b"digest"))
        return at, "body", b"text/plain"

    def _headers(self, at: int, kind: str) -> tuple[int, str, _Block]:
        """One header block from `at` ("email": the email's own, "part", or "report": a
        block of a delivery report), each field kept, cut or dropped.

        Returns where reading stopped and why: "blank" (the empty line ending the block
        was read), "other" (a line that is no header: the parser takes it as content),
        "boundary" (a boundary line of an open multipart, not read) or "end".
        """
        raw = self.raw
        block = _Block(at)
        start = -1  # the field being read
        ended = "end"
        while at < len(raw):
            end = self._line_end(at)
            # Header lines are read one by one, here and by the parser (a long line once,
            # and it is cut): past this, the rest of the email is left out.
            self.header_bytes += min(end - at, MAX_HEADER_FIELD_BYTES)
            if self.header_bytes > MAX_HEADER_TOTAL_BYTES:
                self.too_many = True
                self.big_block = self.big_block or end - block.start > MAX_HEADER_BLOCK_BYTES
                self.edits[at] = (len(raw), b"")
                if start >= 0:
                    self._field(block, start, at, kind)
                block.end = at
                return len(raw), "end", block
            line = raw[at:end]
            if self._separator(at) is not None:
                ended = "boundary"
            elif is_blank(line):
                ended = "blank"
            elif not is_header_line(line):
                ended = "other"
            elif line[:1] in (b" ", b"\t") and start >= 0:
                at = end  # a folded line of the field being read
                continue
            else:
                if start >= 0:
                    self._field(block, start, at, kind)
                start, at = at, end
                continue
            break
        if start >= 0:
            self._field(block, start, at, kind)
        block.end = at
        if at - block.start > MAX_HEADER_BLOCK_BYTES:
            self.big_block = True
        if ended == "blank":
            at = self._line_end(at)
        return at, ended, block

    def _field(self, block: _Block, start: int, end: int, kind: str) -> None:
        """Keep, cut or drop the header field raw[start:end] (with its folded lines)."""
        raw = self.raw
        name = raw[start : min(end, start + 200)].partition(b":")[0].strip().lower()
        kept: bytes | None = None  # None: kept as it is
        if end - start > MAX_HEADER_FIELD_BYTES:
            self.long_field = True
            kept = _cut(raw, start, end, MAX_HEADER_FIELD_BYTES)
        value = raw[start:end] if kept is None else kept
        # The readers parse the Content- fields of every part, and every field of a
        # delivery report's blocks: those share one budget over the whole email.
        counted = kind == "report" or (kind == "part" and name.startswith(b"content-"))
        if _comment_depth(value) > MAX_HEADER_COMMENT_DEPTH:
            self.deep_comment = True
            kept = b""
        elif name in _ONCE and block.once.get(name, 0) + len(value) > MAX_HEADER_FIELD_BYTES:
            # Copies of a field that may appear once are all read when one is asked for:
            # together they get the room of one field.
            kept = b""
        elif block.size + len(value) > MAX_HEADER_BLOCK_BYTES:
            kept = b""  # the block is full: later fields are not read
        elif counted and self.part_bytes + len(value) > MAX_PART_HEADER_BYTES:
            self.busy_parts = True
            kept = b""
        if kept is not None:
            self.edits[start] = (end, kept)
        if kept == b"":
            return
        block.size += len(value)
        if name in _ONCE:
            block.once[name] = block.once.get(name, 0) + len(value)
        if counted:
            self.part_bytes += len(value)
        if name == b"content-type" and block.ctype is None:
            block.ctype = value
            block.ctype_at = (start, end)

    def _make_plain(self, block: _Block) -> None:
        """Make the part of this header block plain text: its Content-Type replaced (or
        one added, for a part that is an email by default)."""
        if block.ctype_at is not None:
            start, end = block.ctype_at
            eol = _EOL.search(self.raw, start, end)
            self.edits[start] = (end, _PLAIN + (eol.group() if eol is not None else b"\r\n"))
        else:
            self.edits[block.end] = (block.end, _PLAIN + b"\r\n")


def _cut(raw: bytes, start: int, end: int, cap: int) -> bytes:
    """The field raw[start:end] cut to at most `cap` bytes, ending with a line break."""
    piece = raw[start : start + cap]
    if _EOL.search(piece) is not None:
        last = max(piece.rfind(b"\n"), piece.rfind(b"\r"))
        return piece[: last + 1]  # whole lines only
    eol = _EOL.search(raw, start, end)
    return piece[: cap - 2].rstrip(b"\r\n") + (eol.group() if eol is not None else b"\r\n")


def _comment_depth(value: bytes) -> int:
    """How deep brackets nest in a header field (escaped ones left out)."""
    if value.count(b"(") <= MAX_HEADER_COMMENT_DEPTH:
        return 0  # cannot nest deeper than there are brackets
    depth = deepest = 0
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == 0x5C:  # backslash
            escaped = True
        elif ch == 0x28:  # (
            depth += 1
            deepest = max(deepest, depth)
        elif ch == 0x29 and depth:  # )
            depth -= 1
    return deepest
