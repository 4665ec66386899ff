"""Words from a PDF page's characters: runs read whole, and the runs that must be split."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from parsers.pdf_page import PDFIUM_LOCK, open_pdf, read_page
from parsers.pdf_text import Word


def _pdf(content: str) -> bytes:
    """A one-page A4 PDF drawing `content`, with Helvetica (F1), Helvetica-Bold (F2) and
    ZapfDingbats (F3), all standard fonts that need no embedding."""
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _words(content: str) -> list[Word]:
    with PDFIUM_LOCK:
        doc = open_pdf(_pdf(content))
        try:
            return [w for w in read_page(doc, 0).words if w.text.strip()]
        finally:
            doc.close()


def test_a_run_in_one_font_is_one_word_with_the_box_of_its_characters() -> None:
    (word,) = _words("BT /F1 12 Tf 100 700 Td (Liverpool) Tj ET")
    # Helvetica's widths: "Liverpool" is 48.024 points wide at 12 pt.
    assert word.text == "Liverpool"
    assert word.x0 == pytest.approx(100, abs=1.5)
    assert word.x1 == pytest.approx(148.0, abs=1.5)
    assert word.size == pytest.approx(12)
    assert word.bottom - word.top == pytest.approx(12)
    assert not word.bold


def test_a_change_of_font_inside_a_run_ends_the_word() -> None:
    # Bold "Yes" set hard against plain "/No": one run of characters, two fonts.
    words = _words("BT /F2 12 Tf 100 700 Td (Yes) Tj /F1 12 Tf (/No) Tj ET")
    assert [(w.text, w.bold) for w in words] == [("Yes", True), ("/No", False)]
    assert words[0].x1 <= words[1].x0 + 0.5


def test_a_tick_glyph_against_its_option_is_a_word_of_its_own() -> None:
    # ZapfDingbats "4" is a tick mark; set with no space before the option text.
    words = _words("BT /F3 12 Tf 100 700 Td (4) Tj /F1 12 Tf (Yes) Tj ET")
    assert [w.text for w in words][-1] == "Yes"
    assert len(words) == 2


def test_a_gap_inside_one_text_object_ends_the_word() -> None:
    # Kerned 40 points apart inside one TJ, with no space character between.
    words = _words("BT /F1 12 Tf 100 700 Td [(Left) -3400 (Right)] TJ ET")
    assert [w.text for w in words] == ["Left", "Right"]
    assert words[1].x0 - words[0].x1 > 30


def test_a_new_line_in_the_same_text_block_ends_the_word() -> None:
    words = _words("BT /F1 12 Tf 100 700 Td (Upper) Tj 0 -20 Td (Lower) Tj ET")
    assert [w.text for w in words] == ["Upper", "Lower"]
    assert words[1].top - words[0].top == pytest.approx(20, abs=0.5)


def test_pdfium_reads_the_test_pdf() -> None:
    # The builder itself: a valid PDF of one page (else every test above means nothing).
    doc = pdfium.PdfDocument(_pdf("BT /F1 12 Tf 100 700 Td (x) Tj ET"))
    assert len(doc) == 1
    doc.close()
