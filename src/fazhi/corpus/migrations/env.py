"""Alembic environment: run by fazhi.corpus.db.upgrade with a live connection."""
from alembic import context

from fazhi.corpus.db import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic -x url=…` from a shell
    from sqlalchemy import create_engine

    from fazhi.corpus.db import normalise_url

    connection = create_engine(normalise_url(context.get_x_argument(as_dictionary=True).get("url"))).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
