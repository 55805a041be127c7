"""Sign-in for the web pages: passwords and sessions of the API's accounts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

The web pages (`ledger.web`) sign people in with a password and keep them signed in with a
session cookie. Several worker processes serve one database and any of them may die at any
instant, so both live in the database, each written by one single-row transaction:

* ``web_passwords`` — an account's password as an Argon2id hash (the PHC string carries
  its salt and parameters). Setting a password adds a row; the newest row is the password.
* ``web_sessions`` — the SHA-256 of each session's random cookie secret (the secret
  itself is never stored), its account, when it started and when it expires (written at
  the start: expiry needs no later change).
* ``web_session_ends`` — a signed-out session gets a row here; the session row never
  changes.

Append-only under the same guards as the ledger: who could sign in, and when, stays
auditable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.errors import ConflictError
from ledger.store.sql_migrations.guards import guard_table

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the sign-in tables and their append-only guards."""
    op.create_table(
        "web_passwords",
        sa.Column("password_id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("set_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("password_id", name="pk_web_passwords"),
        sa.ForeignKeyConstraint(["account_id"], ["api_accounts.account_id"],
                                name="fk_web_passwords_account"),
    )
    op.create_index("ix_web_passwords_account_id", "web_passwords", ["account_id"])
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.LargeBinary(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("started_at", sa.String(), nullable=False),
        sa.Column("expires_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(["account_id"], ["api_accounts.account_id"],
                                name="fk_web_sessions_account"),
    )
    op.create_table(
        "web_session_ends",
        sa.Column("session_hash", sa.LargeBinary(), nullable=False),
        sa.Column("ended_at", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name="pk_web_session_ends"),
        sa.ForeignKeyConstraint(["session_hash"], ["web_sessions.session_hash"],
                                name="fk_web_session_ends_session"),
    )
    guard_table("web_passwords", "password_id = NEW.password_id")
    guard_table("web_sessions", "session_hash = NEW.session_hash")
    guard_table("web_session_ends", "session_hash = NEW.session_hash")


def downgrade() -> None:
    """Refuse: the sign-in records are part of the audit trail of who could act."""
    raise ConflictError("the web sign-in tables cannot be downgraded away: they record who "
                        "could sign in (restore a backup instead)")
