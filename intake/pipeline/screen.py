"""Stage `screen`: automated mail and oversize messages end here, unanswered.

An acknowledgement sent to an out-of-office reply, a bounce or a mailing list starts a
mail loop, so anything that looks automated is ignored and never answered.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

from intake.pipeline.context import MessageContext
from storage.tables import Outcome

AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply")


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""  # a header too broken to parse; treat as absent
    return str(value or "").strip()


def automated_reason(message: EmailMessage, our_domain: str) -> str | None:
    """Why this message is automated (and must not be answered), or None."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"automatic message (Auto-Submitted: {auto}); never answered"
    if _header(message, "X-Auto-Response-Suppress"):
        return "automatic message (X-Auto-Response-Suppress); never answered"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk or list mail (Precedence: {precedence}); never answered"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing-list message; never answered"
    if _header(message, "Return-Path") == "<>":
        return "delivery report (empty Return-Path); never answered"
    if message.get_content_type() == "multipart/report":
        return "delivery or read report; never answered"
    sender = parseaddr(_header(message, "From"))[1].lower()
    if sender.split("@", 1)[0] in AUTOMATED_SENDERS:
        return f"sent by an automated address ({sender.split('@', 1)[0]}); never answered"
    for name in ("In-Reply-To", "References"):
        if our_domain and f"@{our_domain}>" in _header(message, name):
            subject = _header(message, "Subject").lower()
            if subject.startswith(("automatic reply", "auto:", "out of office")):
                return "automatic reply to one of our messages; never answered"
    return None


def run(ctx: MessageContext) -> None:
    """End the message as ignored when automated, rejected when too big to read."""
    reason = automated_reason(ctx.message, ctx.our_message_id_domain)
    if reason:
        ctx.end(Outcome.IGNORED, reason)
    elif len(ctx.raw) > ctx.max_message_bytes:
        ctx.end(
            Outcome.REJECTED,
            f"the email is larger than {ctx.max_message_bytes // (1024 * 1024)} MB",
        )
