"""Fuzzing the readers' public entry points: nothing escapes them, every call ends in time."""

from __future__ import annotations

import contextlib
import copy
import io
import time
import zipfile
from datetime import timedelta
from email.message import Message
from pathlib import Path

from hostile_inputs import LABEL, PdfForm, PdfPage, run_limited, tiny_pdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from parser_fixtures import EXAMPLES, ROOT

from parsers.bounce import read_bounce
from parsers.documents import read_document
from parsers.docx_reader import read_docx
from parsers.form_reader import read_form
from parsers.formdef import available_forms, load_form
from parsers.layout import Rejection
from parsers.limits import OverLimit
from parsers.mime import (
    candidates,
    header_block_too_big,
    message_problem,
    parse_message,
    reply_address,
)
from parsers.pdf_reader import DAMAGED, read_pdf
from parsers.thread import body_text, thread_clues

# The MIME layer (`parse_message`, `candidates`, `message_problem`, the header readers the
# pipeline calls) gets emails built from random trees of parts and real emails with bytes
# changed; the Word reader gets a real form with its zip bytes changed and with its XML
# reshaped (elements repeated, nested, dropped, retexted); the PDF reader gets the real PDF
# forms with bytes changed and generated PDFs of random drawing and random forms drawing
# forms. Each example runs in a forked child with a time and a memory limit (`run_limited`),
# so even a hang inside C code (pdfium, lxml) fails the example instead of stopping the
# run. Deterministic (derandomized, no example database) and modest in size.

SAMPLES = ROOT / "samples" / "forms"
PER_CALL_SECONDS = 5.0  # each entry point, each example (under a second when quiet)
PER_EXAMPLE_SECONDS = 20.0  # all the calls of one example, in its child
OUTCOMES = ("referral", "needs_info", "not_a_form", "rejected")
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=4 * PER_CALL_SECONDS),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    took = time.perf_counter() - started
    assert took < PER_CALL_SECONDS, f"{fn.__name__} took {took:.1f} s"
    return result


# --------------------------------------------------------------------------- bytes


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a few bytes flipped, ranges cut, repeated or inserted, or cut short."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["flip", "cut", "repeat", "insert", "truncate"]))
        size = draw(st.integers(1, 64))
        if op == "flip":
            out[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del out[at : at + size]
        elif op == "repeat":
            out[at:at] = out[at : at + size] * draw(st.integers(1, 50))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=size))
        else:
            del out[at:]
    return bytes(out)


# --------------------------------------------------------------------------- email

_NAMES = ["Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Subject", "From"]
_TYPES = [
    b"text/plain",
    b"text/html",
    b"application/pdf",
    b"application/octet-stream",
    b"application/ms-tnef",
    b"image/png",
    b"message/delivery-status",
    b"text/rfc822-headers",
    b"",
    b"(comment) multipart/mixed",
    b"multipart/mixed (x)",
    b"=?utf-8?b?bXVsdGlwYXJ0L21peGVk?=",
]
_ODD = st.sampled_from(
    [
        b"",
        b"(" * 30,
        b"x " * 300,
        b"=?utf-8?q?caf=C3=A9?=",
        b'"quoted \\" name"',
        b"filename*=UTF-8''Zo%C3%AB.docx",
        b"\xff\xfe",
        b"a@b.test, <c@d.test>",
        b"--b",
    ]
)


