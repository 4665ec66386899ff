"""Reading which options were chosen, in every way senders show it."""

from __future__ import annotations

import pytest

from parsers.choices import read_choice
from parsers.formdef import load_form

YNK = ["Yes", "No", "Not known"]
ALIASES = load_form().choice_aliases
CRITERIA = load_form().field("criteria").options


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("☒ Yes    ☐ No    ☐ Not known", ["Yes"]),
        ("☐ Yes    ☐ No    ☒ Not known", ["Not known"]),
        ("☐ X Yes    ☐ No    ☐ Not known", ["Yes"]),  # X typed after the box
        ("☐ Yes    ☐ x No    ☐ Not known", ["No"]),
        ("☐ Yes ✓   ☐ No    ☐ Not known", ["Yes"]),  # tick after the option
        ("☐ Yes    ☐ No    ☐ Not known ✔", ["Not known"]),
        ("☐ Yes    X No    ☐ Not known", ["No"]),  # X typed over the box
        ("✓ Yes    ☐ No    ☐ Not known", ["Yes"]),
        ("☑ No", ["No"]),
        ("[x] Yes  [ ] No  [ ] Not known", ["Yes"]),
        ("[ ] Yes  [X] No  [ ] Not known", ["No"]),
        ("Yes", ["Yes"]),  # other options deleted
        ("  not known ", ["Not known"]),
        ("NO", ["No"]),
        ("Unknown", ["Not known"]),
        ("Y", ["Yes"]),
        ("Yes – discussed with DSL", ["Yes"]),
        ("☐ Not known", ["Not known"]),  # the others deleted, box left
        ("☐ Yes    ☐ No    ☐ Not known", []),  # nothing ticked
        ("☐ YES    ☐ No    ☐ Not known", ["Yes"]),  # the choice typed over in capitals
        ("☐ Yes    ☐ No    ☐ NOT KNOWN", ["Not known"]),
        ("Yes / NO / Not known", ["No"]),  # no boxes at all
        ("☐ YES    ☐ NO    ☐ NOT KNOWN", []),  # all in capitals: no choice shown
        ("", []),
        ("   ", []),
    ],
)
def test_single_choice(text: str, chosen: list[str]) -> None:
    result = read_choice(text, YNK, ALIASES)
    assert result.problem is None
    assert result.selected == chosen


@pytest.mark.parametrize(
    "text",
    [
        "☒ Yes    ☒ No    ☐ Not known",
        "Yes / No",
        "YES / NO / Not known",  # two in capitals where one is allowed
        "Maybe",
        "☒",
    ],
)
def test_single_choice_problems(text: str) -> None:
    result = read_choice(text, YNK, ALIASES)
    assert result.selected == [] and result.problem


def test_multi_choice_ticks_in_form_order() -> None:
    text = "\n".join(
        [
            "☐ The child has died",
            "☐ X The child has been seriously harmed",
            "✓ Abuse or neglect is known or suspected",
            "☐ There are concerns about how agencies worked together",
            "☐ Death of a looked-after child or care leaver (under 25)",
            "☒ The case may offer learning or good practice below the CSPR threshold",
        ]
    )
    result = read_choice(text, CRITERIA, ALIASES, multi=True)
    assert result.selected == [CRITERIA[1], CRITERIA[2], CRITERIA[5]]


def test_multi_choice_options_deleted_and_reordered() -> None:
    text = "Abuse or neglect is known or suspected\nThe child has been seriously harmed"
    result = read_choice(text, CRITERIA, ALIASES, multi=True)
    assert result.selected == [CRITERIA[1], CRITERIA[2]]


def test_multi_choice_yes_written_beside_options() -> None:
    text = (
        "The child has died\n"
        "The child has been seriously harmed YES\n"
        "Abuse or neglect is known or suspected - yes"
    )
    result = read_choice(text, CRITERIA, ALIASES, multi=True)
    assert result.selected == [CRITERIA[1], CRITERIA[2]]


