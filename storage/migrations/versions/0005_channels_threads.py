"""Channels and forum topics: default threads, managed channels, per-topic routes (issue 14).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``chats.thread_id`` is a forum group's default delivery thread and ``chats.managing_id`` the
channel a private chat's settings commands apply to; ``briefings.threads`` holds the thread
of each message; ``chat_routes`` sends one news topic's stories to one thread. Every new
column is nullable without a default: a plain ALTER TABLE on SQLite too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("thread_id", sa.BigInteger(), nullable=True))
    op.add_column("chats", sa.Column("managing_id", sa.BigInteger(), nullable=True))
    op.add_column("briefings", sa.Column("threads", sa.JSON(), nullable=True))
    op.create_table(
        "chat_routes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("topic_slug", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("chat_id", "topic_slug", name="uq_chat_route"),
    )
    op.create_index("ix_chat_routes_chat_id", "chat_routes", ["chat_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_routes_chat_id", table_name="chat_routes")
    op.drop_table("chat_routes")
    op.drop_column("briefings", "threads")
    op.drop_column("chats", "managing_id")
    op.drop_column("chats", "thread_id")
