"""Generate the sample referral forms, their expected extractions and a sample Maildir.

Run from the project root::

    .venv/bin/python samples/make_samples.py

Everything under ``samples/forms`` and ``samples/maildir`` is rewritten. The output is
byte-for-byte reproducible: fixed zip timestamps, fixed document properties, fixed e-mail
headers and MIME boundaries, no randomness.

Inputs (read-only): ``samples/blank/LSCP-SIRG-Referral-Form-2024.docx`` and
``samples/blank/FIELDS.md`` (field keys, types, options and labels are parsed from it).
The form contents live in ``sample_data.py``; the e-mails in ``sample_mail.py``.

When LibreOffice (``soffice``) is installed, some filled forms are also exported to
``samples/forms/pdf-*.pdf`` (see ``PDF_FORMS``). Without it the committed PDFs are kept.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

sys.dont_write_bytecode = True  # keep samples/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_data import (  # noqa: E402
    FORMS,
    LETTER,
    PDF_FORMS,
    FormSample,
    PdfSample,
    Row,
    S,
    Value,
    raw,
)
from sample_mail import build_maildir  # noqa: E402

HERE = Path(__file__).resolve().parent

BLANK_DOCX = HERE / "blank" / "LSCP-SIRG-Referral-Form-2024.docx"
FIELDS_MD = HERE / "blank" / "FIELDS.md"
FORMS_DIR = HERE / "forms"
MAILDIR = HERE / "maildir"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

PLACEHOLDER = "Click or tap here to enter text."
BOX_EMPTY = "\u2610"  # ☐
BOX_CHECKED = "\u2612"  # ☒
TICK = "\u2713"  # ✓
LEGACY_EMPTY = "\u2002" * 5  # what Word shows in an empty FORMTEXT field


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def w14(tag: str) -> str:
    return f"{{{W14_NS}}}{tag}"


# ---------------------------------------------------------------------------
# FIELDS.md
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One row of the FIELDS.md table."""

    key: str  # JSON key: "referrer.name", "criteria", "household" (grid) ...
    column: str | None  # grid column key ("name"), None for ordinary fields
    label: str  # label text in the blank form (grid: column header; section 6: process)
    type: str  # text, date, phone, email, choice, multi-choice
    mandatory: bool
    options: tuple[str, ...]

    @property
    def is_grid(self) -> bool:
        return self.column is not None

    @property
    def is_process(self) -> bool:
        return self.key.startswith("parallel_processes.")


def load_fields(path: Path = FIELDS_MD) -> list[FieldSpec]:
    specs: list[FieldSpec] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[2].startswith("`"):
            continue
        _section, label, raw_key, ftype, mandatory, options = cells
        raw_key = raw_key.strip("`")
        opts = tuple(o.strip() for o in options.split(";") if o.strip())
        quoted = re.search(r"“(.+)”", label)
        if "[]." in raw_key:  # grid column: household[].name
            key, column = raw_key.split("[].")
            assert quoted, label
            label = quoted.group(1)
            ftype = re.sub(r"grid \((.+)\)", r"\1", ftype)
        else:
            key, column = raw_key.removesuffix("[]"), None
            if key.startswith("parallel_processes."):
                label = label.split(" – ")[0]
        specs.append(FieldSpec(key, column, label, ftype, mandatory == "yes", opts))
    assert len(specs) > 60, "FIELDS.md table not found"
    return specs


FIELDS = load_fields()
FIELD_BY_KEY = {s.key: s for s in FIELDS if not s.is_grid}
GRID_COLUMNS: dict[str, list[FieldSpec]] = {}
for _spec in FIELDS:
    if _spec.is_grid:
        GRID_COLUMNS.setdefault(_spec.key, []).append(_spec)
MANDATORY = [s.key for s in FIELDS if s.mandatory]
TOP_LEVEL_KEYS = list(dict.fromkeys(s.key for s in FIELDS))  # form order, grids once


# ---------------------------------------------------------------------------
# Values: what is shown in the document, what is expected
# ---------------------------------------------------------------------------

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_date(iso: str, style: str) -> str:
    d = date.fromisoformat(iso)
    month = MONTHS[d.month - 1]
    formats = {
        "dmy": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "dmy_short": f"{d.day}/{d.month}/{d.year % 100:02d}",
        "dot": f"{d.day:02d}.{d.month:02d}.{d.year}",
        "long": f"{d.day} {month} {d.year}",
        "ordinal": f"{ordinal(d.day)} {month} {d.year}",
        "abbr": f"{d.day} {month[:3]} {d.year}",
        "iso": iso,
    }
    return formats[style]


