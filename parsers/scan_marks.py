"""Ruling lines and tick boxes found in an upright page's ink, and how full each box is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

BoxState = Literal["ticked", "empty", "unclear"]

LINE_MIN_INCH = 0.4  # a table border is longer; a letter's stroke or a dash is shorter
BOX_MIN_PT, BOX_MAX_PT = 5.0, 16.0  # side of a printed tick box (☐ at 8-14 pt type)
# Share of a box's inside (its border left out) that is ink. Calibrated on the test
# scans: an empty box, blurred and noisy, under 0.04; a ☒ or a pen tick over 0.12.
EMPTY_BELOW, TICKED_ABOVE = 0.05, 0.11


@dataclass(frozen=True)
class Rule:
    """A ruling line in pixels: a horizontal one has y0 == y1, a vertical one x0 == x1."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: int  # stroke thickness in pixels (so it can be painted out before OCR)

    @property
    def horizontal(self) -> bool:
        return self.y0 == self.y1


@dataclass(frozen=True)
class TickBox:
    """A small square drawn on the page, and how much ink is inside it."""

    x0: int
    y0: int
    x1: int
    y1: int
    fill: float
    state: BoxState

    @property
    def confidence(self) -> float:
        """How clearly the box is ticked or empty, 0.5 (no idea) to 1."""
        if self.state == "ticked":
            return min(1.0, 0.75 + (self.fill - TICKED_ABOVE))
        if self.state == "empty":
            return min(1.0, 0.75 + (EMPTY_BELOW - self.fill) * 5)
        return 0.5


def _close_gaps(mask: np.ndarray, axis: int, gap: int = 2) -> np.ndarray:
    """Ink with gaps of up to `gap` pixels along `axis` filled (a noisy or faint line)."""
    out = mask.copy()
    n = mask.shape[axis]
    for g in range(1, gap + 1):
        if n <= g + 1:
            break
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        mid = [slice(None)] * 2
        # A pixel is filled when ink lies within g on both sides of it.
        lo[axis], hi[axis], mid[axis] = slice(0, n - 2 * g), slice(2 * g, n), slice(g, n - g)
        out[tuple(mid)] |= mask[tuple(lo)] & mask[tuple(hi)]
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every horizontal run of ink: its row, first column and end column (exclusive)."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    starts = np.argwhere(d == 1)
    ends = np.argwhere(d == -1)
    return starts[:, 0], starts[:, 1], ends[:, 1]


def _bars(
    rows: np.ndarray, x0s: np.ndarray, x1s: np.ndarray
) -> list[tuple[int, int, int, int, int]]:
    """Runs in touching rows joined into strokes: (x0, x1, first row, last row, longest
    single run) - a straight stroke has one run as long as itself, a curve does not."""
    out: list[list[int]] = []
    open_: dict[int, list[list[int]]] = {}  # by row of its last run: strokes still growing
    order = np.lexsort((x0s, rows))
    for i in order:
        r, a, b = int(rows[i]), int(x0s[i]), int(x1s[i])
        joined: list[int] | None = None
        for bar in open_.get(r - 1, []):
            if min(b, bar[1]) - max(a, bar[0]) > 0.7 * max(b - a, bar[1] - bar[0]):
                joined = bar
                break
        if joined is None:
            joined = [a, b, r, r, b - a]
            out.append(joined)
        else:
            open_[r - 1] = [o for o in open_[r - 1] if o is not joined]
            joined[0], joined[1] = min(a, joined[0]), max(b, joined[1])
            joined[3], joined[4] = r, max(joined[4], b - a)
        open_.setdefault(r, []).append(joined)
        open_.pop(r - 2, None)
    return [(b[0], b[1], b[2], b[3], b[4]) for b in out]


def find_rules(mask: np.ndarray, dpi: float) -> list[Rule]:
    """Long straight strokes across and down the page (table borders)."""
    least = LINE_MIN_INCH * dpi
    out: list[Rule] = []
    for axis in (1, 0):
        m = _close_gaps(mask, axis)
        if axis == 0:
            m = m.T
        rows, x0s, x1s = _runs(m)
        keep = (x1s - x0s) >= least
        for a, b, r0, r1, _n in _bars(rows[keep], x0s[keep], x1s[keep]):
            if r1 - r0 > 0.1 * dpi:
                continue  # a filled block (a logo), not a line
            mid = (r0 + r1 + 1) / 2
            width = r1 - r0 + 1
            if axis == 1:
                out.append(Rule(float(a), mid, float(b), mid, width))
            else:
                out.append(Rule(mid, float(a), mid, float(b), width))
    return out


