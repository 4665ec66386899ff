"""Choices shown by capitals: the boxes left empty, the chosen option typed over in capitals."""

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


def cases() -> list[Shape]:
    out = []
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
