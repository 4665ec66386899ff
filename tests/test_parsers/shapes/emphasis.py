"""Choices shown by emphasis: the boxes left empty, the chosen option typed in capitals,
made bold, underlined, highlighted or shaded, the others left plain."""

from __future__ import annotations

from parser_fixtures import complete_form

from shapes import Shape

MODULE = "emphasis"

# (what it shows, label, the answer as typed, field key, value a reader by eye takes)
CASES = [
    (
        "media-no-in-capitals",
        "Is there media interest in this case?",
        "☐ Yes  ☐ NO",
        "notifications.media_interest",
        "No",
    ),
    (
        "gender-in-capitals",
        "Gender",
        "☐ Male  ☐ FEMALE  ☐ Other or not known",
        "child.gender",
        "Female",
    ),
    (
        "review-type-in-capitals",
        "Type of review you are requesting",
        "☐ Rapid Review\n☐ CHILD SAFEGUARDING PRACTICE REVIEW\n"
        "☐ Practice Learning Review\n☐ Advice only",
        "review_type",
        "Child Safeguarding Practice Review",
    ),
]


# Run properties Word writes for each kind of emphasis a sender uses.
EMPHASIS = {
    "bold": "<w:b/>",
    "underline": '<w:u w:val="single"/>',
    "highlight": '<w:highlight w:val="yellow"/>',
    "shading": '<w:shd w:val="clear" w:color="auto" w:fill="FFFF00"/>',
    "strong-style": '<w:rStyle w:val="Strong"/>',
}

# (what it shows, label, the options as printed one line each or on one line, the
# emphasised options, how, field key, value a reader by eye takes or None when nothing
# can be taken from it)
MARKED: list[tuple[str, str, list[list[str]], set[str], str, str, object]] = [
    (
        "media-no-in-bold",
        "Is there media interest in this case?",
        [["Yes", "No"]],
        {"No"},
        "bold",
        "notifications.media_interest",
        "No",
    ),
    (
        "gender-underlined",
        "Gender",
        [["Male", "Female", "Other or not known"]],
        {"Female"},
        "underline",
        "child.gender",
        "Female",
    ),
    (
        "review-type-highlighted",
        "Type of review you are requesting",
        [
            ["Rapid Review"],
            ["Child Safeguarding Practice Review"],
            ["Practice Learning Review"],
            ["Advice only"],
        ],
        {"Rapid Review"},
        "highlight",
        "review_type",
        "Rapid Review",
    ),
    (
        "safeguarding-lead-shaded",
        "Have you discussed this referral with your agency's safeguarding lead?",
        [["Yes", "No"]],
        {"Yes"},
        "shading",
        "referrer.discussed_with_safeguarding_lead",
        "Yes",
    ),
    (
        "legal-status-two-in-strong-style",
        "Legal status at the time of the incident",
        [
            ["Child in need"],
            ["Child protection plan"],
            ["Child looked after"],
            ["Care leaver"],
            ["None known"],
        ],
        {"Child protection plan", "Child looked after"},
        "strong-style",
        "child.legal_status",
        ["Child protection plan", "Child looked after"],
    ),
    (
        # The whole answer made bold shows no choice: flagged, never guessed.
        "gender-all-bold",
        "Gender",
        [["Male", "Female", "Other or not known"]],
        {"Male", "Female", "Other or not known"},
        "bold",
        "child.gender",
        None,
    ),
]


def _run(text: str, props: str = "") -> str:
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r>'


def _marked_xml(lines: list[list[str]], chosen: set[str], how: str) -> str:
    """Paragraphs of empty boxes and options, the chosen ones in runs of their own."""
    paras = []
    for line in lines:
        runs = []
        for option in line:
            runs.append(_run("☐ "))
            runs.append(_run(option, EMPHASIS[how] if option in chosen else ""))
            runs.append(_run("    "))
        paras.append("<w:p>" + "".join(runs) + "</w:p>")
    return "".join(paras)


def marked_cases() -> list[tuple[str, bytes, dict[str, object]]]:
    """(name, .docx, expected record) for each form whose choice is shown by emphasis;
    `make_emphasis_pdfs.py` turns the same documents into PDFs."""
    out = []
    for what, label, lines, chosen, how, key, value in MARKED:
        editor, expected = complete_form()
        editor.set_xml(label, _marked_xml(lines, chosen, how))
        want = {k: v for k, v in expected.items() if k != key}
        if value is not None:
            want[key] = value
        out.append((what, editor.save(), want))
    return out


def cases() -> list[Shape]:
    out = [
        Shape(f"{MODULE}/{what}", f"{what}.docx", data, "referral", want)
        for what, data, want in marked_cases()
    ]
    for what, label, typed, key, value in CASES:
        editor, expected = complete_form()
        editor.type_over(label, *typed.split("\n"))
        out.append(
            Shape(
                f"{MODULE}/{what}",
                f"{what}.docx",
                editor.save(),
                "referral",
                {**expected, key: value},
            )
        )
    # Every option in capitals shows no choice: the answer is flagged, never guessed.
    editor, expected = complete_form()
    editor.type_over("Gender", "☐ MALE  ☐ FEMALE  ☐ OTHER OR NOT KNOWN")
    expected = {k: v for k, v in expected.items() if k != "child.gender"}
    out.append(Shape(f"{MODULE}/all-in-capitals", "caps.docx", editor.save(), "referral", expected))
    return out
