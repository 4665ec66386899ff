"""Word forms filled in the many ways senders do; each answer found by its label."""

from __future__ import annotations

from typing import Any

from parser_fixtures import complete_form, minimal_docx, p, tbl

from parsers.documents import DocumentResult, read_document
from parsers.docx_reader import read_docx
from parsers.layout import Layout

R = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'
BOX = (
    '<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="{}"/></w14:checkbox></w:sdtPr>'
    "<w:sdtContent><w:r><w:t>{}</w:t></w:r></w:sdtContent></w:sdt>"
)


def read(data: bytes) -> DocumentResult:
    return read_document("form.docx", "application/octet-stream", data)


def json_of(data: bytes) -> dict[str, Any]:
    result = read(data)
    assert result.form is not None, result.reason
    return result.form.to_json()


def legacy_checkbox(checked: bool | None, default: bool = False) -> str:
    state = "" if checked is None else f'<w:checked w:val="{int(checked)}"/>'
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/>'
        f'<w:checkBox><w:sizeAuto/><w:default w:val="{int(default)}"/>{state}</w:checkBox>'
        "</w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def legacy_text(value: str) -> str:
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Text1"/><w:textInput/>'
        "</w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + R.format(value)
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


# --------------------------------------------------------------------------- content controls


def test_complete_form_with_content_controls() -> None:
    editor, expected = complete_form()
    result = read(editor.save())
    assert result.outcome == "referral", result.form and result.form.problems
    assert result.form is not None
    assert result.form.to_json() == expected
    assert result.form.problems == []


def test_one_mandatory_answer_left_as_placeholder_needs_info() -> None:
    editor, _ = complete_form()
    editor.type_over("Date authorised", "Click or tap here to enter text.")  # typed, not a control
    result = read(editor.save())
    assert result.outcome == "needs_info"
    assert result.form is not None and result.form.missing() == ["authorisation.date"]


def test_text_typed_over_controls_across_paragraphs() -> None:
    editor, expected = complete_form()
    editor.type_over(
        "Summary of the incident and circumstances", "  Para one. ", "", "Para two.", "   "
    )
    editor.set_xml(
        "Address",
        "<w:p><w:sdt><w:sdtPr><w:text/></w:sdtPr><w:sdtContent>"
        + R.format("1 Dale Street")
        + "</w:sdtContent></w:sdt></w:p>"
        + p("Liverpool")
        + p("L2 2DH"),
    )
    # Placeholder still showing, the answer typed beside the control.
    editor.set_xml(
        "Ethnicity",
        "<w:p><w:sdt><w:sdtPr><w:showingPlcHdr/><w:text/></w:sdtPr><w:sdtContent>"
        + R.format("Click or tap here to enter text.")
        + "</w:sdtContent></w:sdt>"
        + R.format("White – Irish")
        + "</w:p>",
    )
    got = json_of(editor.save())
    assert got["summary"] == "Para one.\nPara two."
    assert got["referrer.address"] == "1 Dale Street\nLiverpool\nL2 2DH"
    assert got["child.ethnicity"] == "White – Irish"
    assert {
        k: v for k, v in got.items() if k not in ("summary", "referrer.address", "child.ethnicity")
    } == {k: v for k, v in expected.items() if k != "summary"}


def test_edited_labels_are_still_recognised() -> None:
    editor, expected = complete_form()
    editor.relabel("Name of referrer", "Referrer's name:")
    editor.relabel("Telephone number", "Tel")
    editor.relabel("Email address", "E-mail")
    editor.relabel("Date of referral", "Date of ref.")
    editor.relabel("Child's full name", "Child name")
    editor.relabel("Date of birth", "D.O.B.")
    editor.relabel("Date of incident", "Incident date")
    editor.relabel("Authorising manager's name", "Manager’s name")
    assert json_of(editor.save()) == expected


def test_short_labels_belong_to_their_section() -> None:
    editor, expected = complete_form()
    editor.fill("Address", "3 Work Lane")  # section 1: the referrer's
    editor.fill("Home address", "5 Child Street")
    editor.relabel("Home address", "Address")  # section 2: shortened by the sender
    got = json_of(editor.save())
    assert got == {**expected, "referrer.address": "3 Work Lane", "child.address": "5 Child Street"}


# --------------------------------------------------------------------------- ticks


