"""Read a Word .docx into a Layout by walking its XML.

python-docx is not used: it skips text inside content controls (w:sdt) and inflates
every zip member without a size limit. Here the zip is checked first (`zip_guard`),
members are read with a cap, and the XML parser resolves no entities.
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from parsers.layout import (
    CHECKED,
    EMPH_OFF,
    EMPH_ON,
    UNCHECKED,
    Block,
    Cell,
    Layout,
    Para,
    Rejection,
    Table,
)
from parsers.limits import (
    MAX_DOCX_MAIN_PART_BYTES,
    MAX_DOCX_PACKAGE_PART_BYTES,
    MAX_PARAGRAPHS,
    MAX_TABLE_ROWS,
    MIB,
    OverLimit,
)
from parsers.symbols import map_symbol_text, symbol_font
from parsers.zip_guard import DEFAULT_LIMITS, UnsafeZip, ZipLimits, check_zip, read_member

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
# Word's "Strict Open XML" save names the same elements in other namespaces; read as the
# usual ones, its parts are the same form (https://ecma-international.org, ECMA-376 Part 1).
STRICT_OFFICE_DOC = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_STRICT_NAMESPACES = (
    (
        b"http://purl.oclc.org/ooxml/wordprocessingml/main",
        b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    ),
)

WORD_MAIN_TYPES = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
)
MACRO_MAIN_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)

SCANNED = "scanned image: needs keying in by hand"

_FALSE = {"0", "false", "off"}


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


# Full tag names, compared as strings while walking (no splitting of namespaces).
P, TBL, SDT, R, T = _w("p"), _w("tbl"), _w("sdt"), _w("r"), _w("t")
TR, TC = _w("tr"), _w("tc")
SDT_PR, SDT_CONTENT, RPR, RFONTS = _w("sdtPr"), _w("sdtContent"), _w("rPr"), _w("rFonts")
TAB, BR, CR, NB_HYPHEN, SYM, FLD_CHAR = (
    _w("tab"),
    _w("br"),
    _w("cr"),
    _w("noBreakHyphen"),
    _w("sym"),
    _w("fldChar"),
)
W14_CHECKBOX, W14_CHECKED, W14_VAL = f"{{{W14}}}checkbox", f"{{{W14}}}checked", f"{{{W14}}}val"
# Containers whose children are read as if they stood in their place.
BLOCK_WRAPPERS = frozenset(_w(t) for t in ("customXml", "ins", "moveTo"))
INLINE_WRAPPERS = frozenset(
    _w(t)
    for t in ("hyperlink", "smartTag", "customXml", "ins", "moveTo", "fldSimple", "bdo", "dir")
)
HIDDEN = frozenset(_w(t) for t in ("vanish", "webHidden", "strike", "dstrike"))
FONT_ATTRS = tuple(_w(a) for a in ("ascii", "hAnsi", "cs", "eastAsia"))
# Run properties a sender uses to show the chosen option when the boxes are left empty.
B, U, HIGHLIGHT, SHD, RSTYLE = (_w(t) for t in ("b", "u", "highlight", "shd", "rStyle"))
EMPHASIS = frozenset((B, U, HIGHLIGHT, SHD, RSTYLE))
_NO_FILL = {"", "auto", "ffffff", "none"}


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: the XML is untrusted.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_docx(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> Layout | Rejection:
    """The document's blocks, or why it cannot be read. Never raises."""
    try:
        return _read(data, limits)
    except (UnsafeZip, OverLimit) as exc:
        return Rejection("rejected", str(exc))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        return Rejection("rejected", "the Word file is damaged and cannot be opened")
    except etree.XMLSyntaxError:
        return Rejection("rejected", "the Word file is damaged (its text cannot be read)")
    except NotImplementedError:
        return Rejection("rejected", "the Word file uses a compression we cannot open")
    except Exception:  # noqa: BLE001 - a bad upload must never stop the pipeline
        return Rejection("rejected", "the Word file could not be read")