def canonical_text(text: str) -> str:
    lines = [line.strip() for line in unicodedata.normalize("NFC", text).split("\n")]
    return "\n".join(line for line in lines if line)


def canonical(ftype: str, v: Value) -> str:
    if isinstance(v, S):
        return v.value
    if ftype == "phone":
        digits = re.sub(r"\D", "", v)
        assert digits.startswith("0"), f"write {v!r} as S(shown, value)"
        return digits
    if ftype == "email":
        return v.strip().lower()
    if ftype == "date":
        return v
    return canonical_text(v)


def shown(ftype: str, v: Value, sample: FormSample) -> str:
    if isinstance(v, S):
        return v.shown
    if ftype == "date":
        return format_date(v, sample.date_style)
    return v


def expected_fields(sample: FormSample) -> dict[str, Any]:
    """The flat JSON object a correct extractor returns for this sample."""
    unknown = set(sample.fields) - set(TOP_LEVEL_KEYS)
    assert not unknown, f"{sample.name}: unknown keys {unknown}"
    out: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        if key not in sample.fields:
            continue
        value = sample.fields[key]
        if key in GRID_COLUMNS:
            rows = []
            for row in value:
                if row is None:
                    continue
                cols = {
                    c.column: canonical(c.type, row[c.column])
                    for c in GRID_COLUMNS[key]
                    if c.column in row and canonical(c.type, row[c.column])
                }
                if cols:
                    rows.append(cols)
            if rows:
                out[key] = rows
        elif FIELD_BY_KEY[key].type == "multi-choice":
            if value:
                out[key] = list(value)
        else:
            v = canonical(FIELD_BY_KEY[key].type, value)
            if v:
                out[key] = v
    return out


def missing_mandatory(expected: dict[str, Any]) -> list[str]:
    return [k for k in MANDATORY if k not in expected]


# ---------------------------------------------------------------------------
# docx package
# ---------------------------------------------------------------------------


def read_package(path: Path) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        return names, {n: z.read(n) for n in names}


