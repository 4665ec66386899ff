"""Ink on a page that the OCR read as no word: handwriting, a signature, a stamp."""

from __future__ import annotations

from collections import deque

import numpy as np

from parsers.scan_ocr import OcrWord

# Ink is looked at in blocks a thirtieth of an inch wide (10 pixels at 300 dpi): a block
# is inked when a few of its pixels are.
BLOCK_INCH = 1 / 30
BLOCK_INK = 6  # pixels
# A patch of unread ink worth a person's look: wider than a letter and taller than a
# line's leftovers (a ruling line painted out leaves slivers one block high).
MIN_WIDTH_INCH, MIN_HEIGHT_INCH, MIN_BLOCKS = 0.15, 0.08, 8
MAX_PATCHES = 50  # a page of pictures: the first ones are enough to say so


def unread_ink(
    mask: np.ndarray, words: list[OcrWord], dpi: float
) -> list[tuple[int, int, int, int]]:
    """Boxes (pixels) of patches of ink that no word read covers."""
    left = mask.copy()
    pad = max(2, round(dpi / 100))
    for w in words:
        left[max(0, w.y0 - pad) : w.y1 + pad, max(0, w.x0 - pad) : w.x1 + pad] = False
    b = max(2, round(dpi * BLOCK_INCH))
    h, w = left.shape[0] // b, left.shape[1] // b
    if h == 0 or w == 0:
        return []
    blocks = left[: h * b, : w * b].reshape(h, b, w, b).sum(axis=(1, 3)) >= BLOCK_INK
    seen = np.zeros_like(blocks)
    out: list[tuple[int, int, int, int]] = []
    for y, x in zip(*np.nonzero(blocks), strict=True):
        if seen[y, x]:
            continue
        # Blocks touching (diagonals too) make one patch.
        queue = deque([(int(y), int(x))])
        seen[y, x] = True
        y0 = y1 = int(y)
        x0 = x1 = int(x)
        count = 0
        while queue:
            cy, cx = queue.popleft()
            count += 1
            y0, y1, x0, x1 = min(y0, cy), max(y1, cy), min(x0, cx), max(x1, cx)
            for ny in (cy - 1, cy, cy + 1):
                for nx in (cx - 1, cx, cx + 1):
                    if 0 <= ny < h and 0 <= nx < w and blocks[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        width, height = (x1 - x0 + 1) * b, (y1 - y0 + 1) * b
        if (
            count >= MIN_BLOCKS
            and width >= MIN_WIDTH_INCH * dpi
            and height >= MIN_HEIGHT_INCH * dpi
        ):
            out.append((x0 * b, y0 * b, (x1 + 1) * b, (y1 + 1) * b))
            if len(out) >= MAX_PATCHES:
                break
    return out
