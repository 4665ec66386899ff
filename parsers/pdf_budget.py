"""How much a PDF asks pdfium to draw, counted from its streams before pdfium loads a page."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pypdf
from pypdf.generic import IndirectObject, NameObject

from parsers.limits import MIB, PDFIUM_MAX_FORM_LEVEL, OverLimit, PdfLimits

# pdfium parses a whole page when it is loaded: it inflates content streams without limit
# and expands each form XObject every time it is drawn, so a 3.7 KB file of forms drawing
# forms (1.6 GB) or a 176 KB deflated stream of strokes (2.8 GB) is spent inside pdfium
# before any of our code sees one object. Here the same streams are read with pypdf
# instead: each is inflated at most up to the page's byte budget, its drawing operators are
# counted, and a form's count is multiplied by the times it is drawn, never expanded.
# The count follows pdfium's rules for forms: resources looked up in the form, then the
# page; forms drawn inside forms followed 40 levels down, and no further. pdfium does not
# notice a form that draws itself (each drawing inflates the stream anew, and its loop
# check compares buffers), so a 700-byte form drawing itself twice is drawn 2^40 times and
# loading the page never ends: here it counts like any other. The count errs high: text
# that happens to read like an operator is counted too.

_DELIMS = rb"\s\[\]()<>{}/%"
# An operator is a token standing between delimiters; these are the ones that draw
# (path segments and rectangles, text shown, images, forms and shadings drawn).
_OPERATOR = re.compile(
    rb"(?<![^" + _DELIMS + rb"])(?:re|m|l|c|v|y|Tj|TJ|'|\"|Do|BI|sh)(?![^" + _DELIMS + rb"])"
)
# A named XObject drawn: "/Name Do".
_DRAWN = re.compile(rb"/([^" + _DELIMS + rb"]*)\s*Do(?![^" + _DELIMS + rb"])")
_FLATE = ("/FlateDecode", "/Fl")
_CHUNK = 1 << 16
_DELIM = re.compile(rb"[" + _DELIMS + rb"]")


def _count_operators(data: bytes) -> int:
    """Drawing operators in a content stream, counted in C a chunk at a time: each chunk
    ends just after a delimiter, so no operator is split or miscounted, and a list of
    matches never holds more than one chunk's (a hostile stream has millions)."""
    count, start, size = 0, 0, len(data)
    while start < size:
        end = min(start + _CHUNK, size)
        if end < size:
            delim = _DELIM.search(data, end)
            end = delim.end() if delim is not None else size
        # pos/endpos, not a slice: the look-behind still sees the byte before `start`.
        count += len(_OPERATOR.findall(data, start, end))
        start = end
    return count


@dataclass
class _Cost:
    """Drawing operations and inflated bytes, and whether the figure may be reused."""

    ops: int = 0
    size: int = 0
    # False when the level limit cut the count, or resources were inherited: the same
    # form may count more when drawn from elsewhere, so it is not remembered.
    exact: bool = True


@dataclass(frozen=True)
class _Stream:
    """What one content stream holds by itself."""

    ops: int
    size: int
    drawn: dict[str, int]  # XObject name -> times drawn


