"""Grids as people edit them: headers reworded or merged, sub-headings, rows and columns moved."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from parser_fixtures import FormEditor, W, complete_form, w

from shapes import Shape

MODULE = "grids"
HOUSEHOLD = [
    "Name",
    "Relationship to child",
    "Date of birth",
    "Address",
    "Parental responsibility (Yes/No)",
]
AGENCIES = ["Agency", "Practitioner name", "Contact details", "Currently involved? (Yes/No)"]
KEY_DATES = ["Date", "Event"]


@dataclass(frozen=True)
class C:
    """One cell as written in WordprocessingML: its text, the grid columns it spans
    (w:gridSpan) and its vertical merge (w:vMerge "restart", or "continue")."""

    text: str = ""
    span: int = 1
    down: str = ""


Row = list[C | str]


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tc(cell: C | str) -> str:
    c = C(cell) if isinstance(cell, str) else cell
    pr = f'<w:gridSpan w:val="{c.span}"/>' if c.span > 1 else ""
    if c.down == "restart":
        pr += '<w:vMerge w:val="restart"/>'
    elif c.down == "continue":
        pr += "<w:vMerge/>"
    paras = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{_esc(line)}</w:t></w:r></w:p>' if line else "<w:p/>"
        for line in c.text.split("\n")
    )
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{paras}</w:tc>"


def _width(row: Row) -> int:
    return sum(1 if isinstance(c, str) else c.span for c in row)


def set_grid(editor: FormEditor, first_header: str, rows: list[Row]) -> None:
    """Replace every row of the grid whose first header is `first_header`, as raw XML."""
    tbl = editor.table(first_header)
    for tr in tbl.findall(w("tr")):
        tbl.remove(tr)
    grid = tbl.find(w("tblGrid"))
    width = max(_width(r) for r in rows)
    for col in list(grid):
        grid.remove(col)
    for _ in range(width):
        etree.SubElement(grid, w("gridCol")).set(w("w"), str(9637 // width))
    xml = "".join("<w:tr>" + "".join(_tc(c) for c in row) + "</w:tr>" for row in rows)
    for tr in etree.fromstring(f'<x xmlns:w="{W}">{xml}</x>'):
        tbl.append(copy.deepcopy(tr))


# --------------------------------------------------------------------------- the people

# (name, relationship, date of birth as written, address, parental responsibility)
ANNA = ("Anna Kowalczyk", "Mother", "14/03/1990", "12 Dale Street, Liverpool L2 2HD", "Yes")
MAREK = (
    "Marek Kowalczyk",
    "Father",
    "02/11/1987",
    "Flat 3, 40 Bold Street, Liverpool L1 4DS",
    "Yes",
)
ZOFIA = ("Zofia Kowalczyk", "Sister", "21/07/2012", "12 Dale Street, Liverpool L2 2HD", "No")
EWA = ("Ewa Nowak", "Maternal grandmother", "30/01/1962", "8 Park Road, Bootle L20 3AB", "No")
TOMASZ = ("Tomasz Nowak", "Maternal grandfather", "5 May 1960", "8 Park Road, Bootle L20 3AB", "No")
KAROLINA = ("Karolina Wiśniewska", "Aunt", "1984-09-17", "22 Elm Grove, Wirral CH41 1AA", "No")
DANIEL = (
    "Daniel Hughes",
    "Mother's partner",
    "11.12.1991",
    "12 Dale Street, Liverpool L2 2HD",
    "No",
)
# The dates as a person reads them.
ISO = {
    "14/03/1990": "1990-03-14",
    "02/11/1987": "1987-11-02",
    "21/07/2012": "2012-07-21",
    "30/01/1962": "1962-01-30",
    "5 May 1960": "1960-05-05",
    "1984-09-17": "1984-09-17",
    "11.12.1991": "1991-12-11",
}
Person = tuple[str, str, str, str, str]


def member(p: Person, **skip: bool) -> dict[str, str]:
    """The household row an officer records for this person (minus skipped columns)."""
    name, rel, dob, address, pr = p
    row = {
        "name": name,
        "relationship": rel,
        "dob": ISO[dob],
        "address": address,
        "parental_responsibility": pr,
    }
    return {k: v for k, v in row.items() if not skip.get(k)}


def cells(p: Person) -> Row:
    return list(p)


def split_name(p: Person) -> Row:
    first, _, last = p[0].partition(" ")
    return [first, last, *p[1:]]


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    what: str
    household: list[Row] | None = None
    agencies: list[Row] | None = None
    key_dates: list[Row] | None = None
    expected: dict[str, Any] = field(default_factory=dict)
    flagged: frozenset[str] = frozenset()


FAMILY = [ANNA, MAREK, ZOFIA]
FAMILY_ROWS = [member(p) for p in FAMILY]


def _headers(what: str, headers: list[str], people: list[Person] = FAMILY) -> Case:
    return Case(
        what,
        household=[list(headers), *(cells(p) for p in people)],
        expected={"household": [member(p) for p in people]},
    )


def _cases() -> list[Case]:
    out = [
        _headers(
            "headers-abbreviated",
            ["Name", "Relationship to the child", "D.O.B.", "Address (if different)", "PR"],
        ),
        _headers(
            "headers-shortened",
            ["Full name", "Relationship", "DOB", "Home address", "Parental resp."],
            [ANNA, MAREK, ZOFIA, EWA],
        ),
        _headers(
            "headers-reworded",
            ["Person's name", "Rel. to child", "Date of Birth", "Current address", "Has PR?"],
        ),
        _headers(
            "headers-with-asides",
            [
                "Name (including any other names)",
                "Relationship to child (e.g. mother, uncle)",
                "Date of birth (dd/mm/yyyy)",
                "Address (if different from child)",
                "Parental Resp. (Y/N)",
            ],
        ),
        _headers(
            "headers-initials",
            ["Names", "Relationship to young person", "D.o.B", "Address", "P.R."],
            [EWA, ANNA],
        ),
        Case(
            "two-row-header-grouped",
            household=[
                [C("Household member", span=2), C("Their details", span=3)],
                list(HOUSEHOLD),
                *(cells(p) for p in FAMILY),
            ],
            expected={"household": FAMILY_ROWS},
        ),
        Case(
            "title-row-above-header",
            household=[
                [C("Household members and significant others", span=5)],
                list(HOUSEHOLD),
                *(cells(p) for p in FAMILY),
            ],
            expected={"household": FAMILY_ROWS},
        ),
        Case(
            # "Name" merged over "First name | Surname", the other headers merged down
            # over both header rows, and the family's surname merged down over two rows.
            "two-row-header-name-split",
            household=[
                [
                    C("Name", span=2),
                    *(C(h, down="restart") for h in HOUSEHOLD[1:]),
                ],
                ["First name", "Surname", *(C(down="continue") for _ in HOUSEHOLD[1:])],
                ["Anna", C("Kowalczyk", down="restart"), *ANNA[1:]],
                ["Zofia", C(down="continue"), *ZOFIA[1:]],
                split_name(EWA),
            ],
            expected={"household": [member(ANNA), member(ZOFIA), member(EWA)]},
        ),
        Case(
            # The form: "Name" merged over two columns pushed every later
            # header one column left, and dates of birth were stored as addresses.
            "merged-name-header",
            household=[
                [C("Name", span=2), *HOUSEHOLD[1:]],
                *(split_name(p) for p in (ANNA, MAREK, ZOFIA)),
                ["Ewa Nowak", "", *EWA[1:]],
                [C(TOMASZ[0], span=2), *TOMASZ[1:]],
            ],
            expected={"household": [member(p) for p in (ANNA, MAREK, ZOFIA, EWA, TOMASZ)]},
        ),
        Case(
            "separate-name-columns",
            household=[
                ["Forename", "Surname", *HOUSEHOLD[1:]],
                *(split_name(p) for p in FAMILY),
            ],
            expected={"household": FAMILY_ROWS},
        ),
        Case(
            "merged-address-down",
            household=[
                list(HOUSEHOLD),
                [*ANNA[:3], C(ANNA[3], down="restart"), ANNA[4]],
                [*ZOFIA[:3], C(down="continue"), ZOFIA[4]],
                [*DANIEL[:3], C(down="continue"), DANIEL[4]],
                cells(MAREK),
            ],
            expected={"household": [member(p) for p in (ANNA, ZOFIA, DANIEL, MAREK)]},
        ),
        Case(
            "sub-heading-row-merged",
            household=[
                list(HOUSEHOLD),
                *(cells(p) for p in FAMILY),
                [C("Other significant adults", span=5)],
                cells(EWA),
                cells(TOMASZ),
            ],
            expected={"household": [*FAMILY_ROWS, member(EWA), member(TOMASZ)]},
        ),
        Case(
            "sub-heading-row-repeated",
            household=[
                list(HOUSEHOLD),
                cells(ANNA),
                ["Other significant adults"] * 5,
                cells(EWA),
            ],
            expected={"household": [member(ANNA), member(EWA)]},
        ),
        Case(
            "rows-added",
            household=[
                list(HOUSEHOLD),
                *(cells(p) for p in (ANNA, MAREK, ZOFIA)),
                [""] * 5,
                *(cells(p) for p in (EWA, TOMASZ, KAROLINA, DANIEL)),
                [""] * 5,
            ],
            expected={
                "household": [
                    member(p) for p in (ANNA, MAREK, ZOFIA, EWA, TOMASZ, KAROLINA, DANIEL)
                ]
            },
        ),
        Case(
            "rows-deleted",
            household=[list(HOUSEHOLD), cells(ANNA)],
            agencies=[list(AGENCIES)],
            key_dates=[list(KEY_DATES), ["20/02/2024", "Jayden admitted to hospital"]],
            expected={
                "household": [member(ANNA)],
                "key_dates": [{"date": "2024-02-20", "event": "Jayden admitted to hospital"}],
            },
        ),
        Case(
            "columns-reordered",
            household=[
                [HOUSEHOLD[i] for i in (4, 3, 0, 2, 1)],
                *([p[i] for i in (4, 3, 0, 2, 1)] for p in FAMILY),
            ],
            expected={"household": FAMILY_ROWS},
        ),
        Case(
            # Columns the form does not have: their values go nowhere.
            "unknown-columns",
            household=[
                [
                    "Name",
                    "Age",
                    "Relationship to child",
                    "Date of birth",
                    "Occupation",
                    "Address",
                    "Telephone",
                    "Parental responsibility (Yes/No)",
                ],
                [
                    "Anna Kowalczyk",
                    "33",
                    "Mother",
                    "14/03/1990",
                    "Nurse",
                    ANNA[3],
                    "07700 900123",
                    "Yes",
                ],
                [
                    "Marek Kowalczyk",
                    "36",
                    "Father",
                    "02/11/1987",
                    "Driver",
                    MAREK[3],
                    "07700 900456",
                    "Yes",
                ],
            ],
            expected={"household": [member(ANNA), member(MAREK)]},
        ),
        Case(
            # The address header replaced by "Notes": those notes are not addresses.
            "unmatched-header-not-taken-by-position",
            household=[
                ["Name", "Relationship to child", "Date of birth", "Notes", "PR"],
                [*ANNA[:3], "Works nights", "Yes"],
                [*MAREK[:3], "Lives abroad", "Yes"],
            ],
            expected={"household": [member(p, address=True) for p in (ANNA, MAREK)]},
        ),
        Case(
            # The date of birth header left blank: dates under no header are not stored.
            "blank-header-not-taken-by-position",
            household=[
                ["Name", "Relationship to child", "", "Address", "Parental responsibility"],
                *(cells(p) for p in FAMILY),
            ],
            expected={"household": [member(p, dob=True) for p in FAMILY]},
        ),
        Case(
            # "Not known" merged across two columns: which one it answers is a guess.
            "value-across-two-columns",
            household=[
                list(HOUSEHOLD),
                cells(ANNA),
                ["Piotr Kowalczyk", "Uncle", C("Not known", span=2), "No"],
            ],
            expected={
                "household": [
                    member(ANNA),
                    {
                        "name": "Piotr Kowalczyk",
                        "relationship": "Uncle",
                        "parental_responsibility": "No",
                    },
                ]
            },
            flagged=frozenset({"household[2].dob", "household[2].address"}),
        ),
        Case(
            "agencies-reworded-with-sub-heading",
            agencies=[
                ["Organisation", "Worker", "Phone / email", "Still involved?"],
                ["Liverpool Children's Services", "Sam Reid", "0151 233 3700", "Yes"],
                ["Alder Hey Children's Hospital", "Dr K Shah", "k.shah@example.nhs.uk", "Yes"],
                [C("Previously involved", span=4)],
                ["Merseyside Police", "DC Owens", "101", "No"],
                ["Health Visiting Team", "Lucy Hart", "0151 222 3333", "No"],
            ],
            expected={
                "agencies": [
                    _agency("Liverpool Children's Services", "Sam Reid", "0151 233 3700", "Yes"),
                    _agency(
                        "Alder Hey Children's Hospital", "Dr K Shah", "k.shah@example.nhs.uk", "Yes"
                    ),
                    _agency("Merseyside Police", "DC Owens", "101", "No"),
                    _agency("Health Visiting Team", "Lucy Hart", "0151 222 3333", "No"),
                ]
            },
        ),
        Case(
            "agencies-merged-header-and-involved",
            agencies=[
                [C("Agency / organisation", span=2), "Contact", "Involved (Y/N)"],
                ["Alder Hey", "Children's Hospital", "0151 228 4811", "Yes"],
                ["Merseyside", "Police", "101", C("No", down="restart")],
                ["Youth Justice", "Service", "0151 233 1234", C(down="continue")],
            ],
            expected={
                "agencies": [
                    {
                        "agency": "Alder Hey Children's Hospital",
                        "contact": "0151 228 4811",
                        "currently_involved": "Yes",
                    },
                    {"agency": "Merseyside Police", "contact": "101", "currently_involved": "No"},
                    {
                        "agency": "Youth Justice Service",
                        "contact": "0151 233 1234",
                        "currently_involved": "No",
                    },
                ]
            },
        ),
        Case(
            # Two events on one day: the date merged down belongs to both.
            "key-dates-merged-date",
            key_dates=[
                ["When", "What happened"],
                ["03/01/2024", "Referral to Children's Services"],
                [C("20/02/2024", down="restart"), "Jayden taken to hospital"],
                [C(down="continue"), "Police informed"],
            ],
            expected={
                "key_dates": [
                    {"date": "2024-01-03", "event": "Referral to Children's Services"},
                    {"date": "2024-02-20", "event": "Jayden taken to hospital"},
                    {"date": "2024-02-20", "event": "Police informed"},
                ]
            },
        ),
    ]
    return out


def _agency(agency: str, practitioner: str, contact: str, involved: str) -> dict[str, str]:
    return {
        "agency": agency,
        "practitioner": practitioner,
        "contact": contact,
        "currently_involved": involved,
    }


def _shape(case: Case) -> Shape:
    editor, base = complete_form()
    for first, rows in (
        ("Name", case.household),
        ("Agency", case.agencies),
        ("Date", case.key_dates),
    ):
        if rows is not None:
            set_grid(editor, first, rows)
    return Shape(
        name=f"{MODULE}/{case.what}",
        filename=f"{case.what}.docx",
        data=editor.save(),
        outcome="referral",
        expected={**base, **case.expected},
        flagged=case.flagged,
    )


def cases() -> list[Shape]:
    return [_shape(c) for c in _cases()]
