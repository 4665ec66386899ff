"""Read a PDF (a form exported from Word/LibreOffice, or a fillable one) into a Layout.

Words and ruling lines come from pdfium (`pdf_page`, fast); tables are found from the
ruling lines by pdfplumber's table finder, and words are placed into cells by position.
Fillable-field (AcroForm) values (read with pypdf, `pdf_fields`) are put on the page
where their boxes are, so they are read like typed text and ticked boxes. Never
raises: a bad file gives a Rejection.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

import pypdf
from pdfplumber.table import Table as FoundTable
from pdfplumber.table import (
    TableFinder,
    TableSettings,
    cells_to_tables,
    edges_to_intersections,
)

from parsers.layout import (
    Block,
    Cell,
    FieldHint,
    Layout,
    Para,
    Rejection,
    Table,
)
from parsers.limits import DEFAULT_PDF_LIMITS, OverLimit, PdfLimits
from parsers.pdf_budget import check_drawing
from parsers.pdf_edges import table_edges
from parsers.pdf_fields import form_fields, place_fields
from parsers.pdf_page import PDFIUM_LOCK, PageContent, open_pdf, read_page
from parsers.pdf_text import (
    Line,
    Word,
    base_pitch,
    continues,
    group_lines,
    joiner,
    paragraphs,
)

MAX_PAGES = DEFAULT_PDF_LIMITS.max_pages  # pages read; later ones are not (see PdfLimits)
SCANNED = "scanned image: needs keying in by hand"
DAMAGED = "the PDF file is damaged and cannot be read"
LOCKED = "the PDF is password-protected; please send it without a password"
MIN_TEXT_CHARS = 20  # below this a "text" layer is scanner noise, not a form


def read_pdf(data: bytes, limits: PdfLimits = DEFAULT_PDF_LIMITS) -> Layout | Rejection:
    """The document's blocks, or why it cannot be read. Never raises."""
    try:
        return _read(data, limits)
    except OverLimit as exc:
        return Rejection("rejected", str(exc))
    except Exception:  # noqa: BLE001 - a bad upload must never stop the pipeline
        return Rejection("rejected", DAMAGED)


@dataclass
class _Region:
    """A table (or a free line) on one page, before becoming a block."""

    page: int
    top: float
    bottom: float
    cols: tuple[float, ...]
    rows: list[list[_RawCell]] | None = None
    para: Para | None = None


@dataclass
class _RawCell:
    """A table cell's box and the lines of words found inside it."""

    bbox: tuple[float, float, float, float]
    lines: list[Line]


def _read(data: bytes, limits: PdfLimits) -> Layout | Rejection:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:  # noqa: BLE001
        return Rejection("rejected", DAMAGED)
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # an empty user password opens without asking
        except Exception:  # noqa: BLE001
            opened = False
        if not opened:
            return Rejection("rejected", LOCKED)
    # Counted before pdfium loads a page: loading is where a hostile drawing costs.
    check_drawing(reader, limits)
    widgets, hints = form_fields(reader, limits)
    with PDFIUM_LOCK:
        doc = open_pdf(data, "" if encrypted else None)
        try:
            contents: list[PageContent] = []
            found = 0
            for n in range(min(len(doc), limits.max_pages)):
                contents.append(read_page(doc, n, limits))
                found += contents[-1].chars
                if found > limits.document_chars:
                    raise OverLimit(
                        "the PDF has more text than a referral form could "
                        f"(over {limits.document_chars:,} characters in its first pages)"
                    )
        finally:
            doc.close()
    return layout_of(contents, widgets, hints, limits) or Rejection("rejected", SCANNED)


def layout_of(
    contents: list[PageContent],
    widgets: dict[int, list[Word]] | None = None,
    hints: list[FieldHint] | None = None,
    limits: PdfLimits = DEFAULT_PDF_LIMITS,
    source: Literal["pdf", "scan"] = "pdf",
) -> Layout | None:
    """The blocks of pages already read (from a PDF's text layer, or from a scan's OCR
    words and the ruling lines and boxes found in its image); None when the pages hold
    too little text to be a form."""
    widgets = widgets or {}
    hints = hints or []
    page_lines: list[list[Line]] = []
    page_regions: list[list[_Region]] = []
    heights: list[float] = []
    chars = 0
    for n, content in enumerate(contents):
        words = place_fields(content.words, widgets.get(n, []))
        chars += sum(len(w.text.strip()) for w in words)
        tables, loose = _tables(content, n, words, limits)
        page_regions.append(tables)
        # A field value with no label beside it and outside any table is left to
        # the label/value hints; placed alone it would join whatever came before.
        lines = [ln for ln in group_lines(loose) if not all(w.hard for w in ln.words)]
        page_lines.append(lines)
        heights.append(content.height)
    if chars < MIN_TEXT_CHARS and not any(h.value.strip() for h in hints):
        return None

    drop = _running_heads(page_lines, heights)
    cell_lines = [c.lines for rs in page_regions for r in rs for row in r.rows or [] for c in row]
    pitches = base_pitch(page_lines + cell_lines)
    regions: list[_Region] = []
    for n, (lines, page_tables) in enumerate(zip(page_lines, page_regions, strict=True)):
        free = [
            _Region(n, ln.top, ln.top, (), para=Para(ln.marked, _where(n, ln.words[0])))
            for ln in lines
            if _head_key(ln.text) not in drop or not _in_margin(ln, heights[n])
        ]
        regions.extend(sorted(free + page_tables, key=lambda r: r.top))
    return Layout(source, _blocks(regions, pitches), hints)


