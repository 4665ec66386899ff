"""Scanned and photographed forms read by OCR: right, or flagged, never confidently wrong.

Each typed sample PDF is turned into scans (`scans.make`), every page tilted: image-only
PDFs at 300, 200 and 150 dpi, each in grey and in 1-bit (300-1bit also has a page upside
down and its pages out of order), and phone-like JPEGs out of order. Sets: 300-grey,
300-1bit, 200-grey, 200-1bit, 150-grey, 150-1bit, phone-jpeg.
Each set prints "scan set <name>: fields right R/E, wrong values not flagged W".
A wrong value is acceptable only when it carries an "uncertain" or "unreadable" problem
(or its key is reported missing): W must be 0 for every set. At 300 dpi at least 97 % of
the expected answers and ticks must be read right.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from scans.make import (
    ROOT,
    SAMPLES,
    ScanSet,
    album,
    handwritten,
    huge_png,
    render,
    scan_sets,
    scanner_ocr_pdf,
)
from test_accuracy import flatten

from parsers.documents import DocumentResult, _best_form, read_document, read_scan_set
from parsers.limits import ScanLimits
from parsers.scan_reader import is_scanned_pdf, page_image, read_scan
from parsers.scan_values import HANDWRITTEN

MIN_300_DPI = 0.97


@dataclass
class Read:
    """One scan set and what the reader made of it."""

    scan: ScanSet
    result: DocumentResult
    seconds: float
    right: int = 0
    expected: int = 0
    unflagged: list[str] = field(default_factory=list)


def _read(scan: ScanSet, folder: Path) -> Read:
    # Written out and read back, as an attachment would be.
    paths = []
    for i, data in enumerate(scan.files):
        path = folder / f"{scan.name.replace('/', '--')}-{i}"
        path.write_bytes(data)
        paths.append(path)
    started = time.perf_counter()
    if len(paths) == 1:
        result = read_document(paths[0].name, "application/octet-stream", paths[0].read_bytes())
    else:
        result = read_scan_set([p.read_bytes() for p in paths])
    read = Read(scan, result, time.perf_counter() - started)
    want = flatten(json.loads((SAMPLES / f"{scan.source}.expected.json").read_text("utf-8")))
    form = result.form
    got = flatten(form.to_json()) if form else {}
    flagged = (set(form.missing()) | {p.key for p in form.problems}) if form else set()
    read.expected = len(want)
    read.right = sum(got.get(k) == v for k, v in want.items())
    read.unflagged = [
        f"{k}: got {got.get(k)!r}, expected {want.get(k)!r}"
        for k in sorted(want.keys() | got.keys())
        if got.get(k) != want.get(k) and k not in flagged
    ]
    print(
        f"scan set {scan.name}: fields right {read.right}/{read.expected}, "
        f"wrong values not flagged {len(read.unflagged)} ({read.seconds:.1f} s)"
    )
    return read


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> list[Read]:
    folder = tmp_path_factory.mktemp("scans")
    return [_read(scan, folder) for scan in scan_sets()]


def test_tesseract_is_installed() -> None:
    """No tesseract is a failure, never a skip: scans would all be refused."""
    exe = shutil.which("tesseract")
    assert exe is not None, "tesseract is not installed (Debian: apt-get install tesseract-ocr)"
    langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, check=True)
    assert "eng" in langs.stdout.split()


def test_every_scan_is_a_form(reads: list[Read]) -> None:
    for read in reads:
        form = read.result.form
        assert form is not None, (read.scan.name, read.result.outcome, read.result.reason)
        assert form.source == "scan"
        assert len(form.scan_pages) == read.scan.pages
        # Pages in the form's order: each page's place in its file is known.
        assert all(p.turn in (0, 90, 180, 270) and abs(p.skew) <= 3 for p in form.scan_pages)


def test_no_wrong_value_passes_unflagged(reads: list[Read]) -> None:
    offenders = {r.scan.name: r.unflagged for r in reads if r.unflagged}
    assert offenders == {}


def test_300_dpi_scans_are_read(reads: list[Read]) -> None:
    low = {
        r.scan.name: f"{r.right}/{r.expected}"
        for r in reads
        if r.scan.strict and r.right < MIN_300_DPI * r.expected
    }
    assert low == {}


def test_every_value_has_confidence_and_place(reads: list[Read]) -> None:
    for read in reads:
        form = read.result.form
        assert form is not None
        for key, fv in form.values.items():
            assert fv.confidence is not None and 0 <= fv.confidence <= 1, key
            assert key in form.scan_boxes, key
            assert fv.where.startswith("scan page"), fv.where
        for grid, rows in form.grids.items():
            for i, row in enumerate(rows):
                for col, cell in row.items():
                    assert cell.confidence is not None
                    assert f"{grid}[{i}].{col}" in form.scan_boxes
        for box in form.scan_boxes.values():
            assert 0 <= box.page < len(form.scan_pages)


def test_upside_down_and_shuffled_pages_are_put_right(reads: list[Read]) -> None:
    """The 1-bit sets hold their pages out of order, one upside down; the photos come
    out of order: each is read in the form's order, turned upright."""
    for read in reads:
        form = read.result.form
        assert form is not None
        if read.scan.name.endswith("300-1bit"):
            assert [p.page for p in form.scan_pages] != list(range(read.scan.pages))
            assert sorted(p.page for p in form.scan_pages) == list(range(read.scan.pages))
            assert sum(p.turn == 180 for p in form.scan_pages) == 1
        if read.scan.name.endswith("phone-jpeg"):
            assert [p.file for p in form.scan_pages] != list(range(read.scan.pages))
            assert all(p.page == 0 for p in form.scan_pages)


