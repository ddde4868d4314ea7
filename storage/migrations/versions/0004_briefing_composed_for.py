"""The subscriptions a briefing was composed for (``briefings.composed_for``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

0002 and 0003 are released, so the column gets a revision of its own. /brief shows
today's briefing again only while the chat's subscriptions are the ones it was composed
for; None (briefings stored before this revision) means unknown and counts as the same.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a nullable column without a default: a plain ALTER TABLE on SQLite too
    op.add_column("briefings", sa.Column("composed_for", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, without copying the table
    op.drop_column("briefings", "composed_for")