def write_package(names: list[str], parts: dict[str, bytes]) -> bytes:
    """Zip the parts in a fixed order with fixed timestamps (reproducible bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, parts[name], compresslevel=9)
    return buf.getvalue()


def core_properties(title: str, author: str, modified_by: str, modified: str, rev: int) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:subject></dc:subject>"
        f"<dc:creator>{escape(author)}</dc:creator><cp:keywords></cp:keywords>"
        f"<dc:description></dc:description><cp:lastModifiedBy>{escape(modified_by)}"
        f"</cp:lastModifiedBy><cp:revision>{rev}</cp:revision>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-08T09:12:00Z</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
        "<cp:category></cp:category></cp:coreProperties>"
    ).encode()


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def text_of(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(w("t")))


def make_run(text: str, rpr: etree._Element | None = None) -> etree._Element:
    r = etree.Element(w("r"))
    if rpr is not None:
        r.append(copy.deepcopy(rpr))
    t = etree.SubElement(r, w("t"))
    t.text = text
    if text != text.strip() or "  " in text:
        t.set(XML_SPACE, "preserve")
    return r


def lines_run(lines: list[str], rpr: etree._Element | None = None) -> etree._Element:
    """One run holding several lines separated by <w:br/> (Shift+Enter, or a multi-line
    plain-text content control)."""
    r = etree.Element(w("r"))
    if rpr is not None:
        r.append(copy.deepcopy(rpr))
    for i, line in enumerate(lines):
        if i:
            etree.SubElement(r, w("br"))
        t = etree.SubElement(r, w("t"))
        t.text = line
        if line != line.strip():
            t.set(XML_SPACE, "preserve")
    return r


def split_in_runs(text: str) -> list[etree._Element]:
    """Split a line into two runs at a space near the middle, as Word often does."""
    cut = text.find(" ", len(text) // 2)
    if cut <= 0:
        return [make_run(text)]
    return [make_run(text[:cut]), make_run(text[cut:])]


def is_checkbox_sdt(sdt: etree._Element) -> bool:
    return sdt.find(f"{w('sdtPr')}/{w14('checkbox')}") is not None


def is_text_sdt(sdt: etree._Element) -> bool:
    return sdt.find(f"{w('sdtPr')}/{w('text')}") is not None


def checkbox_options(cell: etree._Element) -> list[tuple[etree._Element, etree._Element, str]]:
    """(checkbox sdt, option run, option text) for every checkbox in a cell."""
    found = []
    for sdt in cell.iter(w("sdt")):
        if is_checkbox_sdt(sdt):
            run = sdt.getnext()
            assert run is not None and run.tag == w("r"), "checkbox without option text"
            found.append((sdt, run, text_of(run).strip()))
    return found


def remove(el: etree._Element) -> None:
    parent = el.getparent()
    assert parent is not None
    parent.remove(el)


class FormDoc:
    """The blank form opened for filling: finds answer cells by their blank-form labels."""

    def __init__(self) -> None:
        self.names, self.parts = read_package(BLANK_DOCX)
        self.root = etree.fromstring(self.parts["word/document.xml"])
        self.settings = etree.fromstring(self.parts["word/settings.xml"])
        self.body = self.root.find(w("body"))
        self.answer_cells: dict[str, etree._Element] = {}
        self.process_rows: dict[str, etree._Element] = {}
        self.grids: dict[str, etree._Element] = {}
        self._index()

    def _index(self) -> None:
        by_label = {s.label: s.key for s in FIELDS if not s.is_grid and not s.is_process}
        processes = {s.label: s.key.rsplit(".", 1)[0] for s in FIELDS if s.is_process}
        grid_headers = {tuple(c.label for c in cols): key for key, cols in GRID_COLUMNS.items()}
        for tbl in self.body.iter(w("tbl")):
            rows = tbl.findall(w("tr"))
            header = tuple(text_of(tc).strip() for tc in rows[0].findall(w("tc")))
            if header in grid_headers:
                self.grids[grid_headers[header]] = tbl
                continue
            for tr in rows:
                cells = tr.findall(w("tc"))
                label = text_of(cells[0]).strip()
                if len(cells) == 2 and label in by_label:
                    self.answer_cells[by_label[label]] = cells[1]
                elif len(cells) == 3 and label in processes:
                    self.process_rows[processes[label]] = tr
        assert len(self.grids) == 3, self.grids.keys()
        assert len(self.process_rows) == 8
        assert len(self.answer_cells) == len(by_label), set(by_label.values()) - set(
            self.answer_cells
        )

    def field_cells(self) -> Iterator[tuple[FieldSpec, etree._Element]]:
        """Every non-grid field with its answer cell, in form order."""
        for spec in FIELDS:
            if spec.is_grid:
                continue
            if spec.is_process:
                prefix, part = spec.key.rsplit(".", 1)
                cells = self.process_rows[prefix].findall(w("tc"))
                yield spec, cells[1] if part == "status" else cells[2]
            else:
                yield spec, self.answer_cells[spec.key]

    def save(self, sample: FormSample) -> bytes:
        parts = dict(self.parts)
        parts["word/document.xml"] = xml_bytes(self.root)
        parts["word/settings.xml"] = xml_bytes(self.settings)
        parts["docProps/core.xml"] = core_properties(
            "LSCP SIRG Referral Form 2024",
            "LSCP Business Unit",
            sample.author or sample.referrer,
            sample.modified,
            12,
        )
        return write_package(self.names, parts)


# ---------------------------------------------------------------------------
# Writers: one per way of filling the form
# ---------------------------------------------------------------------------


class Writer:
    """Writes answers into cells. Subclasses implement one fill style."""

    def __init__(self, sample: FormSample, doc: FormDoc) -> None:
        self.sample = sample
        self.doc = doc

    def text(self, spec: FieldSpec, cell: etree._Element, lines: list[str]) -> None:
        raise NotImplementedError

    def choice(self, spec: FieldSpec, cell: etree._Element, chosen: list[str]) -> None:
        raise NotImplementedError

    def grid_cell(self, cell: etree._Element, lines: list[str]) -> None:
        """Grid cells have no controls: plain text in the cell's paragraph."""
        p = cell.find(w("p"))
        if not lines:
            return
        if len(lines) == 1:
            p.append(make_run(lines[0]))
        else:
            p.append(lines_run(lines))


class ContentControlWriter(Writer):
    """Fill the content controls as Word does (style ``cc-``)."""

    def text(self, spec: FieldSpec, cell: etree._Element, lines: list[str]) -> None:
        if not lines:
            return  # the control keeps showing its placeholder
        sdt = next(s for s in cell.iter(w("sdt")) if is_text_sdt(s))
        pr = sdt.find(w("sdtPr"))
        placeholder = pr.find(w("showingPlcHdr"))
        if placeholder is not None:
            pr.remove(placeholder)
        if len(lines) > 1:
            pr.find(w("text")).set(w("multiLine"), "1")
        content = sdt.find(w("sdtContent"))
        for child in list(content):
            content.remove(child)
        if spec.key in self.sample.split_runs and len(lines) == 1:
            content.extend(split_in_runs(lines[0]))
        else:
            content.append(lines_run(lines))

    def choice(self, spec: FieldSpec, cell: etree._Element, chosen: list[str]) -> None:
        for sdt, _run, option in checkbox_options(cell):
            if option in chosen:
                sdt.find(f"{w('sdtPr')}/{w14('checkbox')}/{w14('checked')}").set(w14("val"), "1")
                sdt.find(f"{w('sdtContent')}/{w('r')}/{w('t')}").text = BOX_CHECKED


