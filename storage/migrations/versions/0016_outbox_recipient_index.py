"""outbox recipient index: the reply limit's count reads a day of one recipient's rows

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it, counting a recipient's replies of the last 24 hours (done for each email
    # that may be answered with a request or a rejection) read every outbox row.
    op.create_index("ix_outbox_recipient_time", "outbox", [sa.text("lower(to_addr)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient_time", table_name="outbox")
