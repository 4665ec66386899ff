"""One scanned page read: stood upright, its lines and tick boxes found, its words OCR'd."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from parsers.limits import ScanLimits
from parsers.scan_image import (
    PageImage,
    bounded,
    flatten,
    ink,
    sideways,
    skew_angle,
    small_mask,
    upright,
)
from parsers.scan_ink import unread_ink
from parsers.scan_marks import Rule, TickBox, find_boxes, find_rules, paint_out
from parsers.scan_ocr import Budget, OcrWord, ocr_words
from parsers.scan_slots import missing_boxes

# A page read upright gives most words at 90+; read upside down, garbage at 30-60.
UPRIGHT_MEAN_CONF = 75.0
# Lower-case letters with nothing above their x-height: ink over one of them that the
# OCR did not read is an accent it dropped ("Siobhán" read "Siobhan" at 95 %).
_LOW_LETTERS = set("acemnorsuvwxz")
_TALL = set("bdfhklt") | set("ij")  # ascenders, and the dots of i and j
_TWO_TOPS = set("HKMNUVXY")  # capitals with two separate strokes at the top
_MAYBE_TALL = set("'\"()/\\|[]{}?!#$%&*@^‘’“”")
MERGED_GAP, SPLIT_GAP = 0.55, 0.45
# Rough widths of letters (an "n" is 1), to find where in a word a gap falls.
_WIDTHS = (
    {c: 0.45 for c in "ijlI.,:;'!|"}
    | {c: 0.6 for c in "frt()/-"}
    | {"m": 1.5, "w": 1.4, "M": 1.5, "W": 1.6}
)
_FOOTER = re.compile(r"\bpage\s+(\d{1,2})\s+of\s+(\d{1,2})\b", re.IGNORECASE)


@dataclass
class PageRead:
    """What one page gave: how it was turned, its size, its words, lines and boxes."""

    file: int
    page: int
    turn: int
    skew: float
    width: int  # pixels of the upright page as read
    height: int
    dpi: float
    words: list[OcrWord] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    boxes: list[TickBox] = field(default_factory=list)
    doubtful: set[int] = field(default_factory=set)  # words with ink they do not explain
    unread: list[tuple[int, int, int, int]] = field(default_factory=list)  # ink, no word
    blank: bool = False  # no ink at all (an empty page)

    @property
    def number(self) -> int | None:
        """The page number its footer prints ("Page 3 of 4"), if read."""
        lines: dict[int, list[str]] = {}
        for w in self.words:
            lines.setdefault(w.line, []).append(w.text)
        for texts in lines.values():
            m = _FOOTER.search(" ".join(texts))
            if m and 0 < int(m.group(1)) <= int(m.group(2)):
                return int(m.group(1))
        return None


def read_page(source: PageImage, limits: ScanLimits, budget: Budget) -> PageRead:
    """OCR one page in whichever of its two upright candidates reads better."""
    grey, dpi = bounded(source.image, source.dpi, limits)
    flat = flatten(grey)
    coarse = small_mask(flat)
    turn = 90 if sideways(coarse) else 0
    if turn:
        coarse = np.rot90(coarse, k=-1)
    skew = skew_angle(coarse)
    if abs(skew) < 0.1:  # level enough: turning costs a resampling blur
        skew = 0.0
    first = _read_turned(source, flat, dpi, turn, skew, budget)
    if _quality(first) >= UPRIGHT_MEAN_CONF or len(first.words) < 5:
        return first  # read well, or no text to speak of (a photo, a blank page)
    # Read badly: it may be upside down (or quarter-turned the other way).
    second = _read_turned(source, flat, dpi, (turn + 180) % 360, skew, budget)
    return second if _quality(second) > _quality(first) else first


def _read_turned(
    source: PageImage, flat: Image.Image, dpi: float, turn: int, skew: float, budget: Budget
) -> PageRead:
    page = upright(flat, turn, skew)
    mask = ink(page)
    rules = find_rules(mask, dpi)
    boxes = find_boxes(mask, dpi)
    painted = paint_out(np.asarray(page), rules, boxes)
    words = ocr_words(Image.fromarray(painted, "L"), round(dpi), budget)
    out = PageRead(source.file, source.page, turn, skew, page.width, page.height, dpi)
    # Without the ruling lines: a cell border just above a word is no accent.
    clean = mask & (painted < 255)
    extra, gone = missing_boxes(clean, words, boxes)
    words = [w for i, w in enumerate(words) if i not in gone]
    for b in extra:
        clean[b.y0 : b.y1, b.x0 : b.x1] = False
    _level_baselines(clean, words)
    out.words, out.rules, out.boxes = words, rules, boxes + extra
    spacing = _odd_spacing(clean, words)  # first: it joins and splits words
    out.doubtful = spacing | _unexplained_ink(clean, words)
    out.unread = unread_ink(clean, words, dpi)
    out.blank = not mask.any()
    return out


def _odd_spacing(mask: np.ndarray, words: list[OcrWord]) -> set[int]:
    """Put right, and mark as doubtful, the spacing the OCR got wrong: one word holding a
    gap as wide as a space ("Same as" read "Sameas") is split there; two words closer
    than letters are ("Help" read "H elp") are joined. Gaps are shares of the line's
    x-height: spaces 0.55 and up, gaps between letters 0.45 at most (test scans)."""
    out: set[int] = set()
    i = 0
    while i < len(words):
        w = words[i]
        x_height = w.height - w.ascent - w.descent
        if x_height <= 2 or w.x1 - w.x0 < 3:
            i += 1
            continue
        nxt = _next_on_row(words, i, SPLIT_GAP * x_height)
        if nxt is not None:
            w.text += nxt.text
            w.x1, w.y0, w.y1 = nxt.x1, min(w.y0, nxt.y0), max(w.y1, nxt.y1)
            w.conf = min(w.conf, nxt.conf)
            w.chars += nxt.chars
            words.remove(nxt)
            out.add(i)
            continue
        cols = mask[w.y0 : w.y1, w.x0 : w.x1].any(axis=0).astype(np.int8)
        edges = np.diff(np.concatenate(([1], cols, [1])))
        starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
        gaps = ends - starts
        if len(gaps) and gaps.max() > MERGED_GAP * x_height:
            k = int(np.argmax(gaps))
            out.add(i)
            right = _split(w, w.x0 + int(starts[k]), w.x0 + int(ends[k]))
            if right is not None:
                words.insert(i + 1, right)
                out.add(i + 1)
                i += 1
        i += 1
    return out


def _next_on_row(words: list[OcrWord], i: int, gap: float) -> OcrWord | None:
    """The word starting less than `gap` after word i on the same row (Tesseract may
    have put the two in different lines)."""
    w = words[i]
    for o in words:
        if (
            o is not w
            and 0 <= o.x0 - w.x1 < gap
            and abs(o.baseline - w.baseline) < 0.3 * max(w.height, 1.0)
        ):
            return o
    return None


def _split(w: OcrWord, gap0: int, gap1: int) -> OcrWord | None:
    """Split a word at a gap, after the letters that fill the width before it (by rough
    letter widths: Tesseract's own letter boxes are too loose to cut by)."""
    if len(w.text) < 2:
        return None
    widths = [_WIDTHS.get(c, 1.2 if c.isupper() else 1.0) for c in w.text]
    share = (gap0 - w.x0) / max(w.x1 - w.x0, 1) * sum(widths)
    n, run = 0, 0.0
    while n < len(widths) - 1 and run + widths[n] / 2 < share:
        run += widths[n]
        n += 1
    n = max(1, n)
    cut = n if n < len(w.chars) else len(w.chars)
    right = replace(w, text=w.text[n:], x0=gap1, chars=w.chars[cut:])
    w.text, w.x1, w.chars = w.text[:n], gap0, w.chars[:cut]
    return right


def _level_baselines(mask: np.ndarray, words: list[OcrWord]) -> None:
    """Each line's baseline measured on its ink: the lowest row of its dense band (the
    x-height). Tesseract's own is a fit that wanders by a point; the reader tells a
    wrapped line from a new paragraph by line spacing to within about a point."""
    lines: dict[int, list[OcrWord]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    for ws in lines.values():
        top, bottom = min(w.y0 for w in ws), max(w.y1 for w in ws)
        if bottom - top < 4:
            continue
        rows = np.zeros(bottom - top, dtype=np.int64)
        for w in ws:
            rows += mask[top:bottom, w.x0 : w.x1].sum(axis=1)
        if rows.max() <= 0:
            continue
        dense = np.flatnonzero(rows >= 0.4 * rows.max())
        if len(dense):
            base = float(top + dense[-1] + 1)
            for w in ws:
                if abs(base - w.baseline) < 0.3 * max(w.height, 1.0):
                    w.baseline = base


def _quality(page: PageRead) -> float:
    """Mean confidence of the page's real-looking words (three letters or more)."""
    confs = [w.conf for w in page.words if sum(c.isalpha() for c in w.text) >= 3]
    if len(confs) < 5:
        return 0.0
    return float(np.mean(confs))


def _tall_parts(text: str) -> int:
    """How many separate strokes the word's letters can show above the x-height."""
    return sum(
        3 if ch in "W*" else 2 if ch in _TWO_TOPS else 2 if ch in _MAYBE_TALL else 1
        for ch in text
        if ch not in _LOW_LETTERS
        and (ch.isupper() or ch.isdigit() or ch in _TALL)
        or ch in _MAYBE_TALL
    )


def _unexplained_ink(mask: np.ndarray, words: list[OcrWord]) -> set[int]:
    """Words showing more separate strokes above their x-height than their letters have:
    ink the OCR did not read, such as an accent it dropped ("Siobhán" read "Siobhan" at
    95 %) or a pen mark. Such a reading is not certain. (Tesseract's character boxes are
    too rough to look above each letter; the strokes of the whole word are counted.)"""
    out: set[int] = set()
    for i, w in enumerate(words):
        x_height = w.height - w.ascent - w.descent
        if x_height <= 2 or w.ascent < 3:
            continue
        # Up to a little over the ascender line: an accent on a capital-height word
        # reaches it; the line above's descenders stay clear of it.
        top = round(w.baseline - x_height - 1.3 * w.ascent)
        bottom = round(w.baseline - x_height - 0.3 * w.ascent)
        if top < 0 or bottom <= top:
            continue
        cols = mask[top:bottom, w.x0 : w.x1].sum(axis=0)
        inked = np.concatenate(([0], (cols > 0).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(inked))
        strokes = sum(
            1
            for a, b in zip(edges[::2], edges[1::2], strict=True)
            if b - a >= 2 and int(cols[a:b].sum()) >= 4
        )
        if strokes > _tall_parts(w.text):
            out.add(i)
    return out


def form_order(pages: list[PageRead], section_of: dict[int, int]) -> list[PageRead]:
    """Pages in the form's order: by their printed page numbers when every page shows
    one, else by the first numbered section heading on each, else as given."""
    numbers = [p.number for p in pages]
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        return [p for _n, p in sorted(zip(numbers, pages, strict=True), key=lambda t: t[0] or 0)]
    sections = [section_of.get(i) for i in range(len(pages))]
    if all(s is not None for s in sections):
        order = sorted(range(len(pages)), key=lambda i: (sections[i] or 0, i))
        return [pages[i] for i in order]
    return pages
