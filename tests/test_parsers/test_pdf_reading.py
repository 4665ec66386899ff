"""PDFs: exported forms (lines rebuilt into paragraphs) and fillable (AcroForm) ones."""

from __future__ import annotations

from parser_fixtures import PdfField, PdfText, fillable_pdf

from parsers.documents import read_document
from parsers.layout import Layout
from parsers.pdf_reader import read_pdf
from parsers.pdf_text import Line, Word, paragraphs

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