class TypedWriter(Writer):
    """Controls removed, answers typed into the cells (style ``typed-``)."""

    def _clear(self, cell: etree._Element) -> etree._Element:
        """Remove the controls and extra paragraphs; return the first paragraph, empty."""
        paras = cell.findall(w("p"))
        for p in paras[1:]:
            cell.remove(p)
        p = paras[0]
        for child in list(p):
            if child.tag != w("pPr"):
                p.remove(child)
        return p

    def text(self, spec: FieldSpec, cell: etree._Element, lines: list[str]) -> None:
        p = self._clear(cell)
        if not lines:
            if spec.key in self.sample.leftover_placeholders:
                rpr = etree.fromstring(
                    f'<w:rPr xmlns:w="{W_NS}"><w:rStyle w:val="PlaceholderText"/></w:rPr>'
                )
                p.append(make_run(PLACEHOLDER, rpr))
            return
        if self.sample.line_breaks == "br" or len(lines) == 1:
            if spec.key in self.sample.split_runs and len(lines) == 1:
                p.extend(split_in_runs(lines[0]))
            else:
                p.append(lines_run(lines))
            return
        p.append(make_run(lines[0]))
        prev = p
        for line in lines[1:]:
            new_p = etree.Element(w("p"))
            ppr = p.find(w("pPr"))
            if ppr is not None:
                new_p.append(copy.deepcopy(ppr))
            new_p.append(make_run(line))
            prev.addnext(new_p)
            prev = new_p

    def choice(self, spec: FieldSpec, cell: etree._Element, chosen: list[str]) -> None:
        style = self.sample.tick_by_key.get(spec.key, self.sample.tick)
        options = checkbox_options(cell)
        if style == "delete" and chosen:
            for sdt, run, option in options:
                remove(sdt)
                if option in chosen:
                    t = run.find(w("t"))
                    caps = self.sample.caps and option in ("Yes", "No", "Not known")
                    t.text = option.upper() if caps else option
                    t.attrib.pop(XML_SPACE, None)
                else:
                    p = run.getparent()
                    remove(run)
                    if not text_of(p).strip() and len(cell.findall(w("p"))) > 1:
                        remove(p)
            return
        marks = {"glyph": BOX_CHECKED, "x": "X", "tick": TICK, "delete": BOX_CHECKED}
        for sdt, _run, option in options:
            glyph_run = sdt.find(f"{w('sdtContent')}/{w('r')}")
            mark = marks[style] if option in chosen else BOX_EMPTY
            glyph_run.find(w("t")).text = mark
            if mark in ("X", TICK):
                glyph_run.remove(glyph_run.find(w("rPr")))
            sdt.addprevious(glyph_run)
            remove(sdt)


