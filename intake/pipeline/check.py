"""Stage `check`: the message's outcome from what its documents gave."""

from __future__ import annotations

from intake.pipeline.context import MessageContext
from parsers.secure_mail import secure_notice
from storage.tables import Outcome

SCANNED = "scanned referral form, waiting for an officer's check"
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def run(ctx: MessageContext) -> None:
    """referral if any form is complete; needs_info for gaps or no form; else rejected."""
    outcomes = [doc.result.outcome for doc in ctx.documents]
    if any(d.result.outcome == "referral" and not d.scanned for d in ctx.documents):
        ctx.end(Outcome.REFERRAL, "completed referral form")
    elif any(doc.scanned for doc in ctx.documents):
        # A form read from a scan is a referral, acknowledged as one; what it lacks is asked
        # for only once an officer has checked what was read.
        ctx.end(Outcome.REFERRAL, SCANNED)
    elif "needs_info" in outcomes:
        ctx.end(Outcome.NEEDS_INFO, "mandatory fields are not completed")
    elif "rejected" in outcomes:
        reasons = "; ".join(
            d.result.reason for d in ctx.documents if d.result.outcome == "rejected"
        )
        ctx.end(Outcome.REJECTED, f"the attached file could not be read: {reasons}")
    elif (service := secure_notice(ctx.message)) is not None:
        # The form is behind the service's portal: the team opens it, the sender is told
        # so, and nobody is asked for a form they did send.
        ctx.secure = service
        ctx.end(
            Outcome.NEEDS_INFO,
            f"{service}: the LSCP team must open it in the secure service to read it",
        )
    elif ctx.documents:
        ctx.end(Outcome.NEEDS_INFO, f"no referral form: {found(ctx)}")
    else:
        ctx.end(Outcome.NEEDS_INFO, "no referral form was attached")


def found(ctx: MessageContext) -> str:
    """What was attached instead of a form, by position and kind, never by file name."""
    parts = []
    for n, doc in enumerate(ctx.documents):
        place = _ORDINALS[n] if n < len(_ORDINALS) else f"number {n + 1}"
        parts.append(f"the {place} attached file is {doc.result.reason}")
    return "; ".join(parts)