def test_ticks_in_many_styles() -> None:
    editor, expected = complete_form()
    editor.type_over("Gender", "☐ Male    ☒ Female    ☐ Other or not known")
    editor.type_over(
        "Was the child open to Children's Social Care at the time?", "☐ Yes ✔  ☐ No  ☐ Not known"
    )
    editor.type_over("Has Ofsted been notified?", "[ ] Yes  [x] No  [ ] Not known")
    editor.type_over("Is there media interest in this case?", "YES")
    editor.type_over(
        "Legal status at the time of the incident",
        "☐ Child in need",
        "✓ Child protection plan",
        "☐ Child looked after",
        "☐ X Care leaver",
        "☐ None known",
    )
    # A tick from a symbol font (Insert > Symbol > Wingdings).
    editor.set_xml(
        "Type of review you are requesting",
        p("Rapid Review")
        + '<w:p><w:r><w:sym w:font="Wingdings" w:char="F0FE"/></w:r>'
        + R.format(" Practice Learning Review")
        + "</w:p>"
        + p("Advice only"),
    )
    got = json_of(editor.save())
    assert got["child.gender"] == "Female"
    assert got["child.open_to_csc"] == "Yes"
    assert got["notifications.ofsted_notified"] == "No"
    assert got["notifications.media_interest"] == "Yes"
    assert got["child.legal_status"] == ["Child protection plan", "Care leaver"]
    assert got["review_type"] == "Practice Learning Review"
    assert got["criteria"] == expected["criteria"]


def test_options_struck_through_or_deleted_as_tracked_changes() -> None:
    editor, _ = complete_form()
    editor.set_xml(
        "Is there media interest in this case?",
        "<w:p><w:r><w:rPr><w:strike/></w:rPr><w:t>Yes</w:t></w:r>" + R.format(" No") + "</w:p>",
    )
    editor.set_xml(
        "Gender",
        '<w:p><w:del w:id="1" w:author="A"><w:r><w:delText>Male </w:delText></w:r></w:del>'
        + R.format("Female")
        + '<w:del w:id="2" w:author="A">'
        + "<w:r><w:delText> Other or not known</w:delText></w:r></w:del></w:p>",
    )
    got = json_of(editor.save())
    assert got["notifications.media_interest"] == "No"
    assert got["child.gender"] == "Female"


def test_legacy_form_fields() -> None:
    editor, expected = complete_form()
    editor.set_xml("Child's full name", f"<w:p>{legacy_text('Jayden Kowalczyk')}</w:p>")
    editor.set_xml(
        "Gender",
        "<w:p>"
        + legacy_checkbox(True)
        + R.format(" Male  ")
        + legacy_checkbox(False)
        + R.format(" Female  ")
        + legacy_checkbox(None)
        + R.format(" Other or not known")
        + "</w:p>",
    )
    # Checked by default and never changed: the box shows ticked.
    editor.set_xml(
        "Is there media interest in this case?",
        "<w:p>"
        + legacy_checkbox(None, default=True)
        + R.format(" Yes ")
        + legacy_checkbox(None)
        + R.format(" No")
        + "</w:p>",
    )
    editor.set_xml(
        "Has Ofsted been notified?",
        '<w:p><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:ddList><w:result w:val="2"/>'
        '<w:listEntry w:val="Yes"/><w:listEntry w:val="No"/><w:listEntry w:val="Not known"/>'
        "</w:ddList></w:ffData></w:fldChar></w:r>"
        "<w:r><w:instrText> FORMDROPDOWN </w:instrText></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
    )
    got = json_of(editor.save())
    assert got["child.name"] == "Jayden Kowalczyk"
    assert got["child.gender"] == "Male"
    assert got["notifications.media_interest"] == "Yes"
    assert got["notifications.ofsted_notified"] == "Not known"
    assert {k: v for k, v in got.items() if k != "notifications.ofsted_notified"} == expected


def test_two_options_ticked_is_a_problem_not_a_guess() -> None:
    editor, _ = complete_form()
    editor.tick("Gender", "Female")  # Male already ticked
    editor.tick("Have you discussed this referral with your agency's safeguarding lead?", "Yes")
    result = read(editor.save())
    assert result.outcome == "needs_info"
    assert result.form is not None
    assert "child.gender" not in result.form.to_json()
    assert result.form.missing() == ["referrer.discussed_with_safeguarding_lead"]
    kinds = {p.key: p.kind for p in result.form.problems}
    assert kinds["child.gender"] == "invalid"
    assert kinds["referrer.discussed_with_safeguarding_lead"] == "invalid"