# --------------------------------------------------------------------------- tables


def _tables(
    content: PageContent, n: int, words: list[Word], limits: PdfLimits = DEFAULT_PDF_LIMITS
) -> tuple[list[_Region], list[Word]]:
    """Tables on the page as regions of cells, and the words outside every table."""
    regions: list[_Region] = []
    inside: set[int] = set()
    # Words by vertical centre, so each cell looks only at the words in its band; and
    # each band by horizontal centre, so a row of many cells does not read the whole
    # band once per cell.
    order = sorted(range(len(words)), key=lambda i: words[i].middle)
    middles = [words[i].middle for i in order]
    bands: dict[tuple[float, float], tuple[list[float], list[int]]] = {}
    # The table finder only reads `edges` and `bbox` from the page it is given.
    page = SimpleNamespace(edges=content.edges, bbox=(0, 0, content.width, content.height))
    for t in _BoundedFinder(page, n, limits).tables:
        x0, top, x1, bottom = t.bbox
        rows: list[list[_RawCell]] = []
        cols: set[float] = set()
        for row in t.rows:
            cells: list[_RawCell] = []
            for bbox in row.cells:
                if bbox is None:
                    continue  # merged into the cell to its left
                cx0, ctop, cx1, cbottom = bbox
                cols.add(round(cx0))
                band = bands.get((ctop, cbottom))
                if band is None:
                    ids = order[bisect_left(middles, ctop) : bisect_right(middles, cbottom)]
                    ids.sort(key=lambda i: words[i].x0 + words[i].x1)
                    band = bands[(ctop, cbottom)] = ([words[i].x0 + words[i].x1 for i in ids], ids)
                centres, ids = band
                near = ids[bisect_left(centres, 2 * cx0) : bisect_right(centres, 2 * cx1)]
                members = sorted(i for i in near if i not in inside and _centre_in(words[i], bbox))
                inside.update(members)
                cells.append(_RawCell(bbox, group_lines([words[i] for i in members])))
            rows.append(cells)
        cols.add(round(x1))
        regions.append(_Region(n, top, bottom, tuple(sorted(cols)), rows=rows))
    free = [w for i, w in enumerate(words) if i not in inside]
    return regions, free


class _BoundedFinder(TableFinder):
    """pdfplumber's table finder (default settings), refusing a page whose ruling lines
    would keep it busy for minutes.

    Its intersection search pairs every vertical line with every horizontal one, and its
    cell search compares every crossing with every crossing after it: a page ruled every
    4 points (under 400 strokes) took 23 s. These are TableFinder.__init__'s steps, with
    the sizes checked between them.
    """

    def __init__(self, page: Any, n: int, limits: PdfLimits) -> None:
        self.page = page
        self.settings = TableSettings.resolve({})
        self.edges = table_edges(page.edges)  # get_edges() with these settings, faster
        down = sum(1 for e in self.edges if e["orientation"] == "v")
        across = len(self.edges) - down
        crossings: dict[Any, Any] = {}
        if down * across <= limits.table_line_pairs:
            crossings = edges_to_intersections(
                self.edges,
                self.settings.intersection_x_tolerance,
                self.settings.intersection_y_tolerance,
            )
        if down * across > limits.table_line_pairs or len(crossings) > limits.table_crossings:
            raise OverLimit(
                f"the PDF has more table lines on page {n + 1} than a referral form could "
                f"({across:,} across and {down:,} down)"
            )
        self.intersections = crossings
        self.cells = _cells_between(self.intersections)
        self.tables = [FoundTable(self.page, cells) for cells in cells_to_tables(self.cells)]


Point = tuple[float, float]
Bbox = tuple[float, float, float, float]


