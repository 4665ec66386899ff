"""Word's own editing marks in answers: tracked changes, comments, fields, links, breaks."""

from __future__ import annotations

from parser_fixtures import FormEditor, complete_form

from shapes import Shape

MODULE = "word_marks"
RUN = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'


def _p(*inner: str) -> str:
    return "<w:p>" + "".join(inner) + "</w:p>"


def _t(text: str) -> str:
    return RUN.format(text)


def _ins(text: str, n: int) -> str:
    return f'<w:ins w:id="{n}" w:author="Team Manager">{_t(text)}</w:ins>'


def _del(text: str, n: int) -> str:
    return (
        f'<w:del w:id="{n}" w:author="Team Manager"><w:r>'
        f'<w:delText xml:space="preserve">{text}</w:delText></w:r></w:del>'
    )


# Each case: what it shows, the answer cells rewritten as raw WordprocessingML, and the
# record's values that change from the complete form's (written from the text above,
# as a person reading the page with changes accepted would read it).
CASES: list[tuple[str, dict[str, str], dict[str, object]]] = [
    (
        "tracked-insertion-and-deletion",
        {"Child's full name": _p(_t("Jayden "), _del("Kowalski", 11), _ins("Kowalczyk", 12))},
        {"child.name": "Jayden Kowalczyk"},
    ),
    (
        "tracked-move",
        {
            "Summary of the incident and circumstances": _p(
                '<w:moveFrom w:id="21" w:author="A">'
                "<w:r><w:delText>Second line.</w:delText></w:r></w:moveFrom>",
                _t("First line."),
            )
            + _p('<w:moveTo w:id="22" w:author="A">' + _t("Second line.") + "</w:moveTo>")
        },
        {"summary": "First line.\nSecond line."},
    ),
    (
        "comment-in-answer",
        {
            "Agency / organisation": _p(
                '<w:commentRangeStart w:id="0"/>',
                _t("Kensington Family Hub"),
                '<w:commentRangeEnd w:id="0"/>',
                '<w:r><w:commentReference w:id="0"/></w:r>',
            )
        },
        {"referrer.agency": "Kensington Family Hub"},
    ),
    (
        "hyperlinked-email",
        {
            "Email address": _p(
                '<w:hyperlink r:id="rId99" xmlns:r="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships">'
                + _t("Priya.OBriain@example.org.uk")
                + "</w:hyperlink>"
            )
        },
        {"referrer.email": "priya.obriain@example.org.uk"},
    ),
    (
        "date-as-a-field",
        {
            "Date of referral": _p(
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
                '<w:r><w:instrText xml:space="preserve"> DATE \\@ "d MMMM yyyy" '
                "</w:instrText></w:r>",
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
                _t("1 March 2024"),
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
            )
        },
        {"referrer.referral_date": "2024-03-01"},
    ),
    (
        "soft-break-and-tab",
        {
            "Summary of the incident and circumstances": _p(
                _t("First line."),
                "<w:r><w:br/></w:r>",
                _t("Second"),
                "<w:r><w:tab/></w:r>",
                _t("line."),
            )
        },
        {"summary": "First line.\nSecond line."},
    ),
]


def _shape(what: str, cells: dict[str, str], changes: dict[str, object]) -> Shape:
    editor: FormEditor
    editor, base = complete_form()
    for label, xml in cells.items():
        editor.set_xml(label, xml)
    return Shape(
        name=f"{MODULE}/{what}",
        filename=f"{what}.docx",
        data=editor.save(),
        outcome="referral",
        expected={**base, **changes},
    )


def cases() -> list[Shape]:
    return [_shape(*case) for case in CASES] + strict_cases()


def _strict(docx: bytes) -> bytes:
    """The document as Word's "Strict Open XML Document" save writes it: the same parts
    under the ISO namespaces."""
    import io
    import zipfile

    usual_to_strict = (
        (
            b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
            b"http://purl.oclc.org/ooxml/wordprocessingml/main",
        ),
        (
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        ),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith((".xml", ".rels")):
                for usual, strict in usual_to_strict:
                    data = data.replace(usual, strict)
            dst.writestr(name, data)
    return out.getvalue()


def strict_cases() -> list[Shape]:
    editor, base = complete_form()
    return [
        Shape(
            name=f"{MODULE}/strict-open-xml",
            filename="strict.docx",
            data=_strict(editor.save()),
            outcome="referral",
            expected=base,
        )
    ]
