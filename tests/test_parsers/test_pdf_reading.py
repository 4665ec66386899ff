"""PDFs: exported forms (lines rebuilt into paragraphs) and fillable (AcroForm) ones."""

from __future__ import annotations

import pytest
from parser_fixtures import PdfField, PdfText, fillable_pdf

from parsers.choices import read_choice
from parsers.documents import read_document
from parsers.layout import Layout, Para
from parsers.pdf_fields import place_fields
from parsers.pdf_reader import read_pdf
from parsers.pdf_text import Line, Word, group_lines, paragraphs

PITCH = {10.0: 11.5}


def _line(text: str, top: float, x0: float = 100.0, char_w: float = 5.0) -> Line:
    words = []
    x = x0
    for t in text.split():
        words.append(Word(t, x, x + char_w * len(t), top, top + 10, 10.0))
        x += char_w * len(t) + 2.5
    return Line(words)


def _texts(lines: list[Line], right: float) -> list[str]:
    return [t for t, _w in paragraphs(lines, right, PITCH)]


def test_wrapped_lines_join_with_a_space() -> None:
    lines = [_line("the quick brown fox jumps over", 100), _line("the lazy dog", 111.5)]
    # "the" would not have fitted after "over": a wrap, not a typed break.
    right = lines[0].x1 + 10
    assert _texts(lines, right) == ["the quick brown fox jumps over the lazy dog"]


def test_a_short_line_ends_a_paragraph() -> None:
    lines = [_line("ends here.", 100), _line("Next paragraph", 111.5)]
    assert _texts(lines, 400) == ["ends here.", "Next paragraph"]


def test_paragraph_spacing_ends_a_paragraph_even_when_the_word_would_not_fit() -> None:
    lines = [_line("0151 496 0131", 100), _line("someone.long@example.org.uk", 113.5)]
    assert _texts(lines, lines[0].x1 + 20) == ["0151 496 0131", "someone.long@example.org.uk"]


def test_a_word_broken_mid_way_joins_without_a_space() -> None:
    lines = [_line("chris.gallagher@merseyside.police.u", 100), _line("k", 111.5)]
    right = lines[0].x1 + 4
    assert _texts(lines, right) == ["chris.gallagher@merseyside.police.uk"]


def test_hyphenated_wrap_joins_without_a_space() -> None:
    lines = [_line("Mother's partner and half-", 100), _line("sibling live there", 111.5)]
    assert _texts(lines, lines[0].x1 + 5) == ["Mother's partner and half-sibling live there"]


def test_each_tick_box_option_is_its_own_paragraph() -> None:
    lines = [_line("☐ Child in need and a long option text", 100), _line("☒ None", 111.5)]
    assert _texts(lines, lines[0].x1 + 2) == ["☐ Child in need and a long option text", "☒ None"]


# --------------------------------------------------------------------------- fillable PDFs

LABELS = [
    ("Name of referrer *", "referrer_name", "Sam Smith"),
    ("Job title / role *", "job", "School Nurse"),
    ("Agency / organisation *", "agency", "Liverpool Community Health"),
    ("Telephone number *", "tel", "0151 496 0999"),
    ("Email address *", "email", "Sam.Smith@example.nhs.uk"),
    ("Date of referral *", "ref_date", "05/05/2024"),
    ("Child's full name *", "child", "Zoë Ahmed"),
    ("Date of birth *", "dob", "1 February 2015"),
    ("Date of incident *", "incident", "2/5/24"),
    ("Authorising manager's name *", "mgr", "Kim Patel"),
    ("Authorising manager's role *", "mgr_role", "Team Leader"),
]


