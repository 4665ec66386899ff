"""`intake inspect`: what the worker would decide for one .eml, without a database."""

from __future__ import annotations

from typing import Any

from intake.pipeline import decide, new_context
from intake.pipeline.context import MustWait
from intake.pipeline.screen import automated_reason
from intake.scan import ClamdScanner, ScannerUnavailable
from intake.settings import Settings
from parsers.documents import DocumentResult
from parsers.mime import message_problem
from parsers.record import ParsedForm
from storage.clock import utcnow
from storage.messages import virus_reason
from storage.tables import Outcome


def inspect_message(raw: bytes, settings: Settings) -> dict[str, Any]:
    """The outcome, reason and every form's fields, as `intake inspect --json` prints."""
    scanner = ClamdScanner(settings.clamd, settings.clamd_timeout) if settings.clamd else None
    ctx = new_context(raw, settings, utcnow(), scanner)
    # An email past a reading limit (headers of megabytes, parts nested thousands deep)
    # is parsed safely but not whole: it is refused with the limit's reason, unless it
    # is automated mail, which is never answered (the screen stage ignores it).
    problem = message_problem(raw)
    if problem is not None and automated_reason(ctx.message, settings.message_id_domain) is None:
        return {"outcome": str(Outcome.REJECTED), "reason": problem, "forms": [], "attachments": []}
    try:
        if scanner is not None:
            verdict = scanner.scan(raw)
            if not verdict.clean:
                return {
                    "outcome": "quarantined",
                    "reason": virus_reason(verdict.signature),
                    "forms": [],
                }
        decide(ctx)
    except (MustWait, ScannerUnavailable) as exc:
        return {"outcome": "waiting", "reason": str(exc), "forms": []}
    forms = []
    missing: list[str] = []
    for doc in ctx.documents:
        form = doc.result.form
        if form is not None:
            forms.append(document_json(doc.candidate.filename, doc.result))
            missing.extend(k for k in form.missing() if k not in missing)
    result: dict[str, Any] = {"outcome": str(ctx.outcome), "reason": ctx.reason, "forms": forms}
    if missing:
        result["missing"] = missing
    result["attachments"] = [
        {"file": d.candidate.filename, "outcome": d.result.outcome, "reason": d.result.reason}
        for d in ctx.documents
    ]
    return result


def document_json(filename: str, result: DocumentResult) -> dict[str, Any]:
    """One document as `intake parse --json` prints it (the shape scripts rely on)."""
    form = result.form
    out = {
        "file": filename,
        "outcome": result.outcome,
        "reason": result.reason or None,
        "fields": form.to_json() if form is not None else {},
        "missing": form.missing() if form is not None else [],
        "invalid": sorted({p.key for p in form.problems if p.kind == "invalid"})
        if form is not None
        else [],
    }
    if form is not None and form.source == "scan":
        out.update(scan_json(form))
    return out


def scan_json(form: ParsedForm) -> dict[str, Any]:
    """What a scan adds: every value's source and confidence, shaped like "fields" (a
    table as rows of columns), and the answers a person must check, with why."""
    confidence: dict[str, Any] = {
        key: round(fv.confidence, 3)
        for key, fv in form.values.items()
        if fv.value and fv.confidence is not None
    }
    for grid, rows in form.grids.items():
        # The rows "fields" keeps (those with a value), in the same order.
        shaped = [
            {
                col: round(c.confidence, 3)
                for col, c in row.items()
                if c.value and c.confidence is not None
            }
            for row in rows
            if any(c.value for c in row.values())
        ]
        if any(shaped):
            confidence[grid] = shaped
    doubtful = [
        {"key": p.key, "kind": p.kind, "message": p.message}
        for p in form.problems
        if p.kind in ("uncertain", "unreadable")
    ]
    return {"source": "scan", "confidence": confidence, "check": doubtful}
