"""The tables of the HTTP API's accounts, on the store's schema (migration 0004), the
parties' choice of issuer identity (migration 0007), and the withdrawals and renewals of
brokers' grants (migration 0008).

Defined here, beside the ledger's own tables, so the models and the migrations are
compared as one schema (tests/ledger/test_store_sql.py); read and written only by
`ledger.api.accounts`, which says what they mean.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["GRANT_CHANGE_TABLES", "IDENTITY_TABLES", "account_tables", "grant_change_tables",
           "identity_tables"]

IDENTITY_TABLES = ("api_party_identities",)
GRANT_CHANGE_TABLES = ("api_grant_changes",)


def grant_change_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define (once) and return the table of changes to brokers' grants (0008).

    A grant (``api_grants``) is a token shown to a broker's party; each later change is a
    row here, ``withdrawn`` or ``granted`` again, append-only: the newest row of a (token,
    party) pair (highest ``change_id``) says whether the broker sees the token now, and
    who showed or withdrew it, and when, stays on record.
    """
    if GRANT_CHANGE_TABLES[0] in metadata.tables:
        return {name: metadata.tables[name] for name in GRANT_CHANGE_TABLES}
    changes = sa.Table(
        "api_grant_changes", metadata,
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_digest", sa.String, nullable=False),
        sa.Column("grantee_party", sa.String, nullable=False),
        sa.Column("change", sa.String, nullable=False),
        sa.Column("changed_by", sa.String, nullable=False),
        sa.Column("changed_at", sa.String, nullable=False),
        sa.Index("ix_api_grant_changes_token_digest_grantee_party_change_id",
                 "token_digest", "grantee_party", "change_id"),
    )
    return {changes.name: changes}


def identity_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define (once) and return the table of the parties' issuer identities (0007).

    One row per choice (``did:key`` or ``did:web``), append-only: the party's newest row
    (highest ``choice_id``) is its identity; a party without a row issues as did:key.
    """
    if IDENTITY_TABLES[0] in metadata.tables:
        return {name: metadata.tables[name] for name in IDENTITY_TABLES}
    identities = sa.Table(
        "api_party_identities", metadata,
        sa.Column("choice_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("party_id", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("chosen_by", sa.String, nullable=False),
        sa.Column("chosen_at", sa.String, nullable=False),
        sa.Index("ix_api_party_identities_party_id_choice_id", "party_id", "choice_id"),
    )
    return {identities.name: identities}


def account_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define (once) and return the account tables on `metadata`."""
    names = ("api_accounts", "api_keys", "api_key_revocations", "api_grants", "api_party_keys",
             "api_disclosures", "api_status_indices", "api_status_tokens")
    if names[0] in metadata.tables:
        return {name: metadata.tables[name] for name in names}
    accounts = sa.Table(
        "api_accounts", metadata,
        sa.Column("account_id", sa.String, primary_key=True),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("party_id", sa.String, nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
    )
    keys = sa.Table(
        "api_keys", metadata,
        sa.Column("key_hash", sa.LargeBinary, primary_key=True),
        sa.Column("key_id", sa.String, nullable=False, unique=True),
        sa.Column("account_id", sa.String, sa.ForeignKey("api_accounts.account_id",
                                                         name="fk_api_keys_account"),
                  nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
    )
    revocations = sa.Table(
        "api_key_revocations", metadata,
        sa.Column("key_id", sa.String, sa.ForeignKey("api_keys.key_id",
                                                     name="fk_api_key_revocations_key"),
                  primary_key=True),
        sa.Column("revoked_at", sa.String, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    grants = sa.Table(
        "api_grants", metadata,
        sa.Column("token_digest", sa.String, primary_key=True),
        sa.Column("grantee_party", sa.String, primary_key=True, index=True),
        sa.Column("granted_by", sa.String, nullable=False),
        sa.Column("granted_at", sa.String, nullable=False),
    )
    held = sa.Table(
        "api_party_keys", metadata,
        sa.Column("kid", sa.String, primary_key=True),
        sa.Column("party_id", sa.String, nullable=False, index=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
    )
    disclosures = sa.Table(
        "api_disclosures", metadata,
        sa.Column("token_digest", sa.String, primary_key=True),
        sa.Column("authority", sa.String, primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("disclosed_by", sa.String, nullable=False),
        sa.Column("disclosed_at", sa.String, nullable=False),
    )
    indices = sa.Table(
        "api_status_indices", metadata,
        sa.Column("status_index", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("allocated_at", sa.String, nullable=False),
    )
    status_tokens = sa.Table(
        "api_status_tokens", metadata,
        sa.Column("status_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("token_digest", sa.String, nullable=False, unique=True),
    )
    return {t.name: t for t in (accounts, keys, revocations, grants, held, disclosures,
                                indices, status_tokens)}
