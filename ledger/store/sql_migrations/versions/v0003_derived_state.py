"""The ledger's derived state in the database: keys, tokens, their events, and tiles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Until now every process replayed the whole log into memory before answering (7.6 s and
380 MB at 200,000 entries). These tables hold what the replay computed, each row written
with the entry that produced it (`ledger.state`), and the Merkle tree as full C2SP
tlog-tiles (`ledger.tiles`), so that opening a ledger reads nothing proportional to its
size. They are append-only under the same guards as the log.

Upgrading a ledger written before this revision derives the rows and tiles of every entry
already logged (`ledger.store.sql_index.backfill`, streamed in batches), in the migration's
own transaction: a failure leaves the ledger at revision 0002, untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the five derived tables and their guards, then backfill them."""
    op.create_table(
        "log_keys",
        sa.Column("kid", sa.String(), nullable=False),
        sa.Column("leaf_index", _BIGINT, nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_log_keys"),
        sa.UniqueConstraint("leaf_index", name="uq_log_keys_leaf_index"),
    )
    op.create_index("ix_log_keys_party_id", "log_keys", ["party_id"])
    op.create_table(
        "log_key_events",
        sa.Column("leaf_index", _BIGINT, nullable=False, autoincrement=False),
        sa.Column("kid", sa.String(), nullable=False),
        sa.Column("compromised_since", _BIGINT, nullable=True),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_log_key_events"),
    )
    op.create_index("ix_log_key_events_kid", "log_key_events", ["kid"])
    op.create_table(
        "log_tokens",
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("leaf_index", _BIGINT, nullable=False),
        sa.Column("issuer_kid", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("shipment", sa.String(), nullable=False),
        sa.Column("parents", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_log_tokens"),
        sa.UniqueConstraint("leaf_index", name="uq_log_tokens_leaf_index"),
    )
    op.create_index("ix_log_tokens_party_id_shipment_leaf_index", "log_tokens",
                    ["party_id", "shipment", "leaf_index"])
    op.create_table(
        "log_token_events",
        sa.Column("leaf_index", _BIGINT, nullable=False, autoincrement=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("by_digest", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_log_token_events"),
    )
    op.create_index("ix_log_token_events_digest", "log_token_events", ["digest"])
    op.create_table(
        "log_tiles",
        sa.Column("level", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("tile_index", _BIGINT, nullable=False, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "tile_index", name="pk_log_tiles"),
    )
    guard_table("log_keys", "kid = NEW.kid")
    guard_table("log_key_events", "leaf_index = NEW.leaf_index")
    guard_table("log_tokens", "digest = NEW.digest")
    guard_table("log_token_events", "leaf_index = NEW.leaf_index")
    guard_table("log_tiles", "level = NEW.level AND tile_index = NEW.tile_index")
    _backfill()


def _backfill() -> None:
    from ledger.store.sql_index import backfill, index_tables

    connection = op.get_bind()
    metadata = sa.MetaData()
    entries = sa.Table("log_entries", metadata,
                       sa.Column("leaf_index", _BIGINT), sa.Column("leaf_hash", sa.LargeBinary),
                       sa.Column("body", sa.LargeBinary))
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    backfill(connection, index_tables(metadata, marker), entries)


def downgrade() -> None:
    """Refuse: derived tables are append-only too (rebuild by restoring a backup)."""
    raise ConflictError("the derived tables cannot be downgraded away: they are "
                        "append-only like the log")
