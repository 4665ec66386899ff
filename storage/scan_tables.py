"""Tables of referrals read from scans: the pages each was read from, to show beside it."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ReferralScanPage(SQLModel, table=True):
    """One page of a scanned form, in the form's page order: the stored file it is in and
    how the reader turned it upright, so the officer's check page shows what was read."""

    __tablename__ = "referral_scan_page"
    __table_args__ = (UniqueConstraint("referral_id", "position", name="uq_referral_scan_page"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    position: int = Field(description="Index in the form's pages (a ScanBox's page)")
    attachment_id: int = Field(foreign_key="attachment.id", description="The file it is in")
    file: int = Field(description="Index of that file among the form's scanned files")
    page: int = Field(description="Page within that file, 0-based")
    turn: int = Field(description="Degrees turned clockwise to stand it upright")
    skew: float = Field(default=0.0, description="Then degrees of deskewing")
