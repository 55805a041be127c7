"""The ledger's initial schema: log entries, blobs, checkpoints, and append-only guards.

Revision ID: 0001
Revises:
Create Date: 2026-08-24

The tables mirror the `*Row` classes of `ledger.store.sql` (a test compares them). The
guards (`ledger.store.sql_migrations.guards`) make the database itself refuse to change
history, whatever client connects.

Dropping a trigger (or the table) still needs only the owner's rights: the guards stop
mistakes and casual edits; deliberate tampering is caught by recomputing leaf hashes and by
signed, witnessed checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError, InputError
from ledger.store.sql_migrations.guards import POSTGRES_GUARD_FUNCTION, guard_table

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# For each table: the condition under which an INSERT would replace an existing row.
_SQLITE_EXISTING_ROW = {
    "log_entries": "leaf_index = NEW.leaf_index",
    "log_blobs": "digest = NEW.digest",
    "log_checkpoints": "seq = NEW.seq OR (tree_size = NEW.tree_size"
                       " AND text_sha256 = NEW.text_sha256)",
}


def _create_tables() -> None:
    op.create_table(
        "log_entries",
        sa.Column("leaf_index", _BIGINT, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("token_digest", sa.String(), nullable=True),
        sa.Column("key_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_log_entries"),
    )
    op.create_index("ix_log_entries_kind", "log_entries", ["kind"])
    op.create_index("ix_log_entries_token_digest", "log_entries", ["token_digest"])
    op.create_index("ix_log_entries_key_id", "log_entries", ["key_id"])
    op.create_table(
        "log_blobs",
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_log_blobs"),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("seq", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("tree_size", _BIGINT, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_log_checkpoints"),
        sa.UniqueConstraint("tree_size", "text_sha256",
                            name="uq_log_checkpoints_tree_size_text_sha256"),
    )
    op.create_index("ix_log_checkpoints_tree_size_seq", "log_checkpoints",
                    ["tree_size", "seq"])


def upgrade() -> None:
    """Create the tables, their indices and the append-only guards."""
    dialect = op.get_context().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise InputError(f"the ledger runs on SQLite or PostgreSQL, not {dialect}: only "
                         "those two have the append-only guards")
    _create_tables()
    if dialect == "postgresql":
        op.execute(sa.text(POSTGRES_GUARD_FUNCTION))
    for table, existing_row in _SQLITE_EXISTING_ROW.items():
        guard_table(table, existing_row)


def downgrade() -> None:
    """Refuse: undoing the initial schema would destroy the log itself."""
    raise ConflictError("the ledger's initial schema cannot be downgraded: dropping it would "
                        "destroy the log (restore a backup instead)")