class LegacyWriter(Writer):
    """Legacy form fields: FORMTEXT and FORMCHECKBOX (style ``legacy-``)."""

    def __init__(self, sample: FormSample, doc: FormDoc) -> None:
        super().__init__(sample, doc)
        self.counter = {"Text": 0, "Check": 0}
        # Legacy fields only work in a form protected for filling in.
        protection = etree.Element(w("documentProtection"))
        protection.set(w("edit"), "forms")
        protection.set(w("enforcement"), "1")
        doc.settings.find(w("proofState")).addnext(protection)

    def _name(self, kind: str) -> str:
        self.counter[kind] += 1
        return f"{kind}{self.counter[kind]}"

    @staticmethod
    def _fld(kind: str, ffdata: etree._Element | None = None) -> etree._Element:
        r = etree.Element(w("r"))
        fc = etree.SubElement(r, w("fldChar"))
        fc.set(w("fldCharType"), kind)
        if ffdata is not None:
            fc.append(ffdata)
        return r

    @staticmethod
    def _instr(code: str) -> etree._Element:
        r = etree.Element(w("r"))
        it = etree.SubElement(r, w("instrText"))
        it.text = f" {code} "
        it.set(XML_SPACE, "preserve")
        return r

    def _ffdata(self, kind: str, inner: str) -> etree._Element:
        return etree.fromstring(
            f'<w:ffData xmlns:w="{W_NS}"><w:name w:val="{self._name(kind)}"/><w:enabled/>'
            f'<w:calcOnExit w:val="0"/>{inner}</w:ffData>'
        )

    def formtext(self, lines: list[str]) -> list[etree._Element]:
        """Runs of one FORMTEXT field whose result is ``lines`` (w:br between lines)."""
        result = lines_run(lines) if lines else make_run(LEGACY_EMPTY)
        return [
            self._fld("begin", self._ffdata("Text", "<w:textInput/>")),
            self._instr("FORMTEXT"),
            self._fld("separate"),
            result,
            self._fld("end"),
        ]

    def text(self, spec: FieldSpec, cell: etree._Element, lines: list[str]) -> None:
        sdt = next(s for s in cell.iter(w("sdt")) if is_text_sdt(s))
        p = sdt.getparent()
        if spec.key in self.sample.legacy_paragraph_keys and len(lines) > 1:
            # Enter pressed inside the field: its result spans several paragraphs.
            runs = self.formtext(lines[:1])
            end = runs.pop()
            for r in runs:
                sdt.addprevious(r)
            remove(sdt)
            prev = p
            for i, line in enumerate(lines[1:], start=2):
                new_p = etree.Element(w("p"))
                new_p.append(copy.deepcopy(p.find(w("pPr"))))
                new_p.append(make_run(line))
                if i == len(lines):
                    new_p.append(end)
                prev.addnext(new_p)
                prev = new_p
            return
        for r in self.formtext(lines):
            sdt.addprevious(r)
        remove(sdt)

    def choice(self, spec: FieldSpec, cell: etree._Element, chosen: list[str]) -> None:
        by_default = spec.key in self.sample.legacy_default_checked
        for sdt, _run, option in checkbox_options(cell):
            ticked = option in chosen
            if by_default:  # the template ticks by default; the sender unticked the others
                state = '<w:default w:val="1"/>' + ("" if ticked else '<w:checked w:val="0"/>')
            else:
                state = '<w:default w:val="0"/>' + ("<w:checked/>" if ticked else "")
            ffdata = self._ffdata("Check", f"<w:checkBox><w:sizeAuto/>{state}</w:checkBox>")
            for r in (self._fld("begin", ffdata), self._instr("FORMCHECKBOX"), self._fld("end")):
                sdt.addprevious(r)
            remove(sdt)

    def grid_cell(self, cell: etree._Element, lines: list[str]) -> None:
        cell.find(w("p")).extend(self.formtext(lines))


WRITERS: dict[str, type[Writer]] = {
    "cc": ContentControlWriter,
    "typed": TypedWriter,
    "legacy": LegacyWriter,
}


# ---------------------------------------------------------------------------
# Filling
# ---------------------------------------------------------------------------


def value_lines(spec_type: str, v: Value | None, sample: FormSample) -> list[str]:
    if v is None:
        return []
    return shown(spec_type, v, sample).split("\n")


