"""Make the LibreOffice files of the shape corpus (run by hand; the outputs are committed).

Each case is the completed form built by `complete_form()` (some answers changed below),
saved as .docx, then opened by LibreOffice Writer and saved twice: as OpenDocument
(`<case>.odt`) and as Word again (`<case>.libreoffice.docx`, LibreOffice's own re-save).
Beside them `<case>.json` holds what reading them must give: the outcome, the expected
record (complete_form()'s expected dict with this script's changes: the generator's
input, never the reader's output), the keys that must be flagged, and a note.

LibreOffice is not a test or CI dependency. To remake the files (Debian):

    apt-get install -y --no-install-recommends libreoffice-writer-nogui
    .venv/bin/python tests/test_parsers/shapes/files/make_libreoffice.py

Made with LibreOffice 7.4.7.2 (Debian 12). A throwaway LibreOffice profile is used with
thumbnails switched off, which keeps each .odt under 20 KB.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/test_parsers, for parser_fixtures

from parser_fixtures import FormEditor, complete_form, w  # noqa: E402

NO_THUMBNAIL = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry">
<item oor:path="/org.openoffice.Office.Common/Save/Document">
<prop oor:name="GenerateThumbnail" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""
R = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'
# LibreOffice turns each Word plain-text control into an input field, which holds one
# line: the line break of complete_form()'s summary moves in front of the field and the
# two lines are joined on the page. A person reading the page reads this.
JOINED_SUMMARY = {"summary": "First line.Second line."}


def _legacy_checkbox(checked: bool) -> str:
    """A Word 97 check box form field (FORMCHECKBOX), ticked or not."""
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/>'
        f'<w:checkBox><w:sizeAuto/><w:default w:val="0"/><w:checked w:val="{int(checked)}"/>'
        '</w:checkBox></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve">'
        ' FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _legacy_text(value: str) -> str:
    """A Word 97 text form field (FORMTEXT) holding a value."""
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Text1"/><w:textInput/>'
        '</w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMTEXT '
        '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + R.format(value)
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _legacy_dropdown(entries: list[str], picked: int) -> str:
    """A Word 97 drop-down form field (FORMDROPDOWN) showing entries[picked]."""
    listed = "".join(f'<w:listEntry w:val="{e}"/>' for e in entries)
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:ddList>'
        f'<w:result w:val="{picked}"/>{listed}</w:ddList></w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText xml:space="preserve"> FORMDROPDOWN </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _unfill(editor: FormEditor, label: str) -> None:
    """Put the blank form's answer cell back: the control showing its placeholder."""
    blank = FormEditor().cell(label)
    xml = "".join(etree.tostring(ch, encoding="unicode") for ch in blank if ch.tag != w("tcPr"))
    editor.set_xml(label, xml)


# --------------------------------------------------------------------------- the cases


def complete() -> tuple[FormEditor, dict[str, object], str, list[str], str]:
    editor, expected = complete_form()
    note = (
        "complete_form() as it is. LibreOffice turns each Word plain-text control into an "
        "input field, which holds one line: the summary's line break moves in front of the "
        "field and the two lines are joined on the page ('First line.Second line.')."
    )
    return editor, {**expected, **JOINED_SUMMARY}, "referral", [], note


