"""Stage `screen`: automated mail and oversize messages end here, unanswered.

An acknowledgement sent to an out-of-office reply, a bounce or a mailing list starts a
mail loop, so anything that looks automated is ignored and never answered.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import parseaddr

from intake.pipeline.context import MessageContext, human_size
from parsers.bounce import read_bounce
from parsers.mime import message_problem
from storage.tables import Outcome

AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply")
AUTOMATED_NAMES = ("mail delivery subsystem", "mail delivery system", "microsoft outlook")
# Subjects that automatic replies and bounces use when they carry no header to say so.
AUTOMATED_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto:|out of (the )?office|"
    r"undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (failed|failure)|returned mail|delivery failure|failure notice)",
    re.IGNORECASE,
)
# Words of a delivery failure, in the subject of a message that returns ours inside it.
DELIVERY_WORDS = re.compile(
    r"(undeliver|not (be )?delivered|delivery (status|failure|has failed|problem|incomplete)|"
    r"returned (mail|to sender)|failure notice|could not be (sent|delivered)|"
    r"message (not delivered|blocked|rejected))",
    re.IGNORECASE,
)
RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global")
REPORT_TYPES = (
    "multipart/report",
    "message/delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
)


def _header(message: EmailMessage, name: str) -> str:
    if name not in message:
        return ""  # checked on the raw names: parsing each header object is the slow part
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""  # a header too broken to parse; treat as absent
    return str(value or "").strip()


def _returns_a_message(message: EmailMessage) -> bool:
    """A bounce without the report format: an email carried back inside, and a subject
    that speaks of delivery."""
    if not DELIVERY_WORDS.search(_header(message, "Subject")) or not message.is_multipart():
        return False
    parts = message.get_payload()
    return isinstance(parts, list) and any(
        isinstance(p, EmailMessage) and p.get_content_type() in RETURNED_TYPES for p in parts
    )


def automated_reason(message: EmailMessage, our_domain: str) -> str | None:
    """Why this message is automated (and must not be answered), or None."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"automatic message (Auto-Submitted: {auto}); never answered"
    for name in ("X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond"):
        if _header(message, name):
            return f"automatic message ({name}); never answered"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk or list mail (Precedence: {precedence}); never answered"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing-list message; never answered"
    if _header(message, "Return-Path") == "<>":
        return "delivery report (empty Return-Path); never answered"
    if message.get_content_type() in REPORT_TYPES:
        return "delivery, read or abuse report; never answered"
    if _header(message, "X-Failed-Recipients"):
        return "delivery failure (X-Failed-Recipients); never answered"
    name, sender = parseaddr(_header(message, "From"))
    local = sender.lower().split("@", 1)[0].split("+", 1)[0]
    plain_name = name.strip().lower()
    if (
        local in AUTOMATED_SENDERS
        or plain_name in AUTOMATED_NAMES
        or "mail delivery" in plain_name
        or plain_name in AUTOMATED_SENDERS
    ):
        return f"sent by an automated address ({local or name}); never answered"
    if _returns_a_message(message):
        return "a returned message with delivery wording (a bounce); never answered"
    if AUTOMATED_SUBJECT.match(_header(message, "Subject")):
        return "automatic reply or bounce (by its subject); never answered"
    if our_domain and _header(message, "Message-ID").endswith(f"@{our_domain}>"):
        return "one of our own messages came back; never answered"
    return None


def run(ctx: MessageContext) -> None:
    """End the message as ignored when automated, rejected when too big to read."""
    reason = automated_reason(ctx.message, ctx.our_message_id_domain)
    if reason:
        ctx.end(Outcome.IGNORED, reason)
        report = read_bounce(ctx.message)
        ours = f"@{ctx.our_message_id_domain}>"
        if report is not None and any(i.endswith(ours) for i in report.message_ids):
            ctx.bounce = report
    elif (ctx.oversize or len(ctx.raw)) > ctx.max_message_bytes:
        ctx.end(
            Outcome.REJECTED,
            f"the email is larger than {human_size(ctx.max_message_bytes)}",
        )
    elif problem := message_problem(ctx.raw):
        # Parsed safely but not whole (headers cut, parts too deep or too many): what was
        # read is not the email the sender sent, so nothing is taken from it.
        ctx.end(Outcome.REJECTED, problem)
