"""The pages of a scanned referral as the reader saw them (upright), and the part of a page
an answer was read from, as PNG for the officer's check page.

Pages are drawn by the scan reader (`parsers.scan_reader.page_image`: it knows how it turned
them to read them) at screen resolution and kept in a small in-memory cache: a check page
asks for one crop per answer, and drawing a page from its PDF or photo each time would cost
a tenth of a second per answer.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from PIL import Image
from sqlalchemy import Engine

from parsers.record import ScanBox
from parsers.scan_reader import page_image
from storage.db import session_scope
from storage.messages import attachment_bytes
from storage.scans import StoredPage, pages_for
from storage.tables import Attachment

PAGE_DPI = 100  # enough to read handwriting beside the typed answer, small to send
CACHED_PAGES = 8  # about 3 MB each at 100 dpi (A4, colour)
# Room around a box (fractions of the page): the reader's box hugs the ink, and the
# officer needs the edge of the answer space and a little of its label to trust it.
PAD_X, PAD_Y = 0.02, 0.012

_cache: OrderedDict[tuple[object, ...], Image.Image] = OrderedDict()
_lock = threading.Lock()


class PageUnavailable(LookupError):
    """The page cannot be drawn: not a scanned referral, or its file was purged."""


def _files(engine: Engine, referral_id: int) -> tuple[list[StoredPage], dict[int, Attachment]]:
    with session_scope(engine) as db:
        pages = pages_for(db, referral_id)
        rows = {p.attachment_id: db.get(Attachment, p.attachment_id) for p in pages}
        return pages, {k: v for k, v in rows.items() if v is not None}


def page_count(engine: Engine, referral_id: int) -> int:
    """How many scanned pages the referral was read from (0: not from a scan)."""
    with session_scope(engine) as db:
        return len(pages_for(db, referral_id))


def upright_page(engine: Engine, referral_id: int, index: int) -> Image.Image:
    """Page `index` (the form's order, as a ScanBox counts) as the reader saw it."""
    pages, attachments = _files(engine, referral_id)
    if not 0 <= index < len(pages):
        raise PageUnavailable("no such page")
    wanted = pages[index]
    row = attachments.get(wanted.attachment_id)
    if row is None or row.size == 0 or row.filename == "(purged)":
        raise PageUnavailable("the scanned file is not kept")
    # The stored file's hash in the key: a purged or replaced file is never shown from here.
    key = (referral_id, row.id, row.sha256, wanted.page, PAGE_DPI)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with session_scope(engine) as db:
        content = attachment_bytes(db, wanted.attachment_id)
    if not content:
        raise PageUnavailable("the scanned file is not kept")
    # The drawer takes the form's files in order; only this page's file is needed.
    files = [b""] * (wanted.page.file + 1)
    files[wanted.page.file] = content
    try:
        image = page_image(files, wanted.page, PAGE_DPI).convert("RGB")
    except Exception as exc:  # noqa: BLE001 - a file the reader read once; say so, not 500
        raise PageUnavailable("the scanned page could not be drawn") from exc
    with _lock:
        _cache[key] = image
        while len(_cache) > CACHED_PAGES:
            _cache.popitem(last=False)
    return image


def png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def crop(image: Image.Image, box: ScanBox) -> Image.Image:
    """The part of an upright page a value was read from, with a little room around it."""
    width, height = image.size
    left = max(0, int((box.x0 - PAD_X) * width))
    top = max(0, int((box.y0 - PAD_Y) * height))
    right = min(width, int((box.x1 + PAD_X) * width) + 1)
    bottom = min(height, int((box.y1 + PAD_Y) * height) + 1)
    return image.crop((left, top, right, bottom))
