"""The identity each party issues its origin tokens under: did:key or did:web.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A party's token names as ``issuer`` either its signing key's did:key (the default) or its
did:web identity on this service's host (``did:web:<host>:parties:<party>``, whose DID
document lists the keys the log holds valid now; `ledger.api.dids`). The choice is a
setting of the party, made by one of its accounts, read by the service-held-key issuing
path (``POST /v1/tokens`` and the web page /register):

* ``api_party_identities`` — one row per choice: the party, the method (``did:key`` or
  ``did:web``), the account that chose it and when. The party's newest row (highest
  ``choice_id``) is in force; a party without a row issues as did:key.

Append-only under the same guards as the ledger: a change of identity is a new row, and
who switched a party's identity, and when, stays on record.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the identity table, its index and its append-only guards."""
    op.create_table(
        "api_party_identities",
        sa.Column("choice_id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("chosen_by", sa.String(), nullable=False),
        sa.Column("chosen_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("choice_id", name="pk_api_party_identities"),
    )
    op.create_index("ix_api_party_identities_party_id_choice_id", "api_party_identities",
                    ["party_id", "choice_id"])
    guard_table("api_party_identities", "choice_id = NEW.choice_id")


def downgrade() -> None:
    """Refuse: the choices are part of the record of what each token was issued under."""
    raise ConflictError("the party identity table cannot be downgraded away: it records "
                        "which identity each party chose, and when (restore a backup "
                        "instead)")