# --------------------------------------------------------------------------- invalid values


def test_invalid_values_are_problems_with_raw_text() -> None:
    editor, _ = complete_form()
    editor.fill("NHS number", "999 402 7485")
    editor.fill("Date of birth", "31/02/2016")
    editor.fill("Email address", "priya at example dot org")
    result = read(editor.save())
    assert result.outcome == "needs_info"
    assert result.form is not None
    assert result.form.missing() == ["referrer.email", "child.dob"]
    problems = {p.key: p for p in result.form.problems}
    assert problems["child.nhs_number"].kind == "invalid"
    assert problems["child.nhs_number"].raw == "999 402 7485"
    assert "check digit" in problems["child.nhs_number"].message
    assert problems["child.dob"].label == "Date of birth"
    assert (
        problems["child.dob"].message == "this answer is not a real date; dates are read day first"
    )
    assert "child.nhs_number" not in result.form.to_json()


def test_missing_label_is_unreadable() -> None:
    editor, _ = complete_form()
    editor.remove_row("Date of incident")
    result = read(editor.save())
    assert result.outcome == "needs_info"
    assert result.form is not None and result.form.missing() == ["child.incident_date"]
    (problem,) = [p for p in result.form.problems if p.key == "child.incident_date"]
    assert problem.kind == "unreadable"


# --------------------------------------------------------------------------- grids


def test_grid_rows_added_removed_and_columns_reordered() -> None:
    editor, expected = complete_form()
    household = [
        [f"Person {i}", "Cousin", f"{i}/1/2001", "Same as child", "No" if i % 2 else "Y"]
        for i in range(1, 8)
    ]
    editor.grid("Name", household)
    editor.grid(
        "Agency",
        [["Merseyside Police", "DC Kim Lee", "0151 496 0001\nkim.lee@example.org.uk", "Yes"]],
    )
    editor.grid(
        "Date",
        [
            ["", ""],
            ["3rd April 2024", "Strategy meeting"],
            ["", "Click or tap here to enter text."],
        ],
    )
    # Swap the first two key-dates columns (header and data) - found by header, not position.
    root = editor.root
    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    kd = editor.table("Date")
    for tr in kd.findall(W + "tr"):
        a, b = tr.findall(W + "tc")
        tr.remove(a)
        b.addnext(a)
    assert root is not None
    got = json_of(editor.save())
    assert len(got["household"]) == 7
    assert got["household"][1] == {
        "name": "Person 2",
        "relationship": "Cousin",
        "dob": "2001-01-02",
        "address": "Same as child",
        "parental_responsibility": "Yes",
    }
    assert got["agencies"] == [
        {
            "agency": "Merseyside Police",
            "practitioner": "DC Kim Lee",
            "contact": "0151 496 0001\nkim.lee@example.org.uk",
            "currently_involved": "Yes",
        }
    ]
    assert got["key_dates"] == [{"date": "2024-04-03", "event": "Strategy meeting"}]
    assert {
        k: v for k, v in got.items() if k not in ("household", "agencies", "key_dates")
    } == expected


def test_grid_with_bad_date_keeps_the_row_and_reports_the_cell() -> None:
    editor, _ = complete_form()
    editor.grid("Name", [["Sam Lee", "Father", "sometime in 1980", "Unknown", ""]])
    result = read(editor.save())
    assert result.form is not None
    assert result.form.to_json()["household"] == [
        {"name": "Sam Lee", "relationship": "Father", "address": "Unknown"}
    ]
    (problem,) = [p for p in result.form.problems if p.key.startswith("household")]
    assert problem.key == "household[1].dob" and problem.kind == "invalid"
    assert result.outcome == "referral"


def test_parallel_processes_typed_over() -> None:
    editor, _ = complete_form()
    editor.type_over("Coroner's inquest", "Yes")
    editor.type_over("Coroner's inquest", "Inquest opened and adjourned", index=2)
    editor.type_over("Domestic Homicide Review", "☐ Yes  ☐ No  ☐ Not known")
    got = json_of(editor.save())
    assert got["parallel_processes.coroners_inquest.status"] == "Yes"
    assert got["parallel_processes.coroners_inquest.details"] == "Inquest opened and adjourned"
    assert "parallel_processes.domestic_homicide_review.status" not in got


