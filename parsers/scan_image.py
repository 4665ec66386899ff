"""A scan's pages as upright greyscale images: decoding under limits, turning, deskewing."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter, ImageOps

from parsers.limits import OverLimit, ScanLimits
from parsers.pdf_page import PDFIUM_LOCK

A4_WIDTH_PT = 595.28  # a photo has no size of its own: its page is taken to be A4
TOO_LARGE = "larger than a scanned page could be"
_SKEW_STEPS = np.arange(-3.0, 3.01, 0.25)


@dataclass
class PageImage:
    """One page of a scan as decoded: where it came from, its pixels, and their size."""

    file: int
    page: int
    image: Image.Image  # greyscale, as found (not yet turned)
    dpi: float  # pixels per inch of the page as found (a photo: taken as A4 wide)


def pdf_page_count(data: bytes) -> int:
    """Pages in a PDF (pdfium)."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            return len(doc)
        finally:
            doc.close()


def render_pdf_page(data: bytes, index: int, dpi: float, limits: ScanLimits) -> Image.Image:
    """One PDF page rendered in grey at `dpi`, or fewer dpi when that would be too many
    pixels (a huge page size must not mean a huge bitmap)."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            page = doc[index]
            try:
                w, h = page.get_size()
                if w <= 0 or h <= 0:
                    raise OverLimit(f"page {index + 1} of the scan has no size")
                most = (limits.max_page_pixels / (w * h)) ** 0.5 * 72
                scale = min(dpi, most) / 72
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil().convert("L")
                bitmap.close()
                return image
            finally:
                page.close()
        finally:
            doc.close()


def _probe(data: bytes) -> Image.Image:
    """The image opened (its header read, nothing decoded)."""
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own guard, past 179 Mpx
        raise OverLimit(f"an image far {TOO_LARGE}") from exc


def _check(size: tuple[int, int], limits: ScanLimits) -> None:
    w, h = size
    if w * h > limits.max_page_pixels:
        raise OverLimit(f"an image of {w:,} x {h:,} pixels is {TOO_LARGE}")


def open_image(data: bytes, limits: ScanLimits) -> Image.Image:
    """A photo or scanned image, decoded only once its size is known to be within limits,
    turned as its camera said (EXIF), in grey."""
    with _probe(data) as probe:
        _check(probe.size, limits)
        probe.load()
        upright = ImageOps.exif_transpose(probe) or probe
        return upright.convert("L")


def image_size(data: bytes, limits: ScanLimits) -> tuple[int, int]:
    """Width and height of an image, read from its header only; OverLimit when it is
    larger than a page could be."""
    with _probe(data) as probe:
        _check(probe.size, limits)
        return probe.size


def bounded(image: Image.Image, dpi: float, limits: ScanLimits) -> tuple[Image.Image, float]:
    """The page at the resolution OCR reads best and fast: a small image (a photo of a
    page at 150 dpi) enlarged, a very large one reduced."""
    target = limits.ocr_dpi
    if dpi > target * 1.15 or dpi < target * 0.8:
        scale = target / dpi
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return image.resize(size, Image.Resampling.LANCZOS), float(target)
    return image, dpi


def flatten(image: Image.Image) -> Image.Image:
    """Uneven lighting evened out (a photo is darker at one side): each pixel divided by
    the paper's brightness around it, estimated by a wide maximum and blur."""
    small = image.reduce(8)
    paper = small.filter(ImageFilter.MaxFilter(9)).filter(ImageFilter.GaussianBlur(6))
    paper = paper.resize(image.size, Image.Resampling.BILINEAR)
    a = np.asarray(image, dtype=np.float32)
    b = np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    out = np.clip(a / b * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


def ink(image: Image.Image) -> np.ndarray:
    """Dark pixels (True) of a flattened page: Otsu's threshold, kept below paper white."""
    a = np.asarray(image)
    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cum = np.cumsum(hist)
    cum_mean = np.cumsum(hist * np.arange(256))
    w0 = cum / total
    w1 = 1.0 - w0
    m0 = cum_mean / np.maximum(cum, 1)
    m1 = (cum_mean[-1] - cum_mean) / np.maximum(total - cum, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    threshold = int(np.argmax(between))
    threshold = min(max(threshold, 60), 200)
    return a < threshold


def sideways(mask: np.ndarray) -> bool:
    """Do the text lines run up and down (a page turned a quarter)? Lines of text make
    the row profile of a page far more uneven than its column profile."""
    if not mask.any():
        return False
    rows = mask.mean(axis=1)
    cols = mask.mean(axis=0)
    return float(np.var(np.diff(cols))) > 1.3 * float(np.var(np.diff(rows)))


def skew_angle(mask: np.ndarray) -> float:
    """The small angle (degrees, positive = clockwise) that makes the text level: the
    one whose rotated row profile is sharpest (projection profile)."""
    h, w = mask.shape
    if not mask.any():
        return 0.0
    ys, xs = np.nonzero(mask)
    if len(xs) > 200_000:  # a sample of the ink is enough for a profile
        pick = np.random.default_rng(0).choice(len(xs), 200_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    xs_c = xs.astype(np.float64) - w / 2

    def score(angle: float) -> float:
        # Turning the page clockwise by `angle` moves a point's row by x * tan(angle).
        rows = np.round(ys + xs_c * np.tan(np.radians(angle))).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.sum(np.diff(counts.astype(np.float64)) ** 2))

    best = max(_SKEW_STEPS, key=score)
    fine = np.arange(best - 0.25, best + 0.251, 0.05)
    return round(float(max(fine, key=score)), 2)


def upright(image: Image.Image, turn: int, skew: float) -> Image.Image:
    """The page turned `turn` degrees clockwise, then `skew` degrees clockwise."""
    if turn % 360:
        image = image.rotate(-turn, expand=True)
    if abs(skew) >= 0.05:
        fill = 255 if image.mode == "L" else (255, 255, 255)
        image = image.rotate(-skew, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    return image


def small_mask(image: Image.Image, width: int = 1000) -> np.ndarray:
    """The page's ink at a low resolution, for finding its orientation and skew."""
    scale = width / max(image.width, 1)
    if scale < 1:
        image = image.resize((width, max(1, round(image.height * scale))), Image.Resampling.BOX)
    return ink(image)
