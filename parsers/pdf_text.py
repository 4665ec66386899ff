"""Rebuild lines and paragraphs from positioned words on a PDF page.

A PDF has no paragraphs, only words at positions. A new paragraph is assumed when the
gap to the next line is larger than ordinary line spacing, or when the next line's first
word would have fitted at the end of the previous line (so the break was typed, not a
wrap). Wrapped lines are joined with a space; a word broken across lines (a long email
address in a narrow cell, or a hyphenated word) is joined without one.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import cached_property

from parsers.layout import CHECKED, EMPH_OFF, EMPH_ON, UNCHECKED

BOX_GLYPHS = {CHECKED, UNCHECKED, "☑", "□", "■"}


@dataclass
class Word:
    """A word (or a whole injected line of a form-field value) with its box on the page."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    hard: bool = False  # from a fillable field: its own paragraph, never re-wrapped
    bold: bool = False  # set in a bold font: may be a choice shown by emphasis
    # Vertical centre: read hundreds of times a page while grouping lines and cells, so
    # worked out once (a word's box never changes once made).
    middle: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.middle = (self.top + self.bottom) / 2


@dataclass
class Line:
    """Words sharing a baseline, left to right."""

    words: list[Word] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    # A line's words are final once `group_lines` returns it, and its top and size are
    # read many times while paragraphs are rebuilt: each is worked out once.
    @cached_property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @cached_property
    def size(self) -> float:
        return max(w.size for w in self.words)

    @property
    def hard(self) -> bool:
        return any(w.hard for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def marked(self) -> str:
        """The text with bold words between emphasis marks (see `layout.Para`)."""
        return " ".join(f"{EMPH_ON}{w.text}{EMPH_OFF}" if w.bold else w.text for w in self.words)


def group_lines(words: list[Word]) -> list[Line]:
    """Words grouped into lines (by vertical centre), top to bottom."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.middle, w.x0)):
        for line in reversed(lines[-3:]):
            ref = line.words[0]
            if abs(ref.middle - w.middle) <= 0.45 * max(ref.size, w.size, 1.0):
                line.words.append(w)
                break
        else:
            lines.append(Line([w]))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda ln: ln.top)
    return lines


def base_pitch(line_groups: list[list[Line]]) -> dict[float, float]:
    """Ordinary line spacing per font size, from lines that follow each other closely."""
    by_size: dict[float, list[float]] = {}
    for lines in line_groups:
        for a, b in zip(lines, lines[1:], strict=False):
            pitch = b.top - a.top
            if abs(a.size - b.size) < 0.5 and 0.9 * a.size < pitch < 2.5 * a.size:
                by_size.setdefault(round(a.size, 1), []).append(round(pitch * 2) / 2)
    out: dict[float, float] = {}
    for size, pitches in by_size.items():
        repeated = [p for p in sorted(set(pitches)) if pitches.count(p) >= 2]
        out[size] = repeated[0] if repeated else statistics.median(pitches)
    return out


def paragraphs(
    lines: list[Line], right: float, pitches: dict[float, float]
) -> list[tuple[str, Word]]:
    """Paragraph texts (with their first word) rebuilt from lines of one cell or column;
    bold words are marked for `layout.Para`."""
    out: list[tuple[str, Word]] = []
    text = ""
    first: Word | None = None
    for i, line in enumerate(lines):
        if first is None:
            text, first = line.marked, line.words[0]
            continue
        prev = lines[i - 1]
        if line.hard or prev.hard or _new_paragraph(prev, line, right, pitches):
            out.append((text, first))
            text, first = line.marked, line.words[0]
        else:
            text += joiner(prev, right) + line.marked
    if first is not None:
        out.append((text, first))
    return out


def _new_paragraph(prev: Line, line: Line, right: float, pitches: dict[float, float]) -> bool:
    size = prev.size
    base = pitches.get(round(size, 1), 1.15 * size)
    if line.top - prev.top > base + max(0.1 * size, 1.0):
        return True  # paragraph spacing
    return not continues(prev, line, right)


def continues(prev: Line, line: Line, right: float) -> bool:
    """Does `line` carry on `prev`'s paragraph (a wrap), judged by width alone?"""
    if line.hard or prev.hard:
        return False
    head = line.words[0]
    if head.text in BOX_GLYPHS:
        return False  # each tick-box option starts its own line
    # Had the next line's first word fitted at the end of this one, the break was typed.
    # The space is measured on the line itself: a guessed width (0.28 em) is too
    # narrow for some fonts and turns near-fitting wraps into paragraph breaks.
    return prev.x1 + _space(prev) + (head.x1 - head.x0) > right


def _space(line: Line) -> float:
    """Width of a space on this line: the median gap between its words."""
    gaps = sorted(b.x0 - a.x1 for a, b in zip(line.words, line.words[1:], strict=False))
    gaps = [g for g in gaps if g > 0]
    return gaps[len(gaps) // 2] if gaps else 0.28 * line.size


def joiner(prev: Line, right: float) -> str:
    """What joins a wrapped line to the next: a space, or nothing inside a broken word."""
    last = prev.words[-1]
    if last.text.endswith("-") and len(last.text) > 1:
        return ""  # "looked-" + "after"
    if len(prev.words) == 1:
        char_w = (last.x1 - last.x0) / max(len(last.text), 1)
        if right - last.x1 < 2 * char_w:
            return ""  # one word filling the line was broken mid-word
    return " "
