"""The one entry point the pipeline calls: an attachment in, a decision and a form out."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Literal

from parsers.docx_reader import read_docx
from parsers.form_reader import read_form
from parsers.formdef import available_forms, load_form, normalise_label
from parsers.layout import Layout, Para, Rejection
from parsers.limits import MAX_PARAGRAPHS, OverLimit
from parsers.odt_reader import read_odt
from parsers.pdf_reader import SCANNED, read_pdf
from parsers.record import ParsedForm
from parsers.scan_reader import ScanResult, is_scanned_pdf, is_small_image, read_scan
from parsers.sniff import sniff
from parsers.zip_guard import DEFAULT_LIMITS, check_zip, read_member

Outcome = Literal["referral", "needs_info", "not_a_form", "rejected"]

COMPLETE = "completed referral form"
INCOMPLETE = "mandatory fields are not completed"
INVALID = "mandatory fields are not completed or could not be understood"
BLANK = "the referral form is blank (it has not been filled in)"
NOT_FORM = "not an LSCP SIRG referral form"
# HEIC (an iPhone's photos) needs pillow-heif, which is not installed (issue #15).
HEIC = "a photo in HEIC format, which cannot be read here; please send it as a JPEG or PDF"
_WHAT = {"pdf": "a PDF", "docx": "a Word document", "odt": "an OpenDocument text file"}
_FORM_FILES = (".docx", ".docm", ".doc", ".pdf", ".odt", ".rtf")

_BY_KIND: dict[str, tuple[Outcome, str]] = {
    "empty": ("rejected", "the attachment is empty"),
    "image": ("not_a_form", "an image (such as a logo or photo), not a referral form"),
    "text": ("not_a_form", "a text file, not a referral form"),
    "unknown": ("not_a_form", "not a Word document or PDF"),
    "ole-doc": (
        "rejected",
        "an old-format Word file (.doc); please save it as a Word document (.docx) and send again",
    ),
    "ole-encrypted": (
        "rejected",
        "the Word file is password-protected; please send it without a password",
    ),
    "ole-msg": (
        "rejected",
        "an attached Outlook message (.msg); please attach the referral form itself",
    ),
    "ole-other": ("not_a_form", "an old-format Office file that is not a Word document"),
    "rtf": (
        "rejected",
        "a Rich Text (.rtf) file; please send the form as a Word document (.docx) or PDF",
    ),
}


@dataclass
class DocumentResult:
    """What one attachment turned out to be."""

    outcome: Outcome
    reason: str  # plain words, safe for a reply to the sender
    form: ParsedForm | None  # None unless outcome is referral/needs_info


def read_document(filename: str, content_type: str, data: bytes) -> DocumentResult:
    """Read one attachment. Decides by content, not name or type; never raises."""
    try:
        return _read(data)
    except Exception:  # noqa: BLE001 - one bad attachment must not stop the mailbox
        return DocumentResult("rejected", "the attachment could not be read", None)


def read_scan_set(files: list[bytes]) -> DocumentResult:
    """Read several images (the photos or scans of one email) as the pages of one form,
    in whatever order they came. Never raises."""
    try:
        return _scanned(files, "scanned images")
    except Exception:  # noqa: BLE001 - one bad attachment must not stop the mailbox
        return DocumentResult("rejected", "the scanned images could not be read", None)


def _scanned(files: list[bytes], what: str) -> DocumentResult:
    """A scan read by OCR, decided like any form; its form's source is "scan"."""
    result: ScanResult = read_scan(files, _best_form)
    if result.rejection is not None:
        return DocumentResult(result.rejection.outcome, result.rejection.reason, None)
    if result.form is None:
        unread = (
            f" (only its first {result.pages_read} of {result.pages_total} pages were read)"
            if result.pages_total > result.pages_read
            else ""
        )
        return DocumentResult("not_a_form", f"{what}, {NOT_FORM}{unread}", None)
    return _decided(result.form)


