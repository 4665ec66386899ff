"""The pipeline: named stages, one module each (as GNU Mailman's runners do it).

`DECIDE` stages only read the message and decide its outcome, so `intake inspect` can
run them without a database; the `file` stage then stores everything in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from importlib import import_module
from typing import Protocol

from intake.pipeline.context import MessageContext
from intake.scan import ClamdScanner
from intake.settings import Settings
from parsers.mime import parse_headers, parse_message

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


def parse_for_reading(raw: bytes, max_message_bytes: int) -> EmailMessage:
    """The email parsed as the stages read it."""
    # An email over the size limit is never parsed whole: its header fields are enough
    # to turn it away (the screen stage), and parsing 40 MB is work for nothing.
    if len(raw) > max_message_bytes:
        return parse_headers(raw)
    return parse_message(raw)


def new_context(
    raw: bytes,
    settings: Settings,
    received_at: datetime,
    scanner: ClamdScanner | None,
    *,
    headers_only: bool = False,
    headers: EmailMessage | None = None,
) -> MessageContext:
    """A message's context with the limits the settings give. `headers_only`: the email
    is parsed whole by the reader process, and the worker needs only its header fields
    (`headers`, when they were read already)."""
    if headers_only:
        message = headers if headers is not None else parse_headers(raw)
    else:
        message = parse_for_reading(raw, settings.max_message_bytes)
    return MessageContext(
        raw=raw,
        message=message,
        received_at=received_at,
        max_message_bytes=settings.max_message_bytes,
        our_message_id_domain=settings.message_id_domain,
        trusted_auth_server=settings.trusted_auth_server,
        max_attachments=settings.max_attachments,
        max_attachment_bytes=settings.max_attachment_bytes,
        scanner=scanner,
    )
