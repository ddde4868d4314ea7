"""Story-lead counts per topic and UTC hour (``topic_counts``), kept at write time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

/topics used to count each topic's story leads over the day and the week at query
time, in time proportional to the articles in the window; it now sums a row per topic
and hour. The table is filled here from the stored articles (one grouped scan).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOUR = {
    "postgresql": "CAST(floor(extract(epoch FROM a.sort_time) / 3600) AS BIGINT)",
    "sqlite": "CAST(strftime('%s', a.sort_time) AS INTEGER) / 3600",
}


def upgrade() -> None:
    op.create_table(
        "topic_counts",
        sa.Column("topic_slug", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic_slug", "hour"),
    )
    op.create_index("ix_topic_counts_hour", "topic_counts", ["hour", "topic_slug", "leads"])
    hour = _HOUR[op.get_bind().dialect.name]
    # a story's lead is its first article (lowest id); articles without a story lead none
    op.execute(
        f"INSERT INTO topic_counts (topic_slug, hour, leads) SELECT t.topic_slug, {hour}, "
        "count(*) FROM article_topics t JOIN articles a ON a.id = t.article_id "
        "WHERE a.id <= (SELECT min(b.id) FROM articles b WHERE b.story_id = a.story_id) "
        f"GROUP BY t.topic_slug, {hour}"
    )


def downgrade() -> None:
    op.drop_index("ix_topic_counts_hour", table_name="topic_counts")
    op.drop_table("topic_counts")
