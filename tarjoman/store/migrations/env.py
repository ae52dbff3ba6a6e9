"""Alembic environment of the review store. The store runs migrations itself when it opens a
database (:func:`tarjoman.store.db.upgrade`), passing its connection; run by hand, Alembic
connects to ``$TARJOMAN_DATABASE_URL``."""

from alembic import context
from sqlalchemy import create_engine

from tarjoman.store.models import Base, modelled

connection = context.config.attributes.get("connection")
if connection is None:
    import os

    with create_engine(os.environ["TARJOMAN_DATABASE_URL"]).begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_name=modelled)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_name=modelled)
    context.run_migrations()