def _cells_between(crossings: dict[Point, dict[str, list[dict[str, Any]]]]) -> list[Bbox]:
    """The smallest cell at each crossing: pdfplumber's `intersections_to_cells`, with the
    same result, found by lookup instead of by comparing every crossing with every later
    one (a third of a page's time in pdfplumber's version)."""

    def boxes(edges: list[dict[str, Any]]) -> frozenset[Bbox]:
        return frozenset((e["x0"], e["top"], e["x1"], e["bottom"]) for e in edges)

    downs = {p: boxes(e["v"]) for p, e in crossings.items()}
    acrosses = {p: boxes(e["h"]) for p, e in crossings.items()}

    def joined(a: Point, b: Point) -> bool:
        return bool(
            (a[0] == b[0] and downs[a] & downs[b]) or (a[1] == b[1] and acrosses[a] & acrosses[b])
        )

    points = sorted(crossings)
    column: dict[float, list[Point]] = {}  # same x, top to bottom
    row: dict[float, list[Point]] = {}  # same y, left to right
    for p in points:
        column.setdefault(p[0], []).append(p)
        row.setdefault(p[1], []).append(p)
    cells: list[Bbox] = []
    for pt in points:
        below = [b for b in column[pt[0]] if b[1] > pt[1] and joined(pt, b)]
        right = [r for r in row[pt[1]] if r[0] > pt[0] and joined(pt, r)] if below else []
        found = next(
            (
                (pt[0], pt[1], r[0], b[1])
                for b in below
                for r in right
                if (r[0], b[1]) in crossings and joined((r[0], b[1]), r) and joined((r[0], b[1]), b)
            ),
            None,
        )
        if found is not None:
            cells.append(found)
    return cells


def _centre_in(w: Word, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return x0 <= (w.x0 + w.x1) / 2 <= x1 and top <= w.middle <= bottom


def _cell(n: int, raw: _RawCell, pitches: dict[float, float]) -> Cell:
    cx0, ctop, _cx1, _cb = raw.bbox
    if not raw.lines:
        return Cell((), f"pdf page {n + 1} at ({cx0:.0f},{ctop:.0f})")
    right = _right(raw)
    paras = [Para(text, _where(n, w)) for text, w in paragraphs(raw.lines, right, pitches)]
    return Cell(tuple(paras), paras[0].where)


def _right(raw: _RawCell) -> float:
    """Where text in the cell must end: text starts one padding in from the left edge,
    so assume the same padding on the right."""
    cx0, _ct, cx1, _cb = raw.bbox
    pad = max(min((ln.x0 for ln in raw.lines), default=cx0) - cx0, 0.0)
    return cx1 - pad


def _where(n: int, w: Word) -> str:
    return f"pdf page {n + 1} at ({w.x0:.0f},{w.top:.0f})"


# --------------------------------------------------------------------------- assembly


def _head_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.casefold().split()))


def _in_margin(line: Line, height: float) -> bool:
    return line.top < 0.1 * height or line.top > 0.9 * height


def _running_heads(page_lines: list[list[Line]], heights: list[float]) -> set[str]:
    """Header/footer lines: the same text (numbers aside) in the margin of several pages."""
    if len(page_lines) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines, h in zip(page_lines, heights, strict=True):
        seen.update({_head_key(ln.text) for ln in lines if _in_margin(ln, h)})
    return {k for k, c in seen.items() if c >= 2}


def _blocks(regions: list[_Region], pitches: dict[float, float]) -> list[Block]:
    """Blocks in reading order; a table cut by a page break is joined back together."""
    out: list[Block] = []
    prev: _Region | None = None
    for r in regions:
        if r.para is not None:
            out.append(r.para)
            prev = None
            continue
        assert r.rows is not None
        rows = [[_cell(r.page, c, pitches) for c in row] for row in r.rows]
        if (
            prev is not None
            and prev.rows is not None
            and r.page == prev.page + 1
            and isinstance(out[-1], Table)
            and _same_columns(prev.cols, r.cols)
        ):
            table = out[-1]
            if rows and table.rows and _split_row(prev.rows[-1], r.rows[0]):
                _join_row(table.rows[-1], rows[0], prev.rows[-1], r.rows[0])
                rows = rows[1:]
            table.rows.extend(rows)
        else:
            out.append(Table(rows, f"pdf page {r.page + 1} table at y={r.top:.0f}"))
        prev = r
    return out


def _split_row(above: list[_RawCell], below: list[_RawCell]) -> bool:
    """Is `below` (first row on a page) the rest of `above` (last row on the page before)?

    A row that runs over a page break continues with its label cell empty: the label
    fitted above the break.
    """
    return (
        len(above) == len(below) > 1
        and bool(above[0].lines)
        and not below[0].lines
        and any(c.lines for c in below[1:])
    )


def _join_row(
    cells: list[Cell], more: list[Cell], raw_above: list[_RawCell], raw_below: list[_RawCell]
) -> None:
    """Append a split row's second part to its first, cell by cell.

    A line cut by the page break is joined like a wrapped line (a space, or nothing
    inside a broken word); otherwise the continuation starts a new paragraph.
    """
    for n, (cell, extra, above, below) in enumerate(
        zip(cells, more, raw_above, raw_below, strict=True)
    ):
        if not extra.paras:
            continue
        paras = list(cell.paras)
        if paras and above.lines and below.lines:
            right = _right(above)
            if continues(above.lines[-1], below.lines[0], right):
                last, first = paras[-1], extra.paras[0]
                joined = (last.marked or last.text) + joiner(above.lines[-1], right)
                joined += first.marked or first.text
                paras[-1] = Para(joined, last.where)
                cells[n] = Cell((*paras, *extra.paras[1:]), cell.where)
                continue
        cells[n] = Cell((*paras, *extra.paras), cell.where)


def _same_columns(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 2 for x, y in zip(a, b, strict=True))
