"""Property: damaged copies of real forms never make read_document raise.

Real sample .docx files and a sample PDF are mutated at the byte level (flip, delete,
insert, truncate) and, for .docx, at the zip level (members shuffled or dropped,
document.xml text corrupted inside an otherwise valid zip). Whatever comes out must be
one of the four outcomes with a reason, and only referral/needs_info carry a form.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_fixtures import ROOT

from parsers.documents import read_document

SAMPLES = ROOT / "samples" / "forms"
DOCX = ["cc-police-window-fall", "typed-school-mixed-ticks", "legacy-ambulance-service"]
PDF = "pdf-cc-needs-info-early-help"
OUTCOMES = {"referral", "needs_info", "not_a_form", "rejected"}

# Bounded so the whole file runs in well under 30 s; no example database on disk.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _bytes(name: str) -> bytes:
    return next(p for p in SAMPLES.glob(f"{name}.*") if p.suffix in (".docx", ".pdf")).read_bytes()


def _check(data: bytes, filename: str) -> None:
    result = read_document(filename, "application/octet-stream", data)
    assert result.outcome in OUTCOMES
    assert isinstance(result.reason, str) and result.reason.strip()
    assert (result.form is not None) == (result.outcome in ("referral", "needs_info"))


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A few byte-level edits: flips, deletions, insertions, maybe a truncation."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[pos] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del out[pos : pos + draw(st.integers(1, 512))]
        elif kind == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del out[pos:]
    return bytes(out)


@st.composite
def zip_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A valid zip rebuilt with members shuffled or dropped and document.xml corrupted."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = [(info.filename, zf.read(info)) for info in zf.infolist()]
    parts = draw(st.permutations(parts))
    if draw(st.booleans()):
        drop = draw(st.integers(0, len(parts) - 1))
        parts = parts[:drop] + parts[drop + 1 :]
    out: list[tuple[str, bytes]] = []
    for name, body in parts:
        if name == "word/document.xml" and draw(st.booleans()):
            start = draw(st.integers(0, len(body)))
            end = min(len(body), start + draw(st.integers(0, 2000)))
            junk = draw(
                st.one_of(
                    st.binary(max_size=200),
                    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
                    st.sampled_from([b"<w:p>", b"</w:tbl>", b"&bogus;", b"<![CDATA[", b"\x00"]),
                )
            )
            body = body[:start] + junk + body[end:]
        out.append((name, body))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in out:
            zf.writestr(name, body)
    return buf.getvalue()


@SETTINGS
@given(st.sampled_from(DOCX).flatmap(lambda n: byte_mutations(_bytes(n))))
def test_mutated_docx_bytes_never_raise(data: bytes) -> None:
    _check(data, "referral.docx")


@SETTINGS
@given(st.sampled_from(DOCX).flatmap(lambda n: zip_mutations(_bytes(n))))
def test_rebuilt_docx_zips_never_raise(data: bytes) -> None:
    _check(data, "referral.docx")


@SETTINGS
@given(byte_mutations(_bytes(PDF)))
def test_mutated_pdf_bytes_never_raise(data: bytes) -> None:
    _check(data, "referral.pdf")
