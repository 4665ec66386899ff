"""The form sent inside a .zip folder, as some secure-mail gateways and people do."""

from __future__ import annotations

import io
import zipfile

from parser_fixtures import complete_form

from shapes import Shape

MODULE = "packed"


def _zip(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()


def cases() -> list[Shape]:
    editor, expected = complete_form()
    form = editor.save()
    notes = b"Chronology to follow.\n"
    return [
        Shape(
            f"{MODULE}/one-form-in-a-zip",
            "referral.zip",
            _zip(("SIRG referral/", b""), ("SIRG referral/form.docx", form)),
            "referral",
            expected,
        ),
        Shape(
            f"{MODULE}/form-beside-a-note-and-mac-folder",
            "referral.zip",
            _zip(("notes.txt", notes), ("__MACOSX/._form.docx", b"\0" * 64), ("form.docx", form)),
            "referral",
            expected,
        ),
        Shape(
            f"{MODULE}/two-forms-in-a-zip",
            "referrals.zip",
            _zip(("a.docx", form), ("b.docx", form)),
            "rejected",
            None,
        ),
        Shape(
            f"{MODULE}/only-a-note-in-a-zip",
            "notes.zip",
            _zip(("n.txt", notes)),
            "not_a_form",
            None,
        ),
        Shape(
            f"{MODULE}/zip-in-a-zip",
            "nested.zip",
            _zip(("inner.pdf", _zip(("form.docx", form)))),
            "rejected",
            None,
        ),
    ]
