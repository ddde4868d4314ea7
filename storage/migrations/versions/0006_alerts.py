"""Instant alerts and the backlog on first subscribe (issue 14).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``subscriptions.delivery`` says whether a follow feeds the daily briefing or instant
alerts; ``briefings.kind`` and ``deliveries.kind`` mark alert batches, which use the same
delivery log as briefings (only ``briefing`` rows settle the daily schedule).
``alert_queue`` holds matched stories until a batch takes them; ``alert_cursor`` records
how far matching has read the articles. The lead re-chains this after 0005 at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # constant server defaults: a plain ALTER TABLE ADD COLUMN on SQLite too
    op.add_column(
        "subscriptions",
        sa.Column("delivery", sa.String(8), nullable=False, server_default="daily"),
    )
    op.add_column(
        "briefings", sa.Column("kind", sa.String(16), nullable=False, server_default="daily")
    )
    op.add_column(
        "deliveries",
        sa.Column("kind", sa.String(16), nullable=False, server_default="briefing"),
    )
    op.create_table(
        "alert_queue",
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alert_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_article_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_cursor")
    op.drop_table("alert_queue")
    op.drop_column("deliveries", "kind")
    op.drop_column("briefings", "kind")
    op.drop_column("subscriptions", "delivery")
