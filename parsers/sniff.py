"""What kind of file this is, from its first bytes (names and MIME types are unreliable)."""

from __future__ import annotations

import io
import zipfile
from typing import Literal

Kind = Literal[
    "empty", "pdf", "docx", "zip", "odt", "ole-doc", "ole-encrypted", "ole-msg", "ole-other",
    "image", "rtf", "text", "unknown",
]  # fmt: skip

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def sniff(data: bytes) -> Kind:
    """The file's kind, judged by content only."""
    if not data.strip():
        return "empty"
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _zip_kind(data)
    if _is_image(head):
        return "image"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if _looks_like_text(head):
        return "text"
    return "unknown"


def _ole_kind(data: bytes) -> Kind:
    """Old Office container: a .doc, a password-protected .docx, an Outlook .msg, or other."""
    # Stream names sit in the directory as UTF-16; a bounded scan is enough to tell.
    window = data[: 4 * 1024 * 1024]
    if _utf16("EncryptionInfo") in window or _utf16("EncryptedPackage") in window:
        return "ole-encrypted"
    if _utf16("WordDocument") in window:
        return "ole-doc"
    if _utf16("__substg1.0_") in window or _utf16("__properties_version1.0") in window:
        return "ole-msg"
    return "ole-other"


def _zip_kind(data: bytes) -> Kind:
    """Tell a Word package from OpenDocument and plain zip folders, by member names only."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except Exception:  # noqa: BLE001 - damaged zips go to the Word reader to be reported
        return "docx"
    if "[Content_Types].xml" in names:
        return "docx"
    if "mimetype" in names and "content.xml" in names:
        return "odt"
    return "zip"


def _is_image(head: bytes) -> bool:
    return (
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM"))
        or head.startswith((b"II*\x00", b"MM\x00*"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif")
    )


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut multi-byte character at the end of the sample is not a reason to refuse.
        try:
            head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
