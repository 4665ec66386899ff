"""Files that are not forms, or not safe or possible to read: refused fast, never raising."""

from __future__ import annotations

import io
import random
import time
import tracemalloc
import zipfile

import pypdf
import pytest
from parser_fixtures import BLANK_DOCX, BLANK_PDF, DOCM_MAIN, EXAMPLES, attachments, minimal_docx, p

from parsers.documents import read_document
from parsers.docx_reader import read_docx
from parsers.formdef import load_form
from parsers.layout import Rejection
from parsers.pdf_reader import SCANNED, read_pdf
from parsers.zip_guard import ZipLimits

OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def _p02_pdf() -> bytes:
    (att,) = attachments(EXAMPLES / "p02-pdf-word-alderhey" / "message.eml")
    return att.data


def test_zip_bomb_docx_is_refused_without_inflating_it() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zipfile.ZipFile(BLANK_DOCX) as blank:
            zf.writestr("[Content_Types].xml", blank.read("[Content_Types].xml"))
            zf.writestr("_rels/.rels", blank.read("_rels/.rels"))
        chunk = b"\0" * (1 << 20)
        with zf.open("word/document.xml", "w") as fh:
            for _ in range(200):
                fh.write(chunk)
    data = buf.getvalue()
    assert len(data) < 1_000_000  # 200 MB of zeros squeezes into a few hundred KB

    tracemalloc.start()
    started = time.perf_counter()
    result = read_document("referral.docx", "application/octet-stream", data)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.outcome == "rejected"
    assert "expands" in result.reason or "zip bomb" in result.reason
    assert elapsed < 1.0
    assert peak < 20 * 1024 * 1024


def test_zip_limits_are_arguments() -> None:
    data = BLANK_DOCX.read_bytes()
    assert isinstance(read_docx(data), object) and not isinstance(read_docx(data), Rejection)
    tight = ZipLimits(max_members=3)
    result = read_docx(data, tight)
    assert isinstance(result, Rejection) and "too many parts" in result.reason
    result = read_docx(data, ZipLimits(max_total_bytes=10_000))
    assert isinstance(result, Rejection) and result.outcome == "rejected"


def test_docm_with_macros_is_refused() -> None:
    data = minimal_docx(
        p("Name of referrer: X"), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}
    )
    result = read_document("form.docx", "application/octet-stream", data)
    assert result.outcome == "rejected" and "macros" in result.reason


def test_macro_enabled_main_part_is_refused() -> None:
    data = minimal_docx(p("hello"), main_type=DOCM_MAIN)
    result = read_document("form.docm", "application/vnd.ms-word.document.macroEnabled.12", data)
    assert result.outcome == "rejected" and "macros" in result.reason


def test_old_binary_doc_is_refused() -> None:
    data = OLE_HEADER + "WordDocument".encode("utf-16-le") + b"\x00" * 2000
    result = read_document("form.docx", "application/msword", data)
    assert result.outcome == "rejected" and ".doc" in result.reason


def test_password_protected_word_file_is_refused() -> None:
    # Word saves a password-protected .docx inside an OLE container.
    data = (
        OLE_HEADER + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    )
    result = read_document("form.docx", "application/octet-stream", data)
    assert result.outcome == "rejected" and "password" in result.reason


def test_encrypted_pdf_is_refused() -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_p02_pdf()))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    result = read_document("form.pdf", "application/pdf", out.getvalue())
    assert result.outcome == "rejected" and "password" in result.reason


def test_pdf_with_empty_user_password_is_read() -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_p02_pdf()))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    result = read_document("form.pdf", "application/pdf", out.getvalue())
    assert result.outcome == "referral"
    assert result.form is not None and result.form.value("child.name") == "Zuzanna Chen"


def test_pdf_without_text_is_a_scan() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    result = read_document("scan.pdf", "application/pdf", out.getvalue())
    assert result.outcome == "rejected"
    assert result.reason == SCANNED == "scanned image: needs keying in by hand"