def _read(data: bytes, limits: ZipLimits) -> Layout | Rejection:
    zf = zipfile.ZipFile(io.BytesIO(data))
    check_zip(zf, limits)
    names = zf.namelist()
    if any(posixpath.basename(n).lower() == "vbaproject.bin" for n in names):
        return Rejection(
            "rejected", "the Word file contains macros (.docm); please save it as .docx"
        )
    if "[Content_Types].xml" not in names:
        return Rejection("not_a_form", "not a Word document")
    types = etree.fromstring(_part(zf, "[Content_Types].xml", limits), _parser())
    main = _main_part(zf, names, limits)
    part_type = _part_type(types, main)
    if part_type in MACRO_MAIN_TYPES:
        return Rejection(
            "rejected", "the Word file contains macros (.docm); please save it as .docx"
        )
    if main not in names or part_type not in WORD_MAIN_TYPES:
        return Rejection("not_a_form", "not a Word document")
    root = etree.fromstring(_transitional(_part(zf, main, limits, main=True)), _parser())
    body = root.find(_w("body"))
    blocks = _Walker().blocks(body) if body is not None else []
    layout = Layout("docx", blocks)
    if not layout.has_text() and any(n.startswith("word/media/") for n in names):
        return Rejection("rejected", SCANNED)
    return layout


def _transitional(xml: bytes) -> bytes:
    """A Strict Open XML part with the usual namespaces (the text is unchanged)."""
    for strict, usual in _STRICT_NAMESPACES:
        xml = xml.replace(strict, usual)
    return xml


def _main_part(zf: zipfile.ZipFile, names: list[str], limits: ZipLimits) -> str:
    """Path of the main document part, from the package relationships."""
    if "_rels/.rels" in names:
        rels = etree.fromstring(_part(zf, "_rels/.rels", limits), _parser())
        for rel in rels.iter(f"{{{REL}}}Relationship"):
            kind = rel.get("Type")
            if kind in (OFFICE_DOC, STRICT_OFFICE_DOC) and rel.get("TargetMode") != "External":
                return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return "word/document.xml"


def _part(zf: zipfile.ZipFile, name: str, limits: ZipLimits, main: bool = False) -> bytes:
    """One part's bytes (the main document part, or a small package part); refused
    unread when the zip says it is larger than a form's could be, and refused while
    inflating when it turns out larger than its header said."""
    # Checked before inflating: lxml needs about 20 bytes of memory a byte of XML (an
    # honest 49 MB document.xml took 1.07 GB), whatever the zip's ratio.
    cap = MAX_DOCX_MAIN_PART_BYTES if main else MAX_DOCX_PACKAGE_PART_BYTES
    cap = min(cap, limits.max_member_bytes)
    size = zf.getinfo(name).file_size
    if size > cap and main:
        raise OverLimit(
            "the Word document holds far more than a referral form could "
            f"({_size(size)} of text; a form has about 100 KB)"
        )
    if size > cap:
        raise OverLimit(f"the Word file's index is far larger than any Word file's ({_size(size)})")
    return read_member(zf, name, cap)


def _size(size: int) -> str:
    return f"{size / MIB:.0f} MB" if size >= MIB else f"{max(size // 1024, 1)} KB"


def _part_type(types: etree._Element, part: str) -> str:
    """Content type of a part, from [Content_Types].xml (override, else by extension)."""
    for o in types.iter(f"{{{CT}}}Override"):
        if o.get("PartName", "").lstrip("/") == part:
            return o.get("ContentType", "")
    ext = part.rsplit(".", 1)[-1].lower()
    for d in types.iter(f"{{{CT}}}Default"):
        if d.get("Extension", "").lower() == ext:
            return d.get("ContentType", "")
    return ""


def _emphasised(prop: etree._Element) -> bool:
    """Does this run property make the text stand out (bold, underline, highlight, a
    shaded background, or a character style such as "Strong")?"""
    tag = prop.tag
    if tag == B:
        return _on(prop)
    if tag in (U, HIGHLIGHT):
        return (prop.get(_w("val")) or "single").lower() not in _FALSE | {"none"}
    if tag == SHD:
        return (prop.get(_w("fill")) or "").lower() not in _NO_FILL
    style = (prop.get(_w("val")) or "").lower()
    return any(s in style for s in ("strong", "emphasis", "bold", "highlight"))


def _on(el: etree._Element | None, attr: str = _w("val")) -> bool:
    """A Word on/off property: present and not switched off."""
    return el is not None and (el.get(attr) or "1").lower() not in _FALSE


