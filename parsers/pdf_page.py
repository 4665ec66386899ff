"""What is on one PDF page, read with pdfium: positioned words, ruling lines, drawn boxes.

pdfium (C, through pypdfium2) reads a page's text and paths in a few milliseconds, where
pdfplumber's own parser (pdfminer, pure Python) needs ~140 ms a page. The words come
from `pdf_words`; the ruling lines are handed to pdfplumber's table finder
(`pdf_reader`), which needs geometry only.

Coordinates are pdfplumber's: points from the page's top-left corner, y growing down.
"""

from __future__ import annotations

import ctypes
import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from parsers.layout import CHECKED, UNCHECKED
from parsers.limits import DEFAULT_PDF_LIMITS, OverLimit, PdfLimits
from parsers.pdf_emphasis import Marks, emphasise
from parsers.pdf_text import Word
from parsers.pdf_words import page_words, returning_address, taking_addresses

# pdfium is not thread-safe; every call into it goes through this lock.
PDFIUM_LOCK = threading.Lock()

BOX_MIN, BOX_MAX = 5.0, 16.0  # side of a drawn tick box, in points
# pdfium stores a rectangle as five points and a curve as three: path segments per
# drawing operation counted before the page was loaded (`pdf_budget`), at most.
SEGMENTS_PER_OPERATION = 5

_SEGMENT = returning_address(pdfium_c.FPDFPath_GetPathSegment, ctypes.c_void_p, ctypes.c_int)
_SEGMENT_TYPE = taking_addresses(pdfium_c.FPDFPathSegment_GetType, ctypes.c_void_p)
_POINT = taking_addresses(
    pdfium_c.FPDFPathSegment_GetPoint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
)
_CLOSED = taking_addresses(pdfium_c.FPDFPathSegment_GetClose, ctypes.c_void_p)

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class PageContent:
    """Everything the PDF reader takes from one page."""

    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)  # pdfplumber edge dicts
    chars: int = 0  # characters pdfium found on the page


def open_pdf(data: bytes, password: str | None = None) -> pdfium.PdfDocument:
    """Open a PDF from bytes (call with PDFIUM_LOCK held)."""
    return pdfium.PdfDocument(data, password=password)


def read_page(
    doc: pdfium.PdfDocument, index: int, limits: PdfLimits = DEFAULT_PDF_LIMITS
) -> PageContent:
    """Words, edges and drawn tick boxes of one page (call with PDFIUM_LOCK held).

    Raises OverLimit when the page holds more drawing or text than `limits` allow. The
    drawing was counted before the page was loaded (`pdf_budget`); counting again here
    covers a file that pypdf and pdfium read differently (a damaged cross-reference).
    """
    page = doc[index]
    try:
        llx, lly, urx, ury = (float(v) for v in page.get_mediabox())
        out = PageContent(urx - llx, ury - lly)
        marks = Marks()
        segments, boxes = _paths(page, llx, ury, _Tally(index, limits.page_drawing), marks)
        out.edges = segments
        textpage = page.get_textpage()
        try:
            chars = pdfium_c.FPDFText_CountChars(textpage.raw)
            if chars > limits.page_chars:
                raise OverLimit(
                    f"the PDF has more text on page {index + 1} than a referral form could "
                    f"(over {limits.page_chars:,} characters)"
                )
            words = page_words(textpage, llx, ury)
            emphasise(words, marks)
            out.words = words + boxes
            out.chars = max(chars, 0)
        finally:
            textpage.close()
        return out
    finally:
        page.close()


class _Tally:
    """Objects and path segments seen on one page, refused past the page's limit."""

    def __init__(self, index: int, limit: int) -> None:
        self.index = index
        self.limit = limit
        self.objects = 0
        self.segments = 0

    def add(self, objects: int, segments: int = 0) -> None:
        self.objects += objects
        self.segments += segments
        if self.objects > self.limit or self.segments > SEGMENTS_PER_OPERATION * self.limit:
            raise OverLimit(
                f"the PDF has more drawing on page {self.index + 1} than a referral form "
                f"could (over {self.limit:,} objects)"
            )


# --------------------------------------------------------------------------- paths


