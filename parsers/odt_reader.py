"""Read an OpenDocument text file (.odt, as LibreOffice saves the form) into a Layout."""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from parsers.docx_reader import SCANNED
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
from parsers.zip_guard import DEFAULT_LIMITS, UnsafeZip, ZipLimits, check_zip, read_member

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
LOEXT = "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0"
FIELD = "urn:openoffice:names:experimental:ooo-ms-interop:xmlns:field:1.0"
ODT_TYPES = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.text-template",
)

DAMAGED = "the OpenDocument (.odt) file is damaged and cannot be opened"
MACROS = "the OpenDocument (.odt) file contains macros; please save it without them or as .docx"
LOCKED = "the OpenDocument file is password-protected; please send it without a password"


def _t(tag: str) -> str:
    return f"{{{TEXT}}}{tag}"


def _tb(tag: str) -> str:
    return f"{{{TABLE}}}{tag}"


P, H, SPAN, S, TAB, LINE_BREAK = map(_t, ("p", "h", "span", "s", "tab", "line-break"))
TBL, ROW, CELL, COVERED = map(_tb, ("table", "table-row", "table-cell", "covered-table-cell"))
ROW_GROUPS = frozenset(map(_tb, ("table-header-rows", "table-rows", "table-row-group")))
# Containers whose paragraphs are read as if they stood in their place.
BLOCK_WRAPPERS = frozenset(map(_t, ("section", "list", "list-item", "list-header", "index-body")))
BLOCK_WRAPPERS |= {_t(t) for t in ("table-of-content", "alphabetical-index", "illustration-index")}
# Inline elements whose text is what the page shows: styling, links, and fields that
# display a value (an input field is what LibreOffice makes of a Word text control).
INLINE_WRAPPERS = frozenset(
    map(_t, ("a", "meta", "text-input", "date", "time", "drop-down", "ruby", "ruby-base"))
) | {_t(t) for t in ("variable-get", "user-field-get", "expression", "conditional-text")}
CONTROL = f"{{{LOEXT}}}content-control"
FIELDMARK = f"{{{FIELD}}}fieldmark"
STYLE_NAME = _t("style-name")
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_NO_FILL = ("transparent", "#ffffff", "")
# text:s c="..." is a count the file states; a page never shows more spaces than this.
MAX_SPACES = 100


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: the XML is untrusted.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_odt(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> Layout | Rejection:
    """The document's blocks, or why it cannot be read. Never raises."""
    try:
        return _read(data, limits)
    except (UnsafeZip, OverLimit) as exc:
        return Rejection("rejected", str(exc))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, etree.XMLSyntaxError, KeyError):
        return Rejection("rejected", DAMAGED)
    except NotImplementedError:
        return Rejection("rejected", "the OpenDocument file uses a compression we cannot open")
    except Exception:  # noqa: BLE001 - a bad upload must never stop the pipeline
        return Rejection("rejected", "the OpenDocument (.odt) file could not be read")


def _read(data: bytes, limits: ZipLimits) -> Layout | Rejection:
    zf = zipfile.ZipFile(io.BytesIO(data))
    check_zip(zf, limits)
    names = zf.namelist()
    if "mimetype" not in names or "content.xml" not in names:
        return Rejection("not_a_form", "not an OpenDocument text file")
    kind = _part(zf, "mimetype", 256, limits).decode("ascii", "replace").strip()
    if kind not in ODT_TYPES:
        return Rejection("not_a_form", "an OpenDocument file that is not a text document")
    # LibreOffice keeps Basic macros under Basic/ and script files under Scripts/.
    if any(n.startswith(("Basic/", "Scripts/")) for n in names):
        return Rejection("rejected", MACROS)
    if "META-INF/manifest.xml" in names:
        manifest = _part(zf, "META-INF/manifest.xml", MAX_DOCX_PACKAGE_PART_BYTES, limits)
        # A password-protected .odt is a normal zip whose parts are encrypted.
        if b"encryption-data" in manifest:
            return Rejection("rejected", LOCKED)
    content = _part(zf, "content.xml", MAX_DOCX_MAIN_PART_BYTES, limits)
    root = etree.fromstring(content, _parser())
    body = root.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    blocks = _Walker(_styles(root)).blocks(body) if body is not None else []
    layout = Layout("odt", blocks)
    if not layout.has_text() and any(n.startswith("Pictures/") for n in names):
        return Rejection("rejected", SCANNED)
    return layout


