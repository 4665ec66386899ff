"""Stage `read`: each candidate file through the document readers; photos that are the
pages of one form through the scan reader together, as one document."""

from __future__ import annotations

from intake.pipeline.context import MessageContext, ReadDocument, human_size
from parsers import documents
from parsers.documents import DocumentResult, read_document
from parsers.mime import Candidate
from parsers.sniff import sniff

PAGE_OF_SET = "a page of the scanned form sent in the other images"


def _read(ctx: MessageContext, cand: Candidate) -> DocumentResult:
    if len(cand.data) > ctx.max_attachment_bytes:
        limit = human_size(ctx.max_attachment_bytes)
        return DocumentResult("rejected", f"the file is larger than {limit}", None)
    return read_document(cand.filename, cand.content_type, cand.data)


def _scan_set(ctx: MessageContext, images: list[int]) -> bool:
    """Read the images as the pages of one form; False (nothing done) if the reader failed."""
    try:
        result = documents.read_scan_set([ctx.candidates[i].data for i in images])
    except Exception:  # noqa: BLE001 - the images are then read one by one, as before
        return False
    form = result.form
    used = {images[p.file] for p in form.scan_pages if 0 <= p.file < len(images)} if form else set()
    first = min(used) if used else images[0]  # the file the result is filed under
    for position, cand in enumerate(ctx.candidates):
        if position == first:
            ctx.documents.append(ReadDocument(cand, result, tuple(images)))
        elif position in used:
            page_of_set = DocumentResult("not_a_form", PAGE_OF_SET, None)
            ctx.documents.append(ReadDocument(cand, page_of_set))
        elif position in images and form is None:
            # No form on them: each says what the set was (the OCR is not run twice).
            ctx.documents.append(
                ReadDocument(cand, DocumentResult(result.outcome, result.reason, None))
            )
        else:  # a logo or another file beside the photos is read as it would be alone
            ctx.documents.append(ReadDocument(cand, _read(ctx, cand)))
    return True


def run(ctx: MessageContext) -> None:
    """Read every candidate; the readers never raise on bad input."""
    images = [
        position
        for position, cand in enumerate(ctx.candidates)
        if len(cand.data) <= ctx.max_attachment_bytes and sniff(cand.data) == "image"
    ]
    # Two or more photos in one email are most often the pages of one form.
    if len(images) > 1 and _scan_set(ctx, images):
        return
    ctx.documents = [ReadDocument(cand, _read(ctx, cand)) for cand in ctx.candidates]