def typed_with_grids() -> tuple[FormEditor, dict[str, object], str, list[str], str]:
    editor, expected = complete_form()
    editor.type_over(
        "Summary of the incident and circumstances", "Found at home on 20 February.", "Ward 4."
    )
    editor.type_over("Home address", "12 Example Street", "Liverpool L8 1AA")
    editor.fill("Ethnicity", "White British")
    editor.fill("NHS number", "943 476 5919")
    editor.tick("Was the child open to Children's Social Care at the time?", "Yes")
    editor.tick(
        "Which of the criteria apply? (tick all that apply)",
        "The child has died",
        "Abuse or neglect is known or suspected",
    )
    editor.tick("Coroner's inquest", "Yes")
    editor.fill("Coroner's inquest", "Opened 1 March", index=2)
    editor.tick("Has the National Child Safeguarding Practice Review Panel been notified?", "Yes")
    editor.fill("Date notified", "4 March 2024")
    editor.tick("Has Ofsted been notified?", "No")
    editor.grid(
        "Name",
        [
            ["Anna Kowalczyk", "Mother", "3/4/1990", "Same as child", "Yes"],
            ["Tom Reid", "Mother's partner", "", "12 Example Street", "No"],
        ],
    )
    editor.grid("Agency", [["Merseyside Police", "DC Kim Lee", "0151 496 0001", "Yes"]])
    editor.grid("Date", [["20/02/2024", "Incident"], ["22/02/2024", "Strategy meeting"]])
    changes: dict[str, object] = {
        "summary": "Found at home on 20 February.\nWard 4.",
        "child.address": "12 Example Street\nLiverpool L8 1AA",
        "child.ethnicity": "White British",
        "child.nhs_number": "9434765919",
        "child.open_to_csc": "Yes",
        "criteria": ["The child has died", "Abuse or neglect is known or suspected"],
        "parallel_processes.coroners_inquest.status": "Yes",
        "parallel_processes.coroners_inquest.details": "Opened 1 March",
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-03-04",
        "notifications.ofsted_notified": "No",
        "household": [
            {
                "name": "Anna Kowalczyk",
                "relationship": "Mother",
                "dob": "1990-04-03",
                "address": "Same as child",
                "parental_responsibility": "Yes",
            },
            {
                "name": "Tom Reid",
                "relationship": "Mother's partner",
                "address": "12 Example Street",
                "parental_responsibility": "No",
            },
        ],
        "agencies": [
            {
                "agency": "Merseyside Police",
                "practitioner": "DC Kim Lee",
                "contact": "0151 496 0001",
                "currently_involved": "Yes",
            }
        ],
        "key_dates": [
            {"date": "2024-02-20", "event": "Incident"},
            {"date": "2024-02-22", "event": "Strategy meeting"},
        ],
    }
    note = (
        "Answers typed over the controls (several paragraphs survive), more boxes ticked "
        "with the tick boxes, optional answers and all three grids filled."
    )
    return editor, {**expected, **changes}, "referral", [], note


def legacy_fields_one_left() -> tuple[FormEditor, dict[str, object], str, list[str], str]:
    editor, expected = complete_form()
    editor.set_xml("Child's full name", f"<w:p>{_legacy_text('Jayden Kowalczyk')}</w:p>")
    editor.set_xml(
        "Gender",
        "<w:p>"
        + _legacy_checkbox(False)
        + R.format(" Male  ")
        + _legacy_checkbox(True)
        + R.format(" Female  ")
        + _legacy_checkbox(False)
        + R.format(" Other or not known")
        + "</w:p>",
    )
    editor.set_xml(
        "Has Ofsted been notified?",
        f"<w:p>{_legacy_dropdown(['Yes', 'No', 'Not known'], 2)}</w:p>",
    )
    _unfill(editor, "Date authorised")
    expected = {k: v for k, v in expected.items() if k != "authorisation.date"}
    changes = {
        **JOINED_SUMMARY,
        "child.gender": "Female",
        "notifications.ofsted_notified": "Not known",
    }
    note = (
        "Word 97 form fields (a text field, check boxes, a drop-down), and the date "
        "authorised left showing its placeholder: a referral that needs that date. The "
        "summary's two lines are joined, as in the complete case."
    )
    return editor, {**expected, **changes}, "needs_info", ["authorisation.date"], note


CASES: dict[str, Callable[[], tuple[FormEditor, dict[str, object], str, list[str], str]]] = {
    "complete": complete,
    "typed-with-grids": typed_with_grids,
    "legacy-fields-one-left": legacy_fields_one_left,
}


def _soffice(profile: Path, target: str, src: Path, out: Path) -> Path:
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    made = out / (src.stem + "." + target.split(":")[0])
    assert made.exists(), made
    return made


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        profile = tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(NO_THUMBNAIL)
        for name, build in CASES.items():
            editor, expected, outcome, flagged, note = build()
            word = tmp / f"{name}.docx"
            word.write_bytes(editor.save())
            odt = _soffice(profile, "odt", word, tmp / "odt")
            shutil.copyfile(odt, HERE / f"{name}.odt")
            docx = _soffice(profile, "docx:MS Word 2007 XML", word, tmp / "docx")
            shutil.copyfile(docx, HERE / f"{name}.libreoffice.docx")
            record = {"outcome": outcome, "expected": expected, "flagged": flagged, "note": note}
            text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
            (HERE / f"{name}.json").write_text(text, encoding="utf-8")
            print(f"{name}: .odt and .libreoffice.docx made")


if __name__ == "__main__":
    main()
