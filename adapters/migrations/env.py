"""Alembic's entry: runs migrations on the connection handed over in config.attributes."""

from alembic import context

from adapters.orm import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through adapters.migrations.upgrade(engine) or `cauldrons migrate`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
