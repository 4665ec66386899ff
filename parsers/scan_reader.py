"""Read a scanned or photographed form (image-only PDF, or photos) into the same record.

Each page is stood upright, its ruling lines and tick boxes are found in the image and
its words read by Tesseract (`scan_page`); the pages are put in the form's order and
handed, as PDF page content in points, to the same layout and form readers as a typed
PDF. Every value then carries the confidence of the words it was read from and its place
on the page (`scan_values`); nothing read from pixels passes as certain unless the OCR
was sure of it. Never raises: a scan that cannot be read gives a Rejection.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from parsers.formdef import available_forms, load_form, normalise_label
from parsers.layout import CHECKED, UNCHECKED, Layout, Rejection
from parsers.limits import DEFAULT_SCAN_LIMITS, OverLimit, ScanLimits
from parsers.pdf_page import PDFIUM_LOCK
from parsers.pdf_reader import layout_of
from parsers.pdf_text import Word
from parsers.record import ParsedForm, Problem, ScanPage
from parsers.scan_image import (
    A4_WIDTH_PT,
    PageImage,
    image_size,
    open_image,
    pdf_page_count,
    render_pdf_page,
    upright,
)
from parsers.scan_ocr import Budget, OcrTimeout, OcrUnavailable
from parsers.scan_page import PageRead, form_order, read_page
from parsers.scan_values import LAYOUT_DOUBT, annotate, differing, dropped_ticks, flag
from parsers.scan_words import Placed, body_size, content, place, section_of

Chooser = Callable[[Layout], ParsedForm | None]
NO_OCR = "scanned image: needs keying in by hand"
SLOW = (
    "the scanned form took too long to read (over {:.0f} seconds); please send the "
    "form as a Word document or a typed PDF"
)
DAMAGED_SCAN = "the scanned pages could not be read"
# A page that is a scan: one image covers most of it, and it shows almost no text of its
# own (a scanner's OCR layer is drawn invisible, render mode 3).
SCAN_IMAGE_SHARE = 0.6
SCAN_VISIBLE_TEXT = 3  # text objects drawn visibly; a typed form has hundreds


@dataclass
class ScanResult:
    """What reading a scan gave: the form, or why it was refused (neither: no form on
    the pages), and how many of its pages were read."""

    form: ParsedForm | None = None
    rejection: Rejection | None = None
    pages_read: int = 0
    pages_total: int = 0


@dataclass
class _Ref:
    """A page to read: which file, which page of it, and whether the file is a PDF."""

    file: int
    page: int
    pdf: bool


def is_scanned_pdf(data: bytes, limits: ScanLimits = DEFAULT_SCAN_LIMITS) -> bool:
    """Is the PDF a scan (pages that are images, maybe under a scanner's invisible OCR
    text)? Its first page decides; a typed form's first page is text and lines."""
    # A PDF with no image at all cannot be a scan; object streams may hide the word.
    if b"/Image" not in data and b"/ObjStm" not in data:
        return False
    try:
        with PDFIUM_LOCK:
            doc = pdfium.PdfDocument(data)
            try:
                return len(doc) > 0 and _scan_page(doc[0])
            finally:
                doc.close()
    except Exception:  # noqa: BLE001 - a damaged or locked file: the PDF reader says why
        return False


def _scan_page(page: pdfium.PdfPage) -> bool:
    try:
        w, h = page.get_size()
        covered = 0.0
        visible = 0
        count = pdfium_c.FPDFPage_CountObjects(page.raw)
        for i in range(min(max(count, 0), 5_000)):
            obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                visible += mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                box = [ctypes.c_float() for _ in range(4)]
                if pdfium_c.FPDFPageObj_GetBounds(obj, *box):
                    left, bottom, right, top = (b.value for b in box)
                    covered = max(covered, (right - left) * (top - bottom) / max(w * h, 1.0))
        return covered >= SCAN_IMAGE_SHARE and visible <= SCAN_VISIBLE_TEXT
    finally:
        page.close()


def is_small_image(data: bytes, limits: ScanLimits = DEFAULT_SCAN_LIMITS) -> bool:
    """An image too small to be a page of a form (a logo in an email signature)."""
    w, h = image_size(data, limits)
    return max(w, h) < limits.min_image_side or min(w, h) < limits.min_image_side // 2


def read_scan(
    files: list[bytes], choose: Chooser, limits: ScanLimits = DEFAULT_SCAN_LIMITS
) -> ScanResult:
    """The form on these scanned pages (PDFs or images, one or more pages each, in any
    order), read as `choose` reads a layout. Never raises."""
    out = ScanResult()
    try:
        _read(files, choose, limits, out)
    except OverLimit as exc:
        out.rejection = Rejection("rejected", str(exc))
    except OcrTimeout:
        out.rejection = Rejection("rejected", SLOW.format(limits.message_seconds))
    except OcrUnavailable:
        out.rejection = Rejection("rejected", NO_OCR)
    except Exception:  # noqa: BLE001 - a bad upload must never stop the pipeline
        out.rejection = Rejection("rejected", DAMAGED_SCAN)
    if out.rejection is not None:
        out.form = None
    return out


def _refs(files: list[bytes], limits: ScanLimits) -> tuple[list[_Ref], int]:
    """The pages to read (up to the limit), and how many pages there are."""
    refs: list[_Ref] = []
    total = 0
    for f, data in enumerate(files):
        if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
            count = pdf_page_count(data)
            total += count
            refs += [_Ref(f, p, True) for p in range(count)]
        elif _page_sized(data, limits):  # logos and files that are no image are left
            total += 1
            refs.append(_Ref(f, 0, False))
    return refs[: limits.max_pages], total