def test_page_image_is_upright_at_the_dpi_asked(reads: list[Read]) -> None:
    read = next(r for r in reads if r.scan.name.endswith("300-1bit"))
    form = read.result.form
    assert form is not None
    turned = next(p for p in form.scan_pages if p.turn == 180)
    image = page_image(read.scan.files, turned, 100)
    assert image.mode == "RGB"
    assert abs(image.width - 827) <= 3 and abs(image.height - 1170) <= 3


# --------------------------------------------------------------------------- not scans, limits


def test_typed_pdfs_are_not_scans() -> None:
    typed = sorted(SAMPLES.glob("pdf-*.pdf")) + sorted(
        (ROOT / "tests" / "test_parsers" / "shapes" / "files").glob("*.pdf")
    )
    assert typed
    assert [p.name for p in typed if is_scanned_pdf(p.read_bytes())] == []
    result = read_document("x.pdf", "application/pdf", typed[0].read_bytes())
    assert result.form is not None and result.form.source == "pdf"


def test_scanner_ocr_pdf_is_read_as_a_scan() -> None:
    """A scanner's invisible OCR text (here deliberately wrong) is ignored: the pages are
    read from their pixels."""
    stem = "pdf-cc-police-window-fall"
    pages = render(SAMPLES / f"{stem}.pdf", 300)[:2]  # the child's name is on page 1
    data = scanner_ocr_pdf(pages, 300, "Name of referrer * Nobody Atall Child's full name * Wrong")
    assert is_scanned_pdf(data)
    result = read_document("scan.pdf", "application/pdf", data)
    assert result.form is not None and result.form.source == "scan"
    assert result.form.value("child.name") == "Lily-Mae Kavanagh"
    assert "Nobody" not in json.dumps(result.form.to_json())


def test_handwriting_is_never_a_value() -> None:
    """A hand-written date (a pen scrawl in the empty "Date notified" box) is flagged for
    a person to read on the scan, and given as no value."""
    result = read_document("scan.pdf", "application/pdf", handwritten())
    form = result.form
    assert form is not None and form.source == "scan"
    assert form.value("notifications.national_panel_date") is None
    problems = [p for p in form.problems if p.key == "notifications.national_panel_date"]
    assert [(p.kind, p.message) for p in problems] == [("unreadable", HANDWRITTEN)]


def test_logo_among_photos_is_left_out() -> None:
    """A signature logo sent beside the photos of a form is not read as a page."""
    logo = Image.new("RGB", (320, 120), (0, 70, 140))
    buf = io.BytesIO()
    logo.save(buf, format="PNG")
    pages = render(SAMPLES / "pdf-cc-police-window-fall.pdf", 150)[:1]
    shot = io.BytesIO()
    pages[0].save(shot, format="JPEG", quality=80)
    result = read_scan_set([buf.getvalue(), shot.getvalue()])
    form = result.form
    assert form is not None, result.reason
    assert [p.file for p in form.scan_pages] == [1]


def test_logo_stays_not_a_form() -> None:
    logo = Image.new("RGB", (320, 120), (0, 70, 140))
    buf = io.BytesIO()
    logo.save(buf, format="PNG")
    started = time.perf_counter()
    result = read_document("logo.png", "image/png", buf.getvalue())
    assert result.outcome == "not_a_form"
    assert time.perf_counter() - started < 1.0  # not OCR'd at all


def test_photo_of_something_else_is_not_a_form() -> None:
    data = album(1, seed=3)
    result = read_document("holiday.pdf", "application/pdf", data)
    assert result.outcome == "not_a_form", result.reason


def test_forty_page_album_is_bounded() -> None:
    data = album(40)
    started = time.perf_counter()
    result = read_document("album.pdf", "application/pdf", data)
    elapsed = time.perf_counter() - started
    assert result.outcome == "not_a_form"
    assert "only its first 8 of 40 pages were read" in result.reason
    assert elapsed < 90


def test_decompression_bomb_is_refused_unread() -> None:
    result = read_document("bomb.png", "image/png", huge_png(30_000, 30_000))
    assert result.outcome == "rejected"
    assert "larger than a scanned page could be" in result.reason


def test_ocr_time_limit_gives_a_plain_reason() -> None:
    pages = render(SAMPLES / "pdf-cc-police-window-fall.pdf", 300)
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    limits = ScanLimits(message_seconds=1.0, call_seconds=0.5)
    started = time.perf_counter()
    result = read_scan([buf.getvalue()], _best_form, limits)
    assert time.perf_counter() - started < 20
    assert result.form is None and result.rejection is not None
    assert "took too long to read" in result.rejection.reason
