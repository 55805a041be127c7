"""Accounts of the HTTP API: who may call it, with which keys, and what they were given.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The service's own records, beside the log (`ledger.api.accounts`), and an index of a
party's tokens in log order (``log_tokens (party_id, leaf_index)``) for its exports:

* ``api_accounts`` — one per party using the API: its role (exporter, producer, importer,
  supplier, customs broker, customs authority, auditor, registrar) and the ledger party it
  acts for.
* ``api_keys`` — the SHA-256 of each API key (the key itself is shown once and never
  stored), the account it opens, and a short public id to name it by.
* ``api_key_revocations`` — a revoked key gets a row here; the key row never changes.
* ``api_grants`` — an issuer shows a token to a customs broker (the shipments it is given).
* ``api_party_keys`` — the signing keys the service holds for parties that prefer it,
  sealed under the key-encryption key of the settings (`ledger.api.signing_keys`), with
  the party's certifier profile.
* ``api_disclosures`` — the BOM lines an issuer disclosed to a customs authority: that
  authority's bundles of the token carry those lines' salted records (`ledger.token`).
* ``api_status_indices`` and ``api_status_tokens`` — the W3C Bitstring Status List index
  each issued token carries (allocated before signing, then bound to the token's digest).

Append-only like the ledger (same guards): a revocation is a new row, never an update, so
who could do what, and when, stays auditable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the account tables and their append-only guards."""
    op.create_table(
        "api_accounts",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_api_accounts"),
    )
    op.create_index("ix_api_accounts_party_id", "api_accounts", ["party_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_api_keys"),
        sa.UniqueConstraint("key_id", name="uq_api_keys_key_id"),
        sa.ForeignKeyConstraint(["account_id"], ["api_accounts.account_id"],
                                name="fk_api_keys_account"),
    )
    op.create_table(
        "api_key_revocations",
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("revoked_at", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_api_key_revocations"),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.key_id"],
                                name="fk_api_key_revocations_key"),
    )
    op.create_table(
        "api_grants",
        sa.Column("token_digest", sa.String(), nullable=False),
        sa.Column("grantee_party", sa.String(), nullable=False),
        sa.Column("granted_by", sa.String(), nullable=False),
        sa.Column("granted_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", "grantee_party", name="pk_api_grants"),
    )
    op.create_index("ix_api_grants_grantee_party", "api_grants", ["grantee_party"])
    op.create_table(
        "api_party_keys",
        sa.Column("kid", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_api_party_keys"),
    )
    op.create_index("ix_api_party_keys_party_id", "api_party_keys", ["party_id"])
    op.create_table(
        "api_disclosures",
        sa.Column("token_digest", sa.String(), nullable=False),
        sa.Column("authority", sa.String(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("disclosed_by", sa.String(), nullable=False),
        sa.Column("disclosed_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", "authority", "line",
                                name="pk_api_disclosures"),
    )
    op.create_table(
        "api_status_indices",
        sa.Column("status_index", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("allocated_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("status_index", name="pk_api_status_indices"),
    )
    op.create_table(
        "api_status_tokens",
        sa.Column("status_index", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("token_digest", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("status_index", name="pk_api_status_tokens"),
        sa.UniqueConstraint("token_digest", name="uq_api_status_tokens_token_digest"),
    )
    # A party's tokens in log order (the compliance export pages through them).
    op.create_index("ix_log_tokens_party_id_leaf_index", "log_tokens",
                    ["party_id", "leaf_index"])
    guard_table("api_accounts", "account_id = NEW.account_id")
    guard_table("api_keys", "key_hash = NEW.key_hash OR key_id = NEW.key_id")
    guard_table("api_key_revocations", "key_id = NEW.key_id")
    guard_table("api_grants",
                "token_digest = NEW.token_digest AND grantee_party = NEW.grantee_party")
    guard_table("api_party_keys", "kid = NEW.kid")
    guard_table("api_disclosures", "token_digest = NEW.token_digest AND "
                "authority = NEW.authority AND line = NEW.line")
    guard_table("api_status_indices", "status_index = NEW.status_index")
    guard_table("api_status_tokens", "status_index = NEW.status_index OR "
                "token_digest = NEW.token_digest")


def downgrade() -> None:
    """Refuse: the account records are the audit trail of who could act on the ledger."""
    raise ConflictError("the API account tables cannot be downgraded away: they record who "
                        "could act on the ledger (restore a backup instead)")
