"""Choices shown by emphasis in PDFs printed from the form: bold is in the font's name,
underline, highlight and shading are drawings beside the words (`parsers/pdf_emphasis`).

The files are made by `files/make_emphasis_pdfs.py` (LibreOffice) from the Word cases of
`emphasis.py`, so the expected records are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapes import Shape

MODULE = "emphasis_pdf"
FILES = Path(__file__).parent / "files"
READ_IN_PDF = (
    "media-no-in-bold",
    "gender-underlined",
    "review-type-highlighted",
    "safeguarding-lead-shaded",
    "legal-status-two-in-strong-style",
    "gender-all-bold",
)


def cases() -> list[Shape]:
    out = []
    for what in READ_IN_PDF:
        pdf = FILES / f"emphasis-{what}.pdf"
        expected = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        out.append(Shape(f"{MODULE}/{what}", pdf.name, pdf.read_bytes(), "referral", expected))
    return out
