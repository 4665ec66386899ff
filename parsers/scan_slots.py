"""Tick boxes the box finder missed: the place before an option word where its box
should be, in a row of boxes, that shows ink (or a word read from a box, "O" or "0").

A box drawn with ragged sides (a 1-bit scan at low resolution, stood up from a tilt) can
fail the finder's tests; the OCR then reads it as a letter, or as nothing at all. Without
its box the answer beside it would be lost without a word said; with an "unclear" box in
its place the reader flags the answer it would change (see `scan_reader`).
"""

from __future__ import annotations

import statistics

import numpy as np

from parsers.scan_marks import TickBox
from parsers.scan_ocr import OcrWord

# A tick read as a letter: the word reader (`scan_words`) takes it for a ticked box.
TICK_MARKS = frozenset({"X", "x", "Y", "V", "v", "✓", "✔", "√", "J", "¥"})
SLOT_INK = 0.03  # share of a slot's pixels inked: more than specks, less than a border
_BOX_READ = 2  # a box read as a word: one or two characters ("O", "0", "[]")
_BOX_CHARS = frozenset("O0oQDC[](){}|©®@°□■☐")  # never "of" or "a": words of the text


def missing_boxes(
    mask: np.ndarray, words: list[OcrWord], boxes: list[TickBox]
) -> tuple[list[TickBox], set[int]]:
    """Boxes ("unclear") where an option word has none, and the words (indices) that
    were read from such boxes."""
    after = _words_after(words, boxes)
    if not after:
        return [], set()
    side = round(statistics.median(b.x1 - b.x0 for b in boxes))
    gap = statistics.median(w.x0 - b.x1 for b, w in after)
    drop = statistics.median(b.y1 - w.baseline for b, w in after)
    options = {w.text for _b, w in after}
    followed = {id(w) for _b, w in after}
    out: list[TickBox] = []
    gone: set[int] = set()
    h, w_ = mask.shape
    pad = max(2, side // 6)
    for i, w in enumerate(words):
        if w.text not in options or id(w) in followed:
            continue
        x1 = round(w.x0 - gap)
        x0, y1 = x1 - side, round(w.baseline + drop)
        y0 = y1 - side
        if x0 - pad < 0 or y0 - pad < 0 or x1 + pad > w_ or y1 + pad > h:
            continue
        if not _in_a_row(boxes, w, x0, side):
            continue
        if any(b.x0 < x1 + pad and x0 - pad < b.x1 and b.y0 < y1 and y0 < b.y1 for b in boxes):
            continue  # a box is there (found further off than usual)
        # Any word reaching into the slot: a box read as a word, or text (no slot).
        inside = [
            j
            for j, o in enumerate(words)
            if j != i and o.x0 < x1 and x0 < o.x1 and o.y0 < y1 and y0 < o.y1
        ]
        if inside:
            read = [words[j] for j in inside]
            if len(read) > 1 or not _box_shaped(read[0], side):
                continue  # a word of text, not a box
            o = read[0]
            if o.text in TICK_MARKS:
                continue  # read as a ticked box already (and never as certain)
            x0, y0, x1, y1 = o.x0, o.y0, o.x1, o.y1
            gone.add(inside[0])
        area = mask[y0:y1, x0:x1]
        if not inside and (area.size == 0 or area.mean() < SLOT_INK):
            continue  # nothing there: no box was printed
        fill = float(area.mean()) if area.size else 0.0
        out.append(TickBox(x0, y0, x1, y1, fill, "unclear"))
    return out, gone


def _words_after(words: list[OcrWord], boxes: list[TickBox]) -> list[tuple[TickBox, OcrWord]]:
    """Each box with the word just right of it on its line (an option's name)."""
    out: list[tuple[TickBox, OcrWord]] = []
    for b in boxes:
        side = b.x1 - b.x0
        near = [
            w
            for w in words
            if 0 <= w.x0 - b.x1 <= side and w.y0 < b.y1 and b.y0 < w.y1 and w.text.isalpha()
        ]
        if near:
            out.append((b, min(near, key=lambda w: w.x0)))
    return out


def _in_a_row(boxes: list[TickBox], w: OcrWord, x0: int, side: int) -> bool:
    """The slot is on a line with boxes, or in a column of them (a grid of options)."""
    return any((b.y0 < w.y1 and w.y0 < b.y1) or abs(b.x0 - x0) <= side // 2 for b in boxes)


def _box_shaped(o: OcrWord, side: int) -> bool:
    """A word read from a box: a character or two, about as wide and tall as a box."""
    text = o.text.strip()
    return (
        0 < len(text) <= _BOX_READ
        and all(c in _BOX_CHARS for c in text)
        and 0.7 * side <= o.x1 - o.x0 <= 1.4 * side
        and 0.7 * side <= o.y1 - o.y0 <= 1.4 * side
    )
