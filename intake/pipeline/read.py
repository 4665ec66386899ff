"""Stage `read`: each candidate file through the document readers."""

from __future__ import annotations

from intake.pipeline.context import MessageContext, ReadDocument, human_size
from parsers.documents import DocumentResult, read_document
from parsers.mime import Candidate


def _read(ctx: MessageContext, cand: Candidate) -> DocumentResult:
    if len(cand.data) > ctx.max_attachment_bytes:
        limit = human_size(ctx.max_attachment_bytes)
        return DocumentResult("rejected", f"the file is larger than {limit}", None)
    return read_document(cand.filename, cand.content_type, cand.data)


def run(ctx: MessageContext) -> None:
    """Read every candidate; the readers never raise on bad input."""
    ctx.documents = [ReadDocument(cand, _read(ctx, cand)) for cand in ctx.candidates]
