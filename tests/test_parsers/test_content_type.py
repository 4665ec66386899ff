"""A multipart's Content-Type read without the standard library reads as it reads it."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from parsers import content_type as ct

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new"
_FIELD = re.compile(rb"(?im)^content-type:[^\n]*\n(?:[ \t][^\n]*\n)*")


def _by_the_library(field: bytes) -> tuple[bytes, bytes, bytes | None]:
    """The reading with the quick path switched off: the standard library's parser."""
    saved = ct._simple_multipart
    ct._simple_multipart = lambda _field, _lowered: None  # type: ignore[assignment]
    try:
        return ct.content_type(field, b"text/plain")
    finally:
        ct._simple_multipart = saved


def _corpus_fields() -> list[bytes]:
    files = [p for p in CORPUS.rglob("*") if p.is_file()] + list(SAMPLES.glob("*"))
    return sorted({m.group(0) for p in files for m in _FIELD.finditer(p.read_bytes())})


def _written_ways() -> list[bytes]:
    """Boundaries as mailers write them, and as they should not (tspecials unquoted,
    single quotes, empty), with other parameters around them."""
    out = []
    for sub, value, sep, tail in itertools.product(
        [b"mixed", b"Alternative", b"report"],
        [
            b'"abc"',
            b"abc",
            b'"----=_Part_1_2.3"',
            b"----=_Part_1",
            b'"a b"',
            b'"=?x"',
            b"a/b",
            b'""',
            b"abc;",
            b"'abc'",
            b"3D=22_x=",
        ],
        [b"; ", b";", b" ; ", b";\t"],
        [b"\r\n", b"\n", b"", b"; charset=utf-8\r\n", b' ;report-type="x"\r\n', b"\r\n\tx=y"],
    ):
        out.append(b"Content-Type: multipart/" + sub + sep + b"boundary=" + value + tail)
        out.append(b"content-type: MULTIPART/" + sub + sep + b"BOUNDARY=" + value + tail)
        out.append(b"Content-Type: multipart/" + sub + b"; a=b" + sep + b"boundary=" + value + tail)
    return out


def test_every_content_type_reads_as_the_standard_library_reads_it() -> None:
    fields = _corpus_fields()
    assert len(fields) > 500  # the shared corpus is there: else this proves little
    quick = 0
    for field in fields + _written_ways():
        if ct._simple_multipart(field, field.lower()) is not None:
            quick += 1
        assert ct.content_type(field, b"text/plain") == _by_the_library(field), field
    assert quick > 1000  # and the quick path is taken for most of them


@pytest.mark.parametrize(
    ("field", "boundary"),
    [
        (b'Content-Type: multipart/mixed; boundary="b1_x y"\r\n', b"b1_x y"),
        (b"Content-Type: multipart/alternative;boundary=Apple-Mail-1\r\n", b"Apple-Mail-1"),
        (b'Content-Type: multipart/related; type="text/html"; boundary="BbB"\r\n', b"BbB"),
    ],
)
def test_plain_boundaries_take_the_quick_path(field: bytes, boundary: bytes) -> None:
    assert ct._simple_multipart(field, field.lower()) == (
        b"multipart",
        field.lower().split(b"/")[1].split(b";")[0].strip(),
        boundary,
    )


@pytest.mark.parametrize(
    "field",
    [
        b"Content-Type: multipart/mixed; boundary*=utf-8''abc\r\n",  # RFC 2231
        b'Content-Type: multipart/mixed; boundary="a" (comment)\r\n',
        b'Content-Type: multipart/mixed;\r\n boundary="folded"\r\n',
        b"Content-Type: multipart/mixed; boundary=a; boundary=b\r\n",
        b"Content-Type: multipart/mixed; boundary=----=_Part\r\n",
    ],
)
def test_anything_unusual_is_left_to_the_standard_library(field: bytes) -> None:
    assert ct._simple_multipart(field, field.lower()) is None
