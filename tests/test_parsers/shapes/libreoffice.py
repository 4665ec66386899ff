"""The completed form opened in LibreOffice Writer and saved as .odt, or as .docx again.

The files were made by `files/make_libreoffice.py` (run by hand; LibreOffice is not a test
dependency). What LibreOffice does to the form: Word's plain-text controls become input
fields (the .odt's text:text-input; in its .docx, controls without the "showing
placeholder" mark), so unfilled ones keep "Click or tap here to enter text." as plain
text; a control's line breaks are lost (its lines joined on the page); check-box controls
become LibreOffice content controls (.odt) or controls nested in controls (.docx); Word 97
form fields become field marks (.odt). Each case's JSON holds its outcome, the record
written from the generator's input, the keys to flag, and a note.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapes import Shape

MODULE = "libreoffice"
FILES = Path(__file__).resolve().parent / "files"
CASES = ("complete", "typed-with-grids", "legacy-fields-one-left")
# (file suffix, what the name says it is)
SAVES = ((".odt", "odt"), (".libreoffice.docx", "resaved-docx"))


def cases() -> list[Shape]:
    out: list[Shape] = []
    for case in CASES:
        spec = json.loads((FILES / f"{case}.json").read_text(encoding="utf-8"))
        for suffix, how in SAVES:
            out.append(
                Shape(
                    name=f"{MODULE}/{case}-{how}",
                    filename=f"{case}{suffix}",
                    data=(FILES / f"{case}{suffix}").read_bytes(),
                    outcome=spec["outcome"],
                    expected=spec["expected"],
                    flagged=frozenset(spec["flagged"]),
                )
            )
    return out
