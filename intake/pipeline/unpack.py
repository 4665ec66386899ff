"""Stage `unpack`: MIME to candidate documents (forwards, winmail.dat, odd names)."""

from __future__ import annotations

from intake.pipeline.context import MessageContext
from parsers.mime import candidates


def run(ctx: MessageContext) -> None:
    """Collect every distinct attached file."""
    ctx.candidates = candidates(ctx.message)