class _Walker:
    """Walks the body in document order, numbering tables for provenance."""

    def __init__(self) -> None:
        self.tables = 0
        self.paras = 0
        self.seen = 0  # every paragraph read, in the body and in cells

    # -- block level --------------------------------------------------------------

    def blocks(self, parent: etree._Element) -> list[Block]:
        out: list[Block] = []
        for ch in parent:
            tag = ch.tag
            if tag == P:
                self.paras += 1
                out.append(Para(self.para_text(ch), f"docx paragraph {self.paras}"))
            elif tag == TBL:
                out.extend(self.table(ch))
            elif tag == SDT:
                if not _placeholder(ch):
                    out.extend(self.blocks(_content(ch)))
            elif tag in BLOCK_WRAPPERS:
                out.extend(self.blocks(ch))
        return out

    def table(self, tbl: etree._Element) -> list[Block]:
        rows = list(_rows(tbl))
        if len(rows) > MAX_TABLE_ROWS:
            # A household grid of 100,000 rows is no referral: refused, never read.
            raise OverLimit(
                f"a table in the Word document has {len(rows):,} rows, more than a "
                f"referral form's tables could (at most {MAX_TABLE_ROWS})"
            )
        if next(tbl.iterdescendants(TBL), None) is not None:
            # A table used only for layout (tables inside it): read what it holds.
            out: list[Block] = []
            for tr in rows:
                for tc in _cells(tr):
                    out.extend(self.blocks(tc))
            return out
        self.tables += 1
        n = self.tables
        # One Cell per grid column: a merged cell is the same Cell in every column and
        # row it covers, so a grid's columns line up under their headers (a header
        # spanning two columns does not push later values one column left) and a value
        # merged down belongs to every row it spans.
        table_rows: list[list[Cell]] = []
        above: list[Cell] = []
        for r, tr in enumerate(rows, start=1):
            cells: list[Cell] = []
            for c, tc in enumerate(_cells(tr), start=1):
                span, continued = _merge(tc)
                if continued and len(cells) < len(above):
                    cell = above[len(cells)]
                else:
                    where = f"docx table {n} row {r} cell {c}"
                    cell = Cell(tuple(Para(t, where) for t in self.cell_texts(tc)), where)
                # Capped: the span is the sender's number, and no table is this wide.
                cells.extend([cell] * max(1, min(span, _MAX_COLUMNS - len(cells))))
            table_rows.append(cells)
            above = cells
        return [Table(table_rows, f"docx table {n}")]

    def cell_texts(self, parent: etree._Element) -> list[str]:
        out: list[str] = []
        for ch in parent:
            tag = ch.tag
            if tag == P:
                out.append(self.para_text(ch))
            elif tag == SDT:
                if not _placeholder(ch):
                    out.extend(self.cell_texts(_content(ch)))
            elif tag in BLOCK_WRAPPERS:
                out.extend(self.cell_texts(ch))
        return out

    # -- inline level -------------------------------------------------------------

    def para_text(self, p: etree._Element) -> str:
        self.seen += 1
        if self.seen > MAX_PARAGRAPHS:
            raise OverLimit(
                "the Word document is far longer than a referral form could be "
                f"(over {MAX_PARAGRAPHS:,} paragraphs)"
            )
        out: list[str] = []
        self._inline(p, out)
        return "".join(out)

    def _inline(self, parent: etree._Element, out: list[str]) -> None:
        # Drawings, math, mc:AlternateContent (other namespaces) are not answers;
        # w:del / w:moveFrom are tracked deletions: not part of the answer either.
        for ch in parent:
            tag = ch.tag
            if tag == R:
                self._run(ch, out)
            elif tag == SDT:
                self._inline_sdt(ch, out)
            elif tag in INLINE_WRAPPERS:
                self._inline(ch, out)

    def _inline_sdt(self, sdt: etree._Element, out: list[str]) -> None:
        pr = _child(sdt, SDT_PR)
        box = _child(pr, W14_CHECKBOX) if pr is not None else None
        if box is not None:
            out.append(CHECKED if _on(_child(box, W14_CHECKED), W14_VAL) else UNCHECKED)
            return
        if pr is not None and _on(_child(pr, _SHOWING_PLACEHOLDER)):
            return
        content = _content(sdt)
        if any(c.tag == P for c in content):
            # A block control inside a run context: keep its paragraphs as lines.
            out.append("\n".join(self.cell_texts(content)))
        else:
            self._inline(content, out)

    def _run(self, r: etree._Element, out: list[str]) -> None:
        skip = loud = False
        font: str | None = None
        for ch in r:  # w:rPr comes first, so its settings apply to the content after it
            tag = ch.tag
            if tag == T:
                if not skip:
                    text = map_symbol_text(font, ch.text or "")
                    out.append(f"{EMPH_ON}{text}{EMPH_OFF}" if loud and text.strip() else text)
            elif tag == RPR:
                for prop in ch:
                    ptag = prop.tag
                    if ptag in HIDDEN and _on(prop):
                        # Hidden and struck-through text is not what the sender meant.
                        skip = True
                    elif ptag == RFONTS:
                        font = next((v for a in FONT_ATTRS if (v := prop.get(a))), None)
                    elif ptag in EMPHASIS:
                        loud = loud or _emphasised(prop)
            elif tag == FLD_CHAR:
                if ch.get(_FLD_CHAR_TYPE) == "begin":
                    out.append(_legacy_field(ch))
            elif skip:
                continue
            elif tag == TAB:
                out.append("\t")
            elif tag in (BR, CR):
                out.append("\n")
            elif tag == NB_HYPHEN:
                out.append("-")
            elif tag == SYM:
                sym_font = ch.get(_w("font"))
                code = ch.get(_w("char"), "")
                try:
                    char = chr(int(code, 16))
                except ValueError:
                    continue
                out.append(
                    map_symbol_text(sym_font if symbol_font(sym_font) else "wingdings", char)
                )