def test_multi_choice_wrapped_across_lines() -> None:
    # A PDF cell wraps a long option onto a second line.
    text = (
        "☐ The case may offer learning or good practice below the CSPR\n"
        "threshold\n"
        "☒ The child has died"
    )
    result = read_choice(text, CRITERIA, ALIASES, multi=True)
    assert result.selected == [CRITERIA[0]]


def test_multi_choice_option_slightly_retyped() -> None:
    text = "Abuse or neglect known or suspected"
    assert read_choice(text, CRITERIA, ALIASES, multi=True).selected == [CRITERIA[2]]


def test_no_is_not_found_inside_not_known_or_none_known() -> None:
    legal = load_form().field("child.legal_status").options
    assert read_choice("None known", legal, ALIASES, multi=True).selected == ["None known"]
    assert read_choice("Not known", YNK, ALIASES).selected == ["Not known"]


def test_gender_other() -> None:
    opts = load_form().field("child.gender").options
    assert read_choice("☐ Male ☐ Female ☒ Other or not known", opts, ALIASES).selected == [
        "Other or not known"
    ]
    assert read_choice("Female", opts, ALIASES).selected == ["Female"]
    assert read_choice("Girl", opts, ALIASES).problem


def test_multi_choice_in_capitals() -> None:
    text = "\n".join(f"☐ {o.upper() if n in (0, 2) else o}" for n, o in enumerate(CRITERIA))
    result = read_choice(text, CRITERIA, ALIASES, multi=True)
    assert result.problem is None and result.selected == [CRITERIA[0], CRITERIA[2]]


def test_the_form_s_own_boxes_are_read_as_the_general_search_reads_them() -> None:
    """The quick reading of untouched boxes ("☐ Yes  ☒ No") agrees with the search."""
    from parsers.choices import as_printed, searched
    from parsers.formdef import load_form

    form = load_form("sirg-2024")
    compared = 0
    for f in form.fields:
        if f.type not in ("choice", "multi-choice") or not f.options:
            continue
        multi = f.type == "multi-choice"
        for sep in ("    ", "\n"):
            for ticked in [set(), *({o} for o in f.options), set(f.options[:2])]:
                text = sep.join(("☒ " if o in ticked else "☐ ") + o for o in f.options)
                quick = as_printed(text, f.options, multi)
                if len(ticked) > 1 and not multi:
                    assert quick is None  # the search words the problem
                    continue
                assert quick == searched(text, f.options, form.choice_aliases, multi), text
                compared += 1
    assert compared > 50
    assert as_printed("☐ YES    ☐ No", ["Yes", "No"], False) is None  # edited: searched


def test_one_option_typed_alone_is_read_as_the_general_search_reads_it() -> None:
    """The quick reading of a typed option ("Yes", "NOT KNOWN") agrees with the search,
    and leaves everything else to it."""
    from parsers.choices import as_typed, searched
    from parsers.formdef import load_form
    from parsers.layout import EMPH_OFF, EMPH_ON

    form = load_form("sirg-2024")
    compared = 0
    for f in form.fields:
        if f.type not in ("choice", "multi-choice") or not f.options:
            continue
        multi = f.type == "multi-choice"
        for o in f.options:
            for text in (o, o.upper(), o.lower(), f" {o}. ", f"{EMPH_ON}{o}{EMPH_OFF}"):
                quick = as_typed(text, f.options)
                if quick is None:
                    assert "(" in o, text  # brackets may be tick boxes: left to the search
                    continue
                assert quick == searched(text, f.options, form.choice_aliases, multi), text
                compared += 1
    assert compared > 100
    for text in ("", "Y", "X", "Yes No", "☒ Yes", "Yes ✓", "[x] Yes", "Yes\nNo", "Maybe"):
        assert as_typed(text, ["Yes", "No"]) is None, text
