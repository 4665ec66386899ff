"""Walk the body of a .docx main part into Layout blocks: paragraphs, tables, controls."""

from __future__ import annotations

from lxml import etree

from parsers.layout import (
    CHECKED,
    EMPH_OFF,
    EMPH_ON,
    UNCHECKED,
    Block,
    Cell,
    Para,
    Table,
)
from parsers.limits import MAX_PARAGRAPHS, MAX_TABLE_ROWS, OverLimit
from parsers.symbols import map_symbol_text, symbol_font

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"

_FALSE = {"0", "false", "off"}


def w_tag(tag: str) -> str:
    return f"{{{W}}}{tag}"


# Full tag names, compared as strings while walking (no splitting of namespaces).
P, TBL, SDT, R, T = w_tag("p"), w_tag("tbl"), w_tag("sdt"), w_tag("r"), w_tag("t")
TR, TC = w_tag("tr"), w_tag("tc")
SDT_PR, SDT_CONTENT, RPR, RFONTS = (
    w_tag("sdtPr"),
    w_tag("sdtContent"),
    w_tag("rPr"),
    w_tag("rFonts"),
)
TAB, BR, CR, NB_HYPHEN, SYM, FLD_CHAR = (
    w_tag("tab"),
    w_tag("br"),
    w_tag("cr"),
    w_tag("noBreakHyphen"),
    w_tag("sym"),
    w_tag("fldChar"),
)
W14_CHECKBOX, W14_CHECKED, W14_VAL = f"{{{W14}}}checkbox", f"{{{W14}}}checked", f"{{{W14}}}val"
# Containers whose children are read as if they stood in their place.
BLOCK_WRAPPERS = frozenset(w_tag(t) for t in ("customXml", "ins", "moveTo"))
INLINE_WRAPPERS = frozenset(
    w_tag(t)
    for t in ("hyperlink", "smartTag", "customXml", "ins", "moveTo", "fldSimple", "bdo", "dir")
)
HIDDEN = frozenset(w_tag(t) for t in ("vanish", "webHidden", "strike", "dstrike"))
FONT_ATTRS = tuple(w_tag(a) for a in ("ascii", "hAnsi", "cs", "eastAsia"))
# Run properties a sender uses to show the chosen option when the boxes are left empty.
B, U, HIGHLIGHT, SHD, RSTYLE = (w_tag(t) for t in ("b", "u", "highlight", "shd", "rStyle"))
EMPHASIS = frozenset((B, U, HIGHLIGHT, SHD, RSTYLE))
_NO_FILL = {"", "auto", "ffffff", "none"}


def _emphasised(prop: etree._Element) -> bool:
    """Does this run property make the text stand out (bold, underline, highlight, a
    shaded background, or a character style such as "Strong")?"""
    tag = prop.tag
    if tag == B:
        return _on(prop)
    if tag in (U, HIGHLIGHT):
        return (prop.get(w_tag("val")) or "single").lower() not in _FALSE | {"none"}
    if tag == SHD:
        return (prop.get(w_tag("fill")) or "").lower() not in _NO_FILL
    style = (prop.get(w_tag("val")) or "").lower()
    return any(s in style for s in ("strong", "emphasis", "bold", "highlight"))


def _on(el: etree._Element | None, attr: str = w_tag("val")) -> bool:
    """A Word on/off property: present and not switched off."""
    return el is not None and (el.get(attr) or "1").lower() not in _FALSE


class BodyWalker:
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
                sym_font = ch.get(w_tag("font"))
                code = ch.get(w_tag("char"), "")
                try:
                    char = chr(int(code, 16))
                except ValueError:
                    continue
                out.append(
                    map_symbol_text(sym_font if symbol_font(sym_font) else "wingdings", char)
                )


_FLD_CHAR_TYPE = w_tag("fldCharType")


def _legacy_field(fld: etree._Element) -> str:
    """Text shown by a legacy form field that has no result runs (checkbox, drop-down)."""
    ff = _child(fld, _FF_DATA)
    if ff is None:
        return ""
    box = _child(ff, _CHECK_BOX)
    if box is not None:
        # An explicit w:checked wins; otherwise the field shows its default state.
        state = _child(box, _CHECKED)
        if state is None:
            state = _child(box, _DEFAULT)
        return CHECKED if _on(state) else UNCHECKED
    dd = _child(ff, _DD_LIST)
    if dd is not None:
        entries = [e.get(_VAL, "") for e in dd if e.tag == _LIST_ENTRY]
        res = _child(dd, _RESULT)
        raw = (res.get(_VAL) or "") if res is not None else ""
        idx = int(raw) if raw.isdigit() and len(raw) < 4 else 0
        return entries[idx] if 0 <= idx < len(entries) else ""
    return ""


_FF_DATA, _CHECK_BOX, _CHECKED, _DEFAULT = (
    w_tag(t) for t in ("ffData", "checkBox", "checked", "default")
)
_DD_LIST, _LIST_ENTRY, _RESULT = (w_tag(t) for t in ("ddList", "listEntry", "result"))


def _content(sdt: etree._Element) -> etree._Element:
    c = _child(sdt, SDT_CONTENT)
    return c if c is not None else etree.Element(SDT_CONTENT)


_SHOWING_PLACEHOLDER = w_tag("showingPlcHdr")


def _placeholder(sdt: etree._Element) -> bool:
    """A content control still showing its placeholder holds no answer."""
    pr = _child(sdt, SDT_PR)
    return pr is not None and _on(_child(pr, _SHOWING_PLACEHOLDER))


_ROW_WRAPPERS = frozenset(w_tag(t) for t in ("customXml", "ins"))


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


_CUSTOM_XML = w_tag("customXml")


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
_TC_PR, _GRID_SPAN, _V_MERGE = w_tag("tcPr"), w_tag("gridSpan"), w_tag("vMerge")


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


_VAL = w_tag("val")


def _child(el: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this tag. Properties come first, so this is a step or two,
    cheaper than lxml's `find` (which compiles a path) on the thousands of calls a form
    takes."""
    for ch in el:
        if ch.tag == tag:
            return ch
    return None
