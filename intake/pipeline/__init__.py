"""The pipeline: named stages, one module each (as GNU Mailman's runners do it).

`DECIDE` stages only read the message and decide its outcome, so `intake inspect` can
run them without a database; the `file` stage then stores everything in one transaction.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from intake.pipeline.context import MessageContext

DECIDE = ("screen", "unpack", "scan", "read", "check")


class Stage(Protocol):
    """A stage module: `run(ctx)` passes the message on or ends it with an outcome."""

    def run(self, ctx: MessageContext) -> None: ...


def decide(ctx: MessageContext) -> MessageContext:
    """Run the deciding stages in order until one ends the message."""
    for name in DECIDE:
        stage: Stage = import_module(f"intake.pipeline.{name}")
        stage.run(ctx)
        if ctx.ended:
            break
    return ctx
