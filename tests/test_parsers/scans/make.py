"""Make scans of the sample PDFs: image-only PDFs at 300/200/150 dpi, each grey and 1-bit,
all tilted (300 dpi 1-bit also a page upside down, pages out of order), and phone-like JPEG
photos, one a page.

Deterministic: every random choice comes from a generator seeded by the set's name.
Nothing is committed: the tests write these into their tmp_path.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples" / "forms"
# Two filled typed PDFs of 4 pages, with expected.json written apart from the reader.
SOURCES = ("pdf-cc-police-window-fall", "pdf-typed-school-mixed-ticks")


@dataclass
class ScanSet:
    """One scan of one sample: its files (one PDF, or one JPEG a page)."""

    name: str
    source: str  # the sample's stem: samples/forms/<source>.expected.json
    files: list[bytes]
    strict: bool  # a 300 dpi scan: held to the 97 % rule
    pages: int


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def render(pdf: Path, dpi: int) -> list[Image.Image]:
    """The PDF's pages as greyscale images."""
    doc = pdfium.PdfDocument(pdf.read_bytes())
    try:
        return [
            doc[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            for i in range(len(doc))
        ]
    finally:
        doc.close()


def tilt(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned by 1-2 degrees either way, as a page fed askew."""
    angle = float(rng.uniform(1.0, 2.0)) * (1 if rng.random() < 0.5 else -1)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)


def bilevel(image: Image.Image) -> Image.Image:
    """Black and white, as a scanner's 1-bit mode thresholds it."""
    return image.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)


def image_pdf(pages: list[Image.Image], dpi: int) -> bytes:
    """An image-only PDF, one picture a page (what a scanner without OCR sends)."""
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buf.getvalue()


def photo(image: Image.Image, rng: np.random.Generator) -> bytes:
    """A phone photo of the page: uneven light, a little blur and noise, JPEG at 75."""
    a = np.asarray(image.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Light falling from one corner: the far side about a third darker.
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    dist = np.hypot(xx - cx, yy - cy) / np.hypot(w, h)
    light = 1.0 - 0.35 * dist
    shot = a * light * 0.92 + rng.normal(0, 5, a.shape)
    rgb = np.clip(np.stack([shot * 1.0, shot * 0.97, shot * 0.9], axis=-1), 0, 255)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(buf, format="JPEG", quality=75)
    return buf.getvalue()


def _shuffled(items: list[object], rng: np.random.Generator) -> list[int]:
    order = list(range(len(items)))
    while order == sorted(order) and len(order) > 1:
        order = [int(i) for i in rng.permutation(len(items))]
    return order


def scan_sets(sources: tuple[str, ...] = SOURCES) -> list[ScanSet]:
    """Every scan of every source, in a fixed order."""
    out: list[ScanSet] = []
    for stem in sources:
        pdf = SAMPLES / f"{stem}.pdf"
        at300 = render(pdf, 300)
        n = len(at300)

        rng = _rng(f"{stem}/300-grey")
        out.append(
            ScanSet(
                f"{stem}/300-grey", stem, [image_pdf([tilt(p, rng) for p in at300], 300)], True, n
            )
        )

        rng = _rng(f"{stem}/300-1bit")
        pages = [bilevel(tilt(p, rng)) for p in at300]
        upside = int(rng.integers(0, n))
        pages[upside] = pages[upside].rotate(180)
        order = _shuffled(list(pages), rng)
        out.append(
            ScanSet(f"{stem}/300-1bit", stem, [image_pdf([pages[i] for i in order], 300)], True, n)
        )

        for dpi in (200, 150):
            rendered = render(pdf, dpi)
            rng = _rng(f"{stem}/{dpi}-grey")
            pages = [tilt(p, rng) for p in rendered]
            out.append(ScanSet(f"{stem}/{dpi}-grey", stem, [image_pdf(pages, dpi)], False, n))
            rng = _rng(f"{stem}/{dpi}-1bit")
            pages = [bilevel(tilt(p, rng)) for p in rendered]
            out.append(ScanSet(f"{stem}/{dpi}-1bit", stem, [image_pdf(pages, dpi)], False, n))

        rng = _rng(f"{stem}/phone")
        at250 = render(pdf, 250)
        shots = [photo(tilt(p, rng), rng) for p in at250]
        order = _shuffled(list(shots), rng)
        out.append(ScanSet(f"{stem}/phone-jpeg", stem, [shots[i] for i in order], False, n))
    return out


def scanner_ocr_pdf(pages: list[Image.Image], dpi: int, hidden: str) -> bytes:
    """A scanner's PDF: each page one JPEG picture, under an invisible text layer
    (render mode 3) that says `hidden` - the scanner's own, often wrong, OCR."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids: list[int] = []
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page in pages:
        jpeg = io.BytesIO()
        page.convert("L").save(jpeg, format="JPEG", quality=85)
        w_pt, h_pt = page.width * 72 / dpi, page.height * 72 / dpi
        image_id = len(objects) + 1
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
            % (page.width, page.height, len(jpeg.getvalue()))
            + jpeg.getvalue()
            + b"\nendstream"
        )
        text = hidden.replace("\\", "").replace("(", "").replace(")", "").encode("latin-1")
        stream = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q BT 3 Tr /F1 10 Tf 72 %.2f Td (%s) Tj ET" % (
            w_pt,
            h_pt,
            h_pt - 100,
            text,
        )
        content_id = len(objects) + 1
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(len(objects) + 1)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >> >>"
            % (w_pt, h_pt, content_id, image_id, font)
        )
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims a huge image (a decompression bomb)."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = crc.to_bytes(4, "big")
    return bytes(data)


def album(pages: int, seed: int = 7) -> bytes:
    """A PDF of `pages` pictures that are no form (shapes and shades), at 150 dpi."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(pages):
        a = np.full((1754, 1240), 235, dtype=np.uint8)
        for _shape in range(5):
            x, y = int(rng.integers(0, 1000)), int(rng.integers(0, 1500))
            a[y : y + int(rng.integers(50, 250)), x : x + int(rng.integers(50, 240))] = int(
                rng.integers(40, 200)
            )
        images.append(Image.fromarray(a, "L"))
    return image_pdf(images, 150)


def scribble(
    image: Image.Image, box: tuple[float, float, float, float], seed: int = 5
) -> Image.Image:
    """The page with a pen scrawl (a hand-written date or a signature) inside `box`,
    given as fractions of the page."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    out = image.copy()
    draw = ImageDraw.Draw(out)
    x0, y0, x1, y1 = (v * s for v, s in zip(box, (*image.size, *image.size), strict=True))
    xs = np.linspace(x0, x1, 24)
    ys = y0 + (y1 - y0) * (0.5 + 0.45 * np.sin(np.arange(24) * 1.7 + rng.uniform(0, 3)))
    points = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    draw.line(points, fill=0, width=max(2, image.width // 600), joint="curve")
    return out


def handwritten(stem: str = "pdf-typed-school-mixed-ticks") -> bytes:
    """A 300 dpi scan whose empty "Date notified" answer (page 4) was filled in by hand."""
    pages = render(SAMPLES / f"{stem}.pdf", 300)
    pages[3] = scribble(pages[3], (0.42, 0.224, 0.62, 0.242))
    return image_pdf(pages, 300)