def shown_choices(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [raw(v)]


def fill_fields(sample: FormSample, doc: FormDoc, writer: Writer) -> None:
    for spec, cell in doc.field_cells():
        v = sample.fields.get(spec.key)
        if spec.type in ("choice", "multi-choice"):
            chosen = shown_choices(v)
            available = [o for _s, _r, o in checkbox_options(cell)]
            assert all(c in available for c in chosen), (sample.name, spec.key, chosen)
            writer.choice(spec, cell, chosen)
        else:
            writer.text(spec, cell, value_lines(spec.type, v, sample))


def fill_grids(sample: FormSample, doc: FormDoc, writer: Writer) -> None:
    for key, columns in GRID_COLUMNS.items():
        table = doc.grids[key]
        rows: list[Row] = list(sample.fields.get(key, []))
        data_rows = table.findall(w("tr"))[1:]
        template = copy.deepcopy(data_rows[0])
        while len(data_rows) < len(rows):  # add rows by copying an empty one
            new_row = copy.deepcopy(template)
            data_rows[-1].addnext(new_row)
            data_rows.append(new_row)
        for tr, row in zip(data_rows, rows, strict=False):
            for spec, tc in zip(columns, tr.findall(w("tc")), strict=True):
                v = None if row is None else row.get(spec.column)
                writer.grid_cell(tc, value_lines(spec.type, v, sample))
        unused = data_rows[len(rows) :]
        for tr in unused:
            if sample.delete_unused_rows:
                remove(tr)
            elif isinstance(writer, LegacyWriter):
                for tc in tr.findall(w("tc")):
                    writer.grid_cell(tc, [])


def edit_labels(sample: FormSample, doc: FormDoc) -> None:
    """The sender retyped some labels (cells of the first column / grid header rows)."""
    todo = dict(sample.label_edits)
    for tc in doc.body.iter(w("tc")):
        old = text_of(tc).strip()
        if old in todo and tc.find(f".//{w('sdt')}") is None:
            ts = list(tc.iter(w("t")))
            ts[0].text = todo.pop(old)
            ts[0].attrib.pop(XML_SPACE, None)
            for t in ts[1:]:
                t.text = ""
    assert not todo, f"{sample.name}: labels not found {list(todo)}"


def to_nfd(doc: FormDoc) -> None:
    for t in doc.root.iter(w("t")):
        if t.text:
            t.text = unicodedata.normalize("NFD", t.text)


def build_form(sample: FormSample) -> bytes:
    """Fill the blank form as described by ``sample``; return the .docx bytes."""
    doc = FormDoc()
    writer = WRITERS[sample.writer](sample, doc)
    fill_fields(sample, doc, writer)
    fill_grids(sample, doc, writer)
    if sample.label_edits:
        edit_labels(sample, doc)
    if sample.nfd:
        to_nfd(doc)
    return doc.save(sample)


# ---------------------------------------------------------------------------
# Not-a-form documents
# ---------------------------------------------------------------------------


def build_letter(paragraphs: list[str], table: list[tuple[str, str]], author: str) -> bytes:
    """An unrelated Word letter (made with python-docx, re-zipped reproducibly)."""
    from datetime import datetime

    import docx

    d = docx.Document()
    for i, text in enumerate(paragraphs):
        d.add_paragraph(text)
        if i == 3 and table:
            t = d.add_table(rows=0, cols=2)
            t.style = "Table Grid"
            for label, value in table:
                cells = t.add_row().cells
                cells[0].text = label
                cells[1].text = value
    props = d.core_properties
    props.author = author
    props.last_modified_by = author
    props.title = "Letter"
    props.revision = 3
    props.created = datetime(2024, 5, 2, 8, 30)
    props.modified = datetime(2024, 5, 2, 9, 5)
    props.last_printed = datetime(2024, 5, 2, 9, 5)
    props.comments = ""
    buf = io.BytesIO()
    d.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        names = z.namelist()
        parts = {n: z.read(n) for n in names}
    return write_package(names, parts)


# ---------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def nhs_number_valid(n: str) -> bool:
    if not re.fullmatch(r"\d{10}", n):
        return False
    total = sum(int(d) * wt for d, wt in zip(n[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(n[9])


def check_value(where: str, ftype: str, options: tuple[str, ...], v: Any) -> None:
    assert isinstance(v, str) and v, f"{where}: empty or not a string: {v!r}"
    assert v == v.strip() and unicodedata.is_normalized("NFC", v), f"{where}: {v!r}"
    if ftype == "date":
        assert ISO_DATE.match(v), f"{where}: not ISO {v!r}"
        date.fromisoformat(v)
    elif ftype == "phone":
        assert re.fullmatch(r"0\d{9,10}", v), f"{where}: phone {v!r}"
    elif ftype == "email":
        assert v == v.lower() and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", v), f"{where}: {v!r}"
    elif ftype == "choice":
        assert v in options, f"{where}: {v!r} not in {options}"
    elif ftype == "text":
        assert "\n\n" not in v and all(x == x.strip() for x in v.split("\n")), where


def check_expected(name: str, exp: dict[str, Any]) -> None:
    """Every key is a FIELDS.md key, every value follows the value conventions."""
    for key, v in exp.items():
        where = f"{name}: {key}"
        if key in GRID_COLUMNS:
            cols = {c.column: c for c in GRID_COLUMNS[key]}
            assert isinstance(v, list) and v, where
            for row in v:
                assert row and set(row) <= set(cols), f"{where}: {row}"
                for col, cv in row.items():
                    check_value(f"{where}.{col}", cols[col].type, cols[col].options, cv)
            continue
        assert key in FIELD_BY_KEY, f"{where}: not a FIELDS.md key"
        spec = FIELD_BY_KEY[key]
        if spec.type == "multi-choice":
            assert isinstance(v, list) and v, where
            assert all(o in spec.options for o in v), f"{where}: {v}"
            assert v == [o for o in spec.options if o in v], f"{where}: not in form order"
        else:
            check_value(where, spec.type, spec.options, v)
        if key == "child.nhs_number":
            assert v.startswith("999") and nhs_number_valid(v), f"{where}: {v}"
    assert list(exp) == [k for k in TOP_LEVEL_KEYS if k in exp], f"{name}: key order"


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    paras = []
    for p in root.iter(w("p")):
        chunks = []
        for el in p.iter(w("t"), w("br")):
            chunks.append("\n" if el.tag == w("br") else el.text or "")
        paras.append("".join(chunks))
    return unicodedata.normalize("NFC", "\n".join(paras))


def check_docx(path: Path, sample: FormSample | None, exp: dict[str, Any]) -> None:
    import docx

    data = path.read_bytes()
    assert len(data) < 100_000, f"{path.name}: {len(data)} bytes"
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None, path
    docx.Document(str(path))  # python-docx must load it
    if sample is None:
        return
    text = docx_text(data)
    # every typed answer is somewhere in the document, as typed
    for key, value in typed_values(sample):
        for line in value.split("\n"):
            assert unicodedata.normalize("NFC", line) in text, f"{path.name}: {key} {line!r}"
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    ticks = sum(
        len(v) if isinstance(v, list) else 1
        for k, v in exp.items()
        if k in FIELD_BY_KEY and FIELD_BY_KEY[k].type in ("choice", "multi-choice")
    )
    if sample.writer == "cc":
        checked = root.findall(f".//{w14('checked')}[@{w14('val')}='1']")
        assert len(checked) == ticks, f"{path.name}: {len(checked)} boxes ticked, {ticks} expected"
    if sample.writer == "legacy":
        checked = [
            cb
            for cb in root.iter(w("checkBox"))
            if (cb.find(w("checked")) is not None and cb.find(w("checked")).get(w("val")) != "0")
            or (cb.find(w("checked")) is None and cb.find(w("default")).get(w("val")) == "1")
        ]
        assert len(checked) == ticks, f"{path.name}: {len(checked)} boxes ticked, {ticks} expected"
        assert root.find(f".//{w('sdt')}") is None, f"{path.name}: content control left"


# ---------------------------------------------------------------------------
# PDF samples (LibreOffice export)
# ---------------------------------------------------------------------------


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def export_pdfs(sources: dict[str, bytes], soffice: str) -> dict[str, bytes]:
    """Export .docx files (by stem) to PDF with LibreOffice; PDF bytes by stem."""
    with tempfile.TemporaryDirectory(prefix="lscp-samples-") as tmp:
        root = Path(tmp)
        for stem, data in sources.items():
            (root / f"{stem}.docx").write_bytes(data)
        # A private HOME and profile: no user settings leak in, nothing is left behind.
        env = {**os.environ, "HOME": str(root / "home"), "TZ": "UTC"}
        cmd = [
            soffice,
            f"-env:UserInstallation={(root / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(root / "out"),
            *(str(root / f"{stem}.docx") for stem in sources),
        ]
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
        return {stem: stable_pdf((root / "out" / f"{stem}.pdf").read_bytes()) for stem in sources}


def stable_pdf(data: bytes) -> bytes:
    """Make a LibreOffice PDF reproducible: fixed creation date and document ID.

    The replacements have the same length, so the cross-reference offsets stay right.
    """
    data = re.sub(rb"(/(?:CreationDate|ModDate)\s*\(D:)\d{14}", rb"\g<1>20240101000000", data)
    ids = re.compile(rb"(/ID\s*\[\s*<)[0-9A-Fa-f]{32}(>\s*<)[0-9A-Fa-f]{32}(>)")
    checksum = re.compile(rb"(/DocChecksum\s*/)[0-9A-Fa-f]{32}")
    digest = hashlib.md5(checksum.sub(b"", ids.sub(b"", data))).hexdigest().upper().encode()
    data = ids.sub(lambda m: m.group(1) + digest + m.group(2) + digest + m.group(3), data)
    return checksum.sub(lambda m: m.group(1) + digest, data)


def pdf_expected(ps: PdfSample, exp: dict[str, Any]) -> dict[str, Any]:
    """The source form's expected JSON, with the line breaks the export loses removed."""
    out = copy.deepcopy(exp)
    for key in ps.lost_breaks:
        assert isinstance(out.get(key), str) and "\n" in out[key], f"{ps.name}: {key}"
        out[key] = out[key].replace("\n", "")
    return out


def pdf_text(data: bytes) -> tuple[str, int]:
    """All text of a PDF (pypdf, not the parser's reader), spaces collapsed; and pages."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
    # Running headers and footers (the same line, numbers aside, on several pages) cut
    # answers that run over a page break: leave them out.
    seen: dict[str, int] = {}
    for lines in pages:
        for key in {re.sub(r"\d+", "#", ln.strip()) for ln in lines}:
            seen[key] = seen.get(key, 0) + 1
    text = " ".join(
        ln
        for lines in pages
        for ln in lines
        if len(ln.strip()) < 20 or seen[re.sub(r"\d+", "#", ln.strip())] < 2
    )
    return unicodedata.normalize("NFC", " ".join(text.split())), len(reader.pages)


def check_pdf(path: Path, ps: PdfSample, sample: FormSample) -> None:
    """Every typed answer shows in the PDF's text; lost line breaks really are lost."""
    text, pages = pdf_text(path.read_bytes())
    squashed = text.replace(" ", "")
    assert pages >= 1, path.name
    if sample.name == ROWS_LONG_NAME:
        assert pages >= 4, f"{path.name}: {pages} pages, the benchmark needs 4 or more"
    for key, value in typed_values(sample):
        lines = value.split("\n")
        if key in ps.lost_breaks:
            # At each lost break the last word of a line touches the next line's first.
            for a, b in zip(lines, lines[1:], strict=False):
                tail, head = a.split()[-1], b.split()[0]
                assert tail + head in text, f"{path.name}: {key}: no {tail + head!r}"
                assert f"{tail} {head}" not in text, f"{path.name}: {key}: break kept"
        for line in lines:
            line = unicodedata.normalize("NFC", " ".join(line.split()))
            # A long word broken over two lines of a narrow cell loses its space only.
            assert line in text or line.replace(" ", "") in squashed, f"{path.name}: {key} {line!r}"


ROWS_LONG_NAME = PDF_FORMS[-1].source


def typed_values(sample: FormSample) -> list[tuple[str, str]]:
    """(key, text as typed) for every typed (not ticked) answer of a sample."""
    typed: list[tuple[str, str]] = []
    for key, v in sample.fields.items():
        if key in GRID_COLUMNS:
            for row in v:
                cols = {c.column: c.type for c in GRID_COLUMNS[key]}
                typed += [(key, shown(cols[c], cv, sample)) for c, cv in (row or {}).items()]
        elif FIELD_BY_KEY[key].type not in ("choice", "multi-choice"):
            typed.append((key, shown(FIELD_BY_KEY[key].type, v, sample)))
    return typed


def write_pdfs(built: dict[str, bytes], kept: dict[str, bytes]) -> None:
    """Export the PDF samples (or keep the committed ones) and write their expected JSON."""
    by_name = {s.name: s for s in FORMS}
    soffice = find_soffice()
    if soffice is not None:
        pdfs = export_pdfs({ps.source: built[f"{ps.source}.docx"] for ps in PDF_FORMS}, soffice)
        fresh = {f"{ps.name}.pdf": pdfs[ps.source] for ps in PDF_FORMS}
    else:
        fresh = {}
        print(f"soffice not found: keeping the {len(kept)} committed PDF samples")
    for ps in PDF_FORMS:
        path = FORMS_DIR / f"{ps.name}.pdf"
        data = fresh.get(path.name, kept.get(path.name))
        if data is None:
            print(f"forms/{path.name}: missing (install LibreOffice to make it)")
            continue
        path.write_bytes(data)
        sample = by_name[ps.source]
        exp = pdf_expected(ps, expected_fields(sample))
        check_expected(ps.name, exp)
        write_json(FORMS_DIR / f"{ps.name}.expected.json", exp)
        check_pdf(path, ps, sample)
        _text, pages = pdf_text(data)
        print(f"forms/{path.name:45} {len(data):6} bytes  {len(exp):2} keys  {pages} pages")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def reset_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def main() -> None:
    # Committed PDFs survive a run without LibreOffice.
    kept = {p.name: p.read_bytes() for p in FORMS_DIR.glob("pdf-*.pdf")}
    reset_dir(FORMS_DIR)
    built: dict[str, bytes] = {}
    for sample in FORMS:
        data = build_form(sample)
        exp = expected_fields(sample)
        check_expected(sample.name, exp)
        if sample.name.startswith("cc-needs-info"):
            assert missing_mandatory(exp), sample.name
        else:
            assert not missing_mandatory(exp), (sample.name, missing_mandatory(exp))
        path = FORMS_DIR / f"{sample.name}.docx"
        path.write_bytes(data)
        write_json(FORMS_DIR / f"{sample.name}.expected.json", exp)
        check_docx(path, sample, exp)
        built[path.name] = data
        print(f"forms/{path.name:45} {len(data):6} bytes  {len(exp):2} keys")

    letter = FORMS_DIR / "not-a-form.docx"
    letter.write_bytes(build_letter(**LETTER))
    write_json(FORMS_DIR / "not-a-form.expected.json", {"outcome": "not_a_form"})
    check_docx(letter, None, {})
    blank = FORMS_DIR / "blank-unfilled.docx"
    blank.write_bytes(BLANK_DOCX.read_bytes())
    write_json(FORMS_DIR / "blank-unfilled.expected.json", {"outcome": "needs_info", "blank": True})
    print("forms/not-a-form.docx, forms/blank-unfilled.docx")

    write_pdfs(built, kept)

    expected_by_form = {s.name + ".docx": expected_fields(s) for s in FORMS}
    build_maildir(MAILDIR, built, lambda name: missing_mandatory(expected_by_form[name]))


if __name__ == "__main__":
    main()