# --------------------------------------------------------------------------- other layouts


MANDATORY_LINES = [
    ("Name of referrer", "Sam Smith"),
    ("Job title / role", "School Nurse"),
    ("Agency / organisation", "Liverpool Community Health"),
    ("Telephone number", "0151 496 0999"),
    ("Email address", "sam.smith@example.nhs.uk"),
    ("Date of referral", "5/5/2024"),
    ("Have you discussed this referral with your agency's safeguarding lead?", "Yes"),
    ("Child's full name", "Ava Jones"),
    ("Date of birth", "1/2/2015"),
    ("Date of incident", "2/5/2024"),
    ("Which of the criteria apply?", "The child has been seriously harmed"),
    ("Authorising manager's name", "Kim Patel"),
    ("Authorising manager's role", "Team Leader"),
    ("Date authorised", "5/5/2024"),
]
MANDATORY_JSON = {
    "referrer.name": "Sam Smith",
    "referrer.job_title": "School Nurse",
    "referrer.agency": "Liverpool Community Health",
    "referrer.phone": "01514960999",
    "referrer.email": "sam.smith@example.nhs.uk",
    "referrer.referral_date": "2024-05-05",
    "referrer.discussed_with_safeguarding_lead": "Yes",
    "child.name": "Ava Jones",
    "child.dob": "2015-02-01",
    "child.incident_date": "2024-05-02",
    "criteria": ["The child has been seriously harmed"],
    "summary": "Ava was found unwell at school.\nShe was taken to hospital.",
    "learning": "Information sharing.",
    "authorisation.manager_name": "Kim Patel",
    "authorisation.manager_role": "Team Leader",
    "authorisation.date": "2024-05-05",
}
TITLE = p("Serious Incident Review Group (SIRG) – Case Review Referral Form")


def test_form_retyped_as_paragraphs() -> None:
    """No tables at all: 'Label: answer' lines, and a label followed by its paragraphs."""
    body = TITLE + p("1. Referrer details")
    body += "".join(p(f"{label}: {value}") for label, value in MANDATORY_LINES[:7])
    body += p("2. Child details") + "".join(p(f"{lab} {val}") for lab, val in MANDATORY_LINES[7:10])
    body += p("5. Reason for referral") + p(f"{MANDATORY_LINES[10][0]} {MANDATORY_LINES[10][1]}")
    body += (
        p("Summary of the incident and circumstances *")
        + p("Ava was found unwell at school.")
        + p("")
    )
    body += p("She was taken to hospital.")
    body += p("Why do you think this case may offer learning for the partnership? *") + p(
        "Information sharing."
    )
    body += p("8. Authorisation") + "".join(p(f"{lab}: {val}") for lab, val in MANDATORY_LINES[11:])
    result = read(minimal_docx(body))
    assert result.outcome == "referral", result.form and result.form.problems
    assert result.form is not None and result.form.to_json() == MANDATORY_JSON


def test_answers_in_the_same_cell_and_in_the_cell_below() -> None:
    same_cell = [[f"{label}: {value}"] for label, value in MANDATORY_LINES[:7]]
    below = [
        [MANDATORY_LINES[7][0], MANDATORY_LINES[8][0], MANDATORY_LINES[9][0]],
        [MANDATORY_LINES[7][1], MANDATORY_LINES[8][1], MANDATORY_LINES[9][1]],
    ]
    label_then_answer = [
        [f"{MANDATORY_LINES[10][0]}\n{MANDATORY_LINES[10][1]}"],
        [
            "Summary of the incident and circumstances *\n"
            "Ava was found unwell at school.\n"
            "She was taken to hospital."
        ],
        [
            "Why do you think this case may offer learning for the partnership? *",
            "Information sharing.",
        ],
    ]
    auth = [[label, value] for label, value in MANDATORY_LINES[11:]]
    body = (
        TITLE
        + tbl(*same_cell)
        + tbl(*below)
        + tbl(*label_then_answer)
        + p("8. Authorisation")
        + tbl(*auth)
    )
    result = read(minimal_docx(body))
    assert result.outcome == "referral", result.form and result.form.problems
    assert result.form is not None and result.form.to_json() == MANDATORY_JSON


