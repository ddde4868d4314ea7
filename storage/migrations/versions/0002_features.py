"""Feature columns and indexes added after the initial schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Released: stores in use are at this revision, so never edit it again; add a new revision.
Never use ``batch_alter_table`` on ``articles``: on SQLite it recreates the table and drops
the FTS5 triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _upgrade_stories()
    _upgrade_bot()
    _upgrade_delivery()
    _upgrade_search()


def downgrade() -> None:
    _downgrade_search()
    _downgrade_delivery()
    _downgrade_bot()
    _downgrade_stories()


# --- stories and briefings (issue 5) -------------------------------------------------
def _upgrade_stories() -> None:
    # trending terms are ranked by stories × rarity, not by count alone
    op.add_column(
        "trending_terms", sa.Column("rank", sa.Integer(), nullable=False, server_default="0")
    )


def _downgrade_stories() -> None:
    op.drop_column("trending_terms", "rank")


# --- bot commands, subscriptions, admin (issue 6) --------------------------------------
def _upgrade_bot() -> None:
    pass


def _downgrade_bot() -> None:
    pass


# --- scheduled delivery (issue 7) -----------------------------------------------------
def _upgrade_delivery() -> None:
    op.add_column("deliveries", sa.Column("claim_token", sa.String(32), nullable=True))
    op.add_column(
        "deliveries",
        sa.Column("messages_sent", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "deliveries", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )


def _downgrade_delivery() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("messages_sent")
        batch.drop_column("claim_token")


# --- search and scale (issue 8) -------------------------------------------------------
# (name, table, columns): plain CREATE INDEX, safe on ``articles`` (no table rebuild).
SEARCH_INDEXES = [
    # /latest and topic counts walk time order and test story leads from the index alone
    ("ix_articles_time_story", "articles", ["sort_time", "id", "story_id"]),
    # the story lead (min id per story) is one index probe, on PostgreSQL too
    ("ix_articles_story_lead", "articles", ["story_id", "id"]),
    # due schedules: first subscription per chat, without reading the rows
    ("ix_subscriptions_chat_created", "subscriptions", ["chat_id", "created_at"]),
    # delivery stats, listings and pruning select by slot range
    ("ix_deliveries_slot", "deliveries", ["slot"]),
]


def _upgrade_search() -> None:
    for name, table, columns in SEARCH_INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "postgresql":
        # keep each tsvector in the row (compressed) rather than in TOAST: ranking and
        # rechecks then read no TOAST chunks, and the planner sees the real table size
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STORAGE MAIN")


def _downgrade_search() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STORAGE EXTENDED")
    for name, table, _ in reversed(SEARCH_INDEXES):
        op.drop_index(name, table_name=table)


_ = sa
