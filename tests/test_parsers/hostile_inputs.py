"""Builders of hostile inputs: small on disk, huge when a reader believes them."""

from __future__ import annotations

import io
import os
import pickle
import resource
import selectors
import signal
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Repeat:
    """A content stream of `head` then `unit` `times` over: deflated as it is made, so a
    stream of hundreds of megabytes never sits in memory."""

    head: bytes
    unit: bytes
    times: int


@dataclass
class PdfPage:
    """One page: its content stream and the form XObjects it may draw (by name)."""

    content: bytes | Repeat
    xobjects: dict[str, str] = field(default_factory=dict)  # resource name -> form id


@dataclass
class PdfForm:
    """A form XObject: a content stream that can draw other forms."""

    content: bytes
    xobjects: dict[str, str] = field(default_factory=dict)


LABEL = b"BT /F1 10 Tf 40 800 Td (LSCP SIRG Referral Form 2024 - Name of referrer) Tj ET\n"


def tiny_pdf(pages: list[PdfPage], forms: dict[str, PdfForm] | None = None) -> bytes:
    """A PDF whose streams are deflated (so a huge drawing stays a few KB on disk)."""
    forms = forms or {}
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    def stream(data: bytes | Repeat, extra: bytes = b"") -> bytes:
        packed = _deflate(data)
        head = b"<< /Length %d /Filter /FlateDecode %s>>" % (len(packed), extra)
        return head + b"\nstream\n" + packed + b"\nendstream"

    catalog = add(b"")
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    # Forms are numbered before they are written, so they can name each other freely.
    form_ids = {name: len(objs) + 1 + i for i, name in enumerate(forms)}
    for form in forms.values():
        refs = b" ".join(
            b"/%s %d 0 R" % (k.encode(), form_ids[v]) for k, v in form.xobjects.items()
        )
        extra = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
        extra += b"/Resources << /XObject << %s >> >> " % refs
        add(stream(form.content, extra))
    kids = []
    for page in pages:
        content = add(stream(page.content))
        refs = b" ".join(
            b"/%s %d 0 R" % (k.encode(), form_ids[v]) for k, v in page.xobjects.items()
        )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
                b" /Resources << /Font << /F1 %d 0 R >> /XObject << %s >> >> >>"
                % (tree, content, font, refs)
            )
        )
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objs[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def _deflate(data: bytes | Repeat) -> bytes:
    if isinstance(data, bytes):
        return zlib.compress(data, 9)
    packer = zlib.compressobj(9)
    out = [packer.compress(data.head)]
    batch = max(1, (1 << 20) // max(len(data.unit), 1))
    chunk = data.unit * batch
    for _ in range(data.times // batch):
        out.append(packer.compress(chunk))
    out.append(packer.compress(data.unit * (data.times % batch)))
    out.append(packer.flush())
    return b"".join(out)


def many_pages(n: int) -> bytes:
    """A PDF listing one small page `n` times (a few bytes a page)."""
    content = LABEL
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b"3 0 R " * n + b"] /Count %d >>" % n,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def small_squares(n: int) -> bytes:
    """`n` stroked 8-point squares (tick-box sized) tiled over the page, with a label."""
    per_row = 200
    ops = [
        b"%.2f %.2f 8 8 re S" % (10 + (i % per_row) * 2.8, 20 + (i // per_row) * 3.9)
        for i in range(n)
    ]
    return LABEL + b"\n".join(ops) + b"\n"


def line_drawing(n: int) -> Repeat:
    """`n` short diagonal strokes (a vector drawing, nothing like a form's rulings): the
    same stroke over and over deflates about a thousandfold."""
    return Repeat(LABEL, b"10 10 m 13 12 l S\n", n)


def nested_forms(levels: int, fan_out: int) -> tuple[PdfPage, dict[str, PdfForm]]:
    """A page drawing form X{levels}, which draws X{levels-1} `fan_out` times, and so on
    down to X0 (a few lines): fan_out ** levels drawings from a few hundred bytes."""
    forms = {"X0": PdfForm(b"0 0 m 100 100 l S 0 100 m 100 0 l S 10 10 50 50 re S\n")}
    for k in range(1, levels + 1):
        forms[f"X{k}"] = PdfForm(b"/C Do " * fan_out, {"C": f"X{k - 1}"})
    page = PdfPage(LABEL + b"/T Do\n", {"T": f"X{levels}"})
    return page, forms


def ruling_grid(step: float) -> bytes:
    """Horizontal and vertical lines across the page every `step` points (a table of
    thousands of cells drawn with a few hundred lines)."""
    ops: list[bytes] = []
    y = 20.0
    while y < 820:
        ops.append(b"20 %.2f m 575 %.2f l S" % (y, y))
        y += step
    x = 20.0
    while x < 575:
        ops.append(b"%.2f 20 m %.2f 820 l S" % (x, x))
        x += step
    return LABEL + b"\n".join(ops) + b"\n"


def ruled_pages(pages: int, ops_per_page: int) -> list[PdfPage]:
    """Pages of short strokes (each page under the page limit, together over the
    document's)."""
    unit = b"\n".join(b"%d %d m %d %d l S" % (20 + i, 30 + i, 40 + i, 31 + i) for i in range(50))
    page = Repeat(LABEL, unit + b"\n", ops_per_page // 100)
    return [PdfPage(page) for _ in range(pages)]


# --------------------------------------------------------------------------- email

HEAD = b"From: Pat <pat@police.test>\r\nTo: sirg@lscp.test\r\nMIME-Version: 1.0\r\n"
FORM_PART = (
    b"Content-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="form.docx"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==\r\n"
)


def nested_multiparts(depth: int) -> bytes:
    """An email whose one attachment sits `depth` multiparts deep."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return HEAD + b"Subject: nested\r\n" + opening + FORM_PART + closing


def nested_forwards(depth: int) -> bytes:
    """An email forwarding an email forwarding ... `depth` times (message/rfc822)."""
    inner = b"From: a@b.test\r\nSubject: inner\r\n" + b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for i in range(depth):
        head = (
            b'From: a@b.test\r\nSubject: fw\r\nContent-Type: multipart/mixed; boundary="f%d"\r\n'
            b"\r\n--f%d\r\nContent-Type: message/rfc822\r\n\r\n" % (i, i)
        )
        inner = head + inner + b"\r\n--f%d--\r\n" % i
    return HEAD + inner


def long_subject(size: int) -> bytes:
    """An email whose Subject is `size` bytes of words on one line."""
    words = (b"referral " * (size // 9 + 1))[:size]
    return HEAD + b"Subject: " + words + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n"


def bracketed_header(depth: int) -> bytes:
    """An email whose Content-Type has brackets nested `depth` deep."""
    return (
        HEAD
        + b"Subject: brackets\r\nContent-Type: text/plain; name="
        + b"(" * depth
        + b"\r\n\r\nhello\r\n"
    )


def wide_parts(parts: int, field_size: int) -> bytes:
    """An email of `parts` attachments, each with a Content-Type of `field_size` bytes of
    words (slow to parse, and parsed several times a part)."""
    words = (b"x " * field_size)[:field_size]
    part = (
        b"--B\r\nContent-Type: application/pdf; name=" + words + b"\r\n"
        b"Content-Disposition: attachment\r\n\r\nJVBERi0xLjQK\r\n"
    )
    return (
        HEAD
        + b'Subject: wide\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        + part * parts
        + b"--B--\r\n"
    )


# --------------------------------------------------------------------------- limits


def run_limited(fn: Callable[[], T], seconds: float, memory_mb: int = 500) -> T:
    """fn() in a forked child with `memory_mb` more address space than now and `seconds`
    to finish; its (picklable) result, or AssertionError saying which limit it broke.

    A reader that would take minutes or gigabytes fails the test at once instead of
    stopping the run (and the machine).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        try:
            with open("/proc/self/statm", encoding="ascii") as f:
                used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            ceiling = used + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
            answer: tuple[str, object] = ("ok", fn())
        except MemoryError:
            answer = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            answer = ("error", f"{type(exc).__name__}: {exc}"[:2000])
        try:
            data = pickle.dumps(answer)
            while data:
                data = data[os.write(write_fd, data) :]
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(read_fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(read_fd)
                raise AssertionError(f"still reading after {seconds:g} s (killed)")
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_fd)
    _pid, status = os.waitpid(pid, 0)
    if not chunks:
        raise AssertionError(
            f"the reader died (status {status}): out of its {memory_mb} MB of memory?"
        )
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "memory":
        raise AssertionError(f"the reader ran out of its {memory_mb} MB of memory")
    if kind == "error":
        raise AssertionError(f"the reader raised {value}")
    return value  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- Word


def _row(cells: tuple[str, ...]) -> str:
    paras = "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells)
    return f"<w:tr>{paras}</w:tr>"


def _grid_row(i: int) -> str:
    return _row((f"Person {i}", "Cousin", f"{1 + i % 28}/1/2001", "Same as child", "No"))


GRID_HEADER = _row(
    (
        "Name",
        "Relationship to child",
        "Date of birth",
        "Address",
        "Parental responsibility (Yes/No)",
    )
)


def form_with_household(rows: int, tables: int = 1) -> bytes:
    """A completed SIRG form whose household grid has `rows` filled rows, split over
    `tables` tables (each with its header row)."""
    from parser_fixtures import complete_form

    editor, _expected = complete_form()
    editor.grid("Name", [["HOUSEHOLD-ROWS", "", "", "", ""]])
    data = editor.save()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    xml = parts["word/document.xml"].decode("utf-8")
    mark = xml.index("HOUSEHOLD-ROWS")
    row_start = max(xml.rfind("<w:tr>", 0, mark), xml.rfind("<w:tr ", 0, mark))  # not <w:trPr>
    row_end = xml.index("</w:tr>", mark) + len("</w:tr>")
    per = rows // tables
    chunks = ["".join(_grid_row(i) for i in range(1, per + 1))]
    for t in range(1, tables):
        # The household table ends and a new one (header repeated) begins.
        first = t * per + 1
        chunks.append(
            "</w:tbl><w:p/><w:tbl>"
            + GRID_HEADER
            + "".join(_grid_row(i) for i in range(first, first + per))
        )
    parts["word/document.xml"] = (xml[:row_start] + "".join(chunks) + xml[row_end:]).encode()
    return _zip(parts)


def padded_form(xml_bytes: int) -> bytes:
    """A completed SIRG form followed by distinct paragraphs, until its document.xml is
    `xml_bytes` long: an honest document, compressed no more than text is."""
    from parser_fixtures import complete_form

    editor, _expected = complete_form()
    data = editor.save()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    xml = parts["word/document.xml"].decode("utf-8")
    end = xml.rindex("<w:sectPr") if "<w:sectPr" in xml else xml.rindex("</w:body>")
    extra: list[str] = []
    size, i = len(xml), 0
    while size < xml_bytes:
        note = f"Chronology note {i}: visit {i * 7919 % 100003} recorded"
        para = f"<w:p><w:r><w:t>{note}</w:t></w:r></w:p>"
        extra.append(para)
        size += len(para)
        i += 1
    parts["word/document.xml"] = (xml[:end] + "".join(extra) + xml[end:]).encode()
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()