def _fillable() -> bytes:
    texts = [PdfText(50, 800, "LSCP SIRG Referral Form 2024")]
    fields: list[PdfField] = []
    y = 760.0
    for label, name, value in LABELS:
        texts.append(PdfText(50, y, label))
        fields.append(PdfField(name, 300, y - 3, 250, 14, value=value))
        y -= 24
    texts.append(
        PdfText(50, y, "Have you discussed this referral with your agency's safeguarding lead? *")
    )
    fields.append(PdfField("lead_yes", 420, y - 1, 9, 9, kind="checkbox", checked=True))
    texts.append(PdfText(432, y, "Yes"))
    fields.append(PdfField("lead_no", 470, y - 1, 9, 9, kind="checkbox"))
    texts.append(PdfText(482, y, "No"))
    y -= 24
    texts.append(PdfText(50, y, "Which of the criteria apply? (tick all that apply) *"))
    y -= 16
    for i, option in enumerate(["The child has died", "The child has been seriously harmed"]):
        fields.append(PdfField(f"crit{i}", 60, y - 1, 9, 9, kind="checkbox", checked=i == 1))
        texts.append(PdfText(75, y, option))
        y -= 16
    texts.append(PdfText(50, y, "Summary of the incident and circumstances *"))
    fields.append(
        PdfField(
            "summary", 300, y - 30, 250, 44, value="Ava was found unwell.\r\nShe went to hospital."
        )
    )
    y -= 48
    texts.append(
        PdfText(50, y, "Why do you think this case may offer learning for the partnership? *")
    )
    fields.append(PdfField("learning", 400, y - 3, 150, 14, value="Information sharing."))
    # A field with no label beside it: found by its tooltip.
    fields.append(
        PdfField("Text9", 400, 60, 150, 14, value="5 May 2024", tooltip="Date authorised")
    )
    return fillable_pdf(texts, fields)


def test_fillable_pdf_values_are_read_where_their_boxes_are() -> None:
    result = read_document("form.pdf", "application/pdf", _fillable())
    assert result.form is not None, result.reason
    got = result.form.to_json()
    assert got == {
        "referrer.name": "Sam Smith",
        "referrer.job_title": "School Nurse",
        "referrer.agency": "Liverpool Community Health",
        "referrer.phone": "01514960999",
        "referrer.email": "sam.smith@example.nhs.uk",
        "referrer.referral_date": "2024-05-05",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "child.name": "Zoë Ahmed",
        "child.dob": "2015-02-01",
        "child.incident_date": "2024-05-02",
        "criteria": ["The child has been seriously harmed"],
        "summary": "Ava was found unwell.\nShe went to hospital.",
        "learning": "Information sharing.",
        "authorisation.manager_name": "Kim Patel",
        "authorisation.manager_role": "Team Leader",
        "authorisation.date": "2024-05-05",
    }
    assert result.outcome == "referral"
    assert result.form.values["authorisation.date"].where == "pdf page 1 field Text9"
    assert result.form.values["referrer.name"].where.startswith("pdf page 1 at (")


def test_fillable_pdf_layout_has_hints() -> None:
    layout = read_pdf(_fillable())
    assert isinstance(layout, Layout)
    assert {h.label for h in layout.hints} >= {"Date authorised", "referrer_name"}


# --------------------------------------------------------------------------- fillable check boxes

LEAD = "referrer.discussed_with_safeguarding_lead"
QUESTION = "Have you discussed this referral with your agency's safeguarding lead? *"


def _form_top() -> tuple[list[PdfText], list[PdfField]]:
    """The title and the typed answers of `_fillable`: enough of the form to be one."""
    texts = [PdfText(50, 800, "LSCP SIRG Referral Form 2024")]
    fields: list[PdfField] = []
    y = 760.0
    for label, name, value in LABELS:
        texts.append(PdfText(50, y, label))
        fields.append(PdfField(name, 300, y - 3, 250, 14, value=value))
        y -= 24
    return texts, fields


def _lead_form(
    ticked: str,
    boxes_first: bool = True,
    dy: float = 0.0,
    grow: float = 0.0,
    printed: bool = False,
) -> bytes:
    """The lead question with Yes and No as check box widgets.

    `dy` moves each widget up (points), `grow` makes it larger on every side, as
    "Prepare form" tools draw them; `boxes_first` False puts each box after its option
    ("Yes ☐  No ☐"); `printed` draws the form's own 9-point box beneath each widget.
    """
    y = 450.0
    texts, fields = _form_top()
    texts.append(PdfText(50, y, QUESTION))
    boxes: list[tuple[float, float, float]] = []
    for i, (option, width) in enumerate((("Yes", 17.0), ("No", 13.0))):
        x = 420.0 + 50 * i
        text_x, box_x = (x + 12, x) if boxes_first else (x, x + width + 3)
        texts.append(PdfText(text_x, y, option))
        if printed:
            boxes.append((box_x, y - 1, 9))
        side = 9 + 2 * grow
        fields.append(
            PdfField(
                f"lead_{option}",
                box_x - grow,
                y - 1 + dy - grow,
                side,
                side,
                kind="checkbox",
                checked=option == ticked,
            )
        )
    return fillable_pdf(texts, fields, boxes)


