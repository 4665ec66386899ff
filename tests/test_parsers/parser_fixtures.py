"""Builders for parser tests: fill the blank form's XML, write tiny .docx and .pdf files.

Everything is made here from the blank form or from scratch, so tests need nothing
outside the project.
"""

from __future__ import annotations

import copy
import email
import email.policy
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
BLANK_DOCX = ROOT / "samples" / "blank" / "LSCP-SIRG-Referral-Form-2024.docx"
BLANK_PDF = ROOT / "samples" / "blank" / "LSCP-SIRG-Referral-Form-2024.pdf"
FIELDS_MD = ROOT / "samples" / "blank" / "FIELDS.md"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
NS = {"w": W, "w14": W14}


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


# --------------------------------------------------------------------------- email


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


def attachments(eml: Path) -> list[Attachment]:
    """Every part with a filename (attachments and inline images), in message order."""
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    out: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart() or not part.get_filename():
            continue
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        out.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    return out


# --------------------------------------------------------------------------- editing the form


def _text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(w("t")))


def _norm(s: str) -> str:
    return " ".join(s.replace("*", "").split()).casefold()


class FormEditor:
    """Fill in the blank SIRG form the ways senders do, at the XML level."""

    def __init__(self, docx: bytes | None = None) -> None:
        data = docx if docx is not None else BLANK_DOCX.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            self.parts = {n: zf.read(n) for n in zf.namelist()}
        self.root = etree.fromstring(self.parts["word/document.xml"])

    # -- finding things -------------------------------------------------------

    def row(self, label: str) -> etree._Element:
        """The table row whose first cell is this label (asterisk and case ignored)."""
        want = _norm(label)
        for tr in self.root.iter(w("tr")):
            tcs = tr.findall(w("tc"))
            if tcs and _norm(_text(tcs[0])) == want:
                return tr
        raise KeyError(label)

    def cell(self, label: str, index: int = 1) -> etree._Element:
        return self.row(label).findall(w("tc"))[index]

    def table(self, first_header: str) -> etree._Element:
        for tbl in self.root.iter(w("tbl")):
            first = tbl.find(w("tr"))
            if first is not None and _norm(_text(first.find(w("tc")))) == _norm(first_header):
                return tbl
        raise KeyError(first_header)

    # -- answers -----------------------------------------------------------------

    def fill(self, label: str, *lines: str, index: int = 1) -> FormEditor:
        """Type into the text content control (lines separated by line breaks)."""
        tc = self.cell(label, index)
        sdt = tc.find(f".//{w('sdt')}")
        assert sdt is not None, label
        pr = sdt.find(w("sdtPr"))
        for ph in pr.findall(w("showingPlcHdr")):
            pr.remove(ph)
        content = sdt.find(w("sdtContent"))
        runs = content.findall(f".//{w('r')}")
        first = runs[0]
        for r in runs[1:]:
            r.getparent().remove(r)
        for ch in list(first):
            if ch.tag != w("rPr"):
                first.remove(ch)
        rpr = first.find(w("rPr"))
        if rpr is not None:
            first.remove(rpr)  # drop the grey placeholder style
        for i, line in enumerate(lines):
            if i:
                etree.SubElement(first, w("br"))
            t = etree.SubElement(first, w("t"))
            t.text = line
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return self

    def type_over(self, label: str, *paras: str, index: int = 1) -> FormEditor:
        """Replace the whole answer cell with typed paragraphs (controls deleted)."""
        tc = self.cell(label, index)
        self.set_paragraphs(tc, paras)
        return self

    def set_paragraphs(self, tc: etree._Element, paras: tuple[str, ...] | list[str]) -> None:
        for ch in list(tc):
            if ch.tag != w("tcPr"):
                tc.remove(ch)
        for text in paras or ("",):
            p = etree.SubElement(tc, w("p"))
            if text:
                r = etree.SubElement(p, w("r"))
                t = etree.SubElement(r, w("t"))
                t.text = text
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")

    def set_xml(self, label: str, xml: str, index: int = 1) -> FormEditor:
        """Replace the answer cell's content with raw WordprocessingML paragraphs."""
        tc = self.cell(label, index)
        for ch in list(tc):
            if ch.tag != w("tcPr"):
                tc.remove(ch)
        wrapper = etree.fromstring(f'<x xmlns:w="{W}" xmlns:w14="{W14}">{xml}</x>')
        for ch in wrapper:
            tc.append(ch)
        return self

    def tick(self, label: str, *options: str, index: int = 1) -> FormEditor:
        """Tick the checkbox controls in front of these options."""
        tc = self.cell(label, index)
        wanted = {_norm(o) for o in options}
        found: set[str] = set()
        for p in tc.iter(w("p")):
            children = list(p)
            for i, ch in enumerate(children):
                if ch.tag != w("sdt") or ch.find(f".//{{{W14}}}checkbox") is None:
                    continue
                label_text = ""
                for nxt in children[i + 1 :]:
                    if nxt.tag == w("sdt"):
                        break
                    label_text += _text(nxt)
                if _norm(label_text) in wanted:
                    found.add(_norm(label_text))
                    ch.find(f".//{{{W14}}}checked").set(f"{{{W14}}}val", "1")
                    ch.find(f".//{w('sdtContent')}//{w('t')}").text = "☒"
        assert found == wanted, (label, wanted - found)
        return self

    def relabel(self, label: str, new: str) -> FormEditor:
        """Edit the label text (the sender rewrote it)."""
        self.set_paragraphs(self.cell(label, 0), [new])
        return self

    def grid(self, first_header: str, rows: list[list[str]]) -> FormEditor:
        """Replace a grid's data rows with these (rows added or removed as needed)."""
        tbl = self.table(first_header)
        trs = tbl.findall(w("tr"))
        template = trs[1]
        for tr in trs[1:]:
            tbl.remove(tr)
        for values in rows:
            tr = copy.deepcopy(template)
            for tc, value in zip(tr.findall(w("tc")), values, strict=False):
                self.set_paragraphs(tc, value.split("\n") if value else [])
            tbl.append(tr)
        return self

    def remove_row(self, label: str) -> FormEditor:
        tr = self.row(label)
        tr.getparent().remove(tr)
        return self

    def save(self) -> bytes:
        self.parts["word/document.xml"] = etree.tostring(
            self.root, xml_declaration=True, encoding="UTF-8", standalone=True
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.parts.items():
                zf.writestr(name, data)
        return buf.getvalue()


def complete_form() -> tuple[FormEditor, dict[str, object]]:
    """A fully and validly completed form (controls used as intended), and its expected JSON."""
    e = FormEditor()
    e.fill("Name of referrer", "Priya Ó Briain")
    e.fill("Job title / role", "Family Support Worker")
    e.fill("Agency / organisation", "Kensington Family Hub")
    e.fill("Telephone number", "0151 496 0777")
    e.fill("Email address", "Priya.OBriain@example.org.uk")
    e.fill("Date of referral", "1st March 2024")
    e.tick("Have you discussed this referral with your agency's safeguarding lead?", "No")
    e.fill("Child's full name", "Jayden Kowalczyk")
    e.fill("Date of birth", "09/06/2016")
    e.tick("Gender", "Male")
    e.fill("Date of incident", "2024-02-20")
    e.tick("Legal status at the time of the incident", "Child in need", "Care leaver")
    e.tick("Which of the criteria apply? (tick all that apply)", "The child has died")
    e.tick("Type of review you are requesting", "Advice only")
    e.fill("Summary of the incident and circumstances", "First line.", "Second line.")
    e.fill("Why do you think this case may offer learning for the partnership?", "Learning.")
    e.tick("Police investigation", "Not known")
    e.fill("Police investigation", "Ref 123", index=2)
    e.tick("Is there media interest in this case?", "Yes")
    e.fill("Authorising manager's name", "Dee Hughes")
    e.fill("Authorising manager's role", "Service Manager")
    e.fill("Date authorised", "29/2/24")
    expected: dict[str, object] = {
        "referrer.name": "Priya Ó Briain",
        "referrer.job_title": "Family Support Worker",
        "referrer.agency": "Kensington Family Hub",
        "referrer.phone": "01514960777",
        "referrer.email": "priya.obriain@example.org.uk",
        "referrer.referral_date": "2024-03-01",
        "referrer.discussed_with_safeguarding_lead": "No",
        "child.name": "Jayden Kowalczyk",
        "child.dob": "2016-06-09",
        "child.gender": "Male",
        "child.incident_date": "2024-02-20",
        "child.legal_status": ["Child in need", "Care leaver"],
        "criteria": ["The child has died"],
        "review_type": "Advice only",
        "summary": "First line.\nSecond line.",
        "learning": "Learning.",
        "parallel_processes.police_investigation.status": "Not known",
        "parallel_processes.police_investigation.details": "Ref 123",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Dee Hughes",
        "authorisation.manager_role": "Service Manager",
        "authorisation.date": "2024-02-29",
    }
    return e, expected


# --------------------------------------------------------------------------- tiny .docx files

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def minimal_docx(
    body_xml: str, main_type: str = DOCX_MAIN, extra: dict[str, bytes] | None = None
) -> bytes:
    """A valid .docx whose body is `body_xml` (WordprocessingML, prefix w:)."""
    doc = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W}" xmlns:w14="{W14}"><w:body>{body_xml}</w:body></w:document>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("{main}", main_type))
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", doc)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def p(text: str) -> str:
    """A plain paragraph."""
    return f'<w:p><w:r><w:t xml:space="preserve">{_esc(text)}</w:t></w:r></w:p>'


