"""Make the fillable (AcroForm) SIRG forms in this folder from the blank PDF form.

The way Adobe's "Prepare form" (or a fillable export) turns the printed form into one:
a text field over each answer cell, and a check box widget over each printed box,
usually a little larger than the box. Run from the repository root, then commit the
PDFs (the tests read the committed files; this script is not run in CI):

    .venv/bin/python tests/test_parsers/shapes/files/acroform/make_acroform.py

Needs only pypdf and pdfplumber (project dependencies). Which boxes are ticked and what
is typed is the `FILLS` table below; `shapes/acroform.py` states the expected records
from the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
import pypdf
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

HERE = Path(__file__).resolve().parent
BLANK = HERE.parents[4] / "samples" / "blank" / "LSCP-SIRG-Referral-Form-2024.pdf"


@dataclass
class Fill:
    """One fillable PDF: how its fields sit over the printed form, and what is in them."""

    # Check box rect relative to the printed box glyph (left, bottom, right, top growth
    # in points, PDF coordinates: positive grows outward).
    grow: tuple[float, float, float, float]
    keep_printed: bool  # the printed boxes and "Click or tap" prompts stay beneath
    texts: dict[str, str]  # first line of the row's label -> typed value
    ticks: dict[str, list[str]]  # first line of the question's label -> options ticked
    details: dict[str, str] = field(default_factory=dict)  # parallel process -> details


_PEOPLE = {
    "Name of referrer *": "Priya Ó Briain",
    "Job title / role *": "Family Support Worker",
    "Agency / organisation *": "Kensington Family Hub",
    "Telephone number *": "0151 496 0777",
    "Email address *": "Priya.OBriain@example.org.uk",
    "Date of referral *": "1st March 2024",
    "Child's full name *": "Jayden Kowalczyk",
    "Date of birth *": "09/06/2016",
    "Date of incident *": "2024-02-20",
    "Summary of the incident and": "First line.\rSecond line.",
    "Why do you think this case may": "Learning.",
    "Authorising manager's name *": "Dee Hughes",
    "Authorising manager's role *": "Service Manager",
    "Date authorised *": "29/2/24",
}

FILLS: dict[str, Fill] = {
    # Boxes a little larger than the printed ones, which are still in the text layer.
    # Mostly later options ticked: those were credited to the option before them.
    "printed-boxes-beneath.pdf": Fill(
        grow=(1.5, 1.5, 1.5, 1.5),
        keep_printed=True,
        texts=_PEOPLE,
        ticks={
            "Have you discussed this referral": ["No"],
            "Gender": ["Female"],
            "Legal status at the time of the": ["Child protection plan", "Care leaver"],
            "Was the child open to Children's": ["Not known"],
            "Which of the criteria apply? (tick": [
                "The child has been seriously harmed",
                "There are concerns about how agencies worked together",
            ],
            "Type of review you are requesting": ["Practice Learning Review"],
            "Police investigation": ["No"],
            "Criminal proceedings": ["Not known"],
            "Coroner's inquest": ["Yes"],
            "Has the National Child": ["No"],
            "Has Ofsted been notified?": ["Not known"],
            "Is there media interest in this": ["No"],
        },
        details={"Police investigation": "Ref 123"},
    ),
    # Boxes 3 points taller than the printed ones and 3.5 points lower (printed boxes
    # still beneath).
    "taller-offset-boxes.pdf": Fill(
        grow=(1.0, 5.0, 1.0, -2.0),
        keep_printed=True,
        texts=_PEOPLE,
        ticks={
            "Have you discussed this referral": ["Yes"],
            "Gender": ["Other or not known"],
            "Legal status at the time of the": ["Child looked after"],
            "Was the child open to Children's": ["No"],
            "Which of the criteria apply? (tick": [
                "Death of a looked-after child or care leaver (under 25)",
                "The case may offer learning or good practice below the CSPR threshold",
            ],
            "Type of review you are requesting": ["Advice only"],
            "Child Death Overview Panel": ["Not known"],
            "Family court proceedings": ["No"],
            "Single-agency internal review": ["Yes"],
            "Has the National Child": ["Not known"],
            "Has Ofsted been notified?": ["No"],
            "Is there media interest in this": ["Yes"],
        },
        details={"Family court proceedings": "Case FD24P00123"},
    ),
    # Only the fields show the boxes (no printed box or prompt beneath); the check box
    # rects are 5 points taller than the box was and sit 4.5 points higher (a line of
    # their own, before). The child's date of birth is left empty: a mandatory answer
    # missing.
    "fields-only-needs-info.pdf": Fill(
        grow=(1.0, -2.0, 1.0, 7.0),
        keep_printed=False,
        texts={k: v for k, v in _PEOPLE.items() if k != "Date of birth *"},
        ticks={
            "Have you discussed this referral": ["No"],
            "Gender": ["Male"],
            "Legal status at the time of the": ["Child in need", "None known"],
            "Was the child open to Children's": ["Yes"],
            "Which of the criteria apply? (tick": ["Abuse or neglect is known or suspected"],
            "Type of review you are requesting": ["Child Safeguarding Practice Review"],
            "Police investigation": ["Not known"],
            "Domestic Homicide Review": ["No"],
            "Safeguarding Adults Review": ["Not known"],
            "Has the National Child": ["Yes"],
            "Has Ofsted been notified?": ["No"],
            "Is there media interest in this": ["No"],
        },
    ),
}


# --------------------------------------------------------------------------- finding


@dataclass
class _Box:
    page: int
    question: str
    option: str
    rect: tuple[float, float, float, float]  # the printed glyph, PDF coordinates


@dataclass
class _Answer:
    page: int
    label: str
    rect: tuple[float, float, float, float]  # the answer cell, PDF coordinates
    lines: int  # text lines the cell holds
    prompt: tuple[float, float]  # where the prompt's text starts (x, baseline)


def _cell(page: Any, x: float, y: float) -> tuple[float, float, float, float]:
    """The table cell (x0, top, x1, bottom; top-down) around a point, from ruling lines."""
    across = [e for e in page.horizontal_edges if e["x0"] - 1 <= x <= e["x1"] + 1]
    down = [e for e in page.vertical_edges if e["top"] - 1 <= y <= e["bottom"] + 1]
    top = max(e["top"] for e in across if e["top"] <= y)
    bottom = min(e["top"] for e in across if e["top"] > y)
    x0 = max(e["x0"] for e in down if e["x0"] <= x)
    x1 = min(e["x0"] for e in down if e["x0"] > x)
    return x0, top, x1, bottom


def _label(words: list[dict[str, Any]], x: float, top: float, bottom: float) -> str:
    """First line of the label left of x in this row band (top-down coordinates)."""
    mine = [w for w in words if top <= (w["top"] + w["bottom"]) / 2 <= bottom and w["x1"] < x - 2]
    first = min(w["top"] for w in mine)
    line = sorted((w for w in mine if abs(w["top"] - first) < 2), key=lambda w: w["x0"])
    # The label ends where a wide gap starts (the boxes or answer beyond it).
    end = next((k for k in range(1, len(line)) if line[k]["x0"] - line[k - 1]["x1"] > 8), len(line))
    return " ".join(w["text"] for w in line[:end])


def _find(pdf: Any) -> tuple[list[_Box], list[_Answer]]:
    boxes: list[_Box] = []
    answers: list[_Answer] = []
    for n, page in enumerate(pdf.pages):
        h = float(page.height)
        words = page.extract_words()
        glyphs = [c for c in page.chars if c["text"] == "☐"]

        for g in glyphs:
            mid = (g["top"] + g["bottom"]) / 2
            x0, top, x1, bottom = _cell(page, g["x1"] + 1, mid)
            row_boxes = [c["x0"] for c in glyphs if top <= c["top"] <= bottom]
            after = sorted(
                (
                    w
                    for w in words
                    if abs((w["top"] + w["bottom"]) / 2 - mid) < 3 and w["x0"] >= g["x1"]
                ),
                key=lambda w: w["x0"],
            )
            text = " ".join(w["text"] for w in after).split("☐")[0].split("Click")[0].strip()
            rect = (g["x0"], h - g["bottom"], g["x1"], h - g["top"])
            boxes.append(_Box(n, _label(words, min(row_boxes), top, bottom), text, rect))
        for w in words:
            if w["text"] != "Click":  # "Click or tap here to enter text."
                continue
            x0, top, x1, bottom = _cell(page, w["x0"] + 1, (w["top"] + w["bottom"]) / 2)
            lines = max(1, int((bottom - top) // 14))
            rect = (x0 + 1.5, h - bottom + 1.5, x1 - 1.5, h - top - 1.5)
            baseline = h - w["bottom"] + 0.2 * (w["bottom"] - w["top"])
            prompt = (float(w["x0"]), baseline)
            answers.append(_Answer(n, _label(words, x0, top, bottom), rect, lines, prompt))
    return boxes, answers


# --------------------------------------------------------------------------- writing


def _stream(
    writer: pypdf.PdfWriter, content: bytes, rect: tuple[float, float, float, float]
) -> Any:
    """A check box's appearance (a cross, or nothing) as a form XObject."""
    s = DecodedStreamObject()
    s.set_data(content)
    s.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                [FloatObject(0), FloatObject(0), FloatObject(rect[2] - rect[0]),
                 FloatObject(rect[3] - rect[1])]
            ),
        }
    )  # fmt: skip
    return writer._add_object(s)