def find_boxes(mask: np.ndarray, dpi: float) -> list[TickBox]:
    """Small squares: a top and bottom stroke of the same span, as far apart as they are
    long, joined by ink down both sides; each with the share of ink inside it."""
    lo, hi = BOX_MIN_PT * dpi / 72, BOX_MAX_PT * dpi / 72
    rows, x0s, x1s = _runs(_close_gaps(mask, 1, 1))
    span = x1s - x0s
    keep = (span >= lo) & (span <= hi)
    # Straight strokes only: one run nearly as long as the stroke is wide.
    bars = [
        b
        for b in _bars(rows[keep], x0s[keep], x1s[keep])
        if b[4] >= 0.85 * (b[1] - b[0]) and b[3] - b[2] < max(3, (b[1] - b[0]) // 5)
    ]
    by_left: dict[int, list[tuple[int, int, int, int, int]]] = {}
    for bar in bars:
        by_left.setdefault(bar[0] // 4, []).append(bar)
    tol = max(2, round(dpi / 100))
    found: list[TickBox] = []
    taken: set[tuple[int, int]] = set()
    for x0, x1, top, _top_end, _n in sorted(bars, key=lambda b: (b[2], b[0])):
        side = x1 - x0
        for key in (x0 // 4 - 1, x0 // 4, x0 // 4 + 1):
            for bx0, bx1, _b, bottom, _m in by_left.get(key, []):
                if abs(bx0 - x0) > tol or abs(bx1 - x1) > tol:
                    continue
                height = bottom + 1 - top
                if not 0.8 * side <= height <= 1.25 * side or (x0, top) in taken:
                    continue
                box = _box(mask, x0, top, x1, bottom + 1)
                if box is None and (bx0 < x0 or bx1 > x1):
                    # A square stood up from a tilted 1-bit scan has stepped sides: its
                    # bottom stroke may reach a pixel or two past its top one.
                    box = _box(mask, min(x0, bx0), top, max(x1, bx1), bottom + 1)
                if box is not None:
                    taken.add((x0, top))
                    found.append(box)
    return _distinct(found)


def _box(mask: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> TickBox | None:
    """The square at these corners when both its sides are drawn, with its fill."""
    side = x1 - x0
    t = max(2, side // 10)
    # Straight sides: one column of the side strip inked nearly all the way down.
    left = mask[y0:y1, x0 : x0 + t].mean(axis=0).max()
    right = mask[y0:y1, x1 - t : x1].mean(axis=0).max()
    if left < 0.85 or right < 0.85:
        return None
    # Thin sides: a box is drawn with a fine line; a bold "p" or "o" has thick strokes.
    band = slice(y0 + side // 3, y1 - side // 3)
    thin = side / 5
    if (
        mask[band, x0 : x0 + side // 4].sum(axis=1).mean() > thin
        or mask[band, x1 - side // 4 : x1].sum(axis=1).mean() > thin
    ):
        return None
    # Square corners: a round letter ("o", "e") has sides too, but no corners.
    for cy in (y0, y1 - t):
        for cx in (x0, x1 - t):
            if not mask[cy : cy + t, cx : cx + t].any():
                return None
    # Standing apart: a box has a space before and after it; a letter's bowl ("p", "d")
    # touches the letters beside it, or its own stem.
    gap = max(2, side // 8)
    h, w = mask.shape
    if (x0 - gap - 1 >= 0 and mask[y0 + t : y1 - t, x0 - gap - 1 : x0 - 1].any()) or (
        x1 + gap + 1 <= w and mask[y0 + t : y1 - t, x1 + 1 : x1 + gap + 1].any()
    ):
        return None
    # The inside, well clear of the border (which is 1-3 px and may be blurred).
    m = max(t + 1, side // 5)
    inside = mask[y0 + m : y1 - m, x0 + m : x1 - m]
    if inside.size == 0:
        return None
    fill = float(inside.mean())
    state: BoxState = (
        "ticked" if fill > TICKED_ABOVE else "empty" if fill < EMPTY_BELOW else "unclear"
    )
    return TickBox(x0, y0, x1, y1, fill, state)


def _distinct(boxes: list[TickBox]) -> list[TickBox]:
    """One box per square (a thick stroke can pair up twice), and none inside another."""
    out: list[TickBox] = []
    for b in sorted(boxes, key=lambda b: -(b.x1 - b.x0)):
        if any(b.x0 < o.x1 and o.x0 < b.x1 and b.y0 < o.y1 and o.y0 < b.y1 for o in out):
            continue
        out.append(b)
    return out


def paint_out(grey: np.ndarray, rules: list[Rule], boxes: list[TickBox]) -> np.ndarray:
    """The page with its ruling lines and tick boxes whitened, for OCR: a border read as
    "|" or "l", or a box read as "O" or "[x]", would join the words beside it."""
    out = grey.copy()
    h, w = out.shape
    for r in rules:
        pad = r.width // 2 + 2
        if r.horizontal:
            y = int(r.y0)
            out[max(0, y - pad) : min(h, y + pad + 1), max(0, int(r.x0)) : int(r.x1) + 1] = 255
        else:
            x = int(r.x0)
            out[max(0, int(r.y0)) : int(r.y1) + 1, max(0, x - pad) : min(w, x + pad + 1)] = 255
    for b in boxes:
        m = max(2, (b.x1 - b.x0) // 6)
        out[max(0, b.y0 - m) : b.y1 + m, max(0, b.x0 - m) : b.x1 + m] = 255
    return out
