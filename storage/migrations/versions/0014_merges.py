"""merges: a duplicate referral merged into the one kept (duplicate_of_id and the merge record)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_referral_duplicate_of_id"), ["duplicate_of_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_referral_duplicate_of_id", "referral", ["duplicate_of_id"], ["id"]
        )
    # A row per merge rather than columns only: an undo keeps the row (undone_at/by/reason),
    # and it lists what the merge added, so an undo takes back exactly that.
    op.create_table(
        "referral_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("merged_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("merged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("undone_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("undo_reason", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["kept_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["duplicate_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_referral_merge_kept_id"), "referral_merge", ["kept_id"], unique=False)
    op.create_index(
        op.f("ix_referral_merge_duplicate_id"), "referral_merge", ["duplicate_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_merge_duplicate_id"), table_name="referral_merge")
    op.drop_index(op.f("ix_referral_merge_kept_id"), table_name="referral_merge")
    op.drop_table("referral_merge")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint("fk_referral_duplicate_of_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_referral_duplicate_of_id"))
        batch_op.drop_column("duplicate_of_id")
