"""The pages a scanned referral was read from: stored with it, found again for its check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from parsers.record import ScanPage
from storage.scan_tables import ReferralScanPage

_GRID_KEY = re.compile(r"([a-z_]+)\[(\d+)\]\.([a-z_]+)")


def record_key(problem_key: str) -> str:
    """The record's (and provenance's) key for a reader's problem key: the reader numbers
    a table's rows from 1, as the sender sees them ("household[1].dob" is the first row);
    the record counts them from 0."""
    m = _GRID_KEY.fullmatch(problem_key)
    if m is None or int(m[2]) < 1:
        return problem_key
    return f"{m[1]}[{int(m[2]) - 1}].{m[3]}"


@dataclass(frozen=True)
class StoredPage:
    """A page of a scanned form and the stored file (attachment row) it is in."""

    attachment_id: int
    page: ScanPage


def save_pages(session: Session, referral_id: int, pages: tuple[StoredPage, ...]) -> None:
    """Keep a new referral's scan pages, in the form's page order."""
    for position, stored in enumerate(pages):
        session.add(
            ReferralScanPage(
                referral_id=referral_id,
                position=position,
                attachment_id=stored.attachment_id,
                file=stored.page.file,
                page=stored.page.page,
                turn=stored.page.turn,
                skew=stored.page.skew,
            )
        )


def pages_for(session: Session, referral_id: int) -> list[StoredPage]:
    """A referral's scan pages in the form's order (a ScanBox's `page` indexes this)."""
    rows = session.exec(
        select(ReferralScanPage)
        .where(ReferralScanPage.referral_id == referral_id)
        .order_by(col(ReferralScanPage.position))
    ).all()
    return [StoredPage(r.attachment_id, ScanPage(r.file, r.page, r.turn, r.skew)) for r in rows]
