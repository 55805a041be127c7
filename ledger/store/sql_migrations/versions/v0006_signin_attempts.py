"""Sign-in attempts of the web pages, so repeated failures can be limited.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Guessing passwords is slowed per account and per client address
(`ledger.web.credentials.SignInLimits`): every worker must see every other worker's
failures, and a worker may die at any instant, so the attempts live in the database, each
written by a one-row transaction:

* ``web_signin_attempts`` — an attempt to sign in (or to prove the current password before
  changing it): the account id as typed, the client's address and the time, written
  *before* the password is checked, so that attempts in flight already count;
* ``web_signin_successes`` — the attempts whose password was right (one row each). The
  attempts without one are the failures.

Append-only under the same guards as the ledger: the record of who tried to sign in as
whom, and from where, stays whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the sign-in attempt tables, their indexes and their append-only guards."""
    op.create_table(
        "web_signin_attempts",
        sa.Column("attempt_id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("attempted_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_web_signin_attempts"),
    )
    op.create_index("ix_web_signin_attempts_account_id_attempted_at", "web_signin_attempts",
                    ["account_id", "attempted_at"])
    op.create_index("ix_web_signin_attempts_client_attempted_at", "web_signin_attempts",
                    ["client", "attempted_at"])
    op.create_table(
        "web_signin_successes",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("succeeded_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_web_signin_successes"),
        sa.ForeignKeyConstraint(["attempt_id"], ["web_signin_attempts.attempt_id"],
                                name="fk_web_signin_successes_attempt"),
    )
    guard_table("web_signin_attempts", "attempt_id = NEW.attempt_id")
    guard_table("web_signin_successes", "attempt_id = NEW.attempt_id")


def downgrade() -> None:
    """Refuse: the attempts are part of the audit trail of who tried to act."""
    raise ConflictError("the sign-in attempt tables cannot be downgraded away: they record "
                        "who tried to sign in (restore a backup instead)")