def test_merged_label_cell_and_form_inside_a_layout_table() -> None:
    """A label cell merged over two rows, and the whole form wrapped in an outer table."""
    rows = "".join(
        f"<w:tr><w:tc>{p(label)}</w:tc><w:tc>{p(value)}</w:tc></w:tr>"
        for label, value in MANDATORY_LINES
    )
    merged = (
        '<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>'
        + p("Summary of the incident and circumstances *")
        + "</w:tc><w:tc>"
        + p("Ava was found unwell at school.")
        + "</w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc>"
        + p("She was taken to hospital.")
        + "</w:tc></w:tr>"
        + f"<w:tr><w:tc>{p('Learning')}</w:tc><w:tc>{p('Information sharing.')}</w:tc></w:tr>"
    )
    inner = f"<w:tbl>{rows}{merged}</w:tbl>"
    outer = f"<w:tbl><w:tr><w:tc>{TITLE}{inner}<w:p/></w:tc></w:tr></w:tbl>"
    result = read(minimal_docx(outer))
    assert result.outcome == "referral", result.form and result.form.problems
    assert result.form is not None and result.form.to_json() == MANDATORY_JSON


def test_rows_inside_a_repeating_section_control() -> None:
    rows = "".join(
        f"<w:tr><w:tc>{p(a)}</w:tc><w:tc>{p(b)}</w:tc></w:tr>" for a, b in MANDATORY_LINES
    )
    body = TITLE + f"<w:tbl><w:sdt><w:sdtPr/><w:sdtContent>{rows}</w:sdtContent></w:sdt></w:tbl>"
    body += tbl(
        ["Summary", "Ava was found unwell at school.\nShe was taken to hospital."],
        ["Learning", "Information sharing."],
    )
    assert json_of(minimal_docx(body)) == MANDATORY_JSON


def test_layout_keeps_provenance_and_checkbox_state() -> None:
    body = tbl(["Gender", "x"])
    body = body.replace(
        p("x"),
        "<w:p>"
        + BOX.format(1, "☐")
        + R.format(" Male ")
        + BOX.format(0, "☒")
        + R.format(" Female")
        + "</w:p>",
    )
    layout = read_docx(minimal_docx(body))
    assert isinstance(layout, Layout)
    table = layout.blocks[0]
    assert not isinstance(table, str)
    cell = table.rows[0][1]  # type: ignore[union-attr]
    assert cell.where == "docx table 1 row 1 cell 2"
    # The control's state wins over the glyph it shows.
    assert cell.text == "☒ Male ☐ Female"


def test_a_row_of_labels_is_not_mistaken_for_a_grid_header() -> None:
    labels = ["Name of referrer", "Address", "Date of referral"]
    values = ["Sam Smith", "1 Dale Street, Liverpool", "5/5/2024"]
    rest = [[a, b] for a, b in MANDATORY_LINES if a not in labels]
    body = TITLE + p("1. Referrer details") + tbl(labels, values) + tbl(*rest)
    result = read(minimal_docx(body))
    assert result.form is not None
    got = result.form.to_json()
    assert got["referrer.name"] == "Sam Smith"
    assert got["referrer.address"] == "1 Dale Street, Liverpool"
    assert got["referrer.referral_date"] == "2024-05-05"
    assert "household" not in got
    assert result.form.missing() == ["summary", "learning"]


def test_answer_spread_over_cells_and_hints_under_labels() -> None:
    rows = [[a, b] for a, b in MANDATORY_LINES if a != "Date of birth"]
    rows.append(["Gender", "☐ Male", "☒ Female", "☐ Other or not known"])
    rows.append(["Date of birth *\n(dd/mm/yyyy)", "1/2/2015"])
    rows.append(["Date of death (if applicable)\n(dd/mm/yyyy)", ""])
    rows.append(["Summary", "Ava was found unwell at school.\nShe was taken to hospital."])
    rows.append(["Learning", "Information sharing."])
    result = read(minimal_docx(TITLE + tbl(*rows)))
    assert result.outcome == "referral", result.form and result.form.problems
    assert result.form is not None
    assert result.form.to_json() == {**MANDATORY_JSON, "child.gender": "Female"}
    assert result.form.problems == []