def _rect(r: tuple[float, float, float, float]) -> ArrayObject:
    return ArrayObject([FloatObject(round(v, 2)) for v in r])


def _strip_printed(writer: pypdf.PdfWriter, page: Any, prompts: list[tuple[float, float]]) -> None:
    """Take the printed boxes (DejaVu glyph 1) and the "Click or tap" prompts (the text
    started at these (x, baseline) points) out of the text layer."""
    fonts = page["/Resources"]["/Font"]
    symbol = [k for k, v in fonts.items() if "DejaVu" in str(v.get_object()["/BaseFont"])]
    cs = ContentStream(page.get_contents(), writer)
    font: Any = None
    at = (0.0, 0.0)
    ops = []
    for args, op in cs.operations:
        if op == b"Tf":
            font = args[0]
        if op == b"Td":
            at = (float(args[0]), float(args[1]))
        if op in (b"Tj", b"TJ"):
            if font in symbol and str(args[0]) == "\x01":
                continue
            if any(abs(at[0] - x) < 0.5 and abs(at[1] - y) < 3 for x, y in prompts):
                continue
        ops.append((args, op))
    cs.operations = ops
    page.replace_contents(cs)


def make(name: str, fill: Fill) -> bytes:
    """Write one fillable PDF into this folder and return its bytes."""
    with pdfplumber.open(BLANK) as pdf:
        boxes, answers = _find(pdf)
    reader = pypdf.PdfReader(BLANK)
    writer = pypdf.PdfWriter(clone_from=reader)
    if not fill.keep_printed:
        for n, page in enumerate(writer.pages):
            _strip_printed(writer, page, [a.prompt for a in answers if a.page == n])
    fields = ArrayObject()
    helv = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    used_ticks: set[tuple[str, str]] = set()
    used_texts: set[str] = set()
    for i, box in enumerate(boxes):
        left, down, right, up = fill.grow
        x0, y0, x1, y1 = box.rect
        rect = (x0 - left, y0 - down, x1 + right, y1 + up)
        on = bool(_full(box.option, fill.ticks.get(box.question, [])))
        if on:
            used_ticks.add((box.question, box.option))
        state = NameObject("/Yes" if on else "/Off")
        w, h = rect[2] - rect[0], rect[3] - rect[1]
        cross = b"0 g 1 w %.1f %.1f m %.1f %.1f l S %.1f %.1f m %.1f %.1f l S" % (
            2, 2, w - 2, h - 2, 2, h - 2, w - 2, 2
        )  # fmt: skip
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Btn"),
                NameObject("/T"): TextStringObject(f"Check Box{i + 1}"),
                NameObject("/TU"): TextStringObject(f"{box.question} {box.option}".strip()),
                NameObject("/Rect"): _rect(rect),
                NameObject("/F"): NumberObject(4),
                NameObject("/V"): state,
                NameObject("/AS"): state,
                NameObject("/MK"): DictionaryObject(
                    {NameObject("/BC"): ArrayObject([FloatObject(0)])}
                ),
                NameObject("/AP"): DictionaryObject(
                    {
                        NameObject("/N"): DictionaryObject(
                            {
                                NameObject("/Yes"): _stream(writer, cross, rect),
                                NameObject("/Off"): _stream(writer, b"", rect),
                            }
                        )
                    }
                ),
            }
        )
        _attach(writer, box.page, widget, fields)
    details = dict(fill.details)
    for i, ans in enumerate(answers):
        value = fill.texts.get(ans.label) or details.pop(ans.label, "")
        if not value:
            continue
        used_texts.add(ans.label)
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject(f"Text{i + 1}"),
                NameObject("/Rect"): _rect(ans.rect),
                NameObject("/F"): NumberObject(4),
                NameObject("/V"): TextStringObject(value),
                NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
                NameObject("/Ff"): NumberObject(4096 if ans.lines > 1 else 0),
            }
        )
        _attach(writer, ans.page, widget, fields)
    missing = {(q, o) for q, os in fill.ticks.items() for o in os} - {
        (q, full) for q, o in used_ticks for full in _full(o, fill.ticks[q])
    }
    assert not missing, f"{name}: no box for {missing}"
    unused = set(fill.texts) - used_texts
    assert not details and not unused, f"{name}: no cell for {details} {unused}"
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): fields,
            NameObject("/NeedAppearances"): BooleanObject(True),
            NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
            NameObject("/DR"): DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/Helv"): helv})}
            ),
        }
    )
    writer.add_metadata({"/Producer": "make_acroform.py (pypdf)"})
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects()
    out = HERE / name
    with out.open("wb") as f:
        writer.write(f)
    return out.read_bytes()


def _full(option: str, ticked: list[str]) -> list[str]:
    """The ticked options this box's text is (an option wrapped at a line end is cut)."""
    return [o for o in ticked if o == option or (len(option) > 20 and o.startswith(option))]


def _attach(writer: pypdf.PdfWriter, n: int, widget: DictionaryObject, fields: ArrayObject) -> None:
    page = writer.pages[n]
    widget[NameObject("/P")] = page.indirect_reference
    ref = writer._add_object(widget)
    if "/Annots" not in page:
        page[NameObject("/Annots")] = ArrayObject()
    page["/Annots"].append(ref)
    fields.append(ref)


if __name__ == "__main__":
    for name, fill in FILLS.items():
        make(name, fill)
        print("wrote", name)
