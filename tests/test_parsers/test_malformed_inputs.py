"""Malformed inputs, each with the outcome and reason it must get.

test_unsafe_files.py covers zip bombs, macros, .doc/.msg/.rtf/.odt, encrypted and blank
PDFs and random bytes; these are the remaining cases, made from the real samples.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from parser_fixtures import ROOT, minimal_docx, p

from parsers.documents import read_document
from parsers.pdf_reader import SCANNED as PDF_SCANNED

SAMPLES = ROOT / "samples" / "forms"
DOCX = SAMPLES / "cc-police-window-fall.docx"
PDF = SAMPLES / "pdf-typed-school-mixed-ticks.pdf"


def _png(width: int = 60, height: int = 40) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_docx_is_rejected_as_damaged(fraction: float) -> None:
    data = DOCX.read_bytes()
    result = read_document(
        "form.docx", "application/octet-stream", data[: int(len(data) * fraction)]
    )
    assert result.outcome == "rejected"
    assert "damaged" in result.reason or "could not be read" in result.reason
    assert result.form is None


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_truncated_pdf_is_rejected_or_read(fraction: float) -> None:
    data = PDF.read_bytes()
    result = read_document("form.pdf", "application/pdf", data[: int(len(data) * fraction)])
    # A PDF cut short may still show its first pages; it must never be taken as complete
    # unless every mandatory answer was really read.
    assert result.outcome in ("rejected", "needs_info", "referral")
    if result.outcome == "rejected":
        assert result.reason and result.form is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Dear team, please find the referral below.\nName: A\n", "text file"),
        (b"\x00\x01\x02\x03binary junk" * 50, "not a Word document or PDF"),
        (b"<html><body><p>Referral</p></body></html>", "text file"),
    ],
)
def test_a_non_zip_file_named_docx_is_not_a_form(data: bytes, reason: str) -> None:
    result = read_document("referral.docx", "application/vnd.openxmlformats", data)
    assert result.outcome == "not_a_form"
    assert reason in result.reason
    assert result.form is None


def test_a_member_whose_size_header_lies_is_refused() -> None:
    """document.xml claims 100 bytes in its headers but inflates to far more."""
    with zipfile.ZipFile(DOCX) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    data = bytearray(buf.getvalue())
    # Patch the uncompressed size of word/document.xml in the local and central headers.
    member = b"word/document.xml"
    real = len(parts["word/document.xml"])
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            header_len = 30 if sig == b"PK\x03\x04" else 46
            if data[at + header_len : at + header_len + len(member)] == member:
                assert struct.unpack_from("<I", data, at + offset)[0] == real
                struct.pack_into("<I", data, at + offset, 100)
            at += 4
    result = read_document("form.docx", "application/octet-stream", bytes(data))
    assert result.outcome == "rejected"
    assert result.form is None


def test_docx_holding_only_a_picture_is_a_scan() -> None:
    data = minimal_docx(p(""), extra={"word/media/image1.png": _png()})
    result = read_document("scan.docx", "application/octet-stream", data)
    assert result.outcome == "rejected"
    assert result.reason == "scanned image: needs keying in by hand"


def test_image_only_pdf_is_a_scan() -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (595, 842), (255, 255, 255)).save(buf, "PDF", resolution=72)
    result = read_document("scan.pdf", "application/pdf", buf.getvalue())
    assert result.outcome == "rejected"
    assert result.reason == PDF_SCANNED
    assert result.form is None


@pytest.mark.parametrize("data", [b"", b" ", b"\r\n\t  \n"])
def test_empty_or_blank_files_are_rejected(data: bytes) -> None:
    result = read_document("form.docx", "application/octet-stream", data)
    assert result.outcome == "rejected"
    assert result.reason == "the attachment is empty"


def test_encrypted_sample_pdf_is_refused_with_a_reason() -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(PDF.read_bytes()))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    result = read_document("form.pdf", "application/pdf", out.getvalue())
    assert result.outcome == "rejected"
    assert "password" in result.reason