class _OverPage(Exception):
    """The page being counted is over a limit; `what` says which."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def check_drawing(reader: pypdf.PdfReader, limits: PdfLimits) -> None:
    """Raise OverLimit when the PDF has too many pages, or a page read (or the pages
    read together) would have pdfium draw more than a referral form could. Bounded
    work whatever the file holds (past pypdf's own reading of the page list)."""
    pages = len(reader.pages)
    if pages > limits.document_pages:
        raise OverLimit(
            f"the PDF has {pages:,} pages, far more than a referral form could be part of "
            f"(at most {limits.document_pages:,})"
        )
    try:
        # First with each stream's operators bounded by its length (an operator takes a
        # byte and a delimiter): no form comes near the limits that way, and counting
        # them one by one was half of this check's time. Every figure only adds or
        # multiplies, so within the limits by the bound is within them exactly.
        _count_pages(reader, limits, exact=False)
    except OverLimit:
        _count_pages(reader, limits, exact=True)  # the exact count decides


def _count_pages(reader: pypdf.PdfReader, limits: PdfLimits, exact: bool) -> None:
    counter = _Counter(limits, exact)
    ops = size = 0
    for n, page in enumerate(reader.pages[: limits.max_pages], start=1):
        try:
            cost = counter.page(page)
        except _OverPage as over:
            raise OverLimit(_reason(over.what, limits, f"page {n}")) from None
        ops += cost.ops
        size += cost.size
        if ops > limits.document_drawing:
            raise OverLimit(
                "the PDF has more drawing than a referral form could "
                f"(over {limits.document_drawing:,} objects in its first pages)"
            )
        if size > limits.document_content_bytes:
            raise OverLimit(
                "the PDF holds more content than a referral form could "
                f"(over {limits.document_content_bytes // MIB} MB in its first pages)"
            )


def _reason(what: str, limits: PdfLimits, where: str) -> str:
    if what == "size":
        return (
            f"the PDF has more content on {where} than a referral form could "
            f"(over {limits.page_content_bytes // MIB} MB)"
        )
    return (
        f"the PDF has more drawing on {where} than a referral form could "
        f"(over {limits.page_drawing:,} objects)"
    )


class _Counter:
    """Counts pages of one document, remembering streams and forms across pages."""

    def __init__(self, limits: PdfLimits, exact: bool = True) -> None:
        self.limits = limits
        self.exact = exact  # False: a stream's operators are bounded by its length
        self._streams: dict[object, _Stream] = {}
        self._forms: dict[object, _Cost] = {}
        self._visits = 0

    def page(self, page: Any) -> _Cost:
        """The page's drawing: its content streams and every form they draw."""
        self._visits = 0
        resources = _dict(page.get("/Resources"))
        total = _Cost()
        for key, stream in _contents(page.get("/Contents")):
            self._add(total, self._stream(key, stream), resources, resources, 1)
        return total

    def _add(self, total: _Cost, own: _Stream, resources: Any, page_res: Any, level: int) -> None:
        total.ops += own.ops
        total.size += own.size
        self._check(total)
        for name, times in own.drawn.items():
            found, inherited = _lookup(resources, page_res, name)
            if found is None:
                continue
            key, form = found
            if form.get("/Subtype") != "/Form":
                continue  # an image: one operation, already counted
            sub = self._form(key, form, resources, page_res, level)
            total.ops += times * sub.ops
            total.size += times * sub.size
            total.exact = total.exact and sub.exact and not inherited
            self._check(total)

    def _form(self, key: object, form: Any, parent_res: Any, page_res: Any, level: int) -> _Cost:
        known = self._forms.get(key)
        if known is not None:
            return known
        if level > PDFIUM_MAX_FORM_LEVEL:
            return _Cost(exact=False)  # pdfium draws nothing this deep either
        # Every form counted here is one pdfium would draw (what is remembered is not
        # counted again): past the page's limit of operations the page is over it,
        # however few operations each form holds.
        self._visits += 1
        if self._visits > self.limits.page_drawing:
            raise _OverPage("ops")
        own_res = _dict(form.get("/Resources"))
        cost = _Cost(exact=own_res is not None)
        resources = own_res if own_res is not None else parent_res
        self._add(cost, self._stream(key, form), resources, page_res, level + 1)
        if cost.exact:
            self._forms[key] = cost
        return cost

    def _stream(self, key: object, stream: Any) -> _Stream:
        known = self._streams.get(key)
        if known is None:
            data = _inflated(stream, self.limits.page_content_bytes)
            if data is None:
                raise _OverPage("size")
            drawn: Counter[str] = Counter(_name(m.group(1)) for m in _DRAWN.finditer(data))
            ops = _count_operators(data) if self.exact else (len(data) + 1) // 2
            known = self._streams[key] = _Stream(ops, len(data), dict(drawn))
        return known

    def _check(self, cost: _Cost) -> None:
        # A form costs at most what the page drawing it costs: over the page's limit
        # anywhere is over it for the page.
        if cost.ops > self.limits.page_drawing:
            raise _OverPage("ops")
        if cost.size > self.limits.page_content_bytes:
            raise _OverPage("size")


def _dict(value: Any) -> Any:
    """A dictionary behind a reference, or None."""
    obj = value.get_object() if value is not None else None
    return obj if isinstance(obj, dict) else None


def _key(ref: Any) -> object:
    if isinstance(ref, IndirectObject):
        return (ref.idnum, ref.generation)
    return id(ref)  # a direct object lives as long as the reader that holds it


def _contents(value: Any) -> list[tuple[object, Any]]:
    """The page's content streams, each with a key to remember it by."""
    if value is None:
        return []
    obj = value.get_object()
    refs = list(obj) if isinstance(obj, list) else [value]
    out = []
    for ref in refs:
        stream = ref.get_object() if ref is not None else None
        if isinstance(stream, pypdf.generic.StreamObject):
            out.append((_key(ref), stream))
    return out


def _lookup(resources: Any, page_res: Any, name: str) -> tuple[tuple[object, Any] | None, bool]:
    """(key, XObject) for a name drawn, from the resources, else the page's (as pdfium
    does); and whether the page's were needed."""
    for where, inherited in ((resources, False), (page_res, True)):
        xobjects = _dict(where.get("/XObject")) if where is not None else None
        if xobjects is not None and name in xobjects:
            ref = xobjects.raw_get(name)
            obj = ref.get_object() if ref is not None else None
            if isinstance(obj, pypdf.generic.StreamObject):
                return (_key(ref), obj), inherited
            return None, inherited
    return None, False


def _name(raw: bytes) -> str:
    """A name as pypdf spells a dictionary key: #xx escapes undone, same character sets."""
    data = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    for charset in NameObject.CHARSETS:
        try:
            return "/" + data.decode(charset)
        except UnicodeDecodeError:
            continue
    return "/" + data.decode("charmap")


def _inflated(stream: Any, limit: int) -> bytes | None:
    """The stream's decoded bytes, or None when they are more than `limit`.

    Deflated streams (nearly all) are inflated here, stopping at the limit; a damaged
    one gives what came out before the damage, as pdfium shows it. Other filters go
    through pypdf, which has its own output limits.
    """
    raw: bytes = getattr(stream, "_data", b"") or b""
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters or "")]
    names = [n for n in names if n]
    if not names:
        return raw if len(raw) <= limit else None
    parms = stream.get("/DecodeParms")
    if len(names) == 1 and names[0] in _FLATE and not parms:
        out = bytearray()
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        for at in range(0, len(raw), _CHUNK):
            try:
                out += inflater.decompress(raw[at : at + _CHUNK], limit + 1 - len(out))
            except zlib.error:
                break
            if len(out) > limit:
                return None
        return bytes(out)
    try:
        data = stream.get_data()
    except Exception:  # noqa: BLE001 - undecodable: pdfium cannot draw it either
        return b""
    return data if len(data) <= limit else None