def _part(zf: zipfile.ZipFile, name: str, cap: int, limits: ZipLimits) -> bytes:
    """One member's bytes, refused unread when the zip says it is larger than a form's."""
    cap = min(cap, limits.max_member_bytes)
    size = zf.getinfo(name).file_size
    if size > cap:
        # lxml needs about 20 bytes of memory a byte of XML: checked before inflating.
        raise OverLimit(
            "the OpenDocument file holds far more than a referral form could "
            f"({size / MIB:.1f} MB in one part)"
        )
    return read_member(zf, name, cap)


def _styles(root: etree._Element) -> dict[str, bool]:
    """Automatic text styles that matter, as the Word reader treats run properties:
    False for hidden or struck-through text (not what the sender meant), True for
    emphasis (bold, underline, a highlight: a choice may be shown by it alone)."""
    out: dict[str, bool] = {}
    styles = root.find(f"{{{OFFICE}}}automatic-styles")
    for style in styles if styles is not None else ():
        props = style.find(f"{{{STYLE}}}text-properties")
        if props is None:
            continue
        name = style.get(f"{{{STYLE}}}name", "")
        if props.get(f"{{{STYLE}}}text-line-through-style", "none") != "none" or (
            props.get(_t("display")) == "none"
        ):
            out[name] = False
        elif (
            props.get(f"{{{FO}}}font-weight", "normal") in ("bold", "600", "700", "800", "900")
            or props.get(f"{{{STYLE}}}text-underline-style", "none") != "none"
            or props.get(f"{{{FO}}}background-color", "").lower() not in _NO_FILL
            or _loud_name(style.get(f"{{{STYLE}}}parent-style-name", ""))
        ):
            out[name] = True
    return out


def _loud_name(style: str) -> bool:
    """A character style such as "Strong Emphasis" (as the Word reader judges w:rStyle)."""
    return any(s in style.lower() for s in ("strong", "emphasis", "bold", "highlight"))


def _int(value: str | None, default: int = 1) -> int:
    return int(value) if value is not None and value.isdigit() else default


