"""The OpenDocument reader: bad files refused with a reason, never an exception, and the
text of a small real .odt read as the page shows it."""

from __future__ import annotations

import io
import zipfile

from parsers.layout import CHECKED, EMPH_OFF, EMPH_ON, UNCHECKED, Layout, Para, Rejection, Table
from parsers.limits import MAX_TABLE_ROWS
from parsers.odt_reader import read_odt

ODT = "application/vnd.oasis.opendocument.text"
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:loext="urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0" '
    'xmlns:field="urn:openoffice:names:experimental:ooo-ms-interop:xmlns:field:1.0"'
)


def odt(
    body: str, mimetype: str = ODT, styles: str = "", extra: dict[str, bytes] | None = None
) -> bytes:
    """A small .odt zip whose office:text is `body`."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}>'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def rejection(data: bytes) -> Rejection:
    result = read_odt(data)
    assert isinstance(result, Rejection), result
    return result


def layout(data: bytes) -> Layout:
    result = read_odt(data)
    assert isinstance(result, Layout), result
    return result


def test_damaged_zip_is_refused() -> None:
    whole = odt("<text:p>Hello</text:p>")
    assert "damaged" in rejection(whole[: len(whole) // 2]).reason
    assert "damaged" in rejection(b"PK\x03\x04 not really a zip").reason


def test_damaged_xml_is_refused() -> None:
    assert "damaged" in rejection(odt("<text:p>unclosed")).reason


def test_not_opendocument_text() -> None:
    sheet = rejection(odt("<text:p>1</text:p>", "application/vnd.oasis.opendocument.spreadsheet"))
    assert sheet.outcome == "not_a_form" and "not a text document" in sheet.reason
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert rejection(buf.getvalue()).outcome == "not_a_form"


def test_table_over_the_row_limit_is_refused() -> None:
    rows = "<table:table-row><table:table-cell><text:p>x</text:p></table:table-cell>"
    rows += "</table:table-row>"
    body = f"<table:table>{rows * (MAX_TABLE_ROWS + 1)}</table:table>"
    result = rejection(odt(body))
    assert result.outcome == "rejected" and str(MAX_TABLE_ROWS) in result.reason
    # Rows inside header-row groups count too.
    grouped = f"<table:table><table:table-header-rows>{rows * (MAX_TABLE_ROWS + 1)}"
    assert "rows" in rejection(odt(grouped + "</table:table-header-rows></table:table>")).reason


def test_macros_and_passwords_are_refused() -> None:
    macro = odt("<text:p>x</text:p>", extra={"Basic/Standard/Module1.xml": b"<x/>"})
    assert "macros" in rejection(macro).reason
    manifest = b'<manifest:manifest><manifest:encryption-data manifest:checksum="x"/>'
    manifest += b"</manifest:manifest>"
    locked = odt("<text:p>x</text:p>", extra={"META-INF/manifest.xml": manifest})
    assert "password" in rejection(locked).reason


def test_entities_are_not_expanded() -> None:
    content = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f"<office:document-content {NS}><office:body><office:text><text:p>&e;</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", ODT)
        zf.writestr("content.xml", content)
    result = read_odt(buf.getvalue())
    assert isinstance(result, Rejection) or "root" not in str(result.blocks)


def test_text_as_the_page_shows_it() -> None:
    styles = (
        '<style:style style:name="T1" style:family="text"><style:text-properties '
        'style:text-line-through-style="solid"/></style:style>'
        '<style:style style:name="T2" style:family="text"><style:text-properties '
        'fo:font-weight="bold"/></style:style>'
    )
    body = (
        # Deleted text sits in text:tracked-changes (not read); inserted text is in place.
        "<text:tracked-changes><text:changed-region><text:deletion><text:p>gone</text:p>"
        "</text:deletion></text:changed-region></text:tracked-changes>"
        '<text:p>A<text:s text:c="2"/>B<text:tab/>C<text:line-break/>D'
        '<text:span text:style-name="T1">struck</text:span><text:change text:change-id="c1"/>'
        '<text:change-start text:change-id="c2"/>E<text:change-end text:change-id="c2"/>'
        '<text:s text:c="999999999"/></text:p>'
        '<text:p><loext:content-control loext:checkbox="true" loext:checked="true">'
        "<text:span>☒</text:span></loext:content-control> Yes <loext:content-control "
        'loext:checkbox="true"><text:span>☐</text:span></loext:content-control> '
        '<text:span text:style-name="T2">No</text:span> '
        '<field:fieldmark field:type="vnd.oasis.opendocument.field.FORMCHECKBOX">'
        '<field:param field:name="Checkbox_Checked" field:value="true"/></field:fieldmark>'
        '<loext:content-control loext:showing-place-holder="true">Click here'
        "</loext:content-control></text:p>"
    )
    first, second = layout(odt(body, styles=styles)).blocks
    assert isinstance(first, Para) and isinstance(second, Para)
    assert first.text == "A  B\tC\nDE" + " " * 100
    assert second.text == f"{CHECKED} Yes {UNCHECKED} No {CHECKED}"
    assert f"{EMPH_ON}No{EMPH_OFF}" in second.marked
    assert second.where == "odt paragraph 2"


def test_merged_cells_fill_every_place_they_cover() -> None:
    body = (
        "<table:table><table:table-row>"
        '<table:table-cell table:number-columns-spanned="2"><text:p>Head</text:p>'
        "</table:table-cell><table:covered-table-cell/></table:table-row>"
        '<table:table-row><table:table-cell table:number-rows-spanned="2"><text:p>Label'
        "</text:p></table:table-cell><table:table-cell><text:p>1</text:p></table:table-cell>"
        "</table:table-row><table:table-row><table:covered-table-cell/><table:table-cell>"
        "<text:p>2</text:p></table:table-cell></table:table-row></table:table>"
    )
    (table,) = layout(odt(body)).blocks
    assert isinstance(table, Table)
    assert [[c.text for c in row] for row in table.rows] == [
        ["Head", "Head"],
        ["Label", "1"],
        ["Label", "2"],
    ]
    assert table.rows[2][1].where == "odt table 1 row 3 cell 2"
