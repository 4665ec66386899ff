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

from parsers.docx_body import BodyWalker, w_tag
from parsers.layout import Layout, Rejection
from parsers.limits import MAX_DOCX_MAIN_PART_BYTES, MAX_DOCX_PACKAGE_PART_BYTES, MIB, OverLimit
from parsers.zip_guard import DEFAULT_LIMITS, UnsafeZip, ZipLimits, check_zip, read_member

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
    body = root.find(w_tag("body"))
    blocks = BodyWalker().blocks(body) if body is not None else []
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
