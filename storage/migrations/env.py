"""Alembic environment: the engine comes from ``config.attributes`` (see storage.schema)."""

from alembic import context
from sqlalchemy import Engine, text

from storage.models import Base

config = context.config
_MIGRATION_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('briefbot:migrate:' || current_schema()))"
)
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the engine the caller put into the config."""
    engine: Engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # processes starting at once migrate
                connection.execute(_MIGRATION_LOCK)  # one after the other (held to the commit)
            context.run_migrations()
        connection.commit()


run_migrations_online()