def _read(data: bytes) -> DocumentResult:
    kind = sniff(data)
    layout: Layout | Rejection
    if kind == "image":
        if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
            return DocumentResult("rejected", HEIC, None)
        try:
            small = is_small_image(data)
        except OverLimit as exc:  # a decompression bomb: refused before decoding
            return DocumentResult("rejected", str(exc), None)
        except Exception:  # noqa: BLE001 - an image format Pillow cannot open
            small = True
        if small:  # a logo or an icon: never a page of a form
            return DocumentResult(*_BY_KIND["image"], None)
        return _scanned([data], "an image")
    if kind == "pdf":
        if is_scanned_pdf(data):  # pages that are pictures, maybe under scanner OCR text
            return _scanned([data], "a scanned PDF")
        layout = read_pdf(data)
        if isinstance(layout, Rejection) and layout.reason == SCANNED:
            return _scanned([data], "a scanned PDF")
    elif kind == "docx":
        layout = read_docx(data)
    elif kind == "odt":
        layout = read_odt(data)
    elif kind == "zip":
        return _zip_folder(data)
    else:
        outcome, reason = _BY_KIND[kind]
        return DocumentResult(outcome, reason, None)
    if isinstance(layout, Rejection):
        return DocumentResult(layout.outcome, layout.reason, None)
    if _paragraphs(layout) > MAX_PARAGRAPHS:
        # Reading a form costs about half a millisecond a paragraph.
        return DocumentResult(
            "rejected",
            "the document is far longer than a referral form could be "
            f"(over {MAX_PARAGRAPHS:,} paragraphs)",
            None,
        )
    try:
        form = _best_form(layout)
    except OverLimit as exc:
        return DocumentResult("rejected", str(exc), None)
    if form is None:  # say what it was: "a PDF that is not ...", never just "nothing"
        return DocumentResult("not_a_form", f"{_WHAT[kind]}, {NOT_FORM}", None)
    return _decided(form)


def _decided(form: ParsedForm) -> DocumentResult:
    """A form's outcome: a referral, or what is missing from it."""
    if form.is_blank():
        # The form itself, not filled in: the referrer is asked for every answer (the
        # form's mandatory keys, in order), and the team sees that a referral was meant.
        return DocumentResult("needs_info", BLANK, form)
    missing = set(form.missing())
    if missing:
        unclear = any(p.kind == "invalid" and p.key in missing for p in form.problems)
        return DocumentResult("needs_info", INVALID if unclear else INCOMPLETE, form)
    return DocumentResult("referral", COMPLETE, form)


def _paragraphs(layout: Layout) -> int:
    """Paragraphs in the body and in table cells, and fillable-field values: each is
    matched against the form's labels."""
    return len(layout.hints) + sum(
        1 if isinstance(b, Para) else sum(len(c.paras) for row in b.rows for c in row)
        for b in layout.blocks
    )


def _best_form(layout: Layout) -> ParsedForm | None:
    """Read the layout against every known form edition and keep the one it is: its
    title printed on it, then the most labels worded exactly as that edition words
    them, then the fullest reading (editions share most labels, and each reads the
    other's forms nearly as well)."""
    forms = [load_form(form_id) for form_id in available_forms()]
    if len(forms) == 1:
        return read_form(layout, forms[0])
    texts = _texts(layout)
    best: tuple[tuple[bool, int, int], ParsedForm] | None = None
    for definition in forms:
        form = read_form(layout, definition)
        if form is None:
            continue
        labels = {normalise_label(f.label) for f in definition.fields}
        key = (normalise_label(definition.title) in texts, len(labels & texts), len(form.values))
        if best is None or key > best[0]:
            best = (key, form)
    return best[1] if best is not None else None


def _texts(layout: Layout) -> set[str]:
    """Every paragraph's and cell's text, normalised as labels are."""
    out: set[str] = set()
    for block in layout.blocks:
        if isinstance(block, Para):
            out.add(normalise_label(block.text))
        else:
            out.update(normalise_label(p.text) for row in block.rows for c in row for p in c.paras)
    return out


def _zip_folder(data: bytes) -> DocumentResult:
    """A zip that is not a Word file: the one form inside it is read (one level deep,
    under the zip limits); several files that could be forms are turned back whole."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        check_zip(zf)
        files = [
            i.filename
            for i in zf.infolist()
            if not i.is_dir() and not i.filename.startswith("__MACOSX/")
        ]
        forms = [n for n in files if n.lower().endswith(_FORM_FILES)]
        if not forms:
            return DocumentResult(
                "not_a_form", "a compressed (zip) folder, not a referral form", None
            )
        if len(forms) > 1:
            return DocumentResult(
                "rejected",
                f"a compressed (zip) folder holding {len(forms)} documents; please attach "
                "each referral form itself",
                None,
            )
        inner = read_member(zf, forms[0], DEFAULT_LIMITS.max_member_bytes)
    if sniff(inner) == "zip":  # a folder in a folder: one level only
        return DocumentResult("rejected", "a zip folder inside a zip folder", None)
    result = _read(inner)
    if result.form is not None:
        return result
    return DocumentResult(result.outcome, f"in a compressed (zip) folder, {result.reason}", None)
