"""Story linking without a window of recent articles in memory (``link_keys``; issue 15).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Ingest used to compare a new article only with the newest 2,000 articles, held in an
in-memory LSH and event index. It now looks the article's link keys (one per MinHash
band, one per headline term) up in this table, within a window of days around its time.
The keys are computed by the domain code (``briefings.stories.linking``), which a
migration cannot import, so this migration creates the table empty and records in
``link_backfill`` which articles predate it: the ingest worker gives them their keys,
newest first and in batches, before it links anything (``briefings.ingest``,
``storage.links.unkeyed_articles``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_keys",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sort_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "key"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_link_keys_key_time", "link_keys", ["key", "sort_time", "article_id"])
    op.create_table(
        "link_backfill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("below", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # no row (a new, empty store): nothing to backfill
    op.execute(
        "INSERT INTO link_backfill (id, below) "
        "SELECT 1, max(id) + 1 FROM articles HAVING count(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("link_backfill")
    op.drop_index("ix_link_keys_key_time", table_name="link_keys")
    op.drop_table("link_keys")
