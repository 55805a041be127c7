"""The tables of the web pages' sign-in: passwords, sessions, and their ends (migration 0005);
sign-in attempts and which of them succeeded (migration 0006).

Defined here, beside the ledger's own tables, so the models and the migrations are
compared as one schema (tests/ledger/test_store_sql.py); read and written only by
`ledger.web.credentials`, which says what they mean. Append-only like every other table:
a new password is a new row (the latest wins), a session ends by a row in
``web_session_ends``, and a session's expiry is a time written when it starts. An
attempt to sign in is a row of ``web_signin_attempts`` written *before* the password is
checked; one that succeeded gets a row in ``web_signin_successes``. The others are the
failures that limit further attempts (`ledger.web.credentials.SignInLimits`).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SIGNIN_TABLES", "WEB_TABLES", "signin_tables", "web_tables"]

WEB_TABLES = ("web_passwords", "web_sessions", "web_session_ends")
SIGNIN_TABLES = ("web_signin_attempts", "web_signin_successes")


def web_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define (once) and return the web sign-in tables on `metadata`."""
    if WEB_TABLES[0] in metadata.tables:
        return {name: metadata.tables[name] for name in WEB_TABLES}
    passwords = sa.Table(
        "web_passwords", metadata,
        sa.Column("password_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String, sa.ForeignKey("api_accounts.account_id",
                                                         name="fk_web_passwords_account"),
                  nullable=False, index=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("set_at", sa.String, nullable=False),
    )
    sessions = sa.Table(
        "web_sessions", metadata,
        sa.Column("session_hash", sa.LargeBinary, primary_key=True),
        sa.Column("account_id", sa.String, sa.ForeignKey("api_accounts.account_id",
                                                         name="fk_web_sessions_account"),
                  nullable=False),
        sa.Column("started_at", sa.String, nullable=False),
        sa.Column("expires_at", sa.String, nullable=False),
    )
    ends = sa.Table(
        "web_session_ends", metadata,
        sa.Column("session_hash", sa.LargeBinary,
                  sa.ForeignKey("web_sessions.session_hash", name="fk_web_session_ends_session"),
                  primary_key=True),
        sa.Column("ended_at", sa.String, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    return {t.name: t for t in (passwords, sessions, ends)}


def signin_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define (once) and return the sign-in attempt tables on `metadata` (migration 0006).

    An attempt names the account id as typed (an unknown one too: guessing at a name is
    limited like guessing at a password) and the client's address, so both can be
    limited; neither column is a foreign key for that reason.
    """
    if SIGNIN_TABLES[0] in metadata.tables:
        return {name: metadata.tables[name] for name in SIGNIN_TABLES}
    attempts = sa.Table(
        "web_signin_attempts", metadata,
        sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String, nullable=False),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("attempted_at", sa.String, nullable=False),
        sa.Index("ix_web_signin_attempts_account_id_attempted_at", "account_id",
                 "attempted_at"),
        sa.Index("ix_web_signin_attempts_client_attempted_at", "client", "attempted_at"),
    )
    successes = sa.Table(
        "web_signin_successes", metadata,
        sa.Column("attempt_id", sa.Integer,
                  sa.ForeignKey("web_signin_attempts.attempt_id",
                                name="fk_web_signin_successes_attempt"), primary_key=True),
        sa.Column("succeeded_at", sa.String, nullable=False),
    )
    return {t.name: t for t in (attempts, successes)}