_FLD_CHAR_TYPE = _w("fldCharType")


def _legacy_field(fld: etree._Element) -> str:
    """Text shown by a legacy form field that has no result runs (checkbox, drop-down)."""
    ff = fld.find(_w("ffData"))
    if ff is None:
        return ""
    box = ff.find(_w("checkBox"))
    if box is not None:
        # An explicit w:checked wins; otherwise the field shows its default state.
        state = box.find(_w("checked"))
        if state is None:
            state = box.find(_w("default"))
        return CHECKED if _on(state) else UNCHECKED
    dd = ff.find(_w("ddList"))
    if dd is not None:
        entries = [e.get(_w("val"), "") for e in dd.findall(_w("listEntry"))]
        res = dd.find(_w("result"))
        idx = (
            int(res.get(_w("val"), "0"))
            if res is not None and (res.get(_w("val")) or "").isdigit()
            else 0
        )
        return entries[idx] if 0 <= idx < len(entries) else ""
    return ""


def _content(sdt: etree._Element) -> etree._Element:
    c = _child(sdt, SDT_CONTENT)
    return c if c is not None else etree.Element(SDT_CONTENT)


_SHOWING_PLACEHOLDER = _w("showingPlcHdr")


def _placeholder(sdt: etree._Element) -> bool:
    """A content control still showing its placeholder holds no answer."""
    pr = _child(sdt, SDT_PR)
    return pr is not None and _on(_child(pr, _SHOWING_PLACEHOLDER))


_ROW_WRAPPERS = frozenset(_w(t) for t in ("customXml", "ins"))


def _rows(tbl: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ch in tbl:
        tag = ch.tag
        if tag == TR:
            out.append(ch)
        elif tag == SDT:  # repeating-section controls wrap rows
            out.extend(_rows(_content(ch)))
        elif tag in _ROW_WRAPPERS:
            out.extend(_rows(ch))
    return out


_CUSTOM_XML = _w("customXml")


def _cells(tr: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ch in tr:
        tag = ch.tag
        if tag == TC:
            out.append(ch)
        elif tag == SDT:
            out.extend(_cells(_content(ch)))
        elif tag == _CUSTOM_XML:
            out.extend(_cells(ch))
    return out


# Word allows at most 63 columns; a row expanded past that is not a form's.
_MAX_COLUMNS = 63
_TC_PR, _GRID_SPAN, _V_MERGE = _w("tcPr"), _w("gridSpan"), _w("vMerge")


def _merge(tc: etree._Element) -> tuple[int, bool]:
    """How many grid columns a cell spans, and whether it continues the cell above."""
    pr = _child(tc, _TC_PR)
    if pr is None:
        return 1, False
    span, continued = 1, False
    for prop in pr:  # a few properties: a loop beats two ElementPath finds per cell
        tag = prop.tag
        if tag == _GRID_SPAN:
            raw = prop.get(_VAL, "1")
            span = int(raw) if raw.isdigit() and len(raw) < 4 else 1
        elif tag == _V_MERGE:
            # No w:val means "continue" (ECMA-376 Part 1, 17.4.85).
            continued = prop.get(_VAL, "continue") == "continue"
    return span, continued


_VAL = _w("val")


def _child(el: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this tag. Properties come first, so this is a step or two,
    cheaper than lxml's `find` (which compiles a path) on the thousands of calls a form
    takes."""
    for ch in el:
        if ch.tag == tag:
            return ch
    return None