def _read_lead(data: bytes) -> object:
    result = read_document("form.pdf", "application/pdf", data)
    assert result.form is not None, result.reason
    return result.form.to_json().get(LEAD)


@pytest.mark.parametrize("printed", [False, True])
@pytest.mark.parametrize("dy", [-3.0, 0.0, 3.0])
@pytest.mark.parametrize("grow", [0.0, 1.5])
@pytest.mark.parametrize("boxes_first", [True, False])
@pytest.mark.parametrize("ticked", ["Yes", "No"])
def test_a_ticked_check_box_counts_for_the_option_beside_it(
    ticked: str, boxes_first: bool, grow: float, dy: float, printed: bool
) -> None:
    # A ticked "No" beside "Yes" gives No, never Yes (and the other way round), with the
    # box before or after its option, its rect larger than the box or a little off it,
    # and the form's own box beneath it or not.
    assert _read_lead(_lead_form(ticked, boxes_first, dy, grow, printed)) == ticked


def test_a_check_box_over_a_drawn_box_is_one_box() -> None:
    layout = read_pdf(_lead_form("No", grow=1.5, printed=True))
    assert isinstance(layout, Layout)
    (para,) = [b for b in layout.blocks if isinstance(b, Para) and "safeguarding" in b.text]
    assert para.text.endswith("☐ Yes ☒ No")


@pytest.mark.parametrize("dy", [-4.0, 0.0, 4.0])
def test_stacked_check_boxes_count_for_their_own_line(dy: float) -> None:
    options = [
        "The child has died",
        "The child has been seriously harmed",
        "Abuse or neglect is known or suspected",
    ]
    texts, fields = _form_top()
    texts.append(PdfText(50, 450, "Which of the criteria apply? (tick all that apply) *"))
    y = 434.0
    for i, option in enumerate(options):
        # Rects 4 points taller than the 9-point box, moved up or down by dy.
        fields.append(PdfField(f"crit{i}", 59, y - 3 + dy, 11, 13, "", "checkbox", i == 1))
        texts.append(PdfText(75, y, option))
        y -= 14
    result = read_document("form.pdf", "application/pdf", fillable_pdf(texts, fields))
    assert result.form is not None, result.reason
    assert result.form.to_json().get("criteria") == ["The child has been seriously harmed"]


def _printed(text: str, x0: float, width: float) -> Word:
    return Word(text, x0, x0 + width, 100.0, 110.0, 10.0)


def test_a_check_box_over_a_printed_box_takes_its_place() -> None:
    # "☐ Yes ☐ No" printed, with widgets 1.5 points larger than each printed box over
    # them (the second ticked): one box per option, the ticked one in front of "No".
    printed = [
        _printed("☐", 204.2, 9.0),
        _printed("Yes", 215.9, 17.2),
        _printed("☐", 244.2, 9.0),
        _printed("No", 256.0, 12.8),
    ]
    widgets = [
        Word("☐", 202.7, 214.7, 98.5, 111.5, 13.0),
        Word("☒", 242.7, 254.7, 98.5, 111.5, 13.0),
    ]
    (line,) = group_lines(place_fields(printed, widgets))
    assert line.text == "☐ Yes ☒ No"
    assert read_choice(line.text, ["Yes", "No"]).selected == ["No"]


def test_a_check_box_beside_no_text_stays_in_its_rect() -> None:
    (box,) = place_fields([], [Word("☒", 100.0, 112.0, 50.0, 70.0, 14.0)])
    assert (box.x0, box.x1, box.top, box.bottom) == (99.0, 113.0, 53.0, 67.0)
