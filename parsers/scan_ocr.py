"""Tesseract, called as one bounded child process per page: words, boxes and confidences."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field

from PIL import Image

TESSERACT = "tesseract"
# hOCR rather than TSV: it also gives each line's baseline and text height (so words can
# be placed like a PDF's, by baseline and font size) and each character's box (so ink
# the OCR did not account for, such as an accent it dropped, can be found).
_CONFIG = ("-c", "hocr_char_boxes=1", "-c", "tessedit_do_invert=0", "hocr")


class OcrUnavailable(Exception):
    """Tesseract is not installed or did not run."""


class OcrTimeout(Exception):
    """Tesseract ran past its time and was stopped."""


@dataclass
class OcrChar:
    """One character as read, with its box in pixels and its confidence (0-100)."""

    text: str
    x0: int
    y0: int
    x1: int
    y1: int
    conf: float


@dataclass
class OcrWord:
    """One word as read: its box in pixels, confidence 0-100, and its line's geometry."""

    text: str
    x0: int
    y0: int
    x1: int
    y1: int
    conf: float
    line: int  # index of its line on the page
    baseline: float  # y of the line's baseline below this word, in pixels
    height: float  # the line's text height (Tesseract's x_size), in pixels
    ascent: float  # how far its ascenders rise above the x-height, in pixels
    descent: float  # how far its descenders fall below the baseline, in pixels
    chars: list[OcrChar] = field(default_factory=list)


class Budget:
    """OCR seconds left for one message, shared by the threads reading its pages."""

    def __init__(self, seconds: float, per_call: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.per_call = per_call
        self.lock = threading.Lock()

    def timeout(self) -> float:
        """Seconds the next call may take: its own limit, or what is left, if less."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OcrTimeout("the message's OCR time is used up")
        return min(self.per_call, left)


def tesseract_path() -> str | None:
    """Where tesseract is, or None."""
    return shutil.which(TESSERACT)


def ocr_words(image: Image.Image, dpi: int, budget: Budget, psm: int = 3) -> list[OcrWord]:
    """Words of an upright greyscale image. Raises OcrTimeout, OcrUnavailable."""
    exe = tesseract_path()
    if exe is None:
        raise OcrUnavailable("tesseract is not installed")
    buf = io.BytesIO()
    # PGM: written and read with no compression work (PNG costs ~0.3 s a page).
    image.convert("L").save(buf, format="PPM")
    # One thread for the child: pages are read in parallel already, and OpenMP threads
    # fighting over two cores make each call slower, not faster.
    env = {"OMP_THREAD_LIMIT": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    args = [exe, "stdin", "stdout", "--dpi", str(dpi), "--psm", str(psm), "-l", "eng", *_CONFIG]
    timeout = budget.timeout()
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            args, input=buf.getvalue(), capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() kills the child before raising
        raise OcrTimeout(f"tesseract ran over {timeout:.0f} s") from exc
    except OSError as exc:
        raise OcrUnavailable(str(exc)) from exc
    if done.returncode != 0:
        raise OcrUnavailable(f"tesseract failed ({done.returncode})")
    return parse_hocr(done.stdout.decode("utf-8", "replace"))


_SPAN = re.compile(r"<span class='(ocr_line|ocr_caption|ocr_header|ocr_textfloat|ocrx_word)'")
_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_BASELINE = re.compile(r"baseline (-?[\d.]+) (-?[\d.]+)")
_XSIZE = re.compile(r"x_size ([\d.]+)")
_ASC = re.compile(r"x_ascenders ([\d.]+)")
_DESC = re.compile(r"x_descenders ([\d.]+)")
_WCONF = re.compile(r"x_wconf (\d+)")
_CHAR = re.compile(
    r"<span class='ocrx_cinfo' title='x_bboxes (\d+) (\d+) (\d+) (\d+); "
    r"x_conf ([\d.]+)'>([^<]*)</span>"
)
_TAGS = re.compile(r"<[^>]+>")


def parse_hocr(text: str) -> list[OcrWord]:
    """The words of Tesseract's hOCR output (its own fixed format, read by pattern)."""
    words: list[OcrWord] = []
    line = -1
    base_slope, base_off, line_x0, line_y1, size, asc, desc = 0.0, 0.0, 0, 0, 0.0, 0.0, 0.0
    parts = _SPAN.split(text)
    # split() gives [before, kind, body, kind, body, ...]: each body runs to the next span.
    for kind, body in zip(parts[1::2], parts[2::2], strict=True):
        head = body[: body.find(">")]
        box = _BBOX.search(head)
        if box is None:
            continue
        x0, y0, x1, y1 = (int(v) for v in box.groups())
        if kind != "ocrx_word":
            line += 1
            m = _BASELINE.search(head)
            base_slope, base_off = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
            s = _XSIZE.search(head)
            size = float(s.group(1)) if s else float(y1 - y0)
            a, d = _ASC.search(head), _DESC.search(head)
            asc = float(a.group(1)) if a else 0.25 * size
            desc = float(d.group(1)) if d else 0.2 * size
            line_x0, line_y1 = x0, y1
            continue
        conf = _WCONF.search(head)
        chars = [
            OcrChar(html.unescape(c[5]), int(c[0]), int(c[1]), int(c[2]), int(c[3]), float(c[4]))
            for c in _CHAR.findall(body)
        ]
        word = "".join(c.text for c in chars) if chars else html.unescape(_TAGS.sub("", body))
        word = word.strip()
        if not word:
            continue
        middle = (x0 + x1) / 2
        baseline = line_y1 + base_off + base_slope * (middle - line_x0)
        words.append(
            OcrWord(
                word,
                x0,
                y0,
                x1,
                y1,
                float(conf.group(1)) if conf else 0.0,
                max(line, 0),
                baseline,
                size or float(y1 - y0),
                asc,
                desc,
                chars,
            )
        )
    return words