def test_corrupt_pdf_is_refused() -> None:
    data = _p02_pdf()
    for broken in (data[: len(data) // 3], b"%PDF-1.7\n" + bytes(range(256)) * 20, b"%PDF-"):
        result = read_document("form.pdf", "application/pdf", broken)
        assert result.outcome == "rejected"
        assert isinstance(read_pdf(broken), Rejection)


def test_corrupt_docx_is_refused() -> None:
    data = BLANK_DOCX.read_bytes()
    for broken in (data[: len(data) // 2], data[:100], b"PK\x03\x04" + b"\x00" * 100):
        result = read_document("form.docx", "application/octet-stream", broken)
        assert result.outcome == "rejected", broken[:20]


def test_docx_with_broken_xml_is_refused() -> None:
    data = minimal_docx("<w:p><w:r><w:t>unclosed")
    assert read_document("f.docx", "", data).outcome == "rejected"


def test_xml_entity_bomb_is_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p_ + ";") * 10}">'
            for c, p_ in zip("bcdefghi", "abcdefgh", strict=True)
        )
        + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&i;</w:t></w:r></w:p></w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(minimal_docx_path_bytes(), "r") as src, zipfile.ZipFile(buf, "w") as zf:
        for name in src.namelist():
            zf.writestr(name, bomb if name == "word/document.xml" else src.read(name))
    started = time.perf_counter()
    result = read_document("f.docx", "", buf.getvalue())
    assert time.perf_counter() - started < 2
    assert result.outcome in ("rejected", "not_a_form")


def minimal_docx_path_bytes() -> io.BytesIO:
    return io.BytesIO(minimal_docx(p("x")))


def test_a_blank_form_asks_for_every_mandatory_answer_in_form_order() -> None:
    mandatory = load_form("sirg-2024").mandatory_keys()
    for data in (BLANK_DOCX.read_bytes(), BLANK_PDF.read_bytes()):
        result = read_document("LSCP-SIRG-Referral-Form-2024", "application/octet-stream", data)
        assert result.outcome == "needs_info"
        assert "blank" in result.reason
        assert result.form is not None and result.form.missing() == mandatory
        assert result.form.to_json() == {}


def test_unrelated_word_document_is_not_a_form() -> None:
    letter = minimal_docx(
        p("Dear colleague,")
        + p("Thank you for attending the strategy meeting on 3 April 2024.")
        + p("Name: Jo Bloggs")
        + p("Kind regards")
    )
    result = read_document("letter.docx", "application/octet-stream", letter)
    assert result.outcome == "not_a_form" and result.form is None


@pytest.mark.parametrize(
    ("data", "outcome"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_a_form"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "not_a_form"),
        (b"GIF89a" + b"\x00" * 20, "not_a_form"),
        (b"Just some plain text in an attachment.\n", "not_a_form"),
        (b"<html><body>Hi</body></html>", "not_a_form"),
        (b"{\\rtf1\\ansi Name of referrer}", "rejected"),
        (b"", "rejected"),
        (OLE_HEADER + "__substg1.0_0037001F".encode("utf-16-le"), "rejected"),
    ],
)
def test_other_kinds_of_file(data: bytes, outcome: str) -> None:
    result = read_document("attachment.docx", "application/octet-stream", data)
    assert result.outcome == outcome
    assert result.reason and result.form is None


def test_zip_folders() -> None:
    """The document inside is read as if attached itself (a blank form stays blank)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("referral.docx", BLANK_DOCX.read_bytes())
    inside = read_document("forms.zip", "application/zip", buf.getvalue())
    alone = read_document("referral.docx", "application/octet-stream", BLANK_DOCX.read_bytes())
    assert (inside.outcome, inside.reason) == (alone.outcome, alone.reason)
    assert inside.form is not None and alone.form is not None
    assert inside.form.missing() == alone.form.missing()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert read_document("notes.zip", "application/zip", buf.getvalue()).outcome == "not_a_form"


def test_damaged_opendocument_text_is_refused_with_a_reason() -> None:
    # .odt files are read (shapes/libreoffice.py); one whose text cannot be parsed is not.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>")
    result = read_document("form.odt", "application/octet-stream", buf.getvalue())
    assert result.outcome == "rejected" and ".odt" in result.reason and "damaged" in result.reason


@pytest.mark.parametrize("seed", range(40))
def test_random_bytes_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    prefix = rng.choice([b"", b"%PDF-1.4\n", b"PK\x03\x04", OLE_HEADER[:8], b"\x89PNG"])
    data = prefix + rng.randbytes(rng.randint(0, 5000))
    result = read_document("x", "application/octet-stream", data)
    assert result.outcome in ("not_a_form", "rejected")
    assert result.form is None and result.reason


def test_mangled_form_never_raises() -> None:
    rng = random.Random(7)
    data = bytearray(BLANK_DOCX.read_bytes())
    for _ in range(30):
        mangled = bytearray(data)
        for _ in range(20):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        result = read_document("x.docx", "", bytes(mangled))
        assert result.outcome in ("not_a_form", "rejected", "needs_info", "referral")