def _paths(
    page: pdfium.PdfPage, llx: float, ury: float, tally: _Tally, marks: Marks
) -> tuple[list[dict[str, Any]], list[Word]]:
    """Ruling-line edges (as pdfplumber builds them from lines and rectangles) and tick boxes;
    coloured rectangles and horizontal strokes are noted in `marks` (maybe emphasis).

    A tick box drawn as a small stroked square (LibreOffice's export of Word's legacy
    check boxes) becomes a ☐ word, or ☒ when two diagonal strokes cross inside it.
    """
    edges: list[dict[str, Any]] = []
    squares: list[tuple[float, float, float, float]] = []
    diagonals: list[tuple[float, float]] = []  # centres of diagonal strokes
    for path, matrix in _path_objects(page.raw, tally):
        fill, stroke = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDFPath_GetDrawMode(path, fill, stroke)
        if not fill.value and not stroke.value:
            continue  # an invisible path (not painted)
        for points, closed in _subpaths(path, matrix, tally):
            pts = [(x - llx, ury - y) for x, y in points]
            box = _rectangle(pts)
            if box is not None:
                x0, top, x1, bottom = box
                w, h = x1 - x0, bottom - top
                if stroke.value and BOX_MIN <= w <= BOX_MAX and abs(w - h) <= 1.0:
                    squares.append(box)  # a tick box, not a table ruling
                else:
                    edges.extend(_rect_edges(*box))
                    if fill.value and not stroke.value and _coloured(path):
                        marks.add_filled(box)
                continue
            if pts and pts[0] != pts[-1] and closed():
                pts.append(pts[0])
            for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
                if abs(ay - by) < 0.01 and abs(ax - bx) > 0:
                    edges.append(_edge(min(ax, bx), max(ax, bx), ay, ay, "h"))
                    if stroke.value:
                        marks.underlines.append((min(ax, bx), max(ax, bx), ay))
                elif abs(ax - bx) < 0.01 and abs(ay - by) > 0:
                    edges.append(_edge(ax, ax, min(ay, by), max(ay, by), "v"))
                else:
                    diagonals.append(((ax + bx) / 2, (ay + by) / 2))
    boxes: list[Word] = []
    for (x0, top, x1, bottom), crossed in zip(squares, _crossings(squares, diagonals), strict=True):
        glyph = CHECKED if crossed >= 2 else UNCHECKED
        size = bottom - top
        boxes.append(Word(glyph, x0, x1, top, bottom, max(size, 6.0)))
    return edges, _unique_boxes(boxes)


def _coloured(path: Any) -> bool:
    """Is the path filled with a visible colour other than white (a highlight, or shading)?"""
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetFillColor(path, r, g, b, a):
        return False
    return a.value > 0 and min(r.value, g.value, b.value) < 240


def _crossings(
    squares: list[tuple[float, float, float, float]], points: list[tuple[float, float]]
) -> list[int]:
    """How many points lie strictly inside each square (x0, top, x1, bottom).

    Comparing every square with every point is quadratic (40,000 crossed boxes: over
    three billion comparisons); here one sweep left to right adds the points to a
    Fenwick tree over their heights, and each square asks it twice (points left of its
    right side, minus points at or left of its left side): O(n log n).
    """
    counts = [0] * len(squares)
    # A point at an infinite or undefined place is inside no square.
    pts = sorted(p for p in points if math.isfinite(p[0]) and math.isfinite(p[1]))
    if not squares or not pts:
        return counts
    heights = sorted({y for _x, y in pts})
    tree = [0] * (len(heights) + 1)

    def lower(k: int) -> int:
        """Points added so far whose height is among the `k` lowest."""
        total = 0
        while k > 0:
            total += tree[k]
            k -= k & -k
        return total

    # (x, 0, i): points with x < x1 count for square i; (x, 1, i): points with x <= x0
    # count against it. At one x the strict question comes first.
    asks = sorted(
        [(sq[2], 0, i) for i, sq in enumerate(squares)]
        + [(sq[0], 1, i) for i, sq in enumerate(squares)]
    )
    added = 0
    for x, inclusive, i in asks:
        while added < len(pts) and (pts[added][0] < x or (inclusive and pts[added][0] == x)):
            k = bisect_left(heights, pts[added][1]) + 1
            while k <= len(heights):
                tree[k] += 1
                k += k & -k
            added += 1
        _x0, top, _x1, bottom = squares[i]
        inside = lower(bisect_left(heights, bottom)) - lower(bisect_right(heights, top))
        counts[i] += -inside if inclusive else inside
    return counts


def _unique_boxes(boxes: list[Word]) -> list[Word]:
    """One word per box: a box drawn twice (fill, then stroke) is still one box.

    Two boxes are one when their corners are less than a point apart. The boxes kept are
    filed by the whole points of their corner (two kept boxes are never in one cell:
    they would be one box), so each box is compared with the kept boxes of the 3 x 3
    cells around it, not with every box kept: linear, where it was quadratic.
    """
    out: list[Word] = []
    cells: dict[tuple[int, int], int] = {}
    for b in boxes:
        if not (math.isfinite(b.x0) and math.isfinite(b.top)):
            out.append(b)  # at no place: the same as no other box
            continue
        cx, cy = math.floor(b.x0), math.floor(b.top)
        same: int | None = None  # the first kept, as a scan of every kept box finds
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                k = cells.get((cx + dx, cy + dy))
                if (
                    k is not None
                    and (same is None or k < same)
                    and abs(out[k].x0 - b.x0) < 1
                    and abs(out[k].top - b.top) < 1
                ):
                    same = k
        if same is None:
            cells[(cx, cy)] = len(out)
            out.append(b)
        elif b.text == CHECKED:
            out[same].text = CHECKED
    return out