@st.composite
def header_field(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from([n.encode() for n in _NAMES] + [b"X-Odd", b"Received"]))
    value = draw(st.one_of(_ODD, st.binary(max_size=40)))
    fold = draw(st.sampled_from([b"", b"\r\n ", b"\n\t"]))
    return name + b": " + value + fold + draw(_ODD) + b"\r\n"


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A part: a leaf, a multipart of parts, or an attached email, with odd headers."""
    kind = draw(
        st.sampled_from(["leaf", "leaf", "multipart", "message"] if depth < 4 else ["leaf"])
    )
    extra = b"".join(draw(st.lists(header_field(), max_size=3)))
    if kind == "multipart":
        boundary = draw(st.sampled_from([b"b", b"b1", b"=_x", b"", b"a b", b"b--"]))
        subtype = draw(st.sampled_from([b"mixed", b"digest", b"report", b"alternative"]))
        children = draw(st.lists(mime_part(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary + b"--\r\n"
        head = b'Content-Type: multipart/%s; boundary="%s"\r\n' % (subtype, boundary)
        return head + extra + b"\r\n" + body
    if kind == "message":
        return b"Content-Type: message/rfc822\r\n" + extra + b"\r\n" + draw(mime_part(depth + 1))
    ctype = draw(st.sampled_from(_TYPES))
    disposition = draw(st.sampled_from([b"", b"attachment; filename=form.docx", b"inline"]))
    head = (b"Content-Type: " + ctype + b"\r\n") if ctype else b""
    if disposition:
        head += b"Content-Disposition: " + disposition + b"\r\n"
    if draw(st.booleans()):
        head += b"Content-Transfer-Encoding: base64\r\n"
    return head + extra + b"\r\n" + draw(st.binary(max_size=80)) + b"\r\n"


@st.composite
def emails(draw: st.DrawFn) -> bytes:
    raw = b"From: Pat <pat@police.test>\r\nSubject: referral\r\n" + draw(mime_part())
    ending = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    raw = raw.replace(b"\r\n", ending)
    return draw(mutated(raw)) if draw(st.booleans()) else raw


def _read_email(raw: bytes) -> None:
    """What the pipeline asks of an email before and after parsing it."""
    _timed(header_block_too_big, raw)
    _timed(message_problem, raw)
    message = _timed(parse_message, raw)
    assert isinstance(message, Message)
    for found in _timed(candidates, message):
        assert found.filename and "/" not in found.filename
    _timed(reply_address, message)
    _timed(thread_clues, message)
    _timed(body_text, message)
    _timed(read_bounce, message)


@settings(FUZZ, max_examples=100)
@given(emails())
def test_emails_of_random_parts(raw: bytes) -> None:
    run_limited(lambda: _read_email(raw), PER_EXAMPLE_SECONDS)


_EMAILS = [p.read_bytes() for p in sorted(EXAMPLES.glob("*/message.eml"))]


@settings(FUZZ, max_examples=40)
@given(st.sampled_from(_EMAILS).flatmap(mutated))
def test_real_emails_with_bytes_changed(raw: bytes) -> None:
    run_limited(lambda: _read_email(raw), PER_EXAMPLE_SECONDS)


# --------------------------------------------------------------------------- Word

_DOCX = (SAMPLES / "cc-police-window-fall.docx").read_bytes()
with zipfile.ZipFile(io.BytesIO(_DOCX)) as _zf:
    _PARTS = {n: _zf.read(n) for n in _zf.namelist()}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WRAPPERS = ["customXml", "sdt", "hyperlink", "ins", "smartTag", "tbl"]


def _read_docx_strictly(data: bytes) -> None:
    """The Word reader and the form reader, with no catch-all between them and us: only
    the refusals they are meant to give."""
    layout = _timed(read_docx, data)
    if isinstance(layout, Rejection):
        assert layout.reason != "the Word file could not be read"  # the catch-all
        return
    for form_id in available_forms():
        with contextlib.suppress(OverLimit):  # a refusal with its reason
            _timed(read_form, layout, load_form(form_id))


@st.composite
def reshaped_form(draw: st.DrawFn) -> bytes:
    """The sample form with its XML reshaped by a few random operations."""
    root = etree.fromstring(_PARTS["word/document.xml"])
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 5))):
        el = elements[draw(st.integers(0, len(elements) - 1))]
        parent = el.getparent()
        op = draw(st.sampled_from(["repeat", "nest", "drop", "text", "move"]))
        if parent is None:
            continue
        if op == "repeat":
            for _ in range(draw(st.integers(1, 60))):
                el.addnext(copy.deepcopy(el))
        elif op == "nest":
            wrapper = W + draw(st.sampled_from(_WRAPPERS))
            inner = el
            for _ in range(draw(st.integers(1, 80))):
                outer = etree.Element(wrapper)
                inner.addprevious(outer)
                outer.append(inner)
        elif op == "drop":
            parent.remove(el)
        elif op == "text":
            xml_chars = st.characters(blacklist_categories=["Cc", "Cs"])
            el.text = draw(st.text(alphabet=xml_chars, max_size=200))
        else:
            target = elements[draw(st.integers(0, len(elements) - 1))]
            if target is not el and el not in target.iterancestors():
                target.append(el)
        elements = list(root.iter())
    parts = dict(_PARTS)
    parts["word/document.xml"] = etree.tostring(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


@settings(FUZZ, max_examples=40)
@given(reshaped_form())
def test_a_word_form_with_its_xml_reshaped(data: bytes) -> None:
    def read() -> None:
        _read_docx_strictly(data)
        _timed(read_document, "form.docx", "", data)

    run_limited(read, PER_EXAMPLE_SECONDS)


@st.composite
def changed_docx(draw: st.DrawFn) -> bytes:
    """The sample form with bytes changed in the zip itself, or in one of its parts
    (then zipped again, so the change reaches the XML readers)."""
    if draw(st.booleans()):
        return draw(mutated(_DOCX))
    parts = dict(_PARTS)
    name = draw(st.sampled_from(sorted(parts)))
    parts[name] = draw(mutated(parts[name]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, body in parts.items():
            zf.writestr(part, body)
    return buf.getvalue()


@settings(FUZZ, max_examples=40)
@given(changed_docx())
def test_a_word_form_with_its_bytes_changed(data: bytes) -> None:
    def read() -> str:
        return str(_timed(read_document, "form.docx", "", data).outcome)

    assert run_limited(read, PER_EXAMPLE_SECONDS) in OUTCOMES


# --------------------------------------------------------------------------- PDF

_PDFS = [p.read_bytes() for p in sorted(SAMPLES.glob("pdf-*.pdf"))]
# Each example runs in a forked child: the form readers' caches are filled here first,
# so that no child spends its time filling them again.
read_document("form.docx", "", _DOCX)
read_document("form.pdf", "application/pdf", _PDFS[0])
_OPERATORS = [
    b"m",
    b"l",
    b"c",
    b"re",
    b"S",
    b"f",
    b"h",
    b"n",
    b"q",
    b"Q",
    b"cm",
    b"w",
    b"BT",
    b"ET",
    b"Tj",
    b"Td",
    b"Tf",
    b"/F1",
    b"(x)",
    b"[",
    b"]",
    b"<<",
    b">>",
]


@st.composite
def drawing(draw: st.DrawFn) -> bytes:
    """Random operands and operators (valid or not), and some well-formed boxes."""
    tokens = draw(
        st.lists(
            st.one_of(
                st.sampled_from(_OPERATORS),
                st.integers(-10, 900).map(lambda n: b"%d" % n),
                st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: b"%.2f" % f),
            ),
            max_size=120,
        )
    )
    boxes = draw(st.integers(0, 30))
    squares = b"".join(
        b"%d %d 9 9 re S %d %d m %d %d l S " % (i * 11, 700, i * 11, 700, i * 11 + 9, 709)
        for i in range(boxes)
    )
    return LABEL + b" ".join(tokens) + b"\n" + squares


@st.composite
def drawn_pdf(draw: st.DrawFn) -> bytes:
    """A PDF of random drawing, and forms drawing forms (loops included)."""
    names = [f"X{i}" for i in range(draw(st.integers(0, 5)))]
    forms = {}
    for name in names:
        uses = draw(st.lists(st.sampled_from(names), max_size=3)) if names else []
        content = draw(drawing()) + b"".join(b"/R%d Do " % i for i in range(len(uses)))
        forms[name] = PdfForm(content, {f"R{i}": u for i, u in enumerate(uses)})
    pages = []
    for _ in range(draw(st.integers(1, 3))):
        uses = draw(st.lists(st.sampled_from(names), max_size=3)) if names else []
        times = draw(st.integers(1, 20))
        content = draw(drawing()) + b"".join(b"/P%d Do " % i for i in range(len(uses))) * times
        pages.append(PdfPage(content, {f"P{i}": u for i, u in enumerate(uses)}))
    return tiny_pdf(pages, forms)


@settings(FUZZ, max_examples=50)
@given(drawn_pdf())
def test_pdfs_of_random_drawing(data: bytes) -> None:
    def read() -> None:
        layout = _timed(read_pdf, data)
        # No damage in a well-formed file: a refusal is a limit or a scan, never a crash.
        assert not (isinstance(layout, Rejection) and layout.reason == DAMAGED)
        _timed(read_document, "drawing.pdf", "application/pdf", data)

    run_limited(read, PER_EXAMPLE_SECONDS)


@settings(FUZZ, max_examples=40)
@given(st.sampled_from(_PDFS).flatmap(mutated))
def test_pdf_forms_with_bytes_changed(data: bytes) -> None:
    def read() -> str:
        return str(_timed(read_document, "form.pdf", "application/pdf", data).outcome)

    assert run_limited(read, PER_EXAMPLE_SECONDS) in OUTCOMES


def test_the_samples_are_here() -> None:
    assert _EMAILS and _PDFS and Path(SAMPLES / "cc-police-window-fall.docx").exists()
