"""Stage `read`: each candidate file through the document readers."""

from __future__ import annotations

from intake.pipeline.context import MessageContext, ReadDocument
from parsers.documents import read_document


def run(ctx: MessageContext) -> None:
    """Read every candidate; the readers never raise on bad input."""
    ctx.documents = [
        ReadDocument(cand, read_document(cand.filename, cand.content_type, cand.data))
        for cand in ctx.candidates
    ]
