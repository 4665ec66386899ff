"""The original document as text: the form's paragraphs and tables, in reading order.

A browser cannot show a Word file, and PDFs shown in a frame cannot be pointed at, so
the page also shows the document as the readers saw it (parsers.docx_reader and
parsers.pdf_reader), with every place an answer was found marked and linked from the
record beside it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from parsers.docx_reader import read_docx
from parsers.layout import Layout, Para, Table
from parsers.pdf_reader import read_pdf
from parsers.sniff import sniff
from review.render import anchor

_CACHE_SIZE = 32


@dataclass(frozen=True)
class DocCell:
    """A table cell: text, its HTML id (when first with that place) and whether an
    answer was read from it."""

    text: str
    id: str | None
    found: bool


@dataclass(frozen=True)
class DocBlock:
    """A paragraph (text) or a table (rows of cells)."""

    text: str = ""
    id: str | None = None
    found: bool = False
    rows: list[list[DocCell]] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        """True for a table."""
        return bool(self.rows)


@dataclass(frozen=True)
class DocView:
    """The whole document: its kind ("docx" or "pdf"), its blocks, and for each place
    an answer may come from (anchor of a `where`) the id of the element showing it."""

    kind: str
    blocks: list[DocBlock]
    targets: dict[str, str]

    def target(self, where: str | None) -> str | None:
        """The element id to link to for a provenance place, if the document shows it."""
        return self.targets.get(anchor(where)) if where else None


_cache: OrderedDict[str, tuple[str, Layout] | None] = OrderedDict()
_lock = threading.Lock()


def _layout(sha256: str, load: Callable[[], bytes]) -> tuple[str, Layout] | None:
    """The parsed layout of a document, cached by content hash (attachments never change)."""
    with _lock:
        if sha256 in _cache:
            _cache.move_to_end(sha256)
            return _cache[sha256]
    data = load()
    kind = sniff(data) if data else "empty"
    result: tuple[str, Layout] | None = None
    if kind in ("docx", "pdf"):
        layout = read_docx(data) if kind == "docx" else read_pdf(data)
        if isinstance(layout, Layout):
            result = (kind, layout)
    with _lock:
        _cache[sha256] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def document_view(sha256: str, load: Callable[[], bytes], found: set[str]) -> DocView | None:
    """The document's blocks with ids for linking; None when it cannot be shown as text.

    `found` holds the places (provenance `where`) answers were read from.
    """
    got = _layout(sha256, load)
    if got is None:
        return None
    kind, layout = got
    targets: dict[str, str] = {}
    used: set[str] = set()
    found_anchors = {anchor(w) for w in found}

    def place(element_where: str, inner: list[str]) -> tuple[str, bool]:
        """An id for an element, unique in the page, that its inner places point to too."""
        base = anchor(element_where)
        element_id = base
        n = 1
        while element_id in used:
            n += 1
            element_id = f"{base}-{n}"
        used.add(element_id)
        hit = False
        for where in (element_where, *inner):
            a = anchor(where)
            targets.setdefault(a, element_id)
            hit = hit or a in found_anchors
        return element_id, hit

    blocks: list[DocBlock] = []
    for block in layout.blocks:
        if isinstance(block, Para):
            if block.text.strip():
                element_id, hit = place(block.where, [])
                blocks.append(DocBlock(text=block.text, id=element_id, found=hit))
        elif isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells = []
                for cell in row:
                    element_id, hit = place(cell.where, [p.where for p in cell.paras])
                    cells.append(DocCell(cell.text, element_id, hit))
                rows.append(cells)
            if rows:
                blocks.append(DocBlock(rows=rows))
    return DocView(kind, blocks, targets)
