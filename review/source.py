"""Where a referral's values came from: its attached form, and the part of it one value
was read from.

The referral page shows the whole form beside the record; the correction page shows only
the few lines around the one value being corrected (its table rows, or its paragraph and
the ones either side), so the officer can check the original without leaving the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from parsers.sniff import sniff
from review.document import DocBlock, DocCell, DocView, document_view
from storage.db import session_scope
from storage.held_mail import MailText, read_mail_text
from storage.messages import attachment_bytes
from storage.tables import Attachment, Referral

# Rows of a table shown either side of the source cell: a form's label is usually in the
# same row or the one above, and a whole section's table would hide the cell in it.
ROWS_AROUND = 2
EMAIL_TYPE = "message/rfc822"  # the attachment row of a referral keyed in from its email


def attachment_meta(db: Session, attachment_id: int) -> dict[str, Any] | None:
    """The attachment's details without its content (which may be megabytes)."""
    # Four columns: sqlmodel's select() is typed for at most four (the id is known).
    row = db.exec(
        select(
            Attachment.filename, Attachment.size, Attachment.sha256, Attachment.content_type
        ).where(Attachment.id == attachment_id)
    ).first()
    if row is None:
        return None
    return {
        "id": attachment_id,
        "filename": row[0],
        "size": row[1],
        "sha256": row[2],
        "content_type": row[3],
    }


def attachment_content(engine: Engine, attachment_id: int) -> bytes:
    """The attachment as received (decrypted when stored encrypted)."""
    with session_scope(engine) as db:
        return attachment_bytes(db, attachment_id)


@dataclass(frozen=True)
class Original:
    """A referral's attached form as the pages can show it."""

    attachment: dict[str, Any] | None  # None when the attachment row is gone
    doc: DocView | None  # the form as text, when a reader can lay it out
    pdf_only: bool  # a PDF no reader could use (a scan keyed in by hand): shown as is


def original(engine: Engine, referral: Referral) -> Original:
    """The referral's form: as text with the places answers came from marked, or as a
    PDF to show in a frame; neither once the referral is purged."""
    with session_scope(engine) as db:
        attachment = attachment_meta(db, referral.attachment_id)
    if attachment is None or referral.purged_at is not None:
        return Original(attachment, None, False)
    found = {str(p["where"]) for p in referral.provenance.values() if p.get("where")}
    doc = document_view(
        attachment["sha256"],
        lambda: attachment_content(engine, referral.attachment_id),
        found,
    )
    pdf_only = doc is None and sniff(attachment_content(engine, referral.attachment_id)) == "pdf"
    return Original(attachment, doc, pdf_only)


@dataclass(frozen=True)
class Excerpt:
    """The part of the form around one value's source: table rows or paragraphs.

    `target` is the id of the source's element in the referral page's document pane (to
    link there), and marks the source cell or paragraph among those shown."""

    kind: str  # "docx" or "pdf"
    target: str
    rows: list[list[DocCell]]  # a table's rows around the cell ([] for paragraphs)
    first_row: int  # the number (from 1) of the first row shown
    row_count: int  # rows in the whole table
    paras: list[DocBlock]  # the paragraph and its neighbours ([] for a table)


def excerpt(doc: DocView, where: str | None) -> Excerpt | None:
    """The lines around the place a value was read from; None when the document does
    not show that place (the value was keyed in by hand, or not found at all)."""
    target = doc.target(where)
    if target is None:
        return None
    blocks = doc.blocks
    for i, block in enumerate(blocks):
        if block.is_table:
            for r, row in enumerate(block.rows):
                if any(c.id == target for c in row):
                    start = max(0, r - ROWS_AROUND)
                    shown = block.rows[start : r + ROWS_AROUND + 1]
                    return Excerpt(doc.kind, target, shown, start + 1, len(block.rows), [])
        elif block.id == target:
            # Only paragraphs next to it: a neighbouring table belongs to another answer.
            before = [b for b in blocks[max(0, i - 1) : i] if not b.is_table]
            after = [b for b in blocks[i + 1 : i + 2] if not b.is_table]
            return Excerpt(doc.kind, target, [], 0, 0, [*before, block, *after])
    return None


@dataclass(frozen=True)
class ValueSource:
    """What the correction page shows of where one value came from."""

    where: str  # the place it was read from ("" when nothing was read)
    excerpt: Excerpt | None  # the lines around that place, when the form shows as text
    pdf: bool  # the form is a PDF the browser can show (linked, to read it as received)
    attachment: dict[str, Any] | None
    mail: MailText | None = None  # keyed in from the email itself: its text, whole


def value_source(engine: Engine, referral: Referral, key: str) -> ValueSource:
    """Where the value under `key` was read from, with the lines of the form around it."""
    prov = referral.provenance.get(key) or {}
    where = str(prov.get("where") or "")
    shown = original(engine, referral)
    doc = shown.doc
    attachment = shown.attachment if referral.purged_at is None else None
    mail = None
    if attachment is not None and attachment["content_type"] == EMAIL_TYPE:
        # Keyed in from a referral written in the email (storage.referrals.email_attachment):
        # the email is the original, so its text is what the value is checked against.
        with session_scope(engine) as db:
            mail = read_mail_text(db, referral.message_id)
    return ValueSource(
        where=where,
        excerpt=excerpt(doc, where) if doc is not None and where else None,
        pdf=shown.pdf_only or (doc is not None and doc.kind == "pdf"),
        attachment=attachment,
        mail=mail,
    )
