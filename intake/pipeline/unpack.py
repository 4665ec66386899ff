"""Stage `unpack`: MIME to candidate documents (forwards, winmail.dat, odd names)."""

from __future__ import annotations

from intake.pipeline.context import MessageContext
from parsers.mime import candidates
from storage.tables import Outcome


def run(ctx: MessageContext) -> None:
    """Collect every distinct attached file; refuse an email with too many to read."""
    ctx.candidates = candidates(ctx.message)
    if len(ctx.candidates) > ctx.max_attachments:
        ctx.end(
            Outcome.REJECTED,
            f"the email has {len(ctx.candidates)} attached files, more than the "
            f"{ctx.max_attachments} we read; please send the referral form on its own",
        )
