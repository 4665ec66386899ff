"""Positioned words from a PDF page's characters, read with pdfium.

The words are grouped the way pdfplumber's `extract_words` groups characters (default
tolerances), from pdfium's text page. Coordinates are pdfplumber's: points from the
page's top-left corner, y growing down.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from parsers.pdf_text import Word
from parsers.symbols import map_symbol_text

X_TOLERANCE = 3.0  # pdfplumber's default gap that still joins two characters
Y_TOLERANCE = 3.0
DESCENT = 0.2  # share of the font size below the baseline (pdfminer uses the font's own)
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}


def returning_address(fn: Any, *argtypes: Any) -> Any:
    """The same pdfium function, returning its pointer as a plain int (hashable, no cast)."""
    address = ctypes.cast(fn, ctypes.c_void_p).value
    assert address, "pdfium function not loaded"
    return ctypes.CFUNCTYPE(ctypes.c_void_p, *argtypes)(address)


# Called once per character: a plain int result spares a ctypes.cast each time.
_TEXT_OBJECT = returning_address(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p, ctypes.c_int)


def taking_addresses(fn: Any, *argtypes: Any) -> Any:
    """The same pdfium function taking plain addresses: ctypes converts an int to a
    void pointer far faster than it checks and converts a typed pointer (per character)."""
    address = ctypes.cast(fn, ctypes.c_void_p).value
    assert address, "pdfium function not loaded"
    return ctypes.CFUNCTYPE(ctypes.c_int, *argtypes)(address)


_LOOSE_BOX = taking_addresses(
    pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p
)
_ORIGIN = taking_addresses(
    pdfium_c.FPDFText_GetCharOrigin,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_void_p,
)
_OBJECT_FONT = returning_address(pdfium_c.FPDFTextObj_GetFont, ctypes.c_void_p)
_FONT_SIZE = taking_addresses(pdfium_c.FPDFTextObj_GetFontSize, ctypes.c_void_p, ctypes.c_void_p)
_UNLIGATE = str.maketrans(LIGATURES)


@dataclass
class _Font:
    name: str
    size: float
    bold: bool = False


_NO_FONT = _Font("", 10.0)  # a character pdfium ties to no text object


def page_words(textpage: pdfium.PdfTextPage, llx: float, ury: float) -> list[Word]:
    """Characters grouped into words like pdfplumber's extract_words (default tolerances).

    A word ends at a space, at a gap wider than X_TOLERANCE, when the text moves to
    another line, or where the font or size changes (so a tick glyph set in a symbol
    font is its own word).

    pdfium's text already holds a space (its own, where the gap called for one) or a
    line break between words. So each run of non-space characters whose first and last
    characters come from the same text object (one font, one line) is one word, read
    from two character boxes; only the other runs are read character by character.
    Three calls into pdfium a character cost a 4-page form ~9 ms; this costs ~2 ms.
    """
    tp = textpage.raw
    n = pdfium_c.FPDFText_CountChars(tp)
    if n <= 0:
        return []
    reader = _CharReader(tp, llx, ury)
    text = _page_text(tp, n)
    words: list[Word] = []
    for run in _RUN.finditer(text):
        first, end = run.span()
        raw = run.group()
        if "\x02" in raw or "\ufffe" in raw:
            # pdfium's mark for a hyphen it takes for a soft one; the glyph is on the page.
            raw = raw.replace("\x02", "-").replace("\ufffe", "-")
        piece = reader.whole(raw, first, end - 1)
        for text, x0, x1, base, font in [piece] if piece else reader.split(raw, first):
            if not text.isascii():
                text = text.translate(_UNLIGATE)
            mapped = map_symbol_text(font.name, text)
            if mapped.strip():
                bottom = base + DESCENT * font.size
                words.append(
                    Word(mapped, x0, x1, bottom - font.size, bottom, font.size, bold=font.bold)
                )
    return words


# A run of characters between pdfium's spaces and line breaks (NUL counts as a space).
_RUN = re.compile(r"[^\s\x00]+")


# A run's text, left and right edges, baseline and font.
_Piece = tuple[str, float, float, float, "_Font"]


class _CharReader:
    """Boxes, baselines and fonts of a text page's characters, by index."""

    def __init__(self, tp: Any, llx: float, ury: float) -> None:
        self.address = ctypes.cast(tp, ctypes.c_void_p).value
        self.llx, self.ury = llx, ury
        self.rect = pdfium_c.FS_RECTF()
        self.ox, self.oy = ctypes.c_double(), ctypes.c_double()
        self.at_rect = ctypes.addressof(self.rect)
        self.at_ox, self.at_oy = ctypes.addressof(self.ox), ctypes.addressof(self.oy)
        # The rectangle's four floats (left, top, right, bottom) read as one array view.
        self.box = (ctypes.c_float * 4).from_address(self.at_rect)
        self.fonts: dict[int, _Font] = {}  # by text object
        self.names: dict[int, str] = {}  # by font handle: objects share a few fonts
        self.shared: dict[tuple[str, float], _Font] = {}
        self.size = ctypes.c_float()
        self.at_size = ctypes.addressof(self.size)

    def font(self, i: int) -> tuple[int, _Font]:
        """The character's text object, and its font's name and effective size (the
        text matrix's scale applied); one _Font for each name and size."""
        key = _TEXT_OBJECT(self.address, i) or 0
        font = self.fonts.get(key)
        if font is None:
            font = self.fonts[key] = self._font_of(key)
        return key, font

    def _font_of(self, obj: int) -> _Font:
        if not obj:
            return _NO_FONT
        handle = _OBJECT_FONT(obj) or 0
        name = self.names.get(handle)
        if name is None:
            name = self.names[handle] = _font_name(handle) if handle else ""
        size = 10.0
        if _FONT_SIZE(obj, self.at_size):
            size = float(self.size.value) or 10.0
        font = self.shared.get((name, size))
        if font is None:
            font = self.shared[(name, size)] = _Font(name, size, bool(_BOLD_NAME.search(name)))
        return font

    def baseline(self, i: int) -> float:
        # The baseline, not the box: pdfium's "loose" box still dips for descenders
        # in some fonts, which would split "Liverpool" at the "p".
        _ORIGIN(self.address, i, self.at_ox, self.at_oy)
        return self.ury - self.oy.value

    def whole(self, raw: str, first: int, last: int) -> _Piece | None:
        """The run as one word, when one text object holds it on one line; else None."""
        key, font = self.font(first)
        box = self.box
        _LOOSE_BOX(self.address, first, self.at_rect)
        x0, x1, top = box[0] - self.llx, box[2] - self.llx, box[1]
        if last > first:
            if (_TEXT_OBJECT(self.address, last) or 0) != key:
                return None
            _LOOSE_BOX(self.address, last, self.at_rect)
            # Same object and font: the same box top on the same line. Wider than its
            # characters could be: a gap inside it, which pdfium may not have spaced.
            if abs(box[1] - top) > Y_TOLERANCE or box[0] - self.llx < x0:
                return None
            x1 = max(x1, box[2] - self.llx)
            if x1 - x0 > (last - first + 1) * font.size + X_TOLERANCE:
                return None
        return raw, x0, x1, self.baseline(first), font

    def split(self, raw: str, first: int) -> list[_Piece]:
        """The run split at gaps, line changes and font changes, character by character."""
        out: list[_Piece] = []
        box = self.box
        w_x0 = w_x1 = base = prev_x0 = prev_x1 = 0.0
        w_font = _NO_FONT
        start = 0
        for j in range(len(raw)):
            i = first + j
            _, font = self.font(i)
            _LOOSE_BOX(self.address, i, self.at_rect)
            x0, x1 = box[0] - self.llx, box[2] - self.llx
            y = self.baseline(i)
            if j > start and (
                font is not w_font
                and (font.name != w_font.name or abs(font.size - w_font.size) > 0.01)
                or x0 < prev_x0  # back to the left: another line or column
                or x0 > prev_x1 + X_TOLERANCE
                or abs(y - base) > Y_TOLERANCE
            ):
                out.append((raw[start:j], w_x0, w_x1, base, w_font))
                start = j
            if j == start:
                w_x0, w_x1, w_font, base = x0, x1, font, y
            if x1 > w_x1:
                w_x1 = x1
            prev_x0, prev_x1 = x0, x1
        out.append((raw[start:], w_x0, w_x1, base, w_font))
        return out


def _page_text(tp: Any, n: int) -> str:
    """The page's characters, one per pdfium index."""
    buf = ctypes.create_string_buffer((n + 1) * 2)
    got = pdfium_c.FPDFText_GetText(tp, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
    text = buf.raw[: max(got - 1, 0) * 2].decode("utf-16-le", errors="replace")
    if len(text) != n:  # characters outside the BMP take two UTF-16 units: go one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(tp, i) or 0xFFFE) for i in range(n))
    return text


def _font_name(handle: int) -> str:
    """A font's base name ("ABCDEF+Calibri-Bold"), from its pdfium handle."""
    buf = ctypes.create_string_buffer(256)
    font = ctypes.cast(ctypes.c_void_p(handle), pdfium_c.FPDF_FONT)
    length = pdfium_c.FPDFFont_GetBaseFontName(font, buf, 256)
    return buf.raw[: max(length - 1, 0)].decode("utf-8", errors="replace")


# Bold is in the font's name in PDFs made from Word ("Calibri-Bold", "Arial,BoldItalic",
# "ABCDEF+LiberationSans-Bold"); the weight field is unset in many of them.
_BOLD_NAME = re.compile(r"bold|black|heavy|,b$", re.IGNORECASE)
