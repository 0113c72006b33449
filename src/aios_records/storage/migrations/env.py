"""Alembic environment: runs migrations on the connection the caller passes in."""

from alembic import context

from aios_records.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through 'aios-records db upgrade' or aios_records.storage.database"
    )

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
