"""Tables of SIRG's own work on a referral: statutory milestones, meetings, decisions, merges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.crypto import SealedJSON


class SirgMeeting(SQLModel, table=True):
    """A SIRG meeting: the day it sits, and where and when (free text, no personal data)."""

    __tablename__ = "sirg_meeting"

    id: int | None = Field(default=None, primary_key=True)
    meeting_date: date = Field(index=True)
    time_note: str | None = Field(default=None, max_length=100, description="e.g. 10:00–12:00")
    place_note: str | None = Field(default=None, max_length=300, description="room or call")
    created_by: str = Field(max_length=100)
    created_at: datetime


class AgendaItem(SQLModel, table=True):
    """A referral on a meeting's agenda, in order (a referral is on an agenda once)."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "referral_id", name="uq_agenda_item"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="sirg_meeting.id", index=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    position: int = Field(description="Order on the agenda, from 1")
    added_by: str = Field(max_length=100)
    added_at: datetime


class MeetingDecision(SQLModel, table=True):
    """A decision the chair recorded in a meeting; the referral's status follows it. The
    reasons are sealed like case notes (they may name people); an undo keeps the row."""

    __tablename__ = "meeting_decision"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="sirg_meeting.id", index=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    decision: str = Field(max_length=30, description="the decision's status code")
    reason: Any = Field(sa_column=Column(SealedJSON, nullable=True))
    decided_by: str = Field(max_length=100)
    decided_at: datetime
    undone_by: str | None = Field(default=None, max_length=100)
    undone_at: datetime | None = None
    undo_reason: Any = Field(default=None, sa_column=Column(SealedJSON, nullable=True))


class ReferralMerge(SQLModel, table=True):
    """A duplicate referral merged into the one kept: what the merge changed, so an admin
    can undo it. The reasons are sealed like case notes (they may name people)."""

    __tablename__ = "referral_merge"

    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(foreign_key="referral.id", index=True)
    duplicate_id: int = Field(foreign_key="referral.id", index=True)
    reason: Any = Field(sa_column=Column(SealedJSON, nullable=True))
    before: dict[str, Any] = Field(
        sa_column=Column(JSON, nullable=False),
        description="The kept referral's clock and urgency, and the duplicate's status, "
        "before the merge (dates and codes only)",
    )
    links: list[int] = Field(
        sa_column=Column(JSON, nullable=False), description="referral_message rows it added"
    )
    milestones: list[int] = Field(
        sa_column=Column(JSON, nullable=False), description="referral_milestone rows it copied"
    )
    merged_by: str = Field(max_length=100)
    merged_at: datetime
    undone_by: str | None = Field(default=None, max_length=100)
    undone_at: datetime | None = None
    undo_reason: Any = Field(default=None, sa_column=Column(SealedJSON, nullable=True))


class ReferralMilestone(SQLModel, table=True):
    """A statutory milestone reached (National Panel or Ofsted notified, Rapid Review
    completed). Rows, not referral columns: a correction clears the row it replaces and
    keeps it, so what was first recorded, and why it changed, stays on file."""

    __tablename__ = "referral_milestone"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=30, description="a storage.milestones.Milestone")
    on_date: date = Field(description="The day it happened (UK), which stops its clock")
    notified_by: str | None = Field(
        default=None, max_length=200, description="Who notified or completed it, as typed"
    )
    panel_reference: str | None = Field(
        default=None, max_length=50, description="The Panel's reference (notifications only)"
    )
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime
    cleared_at: datetime | None = Field(default=None, description="Replaced or withdrawn")
    cleared_by: str | None = Field(default=None, max_length=100)
    clear_reason: Any = Field(default=None, sa_column=Column(SealedJSON, nullable=True))
