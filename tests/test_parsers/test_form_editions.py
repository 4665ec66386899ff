"""Form editions are data: an older edition with reworded labels is read by its own file.

No earlier edition of the SIRG form is in `../shared/forms`, so none is shipped (its
wording would be invented). This test makes one the way a new edition would be added,
a second TOML file beside `sirg-2024.toml`, and shows the reader picks each edition
for its own documents by title and labels, with no code changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from parser_fixtures import complete_form
from test_accuracy import flatten

import parsers.formdef as formdef
from parsers.documents import read_document

# The made-up 2023 wording of three labels (a real edition's file would hold its own).
REWORDED = {
    "Child's full name": ("Child's full name *", "Full legal name of the young person *"),
    "Agency / organisation": ("Agency / organisation *", "Employing organisation or service *"),
    "Date of incident": ("Date of incident *", "When did the serious incident happen? *"),
}


@pytest.fixture()
def two_editions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    text = (formdef.FORMS_DIR / "sirg-2024.toml").read_text(encoding="utf-8")
    older = (
        text.replace('id = "sirg-2024"', 'id = "sirg-2023"')
        .replace('title = "LSCP SIRG Referral Form 2024"', 'title = "LSCP SIRG Referral Form 2023"')
        .replace('version = "2024.1"', 'version = "2023.2"')
    )
    for old, new in REWORDED.values():
        assert f'label = "{old}"' in older, old
        older = older.replace(f'label = "{old}"', f'label = "{new}"')
    (tmp_path / "sirg-2024.toml").write_text(text, encoding="utf-8")
    (tmp_path / "sirg-2023.toml").write_text(older, encoding="utf-8")
    monkeypatch.setattr(formdef, "FORMS_DIR", tmp_path)
    formdef.load_form.cache_clear()
    yield tmp_path
    formdef.load_form.cache_clear()


def test_an_older_edition_is_read_with_its_own_definition(two_editions: Path) -> None:
    editor, expected = complete_form()
    for label, (_old, new) in REWORDED.items():
        editor.relabel(label, new)
    result = read_document("form-2023.docx", "application/octet-stream", editor.save())
    assert result.form is not None
    assert result.form.form_id == "sirg-2023"
    assert result.outcome == "referral"
    assert flatten(result.form.to_json()) == flatten(expected)


def test_the_current_edition_still_reads_its_own_forms(two_editions: Path) -> None:
    editor, expected = complete_form()
    result = read_document("form-2024.docx", "application/octet-stream", editor.save())
    assert result.form is not None
    assert result.form.form_id == "sirg-2024"
    assert flatten(result.form.to_json()) == flatten(expected)
