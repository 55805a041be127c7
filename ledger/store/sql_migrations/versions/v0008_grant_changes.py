"""Brokers' grants withdrawn and given again: the issuer decides who sees a shipment.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

An issuer shows a token to a customs broker's party (``api_grants``, migration 0004); when
it changes broker, or the broker's engagement ends, it withdraws that grant, and may give
it again later. Nothing is removed: each change is a row of

* ``api_grant_changes`` — the token, the broker's party, ``withdrawn`` or ``granted``,
  the account that made the change and when. The pair's newest row (highest
  ``change_id``) is in force; a grant without a change row stands.

Append-only under the same guards as the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the grant-change table, its index and its append-only guards."""
    op.create_table(
        "api_grant_changes",
        sa.Column("change_id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("token_digest", sa.String(), nullable=False),
        sa.Column("grantee_party", sa.String(), nullable=False),
        sa.Column("change", sa.String(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("changed_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name="pk_api_grant_changes"),
    )
    op.create_index("ix_api_grant_changes_token_digest_grantee_party_change_id",
                    "api_grant_changes", ["token_digest", "grantee_party", "change_id"])
    guard_table("api_grant_changes", "change_id = NEW.change_id")


def downgrade() -> None:
    """Refuse: the changes are the record of who could see each shipment, and when."""
    raise ConflictError("the grant-change table cannot be downgraded away: it records "
                        "when each broker's access to a shipment was withdrawn or given "
                        "again (restore a backup instead)")