def _path_objects(page: Any, tally: _Tally) -> Iterator[tuple[Any, Matrix]]:
    """Every path object on the page (inside form XObjects too) with its page matrix."""
    stack: list[tuple[Any, bool, Matrix]] = [(page, True, IDENTITY)]
    depth = 0
    while stack and depth < 10_000:  # a cap: form XObjects could nest absurdly
        depth += 1
        container, is_page, outer = stack.pop()
        count = (
            pdfium_c.FPDFPage_CountObjects(container)
            if is_page
            else pdfium_c.FPDFFormObj_CountObjects(container)
        )
        tally.add(max(count, 0))
        for i in range(max(count, 0)):
            obj = (
                pdfium_c.FPDFPage_GetObject(container, i)
                if is_page
                else pdfium_c.FPDFFormObj_GetObject(container, i)
            )
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            m = pdfium_c.FS_MATRIX()
            own = (
                (m.a, m.b, m.c, m.d, m.e, m.f)
                if pdfium_c.FPDFPageObj_GetMatrix(obj, m)
                else IDENTITY
            )
            matrix = _multiply(own, outer)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                yield obj, matrix
            else:
                stack.append((obj, False, matrix))


def _multiply(a: Matrix, b: Matrix) -> Matrix:
    """a then b (PDF row-vector convention)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _subpaths(
    path: Any, m: Matrix, tally: _Tally
) -> Iterator[tuple[list[tuple[float, float]], Callable[[], bool]]]:
    """Each subpath's points in page space (control points of curves left out), and a
    function saying whether it is closed (asked only of the few that are not boxes)."""
    n = pdfium_c.FPDFPath_CountSegments(path)
    tally.add(0, max(n, 0))
    x, y = ctypes.c_float(), ctypes.c_float()
    # Called for every segment of every path (a page of 40,000 boxes has 200,000): the
    # functions take and give plain addresses, which ctypes passes fastest.
    get_segment, get_type, get_point = _SEGMENT, _SEGMENT_TYPE, _POINT
    x_ref, y_ref = ctypes.addressof(x), ctypes.addressof(y)
    path = ctypes.cast(path, ctypes.c_void_p).value
    a, b, c, d, e, f = m
    points: list[tuple[float, float]] = []
    first = 0  # the subpath's first segment whose close flag counts
    for i in range(max(n, 0)):
        seg = get_segment(path, i)
        kind = get_type(seg)
        get_point(seg, x_ref, y_ref)
        xv, yv = x.value, y.value
        px = a * xv + c * yv + e
        py = b * xv + d * yv + f
        if kind == _MOVETO:
            if points:
                yield points, _closed(path, first, i)
            points, first = [(px, py)], i
        elif kind == _LINETO:
            points.append((px, py))
        elif kind == _BEZIERTO:
            # A curve is no ruling line; keep only where it ends, as a break in the path.
            if points:
                yield points, _closed(path, first, i)
            points, first = [(px, py)], i + 1
    if points:
        yield points, _closed(path, first, max(n, 0))


def _closed(path: int, first: int, end: int) -> Callable[[], bool]:
    """Whether any of the segments first..end-1 closes the subpath, asked when needed."""
    return lambda: any(_CLOSED(_SEGMENT(path, j)) for j in range(first, end))


_MOVETO = pdfium_c.FPDF_SEGMENT_MOVETO
_LINETO = pdfium_c.FPDF_SEGMENT_LINETO
_BEZIERTO = pdfium_c.FPDF_SEGMENT_BEZIERTO


def _rectangle(pts: list[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    """The box of an axis-aligned rectangle outline (4 corners, maybe closed), else None."""
    if len(pts) == 5 and _close(pts[0], pts[4]):
        pts = pts[:4]
    if len(pts) != 4:
        return None
    for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1], strict=True):
        if not (abs(ax - bx) < 0.01 or abs(ay - by) < 0.01):
            return None
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return math.isclose(a[0], b[0], abs_tol=0.01) and math.isclose(a[1], b[1], abs_tol=0.01)


def _edge(x0: float, x1: float, top: float, bottom: float, orientation: str) -> dict[str, Any]:
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


def _rect_edges(x0: float, top: float, x1: float, bottom: float) -> list[dict[str, Any]]:
    """The four sides of a rectangle, as pdfplumber's rect_to_edges gives them."""
    out = [
        _edge(x0, x1, top, top, "h"),
        _edge(x0, x1, bottom, bottom, "h"),
        _edge(x0, x0, top, bottom, "v"),
        _edge(x1, x1, top, bottom, "v"),
    ]
    for e in out:
        e["object_type"] = "rect_edge"
    return out
