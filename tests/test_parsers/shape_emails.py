"""Write the shape corpus as emails, each beside what `intake inspect --json` must say.

    .venv/bin/python tests/test_parsers/shape_emails.py OUT_DIR
    .venv/bin/intake inspect --json OUT_DIR/*.eml

For each shape: `<name>.eml` (a referrer's email with the shape attached) and
`<name>.expected.json` ({"outcome": the attachment's outcome, "fields": the record}).
`tests/test_intake/test_inspect_shapes.py` runs exactly this.
"""

from __future__ import annotations

import json
import sys
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: the corpus imports as the tests do
    sys.path[:0] = [str(HERE)]

from shapes import Shape, all_shapes  # noqa: E402

TYPES = {
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
    ".zip": ("application", "zip"),
    ".odt": ("application", "vnd.oasis.opendocument.text"),
}


def email_for(shape: Shape, n: int) -> bytes:
    """A referrer's email carrying the shape, as a sender's mail program would send it."""
    msg = EmailMessage()
    msg["From"] = "Pat Jones <pat.jones@merseyside.police.uk>"
    msg["To"] = "sirg.referrals@lscp.test"
    msg["Subject"] = "SIRG referral"
    msg["Message-ID"] = f"<shape-{n}@merseyside.police.uk>"
    msg["Date"] = "Fri, 01 Mar 2024 10:00:00 +0000"
    msg.set_content("Referral attached.")
    suffix = Path(shape.filename).suffix.lower()
    maintype, subtype = TYPES.get(suffix, ("application", "octet-stream"))
    msg.add_attachment(shape.data, maintype=maintype, subtype=subtype, filename=shape.filename)
    return bytes(msg)


def file_name(shape: Shape) -> str:
    """The shape's name as a file name ("emphasis/gender-in-capitals" -> "emphasis--...")."""
    return shape.name.replace("/", "--")


def export(folder: Path) -> list[Shape]:
    """Write every shape's email and expected result into `folder`; the shapes written."""
    folder.mkdir(parents=True, exist_ok=True)
    shapes = list(all_shapes())
    for n, shape in enumerate(shapes):
        stem = folder / file_name(shape)
        stem.with_suffix(".eml").write_bytes(email_for(shape, n))
        want = {"outcome": shape.outcome, "fields": shape.expected}
        stem.with_suffix(".expected.json").write_text(
            json.dumps(want, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    return shapes


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/shapes")
    print(f"{len(export(out))} shapes written to {out}")
