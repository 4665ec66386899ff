"""scan pages: the pages a referral read from a scan came from, for the officer's check

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A table rather than more JSON in the referral's provenance: a page points at its own
    # stored file (photos of one form come as several attachments, while a referral holds
    # one), and it is geometry only, nothing personal to seal or purge.
    op.create_table(
        "referral_scan_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("skew", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "position", name="uq_referral_scan_page"),
    )
    op.create_index(
        op.f("ix_referral_scan_page_referral_id"),
        "referral_scan_page",
        ["referral_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_scan_page_referral_id"), table_name="referral_scan_page")
    op.drop_table("referral_scan_page")
