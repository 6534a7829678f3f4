"""Alembic environment: always run on the connection handed in by rehber.storage.migrate."""

from __future__ import annotations

from alembic import context

from rehber.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
