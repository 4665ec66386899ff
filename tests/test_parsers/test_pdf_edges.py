"""Our table edges are pdfplumber's, found faster: the same edges, to the last bit."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pdfplumber.table import TableFinder, TableSettings

from parsers.limits import DEFAULT_PDF_LIMITS
from parsers.pdf_edges import table_edges
from parsers.pdf_page import PDFIUM_LOCK, _edge, open_pdf, read_page

FORMS = Path(__file__).resolve().parents[2] / "samples" / "forms"


def _theirs(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pdfplumber's own get_edges, default settings, on a page holding these edges."""
    finder = TableFinder.__new__(TableFinder)
    finder.page = SimpleNamespace(edges=edges, bbox=(0, 0, 1000, 1000))  # type: ignore[assignment]
    finder.settings = TableSettings.resolve({})
    return finder.get_edges()


def test_every_sample_pdf_page_gives_pdfplumbers_edges() -> None:
    pages = 0
    for path in sorted(FORMS.glob("*.pdf")):
        with PDFIUM_LOCK:
            doc = open_pdf(path.read_bytes())
            try:
                contents = [read_page(doc, n, DEFAULT_PDF_LIMITS) for n in range(len(doc))]
            finally:
                doc.close()
        for content in contents:
            assert table_edges(content.edges) == _theirs(content.edges), path.name
            pages += 1
    assert pages > 25


def test_crowded_edges_snap_and_join_like_pdfplumbers() -> None:
    """Edges a tolerance apart, chained clusters, overlaps, short ones, odd floats."""
    rng = random.Random(5)
    for _ in range(300):
        edges = []
        for _ in range(rng.randint(0, 80)):
            a = round(rng.uniform(0, 60), rng.choice([0, 1, 3, 7]))
            b = a + rng.choice([0.0, 0.5, 1, 2.9, 3, 3.1, rng.uniform(0, 40)])
            at = rng.choice([10, 10.000001, 12.9, 13, 13.0000001, 16, rng.uniform(0, 30)])
            if rng.random() < 0.5:
                edges.append(_edge(a, b, at, at, "h"))
            else:
                edges.append(_edge(at, at, a, b, "v"))
        assert table_edges(edges) == _theirs(edges)
