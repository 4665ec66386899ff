"""Stage `check`: the message's outcome from what its documents gave."""

from __future__ import annotations

from intake.pipeline.context import MessageContext
from storage.tables import Outcome


def run(ctx: MessageContext) -> None:
    """referral if any form is complete; needs_info for gaps or no form; else rejected."""
    outcomes = [doc.result.outcome for doc in ctx.documents]
    if "referral" in outcomes:
        ctx.end(Outcome.REFERRAL, "completed referral form")
    elif "needs_info" in outcomes:
        ctx.end(Outcome.NEEDS_INFO, "mandatory fields are not completed")
    elif "rejected" in outcomes:
        reasons = "; ".join(
            d.result.reason for d in ctx.documents if d.result.outcome == "rejected"
        )
        ctx.end(Outcome.REJECTED, f"the attached file could not be read: {reasons}")
    else:
        ctx.end(Outcome.NEEDS_INFO, "no referral form was attached")
