"""OCR words, ruling lines and tick boxes as a PDF page's content, in points."""

from __future__ import annotations

import difflib
import re
import statistics
from dataclasses import dataclass
from typing import Any

from parsers.formdef import normalise_label
from parsers.layout import CHECKED, UNCHECKED
from parsers.pdf_page import PageContent
from parsers.pdf_text import Word
from parsers.scan_marks import TickBox
from parsers.scan_ocr import OcrWord
from parsers.scan_page import PageRead
from parsers.scan_slots import TICK_MARKS

# Tesseract's x_size is the line's height from descender to ascender; a font's size is
# about 1.2 times that (DejaVu 10 pt: x_size 8.2 pt), so sizes compare with a PDF's.
SIZE_PER_X_SIZE = 1.2
DESCENT = 0.2  # share of the size below the baseline, as `pdf_page` places words
# Below this Tesseract confidence a word is not typed text read (handwriting, a smudge,
# a stamp): it is never given as part of a value (see `scan_values`).
SCRIBBLE_CONF = 30.0
PLACEHOLDER_SIMILARITY = 0.8
UNREAD_INK = "[handwriting]"
_MARKS = TICK_MARKS  # a tick read as a letter
_OPTION_STARTS = {"Yes", "No", "Not"}  # a mark run into the option after it: "XNo"


@dataclass
class Placed:
    """A Word on a page, with what it was read from: its confidence and its pixel box."""

    word: Word
    conf: float  # 0-1
    box: tuple[int, int, int, int]  # pixels of the upright page
    scribble: bool = False  # read so poorly it may be handwriting
    unclear_box: bool = False  # a tick box neither clearly ticked nor clearly empty


def body_size(pages: list[PageRead]) -> float:
    """The usual text size over all pages, in points (each line's, weighed alike)."""
    sizes: list[float] = []
    for p in pages:
        seen: set[int] = set()
        for w in p.words:
            if w.line not in seen:
                seen.add(w.line)
                sizes.append(w.height * 72 / p.dpi * SIZE_PER_X_SIZE)
    return round(statistics.median(sizes) * 2) / 2 if sizes else 10.0


def place(page: PageRead, body: float, placeholders: list[str]) -> list[Placed]:
    """The page's words and tick boxes, in points from its top-left corner."""
    k = 72 / page.dpi
    out: list[Placed] = []
    drop = _placeholder_words(page.words, placeholders)
    for i, w in enumerate(page.words):
        if i in drop or _NOISE.fullmatch(w.text):
            continue
        size = w.height * k * SIZE_PER_X_SIZE
        # Sizes snap to the body size: the reader compares line pitches by size, and a
        # line with descenders reads a little taller than one without.
        size = body if 0.75 * body <= size <= 1.3 * body else round(size * 2) / 2
        base = w.baseline * k
        text, sure = _dash(w)
        top, bottom = base - (1 - DESCENT) * size, base + DESCENT * size
        conf = w.conf / 100
        if i in page.doubtful or not sure:
            conf = min(conf, 0.5)
        box = (w.x0, w.y0, w.x1, w.y1)
        mark = _tick_mark(text)
        if mark is not None:
            # A tick typed or drawn in place of a box ("X No", "✓ Yes"): read as a ticked
            # box, never with certainty (the OCR reads such marks as "X", "Y", "v").
            split = w.x0 * k + min((w.x1 - w.x0) * k, 0.6 * size) if mark else w.x1 * k
            out.append(Placed(Word(CHECKED, w.x0 * k, split, top, bottom, size), 0.6, box))
            if mark:
                out.append(Placed(Word(mark, split + 0.1, w.x1 * k, top, bottom, size), conf, box))
            continue
        word = Word(text, w.x0 * k, w.x1 * k, top, bottom, size)
        out.append(Placed(word, conf, box, scribble=_scribble(w)))
    out.extend(_box_word(b, k) for b in page.boxes)
    for x0, y0, x1, y1 in page.unread:
        # Ink no word was read from (handwriting, a signature): in a reading of its own,
        # to find the answers it would change; never in the values given.
        middle = (y0 + y1) / 2 * k
        word = Word(UNREAD_INK, x0 * k, x1 * k, middle - body / 2, middle + body / 2, body)
        out.append(Placed(word, 0.0, (x0, y0, x1, y1), scribble=True))
    return out


# What is left of a ruling line or a box border after painting it out: "_", "|", "—_".
_NOISE = re.compile(r"[-_|—–~.,:;'\"`]*[_|][-_|—–~.,:;'\"`]*")