class _Walker:
    """Walks office:text in document order, numbering tables for provenance."""

    def __init__(self, styles: dict[str, bool]) -> None:
        self.styles = styles
        self.tables = 0
        self.paras = 0
        self.seen = 0  # every paragraph read, in the body and in cells

    def blocks(self, parent: etree._Element) -> list[Block]:
        # text:tracked-changes holds deleted text, office:forms the control models:
        # neither is on the page, so only known containers are entered.
        out: list[Block] = []
        for ch in parent:
            if ch.tag in (P, H):
                self.paras += 1
                out.append(Para(self.para_text(ch), f"odt paragraph {self.paras}"))
            elif ch.tag == TBL:
                out.extend(self.table(ch))
            elif ch.tag in BLOCK_WRAPPERS:
                out.extend(self.blocks(ch))
        return out

    def table(self, tbl: etree._Element) -> list[Block]:
        rows = _rows(tbl)
        if len(rows) > MAX_TABLE_ROWS:
            raise OverLimit(
                f"a table in the OpenDocument file has over {MAX_TABLE_ROWS} rows, more "
                "than a referral form's tables could"
            )
        if next(tbl.iterdescendants(TBL), None) is not None:
            # A table used only for layout (tables inside it): read what it holds.
            out: list[Block] = []
            for tr in rows:
                for tc in tr:
                    if tc.tag == CELL:
                        out.extend(self.blocks(tc))
            return out
        self.tables += 1
        n = self.tables
        # One Cell per column, as the Word reader gives: a merged cell is the same Cell
        # in every column and row it covers (its covered-table-cell places), so a grid's
        # columns line up under their headers. column -> (last row covered, the cell).
        down: dict[int, tuple[int, Cell]] = {}
        table_rows: list[list[Cell]] = []
        for r, tr in enumerate(rows, start=1):
            cells: list[Cell] = []
            # number-columns-repeated is not followed: a Writer table writes each cell,
            # and a stated count could multiply one cell a millionfold.
            for c, tc in enumerate((x for x in tr if x.tag in (CELL, COVERED)), start=1):
                where = f"odt table {n} row {r} cell {c}"
                covering = down.get(c)
                if tc.tag == COVERED and covering is not None and covering[0] >= r:
                    cells.append(covering[1])
                    continue
                cell = Cell(tuple(Para(t, where) for t in self.texts(tc)), where)
                last = r + min(_int(tc.get(_tb("number-rows-spanned"))), len(rows)) - 1
                # Capped: the span is the sender's number, and no table is this wide.
                for col in range(c, c + min(_int(tc.get(_tb("number-columns-spanned"))), 63)):
                    down[col] = (last, cell)
                cells.append(cell)
            table_rows.append(cells)
        return [Table(table_rows, f"odt table {n}")]

    def texts(self, parent: etree._Element) -> list[str]:
        """A cell's paragraphs (lists and sections in it flattened)."""
        out: list[str] = []
        for ch in parent:
            if ch.tag in (P, H):
                out.append(self.para_text(ch))
            elif ch.tag in BLOCK_WRAPPERS:
                out.extend(self.texts(ch))
        return out

    def para_text(self, p: etree._Element) -> str:
        self.seen += 1
        if self.seen > MAX_PARAGRAPHS:
            raise OverLimit(
                "the OpenDocument file is far longer than a referral form could be "
                f"(over {MAX_PARAGRAPHS:,} paragraphs)"
            )
        out: list[str] = []
        self._inline(p, out)
        return "".join(out)

    def _inline(self, parent: etree._Element, out: list[str]) -> None:
        # Spaces and newlines in the XML collapse to one space (ODF 1.2, 6.1.2); the
        # spaces a sender typed are text:s. Notes, comments (office:annotation),
        # frames and change marks are not answers; their tails are.
        out.append(_WHITESPACE.sub(" ", parent.text or ""))
        for ch in parent:
            tag = ch.tag
            if tag == SPAN:
                self._span(ch, out)
            elif tag in INLINE_WRAPPERS:
                self._inline(ch, out)
            elif tag == S:
                out.append(" " * min(_int(ch.get(_t("c"))), MAX_SPACES))
            elif tag == TAB:
                out.append("\t")
            elif tag == LINE_BREAK:
                out.append("\n")
            elif tag == CONTROL:
                self._control(ch, out)
            elif tag == FIELDMARK:
                out.append(_fieldmark(ch))
            out.append(_WHITESPACE.sub(" ", ch.tail or ""))

    def _span(self, span: etree._Element, out: list[str]) -> None:
        name = span.get(STYLE_NAME, "")
        kind = self.styles.get(name)
        if kind is False:  # hidden or struck through
            return
        inner: list[str] = []
        self._inline(span, inner)
        text = "".join(inner)
        loud = (kind or _loud_name(name)) and text.strip()
        out.append(f"{EMPH_ON}{text}{EMPH_OFF}" if loud else text)

    def _control(self, control: etree._Element, out: list[str]) -> None:
        """A content control (what LibreOffice makes of Word's): a check box shows its
        state; one still showing its placeholder holds no answer."""
        if control.get(f"{{{LOEXT}}}checkbox") == "true":
            out.append(CHECKED if control.get(f"{{{LOEXT}}}checked") == "true" else UNCHECKED)
        elif control.get(f"{{{LOEXT}}}showing-place-holder") != "true":
            self._inline(control, out)


def _fieldmark(mark: etree._Element) -> str:
    """A Word legacy check box or drop-down as LibreOffice keeps it: the state is in
    its parameters (a legacy text field's value is ordinary text between marks)."""
    kind = mark.get(f"{{{FIELD}}}type", "")
    params = [(p.get(f"{{{FIELD}}}name"), p.get(f"{{{FIELD}}}value", "")) for p in mark]
    if kind.endswith("FORMCHECKBOX"):
        return CHECKED if ("Checkbox_Checked", "true") in params else UNCHECKED
    if kind.endswith("FORMDROPDOWN"):
        entries = [v for k, v in params if k == "Dropdown_ListEntry"]
        picked = _int(next((v for k, v in params if k == "Dropdown_Selected"), None), 0)
        return entries[picked] if picked < len(entries) else ""
    return ""


def _rows(tbl: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ch in tbl:
        if ch.tag == ROW:
            out.append(ch)
        elif ch.tag in ROW_GROUPS:
            out.extend(_rows(ch))
        if len(out) > MAX_TABLE_ROWS:
            break  # enough to refuse the table; the rest is never walked
    return out
