"""Make the PDFs of `shapes/emphasis_pdf.py`: run by hand, with LibreOffice installed.

    apt-get install libreoffice-writer-nogui
    .venv/bin/python tests/test_parsers/shapes/files/make_emphasis_pdfs.py

Each form of `emphasis.marked_cases()` (a choice shown only by bold, underline, highlight
or shading) is printed to PDF by LibreOffice, as a sender's "Save as PDF" would, and
written here as emphasis-<case>.pdf beside emphasis-<case>.json, the expected record
taken from the generator's input. CI reads the committed files; it never needs LibreOffice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[0])]

from shapes.emphasis import marked_cases  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for what, docx, expected in marked_cases():
            source = work / f"emphasis-{what}.docx"
            source.write_bytes(docx)
            subprocess.run(
                [
                    "soffice",
                    f"-env:UserInstallation=file://{work}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work),
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
            (HERE / source.with_suffix(".pdf").name).write_bytes(
                source.with_suffix(".pdf").read_bytes()
            )
            # LibreOffice drops a line break typed inside a content control: the PDF
            # shows the summary as one line (checked by eye on the rendered page).
            expected["summary"] = "First line.Second line."
            body = json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True)
            (HERE / f"emphasis-{what}.json").write_text(body + "\n", encoding="utf-8")
            print("made", f"emphasis-{what}.pdf")


if __name__ == "__main__":
    main()