def _scribble(w: OcrWord) -> bool:
    """Read so poorly it may be handwriting or a smudge. Tesseract scores some plainly
    typed words near 0 ("Same" beside "as"), so a low score alone is not enough: a word
    of ordinary letters or digits, as wide as that many letters, is typed text read."""
    if w.conf >= SCRIBBLE_CONF:
        return False
    x_height = max(w.height - w.ascent - w.descent, 1.0)
    per_char = (w.x1 - w.x0) / max(len(w.text), 1)
    plain = len(w.text) >= 2 and w.text.strip(".,;:()'’").isalnum()
    return not (plain and 0.3 * x_height <= per_char <= 1.6 * x_height)


def _tick_mark(text: str) -> str | None:
    """For a tick mark read as a letter: None when it is not one, else the text after
    the mark ("" for a mark alone, "No" for "XNo")."""
    if text in _MARKS:
        return ""
    if len(text) >= 3 and text[0] in "XY✓✔" and text[1:] in _OPTION_STARTS:
        return text[1:]
    return None


def _dash(w: OcrWord) -> tuple[str, bool]:
    """A dash standing alone, told by its length: Tesseract reads "–" and "—" as "-".
    Lengths are shares of the line's height (DejaVu: hyphen 0.25, en dash 0.43); one
    between the two is returned as read, and not certain."""
    if w.text not in ("-", "–", "—") or w.height <= 0:
        return w.text, True
    share = (w.x1 - w.x0) / w.height
    if share < 0.3:
        return "-", True
    if 0.36 <= share < 0.65:
        return "–", True
    if share >= 0.8:
        return "—", True
    return w.text, False


def _box_word(b: TickBox, k: float) -> Placed:
    glyph = CHECKED if b.state == "ticked" else UNCHECKED
    side = (b.y1 - b.y0) * k
    word = Word(glyph, b.x0 * k, b.x1 * k, b.y0 * k, b.y1 * k, max(side, 6.0))
    return Placed(word, b.confidence, (b.x0, b.y0, b.x1, b.y1), unclear_box=b.state == "unclear")


def content(page: PageRead, words: list[Word]) -> PageContent:
    """The page as `pdf_reader.layout_of` takes it."""
    k = 72 / page.dpi
    out = PageContent(page.width * k, page.height * k, words)
    out.chars = sum(len(w.text) for w in words)
    for r in page.rules:
        if r.horizontal:
            out.edges.append(_edge(r.x0 * k, r.x1 * k, r.y0 * k, r.y0 * k, "h"))
        else:
            out.edges.append(_edge(r.x0 * k, r.x0 * k, r.y0 * k, r.y1 * k, "v"))
    return out


def _edge(x0: float, x1: float, top: float, bottom: float, orientation: str) -> dict[str, Any]:
    """A ruling line as pdfplumber's table finder takes it (the dict `pdf_page` makes)."""
    return {
        "object_type": "line",
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
    }


def _placeholder_words(words: list[OcrWord], placeholders: list[str]) -> set[int]:
    """Words of a form's prompt ("Click or tap here to enter text.") read with a letter
    wrong: the reader drops a prompt only when it is spelled exactly, and a prompt must
    never pass as an answer."""
    targets = [normalise_label(p) for p in placeholders if p.strip()]
    if not targets:
        return set()
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    out: set[int] = set()
    for ids in lines.values():
        for t in targets:
            n = len(t.split())
            for start in range(0, max(len(ids) - n + 1, 0)):
                run = ids[start : start + n]
                if not _together([words[i] for i in run]):
                    continue  # words of two cells that one OCR line runs across
                text = normalise_label(" ".join(words[i].text for i in run))
                if text and difflib.SequenceMatcher(None, text, t).ratio() >= (
                    PLACEHOLDER_SIMILARITY
                ):
                    out.update(run)
    return out


def _together(run: list[OcrWord]) -> bool:
    """Words spaced as in one phrase (no column gap between them)."""
    return all(b.x0 - a.x1 < 1.5 * max(a.height, 1.0) for a, b in zip(run, run[1:], strict=False))


def section_of(page: PageRead, headings: dict[str, int]) -> int | None:
    """The number of the first section heading read on the page."""
    lines: dict[int, list[OcrWord]] = {}
    for w in page.words:
        lines.setdefault(w.line, []).append(w)
    for ws in sorted(lines.values(), key=lambda ws: ws[0].y0):
        text = normalise_label(" ".join(w.text for w in ws))
        if not text or len(text) > 80:
            continue
        for heading, number in headings.items():
            if difflib.SequenceMatcher(None, text, heading).ratio() >= 0.85:
                return number
    return None
