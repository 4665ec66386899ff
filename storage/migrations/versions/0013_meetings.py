"""meetings: SIRG meetings, their agendas, and the decisions recorded in them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sirg_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("time_note", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("place_note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_sirg_meeting_meeting_date"), "sirg_meeting", ["meeting_date"], unique=False
    )
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["sirg_meeting.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "referral_id", name="uq_agenda_item"),
    )
    op.create_index(op.f("ix_agenda_item_meeting_id"), "agenda_item", ["meeting_id"], unique=False)
    op.create_index(
        op.f("ix_agenda_item_referral_id"), "agenda_item", ["referral_id"], unique=False
    )
    op.create_table(
        "meeting_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("undone_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("undo_reason", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["sirg_meeting.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_meeting_decision_meeting_id"), "meeting_decision", ["meeting_id"], unique=False
    )
    op.create_index(
        op.f("ix_meeting_decision_referral_id"),
        "meeting_decision",
        ["referral_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_decision_referral_id"), table_name="meeting_decision")
    op.drop_index(op.f("ix_meeting_decision_meeting_id"), table_name="meeting_decision")
    op.drop_table("meeting_decision")
    op.drop_index(op.f("ix_agenda_item_referral_id"), table_name="agenda_item")
    op.drop_index(op.f("ix_agenda_item_meeting_id"), table_name="agenda_item")
    op.drop_table("agenda_item")
    op.drop_index(op.f("ix_sirg_meeting_meeting_date"), table_name="sirg_meeting")
    op.drop_table("sirg_meeting")
