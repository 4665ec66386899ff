"""Every limit on how much one email or attachment may make the readers do, in one place."""

from __future__ import annotations

from dataclasses import dataclass

# Each limit sits far above what a real referral (or a real email carrying one) needs, and
# far below what makes a reader slow or large: the real figures are given beside each one.
# A file over a limit is refused with a plain reason (`OverLimit`), never read in part and
# accepted. Zip limits (members, sizes, ratio) are in `zip_guard.ZipLimits`.

KIB = 1024
MIB = 1024 * KIB

# --------------------------------------------------------------------------- email (MIME)

# The standard library's header parser costs 10-30 microseconds a byte for structured
# fields (addresses, Content-Type), more than that for long ones (time grows with the
# square of the length: a 5 MB Subject took over 120 s), and parses a field again each
# time it is read. These limits bound what it is given (`mime_limits`).
#
# One header block (the email's own, or a part's): past it, fields are not read and the
# email is refused. Real: 2-20 KB (the shared mail corpus: 24 KB at most, and its two
# tests of long headers, 136 and 210 KB, stay under it).
MAX_HEADER_BLOCK_BYTES = 256 * KIB
# One header field with its folded lines; a longer one is cut to this before it is
# parsed (a From of 4 KB: about 0.1 s a reading). Real: under 1 KB; a To line of a
# hundred addresses about 5 KB (cut: To is never read).
MAX_HEADER_FIELD_BYTES = 4 * KIB
# The header fields the readers parse in parts, over the whole email: every part's
# Content- fields (each read 3-6 times) and delivery-report blocks. Past it they are
# dropped (the parts are read as text) and the email is refused. Real: a few hundred
# bytes a part, so under 12 KB for 30 attachments.
MAX_PART_HEADER_BYTES = 32 * KIB
# Brackets nested in one header field: the standard library reads comments recursively,
# and about a thousand "(" raise RecursionError while the email is parsed. Real: 1.
MAX_HEADER_COMMENT_DEPTH = 20
# Parts inside parts (multiparts and attached emails). The standard library's parser
# checks every line against every open boundary (time grows with lines x depth) and
# recurses once per level (RecursionError near 1,000). Real: under 10; each forward of
# a forward adds about 3.
MAX_MIME_DEPTH = 50
# Parts in one email, at every level. Real: under 50 (30 attachments are read at most).
MAX_MIME_PARTS = 200
# Header lines in one email, every block together (each is read one by one, by the
# parser too). Real: under 300 KB, forwards of forwards included.
MAX_HEADER_TOTAL_BYTES = 1024 * KIB

# --------------------------------------------------------------------------- Word (.docx)

# word/document.xml, parsed whole by lxml (about 20 bytes of memory per byte of XML: an
# honest 49 MB part took 1.07 GB). Real: the SIRG form is about 100 KB.
MAX_DOCX_MAIN_PART_BYTES = 5 * MIB
# [Content_Types].xml and _rels/.rels. Real: under 2 KB.
MAX_DOCX_PACKAGE_PART_BYTES = 1 * MIB
# Rows in one table. Real: at most 15 (the SIRG form's tables are 5-15 rows).
MAX_TABLE_ROWS = 200
# Filled rows of one grid over the whole form (household members, agencies, key
# dates). Real: at most 14.
MAX_GRID_ROWS = 200
# Paragraphs in one document, in the body and in table cells (reading a form costs
# about half a millisecond per paragraph). Real: about 300; a 30-page report 1,500.
MAX_PARAGRAPHS = 5_000


# --------------------------------------------------------------------------- PDF


@dataclass(frozen=True)
class PdfLimits:
    """How much a PDF may ask pdfium (and the table finder) to do before it is refused.

    A "drawing operation" is one path segment or rectangle (m l c v y re), one piece of
    text shown (Tj TJ ' "), one image or form drawn (Do BI sh); a form drawn ten times
    counts ten times, so a few KB of forms drawing forms cannot hide millions of strokes.
    """

    # Pages read: a referral form is 4-5 pages and comes first in any bundle; later
    # pages are not read. A PDF of more than `document_pages` is refused: no bundle
    # sent with a referral is that long, and its page list alone is work (pypdf lists
    # every page: 100,000 pages, 1.6 s).
    max_pages: int = 30
    document_pages: int = 1_000
    # Drawing operations on one page. Real: 200-250 (pdfium: 160-200 objects); a
    # Word export that draws each cell border apart, or a vector logo, a few thousand.
    page_drawing: int = 20_000
    # Drawing operations over all the pages read. Real: under 1,000.
    document_drawing: int = 100_000
    # Inflated content of one page, each form counted as often as it is drawn; this
    # also bounds the characters pdfium lays out. Real: 16-20 KB a page.
    page_content_bytes: int = 4 * MIB
    document_content_bytes: int = 16 * MIB
    # Characters pdfium finds on one page, and over the pages read. Real: under 3,000
    # a page (a page of small print: about 6,000).
    page_chars: int = 20_000
    document_chars: int = 150_000
    # Fillable fields (widget annotations) on one page, and over the pages read (each is
    # matched to a label like a paragraph). Real: one a tick box or answer box, so about
    # 150 for a fillable SIRG form.
    page_fields: int = 1_000
    document_fields: int = 3_000
    # Ruling lines the table finder may pair up on one page, after it has merged them:
    # vertical x horizontal (its intersection search looks at every pair), and the
    # crossings found (its cell search compares every crossing with those after it).
    # Real: at most 17 x 28 lines and 120 crossings a page.
    table_line_pairs: int = 250_000
    table_crossings: int = 4_000


DEFAULT_PDF_LIMITS = PdfLimits()
# pdfium stops following forms drawn inside forms at 40 levels (kMaxFormLevel in
# cpdf_streamcontentparser.cpp); a form that draws itself is followed down all 40
# (measured with this pypdfium2). The count of drawing operations does the same.
PDFIUM_MAX_FORM_LEVEL = 40


class OverLimit(Exception):
    """The file asks for more work than any referral form could; str() is the plain reason,
    safe to send back to the sender (it quotes nothing from the file)."""


# --------------------------------------------------------------------------- scans


@dataclass(frozen=True)
class ScanLimits:
    """How much reading one message's scanned or photographed form may cost.

    OCR is the cost: about 2-3 s of one core for a 300 dpi page (Tesseract 5.3, one
    thread), so pages, pixels and seconds are each bounded; past a limit the scan is
    refused with a plain reason (or, for pages, the later ones are not read, and the
    form says so).
    """

    # Pages read from one scan (a PDF, or the images of one email). Real: 4-5.
    max_pages: int = 8
    # Pixels of one page as decoded or rendered, checked before decoding (a decompression
    # bomb is a small file of a huge image). Real: an A4 page at 300 dpi is 8.7 million,
    # a 12-megapixel phone photo 12 million; a 48-megapixel one is refused.
    max_page_pixels: int = 50_000_000
    # The resolution pages are read at: a PDF page is rendered at it, a photo scaled to
    # it (taking its page as A4 wide). Tesseract reads 10 pt type best at about 300.
    ocr_dpi: int = 300
    # Images smaller than this on both sides are not read (an email signature's logo).
    min_image_side: int = 600
    # Seconds of one Tesseract call before it is killed, and of all OCR for a message.
    call_seconds: float = 45.0
    message_seconds: float = 90.0  # below the pipeline's INTAKE_READ_TIMEOUT_SECONDS
    # Tesseract processes run at once (pages are read in parallel).
    workers: int = 2


DEFAULT_SCAN_LIMITS = ScanLimits()
