"""milestones: National Panel notified, Ofsted notified, Rapid Review completed, with history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A table of rows rather than columns on referral: a correction keeps the row it replaced
    # (cleared_at/cleared_by/clear_reason), so what the Panel was told and when stays on file.
    op.create_table(
        "referral_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("notified_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("panel_reference", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("cleared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cleared_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("clear_reason", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_referral_milestone_referral_id"),
        "referral_milestone",
        ["referral_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_milestone_referral_id"), table_name="referral_milestone")
    op.drop_table("referral_milestone")
