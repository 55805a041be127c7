"""Disclosure records: the salts and line records behind each token's ``partsRoot``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Without them the issuer can never disclose a line of its token to customs, so they are
written, durably, before the token's statement is logged (a crash between the two leaves
an unlogged record, never a logged token that cannot be disclosed). They hold commercial
data (prices), are read only through the ledger, and are append-only like the log: a
token's commitments never change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``log_disclosures`` and its append-only guards."""
    op.create_table(
        "log_disclosures",
        sa.Column("token_digest", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name="pk_log_disclosures"),
    )
    guard_table("log_disclosures", "token_digest = NEW.token_digest")


def downgrade() -> None:
    """Refuse: dropping the records would make every issued token undisclosable."""
    raise ConflictError("the disclosure records cannot be downgraded away: without them no "
                        "token line can be disclosed again (restore a backup instead)")
