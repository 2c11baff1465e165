"""Alembic environment: always run on the connection the service hands over (see db.py)."""
from alembic import context

from issue_api.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
