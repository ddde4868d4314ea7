"""Claims of concurrent ingest workers on source documents (``ingest_claims``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Several ``briefbot ingest`` processes (or inbox workers on several replicas) may ingest
the same files into one store. Before deriving a file's articles a worker claims the
file's content hash here, with a lease it renews while it works and a row it deletes when
done; a killed worker's claim is taken over once its lease has run out. The table holds
only documents being worked on, so it starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_claims",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=96), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash"),
    )


def downgrade() -> None:
    op.drop_table("ingest_claims")
