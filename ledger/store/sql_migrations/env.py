"""Alembic environment of the ledger store: runs the migrations in `versions/`.

Two ways in. `SqlStore.migrate()` builds the Alembic config in code and hands over an open
connection (``config.attributes["connection"]``) already inside a transaction, so the
whole upgrade commits or rolls back as one. A developer running the ``alembic`` command
(repository ``alembic.ini``) gets an engine made here from ``-x url=...`` or else
``sqlalchemy.url``, with the same settings as the store's (`create_ledger_engine`).

Either way the upgrade is serialised across processes (`lock_for_migration`): two API
workers starting together do not both create the tables. ``transactional_ddl`` is forced
on for SQLite, which is correct because the store's engine emits ``BEGIN`` itself.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from ledger.store.sql import METADATA, VERSION_TABLE, create_ledger_engine, lock_for_migration

config = context.config


def _configure(*, connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(connection=connection, url=url, literal_binds=connection is None,
                      target_metadata=METADATA, version_table=VERSION_TABLE,
                      transactional_ddl=True, compare_type=True)


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        connection.execution_options(ledger_sqlite_begin="IMMEDIATE")
    _configure(connection=connection)
    with context.begin_transaction():
        lock_for_migration(connection)
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    return url


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: print the DDL for the URL's dialect."""
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the connection handed over by `SqlStore`, or on a fresh engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_ledger_engine(_url())
    try:
        with engine.connect() as fresh:
            _run(fresh)
    finally:
        engine.dispose()


if config.config_file_name is not None and config.attributes.get("connection") is None:
    # Only the command line configures logging; a library call leaves the app's alone.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