def tc(*paras: str) -> str:
    return "<w:tc>" + "".join(p(x) for x in paras or ("",)) + "</w:tc>"


def tbl(*rows: list[str]) -> str:
    """A table; each row a list of cell texts (newlines make separate paragraphs)."""
    out = "<w:tbl>"
    for row in rows:
        out += "<w:tr>" + "".join(tc(*c.split("\n")) for c in row) + "</w:tr>"
    return out + "</w:tbl>"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- tiny PDFs


@dataclass
class PdfText:
    x: float
    y: float
    text: str


@dataclass
class PdfField:
    name: str
    x: float
    y: float
    width: float
    height: float
    value: str = ""
    kind: str = "text"  # "text" or "checkbox"
    checked: bool = False
    tooltip: str = ""


def _pdf_str(s: str) -> bytes:
    try:
        raw = s.encode("latin-1")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    except UnicodeEncodeError:
        return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


def fillable_pdf(
    texts: list[PdfText],
    fields: list[PdfField],
    boxes: list[tuple[float, float, float]] | None = None,
) -> bytes:
    """A one-page A4 PDF with Helvetica text and AcroForm fields holding values.

    `boxes` are printed tick boxes drawn beneath the fields: squares (x, y, side).
    """
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    stream = b"".join(
        b"BT /F1 10 Tf %.1f %.1f Td %s Tj ET\n" % (t.x, t.y, _pdf_str(t.text)) for t in texts
    )
    stream += b"".join(
        b"0.5 w %.1f %.1f %.1f %.1f re S\n" % (x, y, d, d) for x, y, d in boxes or []
    )
    catalog = add(b"")  # filled in below, once the ids are known
    pages = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    page = add(b"")
    widget_ids = []
    for f in fields:
        rect = b"[%.1f %.1f %.1f %.1f]" % (f.x, f.y, f.x + f.width, f.y + f.height)
        tu = b" /TU " + _pdf_str(f.tooltip) if f.tooltip else b""
        if f.kind == "checkbox":
            state = b"/Yes" if f.checked else b"/Off"
            body = (
                b"<< /Type /Annot /Subtype /Widget /FT /Btn /T %s%s /Rect %s /P %d 0 R"
                b" /V %s /AS %s /F 4 >>" % (_pdf_str(f.name), tu, rect, page, state, state)
            )
        else:
            body = (
                b"<< /Type /Annot /Subtype /Widget /FT /Tx /T %s%s /Rect %s /P %d 0 R /V %s"
                b" /F 4 /Ff %d >>" % (_pdf_str(f.name), tu, rect, page, _pdf_str(f.value), 4096)
            )
        widget_ids.append(add(body))
    refs = b" ".join(b"%d 0 R" % i for i in widget_ids)
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [%s] >> >>" % (
        pages,
        refs,
    )
    objs[pages - 1] = b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page
    objs[page - 1] = (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
        b" /Resources << /Font << /F1 %d 0 R >> >> /Annots [%s] >>" % (pages, content, font, refs)
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (i, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objs) + 1, catalog, xref)
    )
    return out.getvalue()


def strip_xml_decl(xml: str) -> str:
    return re.sub(r"^<\?xml[^>]*\?>", "", xml)
