"""The append-only guards every ledger table gets, shared by the migrations that add tables.

* SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that ``RAISE(ABORT, ...)``, plus
  a ``BEFORE INSERT`` trigger refusing a row whose key already exists, because ``INSERT OR
  REPLACE`` deletes the old row without firing DELETE triggers (unless the connection
  enabled ``recursive_triggers``, which a rogue one would not).
* PostgreSQL: the plpgsql function ``ledger_refuse_change`` (created by the initial
  migration) raising ``restrict_violation``, called by a row-level ``BEFORE UPDATE OR
  DELETE`` trigger and a statement-level ``BEFORE TRUNCATE`` trigger per table, all
  ``ENABLE ALWAYS`` so ``session_replication_role = replica`` does not skip them.

A migration that adds a table calls `guard_table` with the condition under which an insert
would replace an existing row. The DDL is generated here once and for all: what an applied
migration ran must not change, so this module only ever grows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["POSTGRES_GUARD_FUNCTION", "guard_table"]

# No "%" placeholders: ``alembic upgrade --sql`` would print them doubled.
POSTGRES_GUARD_FUNCTION = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'restrict_violation',
        HINT = 'Stored rows never change; corrections are new log entries.';
END
$guard$
"""


def _guard_sqlite(table: str, existing_row: str) -> None:
    for event in ("UPDATE", "DELETE"):
        op.execute(sa.text(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"))
    op.execute(sa.text(
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {existing_row}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: REPLACE refused'); END"))


def _guard_postgres(table: str) -> None:
    op.execute(sa.text(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"))
    op.execute(sa.text(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"))
    for trigger in (f"{table}_no_update_delete", f"{table}_no_truncate"):
        op.execute(sa.text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))


def guard_table(table: str, existing_row: str) -> None:
    """Make the database refuse UPDATE, DELETE, REPLACE (and TRUNCATE) on `table`.

    `existing_row` is the SQLite condition, in terms of ``NEW``, that an inserted row
    collides with a stored one (e.g. ``digest = NEW.digest``).
    """
    if op.get_context().dialect.name == "postgresql":
        _guard_postgres(table)
    else:
        _guard_sqlite(table, existing_row)
