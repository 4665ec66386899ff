"""Stage `scan`: every candidate file through clamd before any reader opens it.

The whole message was scanned before it was stored (see the runner); this stage covers
files that clamd may not find inside an email by itself, such as winmail.dat contents.
"""

from __future__ import annotations

from intake.pipeline.context import MessageContext, MustWait
from intake.scan import ScannerUnavailable
from storage.tables import Outcome


def run(ctx: MessageContext) -> None:
    """Quarantine the message if any file is infected; wait if clamd gives no verdict."""
    if ctx.scanner is None:
        return
    for cand in ctx.candidates:
        try:
            verdict = ctx.scanner.scan(cand.data)
        except ScannerUnavailable as exc:
            raise MustWait(f"virus scanner unavailable: {exc}") from exc
        if not verdict.clean:
            ctx.infected = True
            ctx.end(
                Outcome.QUARANTINED,
                f"a virus was found in an attachment ({verdict.signature}); it was not opened",
            )
            return
