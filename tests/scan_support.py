"""Scanned referrals for tests: a real scan of a sample form, and a stand-in reading of it
whose doubts a test chooses (the real reader's depend on the OCR).

The stand-in reads the typed PDF's text layer and dresses the result as a scan would give
it: source "scan", a confidence for every value, the pages, a box for every answer (from
where the PDF reader found it), and the doubts chosen by the test ("uncertain" values kept,
"unreadable" ones dropped). The real reader draws the pages, so crops show the form.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "forms" / "pdf-cc-police-window-fall.pdf"
SENDER = "siobhan.mulcahy@merseyside.police.example"
PAGE_W, PAGE_H = 595.3, 841.9  # A4 in points, as the sample is laid out


def scan_of_sample(dpi: int = 200) -> bytes:
    """The sample form as a scanner makes it: a PDF of page images only (no text layer)."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(SAMPLE.read_bytes())
    pages = [pdf[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return out.getvalue()


def _box(where: str) -> tuple[int, float, float, float, float] | None:
    m = re.match(r"pdf page (\d+) at \((\d+),(\d+)\)", where)
    if m is None:
        return None
    x, y = int(m[2]), int(m[3])
    x0, y0 = x / PAGE_W, max(0.0, (y - 11) / PAGE_H)
    return int(m[1]) - 1, x0, y0, min(1.0, x0 + 0.5), min(1.0, (y + 5) / PAGE_H)


def stand_in_form(
    uncertain: tuple[str, ...] = (), unreadable: tuple[str, ...] = (), confidence: float = 0.96
) -> Any:
    """The sample read as a scan reader would read a scan of it."""
    from parsers.documents import read_document
    from parsers.record import FieldValue, Problem, ScanBox, ScanPage

    typed = read_document("scan.pdf", "application/pdf", SAMPLE.read_bytes()).form
    assert typed is not None
    boxes: dict[str, ScanBox] = {}

    def scanned(key: str, fv: FieldValue) -> FieldValue:
        found = _box(fv.where)
        if found is not None:
            boxes[key] = ScanBox(*found)
        sure = 0.55 if key in uncertain else confidence
        return replace(fv, where=f"scan page {found[0] + 1 if found else 1}", confidence=sure)

    values = {k: scanned(k, fv) for k, fv in typed.values.items()}
    grids = {
        g: [
            {c: scanned(f"{g}[{i}].{c}", cell) for c, cell in row.items()}
            for i, row in enumerate(rows)
        ]
        for g, rows in typed.grids.items()
    }
    cells = {
        f"{g}[{i}].{c}": v
        for g, rows in grids.items()
        for i, r in enumerate(rows)
        for c, v in r.items()
    }
    problems: list[Problem] = []
    for key in uncertain:
        # Keyed as the reader keys problems: a table's rows counted from 1 (fv.key).
        fv = {**values, **cells}[key]
        label = typed.label_for(fv.key)
        problems.append(
            Problem(fv.key, label, "uncertain", "the writing is unclear", fv.raw, fv.where)
        )
    for key in unreadable:
        fv = values.pop(key)
        label = typed.label_for(key)
        problems.append(Problem(key, label, "unreadable", "handwriting", "", fv.where))
    return replace(
        typed,
        values=values,
        grids=grids,
        problems=problems,
        source="scan",
        scan_pages=[ScanPage(0, n, 0) for n in range(4)],
        scan_boxes=boxes,
    )


def stand_in_result(form: Any) -> Any:
    """The DocumentResult the stand-in reader gives for `form`."""
    from parsers.documents import DocumentResult

    missing = form.missing()
    outcome = "needs_info" if missing else "referral"
    reason = "mandatory fields are not completed" if missing else "completed referral form"
    return DocumentResult(outcome, reason, form)


def use_stand_in(monkeypatch: pytest.MonkeyPatch, form: Any) -> None:
    """Every PDF read in this test reads as `form` (a scan); its pages are drawn by the
    real scan reader (the PDF is the typed sample, upright). Reading runs in a reader
    process, forked afresh after the patch so that it holds there too."""
    from intake.pipeline import read as read_stage
    from intake.pipeline.isolate import retire_reader

    result = stand_in_result(form)
    original = read_stage.read_document

    def read(filename: str, content_type: str, data: bytes) -> Any:
        if data.startswith(b"%PDF"):
            return result
        return original(filename, content_type, data)

    monkeypatch.setattr(read_stage, "read_document", read)
    retire_reader()


def scan_email(uid: str, attachments: list[tuple[bytes, str, str]] | None = None) -> bytes:
    """A referral email with a scanned form (or the files given: data, type, name)."""
    msg = EmailMessage()
    msg["From"] = f"Siobhán Mulcahy <{SENDER}>"
    msg["To"] = "sirg@lscp.example"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = f"<{uid}@police.example>"
    msg["Date"] = "Thu, 14 Nov 2024 10:05:00 +0000"
    msg.set_content("Please find the referral attached (scanned).")
    for data, mime, name in attachments or [(SAMPLE.read_bytes(), "application/pdf", "scan.pdf")]:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def file_email(engine: Any, settings: Any, uid: str, raw: bytes) -> int:
    """Store an email and run the real pipeline on it, as the worker does; its row id."""
    from datetime import UTC, datetime

    from intake.runner import filing_for, process_stored
    from storage import messages
    from storage.messages import ServerIdentity

    received = datetime(2024, 11, 14, 10, 5, tzinfo=UTC)
    identity = ServerIdentity("test", "INBOX", 1, uid)
    row = messages.receive(engine, identity, raw, f"<{uid}@police.example>", received)
    process_stored(filing_for(engine, settings), settings, row, raw)
    assert row.id is not None
    return row.id


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """What a browser would send for the form posting to `action` as the page stands:
    text inputs, hidden inputs, ticked boxes, chosen options and text areas."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.out: list[tuple[str, str]] = []
            self.select: str | None = None
            self.area: str | None = None
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if tag == "form":
                self.inside = a.get("action") == action
            if not self.inside:
                return
            if tag == "input" and "name" in a:
                kind = a.get("type", "text")
                if kind in ("checkbox", "radio") and "checked" not in a:
                    return
                self.out.append((a["name"], a.get("value", "")))
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select is not None and "selected" in a:
                self.out.append((self.select, a.get("value", "")))
            elif tag == "textarea":
                self.area, self.text = a.get("name"), ""

        def handle_data(self, data: str) -> None:
            if self.area is not None:
                self.text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None
            elif tag == "textarea" and self.area is not None:
                self.out.append((self.area, self.text))
                self.area = None

    parser = Fields()
    parser.feed(html)
    return parser.out


def scanned_referral(
    site: Any,
    monkeypatch: pytest.MonkeyPatch,
    uid: str,
    uncertain: tuple[str, ...] = ("child.dob", "household[1].dob"),
    unreadable: tuple[str, ...] = ("child.nhs_number", "referrer.phone"),
) -> str:
    """A scanned referral filed by the real pipeline (read by the stand-in); its reference."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.tables import Referral

    use_stand_in(monkeypatch, stand_in_form(uncertain=uncertain, unreadable=unreadable))
    message_id = file_email(site.engine, site.settings, uid, scan_email(uid))
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.message_id == message_id)).one()
        assert referral.status == "check_scan"
        return referral.reference


def real_scanned_referral(site: Any, uid: str) -> str:
    """A scan of the sample filed by the real pipeline and the real scan reader; its
    reference."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.tables import InboundMessage, Referral

    raw = scan_email(uid, [(scan_of_sample(), "application/pdf", "scan.pdf")])
    message_id = file_email(site.engine, site.settings, uid, raw)
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.message_id == message_id)).first()
        message = db.get(InboundMessage, message_id)
        assert referral is not None, message.outcome_reason if message else "no message"
        return referral.reference
