"""conversations: emails joined to referrals, record versions, siblings, mentions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("effect", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["inbound_message.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "message_id", name="uq_referral_message"),
    )
    with op.batch_alter_table("referral_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_message_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_message_referral_id"), ["referral_id"], unique=False
        )
    # Every referral already stored joins its conversation through the email it came in.
    op.execute(
        "INSERT INTO referral_message (referral_id, message_id, how, effect, actor, at) "
        "SELECT id, message_id, 'first', 'created', 'system', created_at FROM referral"
    )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )
        batch_op.add_column(
            sa.Column("mentions", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.add_column(sa.Column("sibling_of", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("new_mail", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key("fk_referral_sibling_of", "referral", ["sibling_of"], ["id"])
    with op.batch_alter_table("review_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("review_user", schema=None) as batch_op:
        batch_op.drop_column("email")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint("fk_referral_sibling_of", type_="foreignkey")
        batch_op.drop_column("new_mail")
        batch_op.drop_column("sibling_of")
        batch_op.drop_column("version")
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("mentions")
        batch_op.drop_column("sender")
    with op.batch_alter_table("referral_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_message_referral_id"))
        batch_op.drop_index(batch_op.f("ix_referral_message_message_id"))
    op.drop_table("referral_message")
