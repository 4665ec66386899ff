"""Real-world MIME shapes around a real form: each ends in the outcome the worker reaches."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from intake.inspect import inspect_message
from intake.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "samples" / "forms"
CORPUS = ROOT.parent / "shared" / "mail-corpus"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORM = (FORMS / "cc-school-overdose.docx").read_bytes()
SECOND = (FORMS / "cc-health-sudi.docx").read_bytes()
PDF = (FORMS / "pdf-cc-police-window-fall.pdf").read_bytes()
# An OLE compound file whose directory names a WordDocument stream, as a .doc's does.
OLD_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "WordDocument".encode("utf-16-le")


def email(body: str = "Please see attached.", html: bool = False) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "A Referrer <a.referrer@school.example>"
    msg["To"] = "sirg@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = "<shape@school.example>"
    if html:
        msg.set_content(f"<p>{body}</p>", subtype="html")
    else:
        msg.set_content(body)
    return msg


def attach(msg: EmailMessage, data: bytes, name: str, ctype: str = DOCX) -> EmailMessage:
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def zipped(data: bytes, name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return out.getvalue()


def forwarded(depth: int) -> EmailMessage:
    inner = attach(email(), FORM, "referral.docx")
    for _ in range(depth):
        outer = email("FYI, forwarding.")
        outer.add_attachment(inner)
        inner = outer
    return inner


def encoded_name() -> bytes:
    raw = bytes(attach(email(), FORM, "Zoë referral form.docx"))
    assert b"filename*=utf-8''" in raw.lower() or b"=?utf-8?" in raw.lower()
    return raw


SHAPES: dict[str, tuple[Callable[[], bytes], str, int]] = {
    "plain attachment": (lambda: bytes(attach(email(), FORM, "form.docx")), "referral", 1),
    "forwarded": (lambda: bytes(forwarded(1)), "referral", 1),
    "forward of a forward": (lambda: bytes(forwarded(2)), "referral", 1),
    "encoded file name": (encoded_name, "referral", 1),
    "octet-stream": (
        lambda: bytes(attach(email(), FORM, "form", "application/octet-stream")),
        "referral",
        1,
    ),
    "two forms, two children": (
        lambda: bytes(attach(attach(email(), FORM, "a.docx"), SECOND, "b.docx")),
        "referral",
        2,
    ),
    "html-only body": (lambda: bytes(attach(email(html=True), FORM, "f.docx")), "referral", 1),
    "exported to PDF": (
        lambda: bytes(attach(email(), PDF, "f.pdf", "application/pdf")),
        "referral",
        1,
    ),
    "the form in a zip folder": (
        lambda: bytes(attach(email(), zipped(FORM, "form.docx"), "form.zip", "application/zip")),
        "referral",
        1,
    ),
    "no attachment": (lambda: bytes(email("I will send the form tomorrow.")), "needs_info", 0),
    "winmail.dat without a form": (
        lambda: bytes(
            attach(
                email(),
                (CORPUS / "mimekit" / "attachments.tnef").read_bytes(),
                "winmail.dat",
                "application/ms-tnef",
            )
        ),
        "needs_info",
        0,
    ),
    "old Word .doc": (
        lambda: bytes(attach(email(), OLD_DOC, "form.doc", "application/msword")),
        "rejected",
        0,
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_ends_in_the_expected_outcome(shape: str, tmp_path: Path) -> None:
    make, outcome, forms = SHAPES[shape]
    result = inspect_message(make(), Settings(data_dir=tmp_path))
    assert result["outcome"] == outcome, result["reason"]
    assert len(result["forms"]) == forms
    for form in result["forms"]:
        assert form["fields"]["child.name"]
