"""Underlines and highlights drawn on a PDF page, turned into emphasised words.

In a PDF made from a Word form, bold is in the font's name but underline and highlight
are drawings: a stroked line under the words, a coloured rectangle behind them. A sender
who leaves the boxes empty and underlines or highlights the chosen option has answered;
`choices` reads that as a choice. A drawing counts only when it hugs words (its ends
within a few points of the first and last word it covers), so a table's ruling line or
a shaded cell, which run from the cell's edge, never do.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from parsers.pdf_text import Word

HUG = 3.0  # points a drawing may reach past the words it emphasises (LibreOffice: < 1)
MIN_HIGHLIGHT = 2.5  # a filled rectangle lower than this is an underline drawn filled


@dataclass
class Marks:
    """Candidate underlines (x0, x1, y) and highlights (x0, top, x1, bottom) of a page."""

    underlines: list[tuple[float, float, float]] = field(default_factory=list)
    highlights: list[tuple[float, float, float, float]] = field(default_factory=list)

    def add_filled(self, box: tuple[float, float, float, float]) -> None:
        """A filled, coloured (not white) rectangle: a highlight, or a filled underline."""
        x0, top, x1, bottom = box
        if bottom - top < MIN_HIGHLIGHT:
            self.underlines.append((x0, x1, (top + bottom) / 2))
        else:
            self.highlights.append(box)


def emphasise(words: list[Word], marks: Marks) -> None:
    """Set `bold` on every word a drawn underline or highlight picks out."""
    if not words or not (marks.underlines or marks.highlights):
        return
    # Every ruling line of the page is a candidate underline: words are looked up by
    # height (bisect), not scanned for each line.
    by_bottom = sorted(words, key=lambda w: w.bottom)
    bottoms = [w.bottom for w in by_bottom]
    tallest = max(w.size for w in words)
    for x0, x1, y in marks.underlines:
        near = by_bottom[
            bisect_left(bottoms, y - 0.4 * tallest) : bisect_right(bottoms, y + 0.3 * tallest)
        ]
        # Just below the baseline: between the word's bottom and a third of its size under.
        line = [w for w in near if w.bottom - 0.3 * w.size <= y <= w.bottom + 0.4 * w.size]
        _pick(line, x0, x1)
    for x0, top, x1, bottom in marks.highlights:
        near = by_bottom[bisect_left(bottoms, top) : bisect_right(bottoms, bottom + tallest)]
        _pick([w for w in near if top <= w.middle <= bottom], x0, x1)


def _pick(candidates: list[Word], x0: float, x1: float) -> None:
    """Emphasise the words between x0 and x1 when the drawing starts at the first of them
    and ends at the last."""
    covered = sorted(
        (w for w in candidates if w.x0 >= x0 - HUG and w.x1 <= x1 + HUG), key=lambda w: w.x0
    )
    if covered and abs(covered[0].x0 - x0) <= HUG and abs(covered[-1].x1 - x1) <= HUG:
        for w in covered:
            w.bold = True
