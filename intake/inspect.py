"""`intake inspect`: what the worker would decide for one .eml, without a database."""

from __future__ import annotations

from typing import Any

from intake.pipeline import decide
from intake.pipeline.context import MessageContext
from intake.settings import Settings
from parsers.mime import parse_message
from storage.clock import utcnow


def inspect_message(raw: bytes, settings: Settings) -> dict[str, Any]:
    """The outcome, reason and every form's fields, as `intake inspect --json` prints."""
    ctx = decide(
        MessageContext(
            raw=raw,
            message=parse_message(raw),
            received_at=utcnow(),
            max_message_bytes=settings.max_message_bytes,
            our_message_id_domain=settings.message_id_domain,
        )
    )
    forms = []
    missing: list[str] = []
    for doc in ctx.documents:
        form = doc.result.form
        entry: dict[str, Any] = {
            "filename": doc.candidate.filename,
            "outcome": doc.result.outcome,
            "reason": doc.result.reason,
        }
        if form is not None:
            entry["fields"] = form.to_json()
            entry["missing"] = form.missing()
            missing.extend(k for k in form.missing() if k not in missing)
            forms.append(entry)
        elif doc.result.outcome == "rejected":
            forms.append(entry)
    result: dict[str, Any] = {"outcome": str(ctx.outcome), "reason": ctx.reason, "forms": forms}
    if missing:
        result["missing"] = missing
    result["attachments"] = [
        {"filename": d.candidate.filename, "outcome": d.result.outcome, "reason": d.result.reason}
        for d in ctx.documents
    ]
    return result
