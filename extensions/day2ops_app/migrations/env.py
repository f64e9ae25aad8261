"""Alembic environment: the URL comes from the caller (db/migrate.py), the metadata from db/tables.py."""

from alembic import context
from day2ops_app.db.engine import make_engine
from day2ops_app.db.tables import Base

config = context.config
engine = make_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
