"""message dismissal: held mail an officer found is not a referral, with who and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_dismissal",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("from_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["inbound_message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    # Dismissed messages go back to where they were, so the older schema still shows them.
    op.execute(
        "UPDATE inbound_message SET state = (SELECT from_state FROM message_dismissal "
        "WHERE message_dismissal.message_id = inbound_message.id) "
        "WHERE state = 'dismissed'"
    )
    op.drop_table("message_dismissal")