def _page_sized(data: bytes, limits: ScanLimits) -> bool:
    try:
        return not is_small_image(data, limits)
    except OverLimit:
        raise
    except Exception:  # noqa: BLE001 - not an image Pillow can open
        return False


def _load(files: list[bytes], ref: _Ref, limits: ScanLimits) -> PageImage:
    if ref.pdf:
        image = render_pdf_page(files[ref.file], ref.page, limits.ocr_dpi, limits)
        # The render's resolution: a page too large for the pixel limit got fewer dpi.
        with PDFIUM_LOCK:
            doc = pdfium.PdfDocument(files[ref.file])
            try:
                width_pt = doc[ref.page].get_size()[0]
            finally:
                doc.close()
        return PageImage(ref.file, ref.page, image, image.width * 72 / width_pt)
    image = open_image(files[ref.file], limits)
    side = min(image.width, image.height)  # a photo taken sideways is still A4 wide
    return PageImage(ref.file, 0, image, side * 72 / A4_WIDTH_PT)


def _read(files: list[bytes], choose: Chooser, limits: ScanLimits, out: ScanResult) -> None:
    refs, out.pages_total = _refs(files, limits)
    out.pages_read = len(refs)
    if not refs:
        return
    budget = Budget(limits.message_seconds, limits.call_seconds)

    def one(ref: _Ref) -> PageRead:
        return read_page(_load(files, ref, limits), limits, budget)

    with ThreadPoolExecutor(max_workers=max(1, limits.workers)) as pool:
        pages = list(pool.map(one, refs))
    if all(p.blank for p in pages):
        # Nothing on the pages at all: as the PDF reader says of a PDF without text.
        out.rejection = Rejection("rejected", NO_OCR)
        return
    definitions = [load_form(i) for i in available_forms()]
    headings = {normalise_label(s.heading): s.number for d in definitions for s in d.sections}
    sections = {i: s for i, p in enumerate(pages) if (s := section_of(p, headings)) is not None}
    pages = form_order(pages, sections)
    body = body_size(pages)
    placeholders = sorted({p for d in definitions for p in d.placeholders})
    placed = [place(p, body, placeholders) for p in pages]

    def reading(
        keep: Callable[[Placed], bool], ticked: bool = False, grow: float = 0.0
    ) -> ParsedForm | None:
        contents = []
        for page, words in zip(pages, placed, strict=True):
            chosen = [
                _ticked(p) if ticked and p.unclear_box else _grown(p.word, grow)
                for p in words
                if keep(p)
            ]
            contents.append(content(page, chosen))
        layout = layout_of(contents, source="scan")
        return choose(layout) if layout is not None else None

    form = reading(lambda p: not p.scribble)
    if form is None:
        return
    form.source = "scan"
    form.scan_pages = [ScanPage(p.file, p.page, p.turn, p.skew) for p in pages]
    annotate(form, placed, pages)
    if any(p.unclear_box for ps in placed for p in ps):
        other = reading(lambda p: not p.scribble, ticked=True)
        if other is not None:
            flag(form, differing(form, other), handwritten=False)
    # Where a line ends is measured on OCR boxes, a pixel or two off a PDF's: values
    # whose reading (a wrap, or a new paragraph) turns on that are not certain.
    for grow in (-0.12, 0.12):
        other = reading(lambda p: not p.scribble, grow=grow)
        if other is not None:
            flag(form, differing(form, other), handwritten=False, message=LAYOUT_DOUBT)
    if any(p.scribble for ps in placed for p in ps):
        other = reading(lambda p: True)
        if other is not None:
            flag(form, differing(form, other), handwritten=True)
    dropped_ticks(form, placed)
    if out.pages_total > out.pages_read:
        form.problems.append(
            Problem(
                "scan",
                "Scanned pages",
                "unreadable",
                f"only the first {out.pages_read} of {out.pages_total} scanned pages were "
                "read: please look at the others",
            )
        )
    out.form = form


def _grown(w: Word, share: float) -> Word:
    """The word a little wider (or narrower) on both sides: a share of its size."""
    if not share or w.text in (CHECKED, UNCHECKED):
        return w
    d = share * w.size
    return Word(w.text, w.x0 - d, max(w.x1 + d, w.x0 - d + 0.1), w.top, w.bottom, w.size)


def _ticked(p: Placed) -> Word:
    """An unclear tick box read as ticked (to see which answers it could change)."""
    w = p.word
    return Word(CHECKED, w.x0, w.x1, w.top, w.bottom, w.size)


def page_image(files: list[bytes], page: ScanPage, dpi: int) -> Image.Image:
    """One scanned page upright, as it was read (for a review page to crop boxes from)."""
    limits = ScanLimits(ocr_dpi=dpi)
    data = files[page.file]
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        with PDFIUM_LOCK:
            doc = pdfium.PdfDocument(data)
            try:
                pg = doc[page.page]
                try:
                    w, h = pg.get_size()
                    # As for reading: a huge page size must not mean a huge bitmap.
                    most = (limits.max_page_pixels / max(w * h, 1.0)) ** 0.5 * 72
                    bitmap = pg.render(scale=min(dpi, most) / 72)
                    image = bitmap.to_pil().convert("RGB")
                    bitmap.close()
                finally:
                    pg.close()
            finally:
                doc.close()
    else:
        image_size(data, limits)  # refused before decoding when too large
        with Image.open(io.BytesIO(data)) as probe:
            probe.load()
            image = (ImageOps.exif_transpose(probe) or probe).convert("RGB")
        scale = dpi * A4_WIDTH_PT / 72 / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return upright(image, page.turn, page.skew)
