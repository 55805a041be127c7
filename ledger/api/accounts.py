"""Who may call the API: accounts, their roles, API keys, and the shipments shown to brokers.

Every caller of a non-public route is an *account*: one party of the ledger acting in one
role (an SME as exporter, producer, importer or supplier; a customs broker; a customs
authority, CBP, CBSA or ANAM; an auditor; the registrar who admits parties). The account
is opened by an API key sent as ``Authorization: Bearer KEY``.

API keys are 256-bit random secrets (``tmec_<key id>_<secret>``), shown once when issued
and stored only as their SHA-256: with that much entropy a fast hash is the usual choice
(GitHub and Stripe do the same) and a memory-hard one would only slow every request; a
stolen table gives nothing to replay. The public key id names a key in lists and in
revocations. A revoked key gets a row in ``api_key_revocations``; no row ever changes
(migration 0004 guards the tables like the log).

Brokers see "the shipments they are given": an issuer grants one of its tokens to a
broker's party (``api_grants``), and may withdraw the grant and give it again; each
change is a row of ``api_grant_changes`` (migration 0008) and the newest is in force.

A party chooses the identity its tokens name as ``issuer`` (`IssuerMethod`): its key's
did:key, the default, or its did:web on this service's host. Each choice is a row of
``api_party_identities`` (migration 0007); the newest is in force.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.errors import ConflictError, InputError, NotFoundError
from ledger.store.sql import METADATA, transaction
from ledger.store.sql_accounts import account_tables, grant_change_tables, identity_tables

__all__ = ["SMES", "SME_ROLES", "Account", "AccountStore", "IssuedKey", "IssuerMethod",
           "KeyListing", "Role", "hash_api_key", "utc_timestamp"]


class IssuerMethod(StrEnum):
    """The DID method a party's origin tokens name as ``issuer``."""

    DID_KEY = "did:key"
    """The signing key's own did:key (the default: resolves offline, needs no host)."""
    DID_WEB = "did:web"
    """``did:web:<host>:parties:<party>``, the party's identity on this service's host."""


class Role(StrEnum):
    """The roles of USMCA Chapter 5 and of the people around a shipment."""

    EXPORTER = "exporter"
    PRODUCER = "producer"
    IMPORTER = "importer"
    SUPPLIER = "supplier"
    BROKER = "broker"
    CUSTOMS = "customs"
    AUDITOR = "auditor"
    REGISTRAR = "registrar"


SME_ROLES = frozenset({Role.EXPORTER, Role.PRODUCER, Role.IMPORTER, Role.SUPPLIER})
SMES = (Role.EXPORTER, Role.PRODUCER, Role.IMPORTER, Role.SUPPLIER)
"""The roles of a party that issues or holds origin tokens for its own goods."""

CUSTOMS_AUTHORITIES = ("cbp", "cbsa", "anam")
"""The party ids of the customs authorities (US CBP, Canada CBSA, Mexico ANAM)."""

_PARTY_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
_KEY = re.compile(r"tmec_([0-9a-f]{12})_[A-Za-z0-9_-]{43}\Z")
_NAME_MAX = 200

_TABLES = account_tables(METADATA)
_ACCOUNTS = _TABLES["api_accounts"]
_KEYS = _TABLES["api_keys"]
_REVOCATIONS = _TABLES["api_key_revocations"]
# Built once: every request with a key runs it (see ledger.store.sql on prebuilt statements).
_KEY_OWNER = (sa.select(_ACCOUNTS, _REVOCATIONS.c.revoked_at)
              .join_from(_KEYS, _ACCOUNTS, _KEYS.c.account_id == _ACCOUNTS.c.account_id)
              .join(_REVOCATIONS, _KEYS.c.key_id == _REVOCATIONS.c.key_id, isouter=True)
              .where(_KEYS.c.key_hash == sa.bindparam("key_hash")))
_GRANTS = _TABLES["api_grants"]
_GRANT_CHANGES = grant_change_tables(METADATA)["api_grant_changes"]
WITHDRAWN, GRANTED = "withdrawn", "granted"
"""The two changes a grant can go through after it was first given."""
# The newest change of each grant row's (token, party), or NULL: the grant stands.
_NEWEST_CHANGE = (sa.select(_GRANT_CHANGES.c.change)
                  .where(_GRANT_CHANGES.c.token_digest == _GRANTS.c.token_digest,
                         _GRANT_CHANGES.c.grantee_party == _GRANTS.c.grantee_party)
                  .order_by(_GRANT_CHANGES.c.change_id.desc()).limit(1)
                  .correlate(_GRANTS).scalar_subquery())
_IN_FORCE = sa.func.coalesce(_NEWEST_CHANGE, GRANTED) == GRANTED
_IDENTITIES = identity_tables(METADATA)["api_party_identities"]
_DISCLOSURES = _TABLES["api_disclosures"]
# Built once: every registration reads its party's identity.
_PARTY_IDENTITY = (sa.select(_IDENTITIES.c.method)
                   .where(_IDENTITIES.c.party_id == sa.bindparam("party_id"))
                   .order_by(_IDENTITIES.c.choice_id.desc()).limit(1))


def utc_timestamp() -> str:
    """Now, as the account tables record times: ISO 8601 UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")



def hash_api_key(key: str) -> bytes:
    """The stored form of an API key: its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class Account:
    """One party acting in one role."""

    account_id: str
    role: Role
    party_id: str
    name: str
    created_at: str

    def to_dict(self) -> dict[str, str]:
        """JSON form: accountId, role, party, name, createdAt."""
        return {"accountId": self.account_id, "role": self.role.value, "party": self.party_id,
                "name": self.name, "createdAt": self.created_at}


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key: `key` is shown this once and never stored."""

    key: str
    key_id: str
    account: Account


@dataclass(frozen=True, slots=True)
class KeyListing:
    """What is kept of a key: its id, label, dates, never the key."""

    key_id: str
    account_id: str
    label: str
    created_at: str
    revoked_at: str | None

    def to_dict(self) -> dict[str, str | None]:
        """JSON form: keyId, accountId, label, createdAt, revokedAt."""
        return {"keyId": self.key_id, "accountId": self.account_id, "label": self.label,
                "createdAt": self.created_at, "revokedAt": self.revoked_at}


def _account(row: sa.Row[tuple[str, str, str, str, str]]) -> Account:
    return Account(row.account_id, Role(row.role), row.party_id, row.name, row.created_at)


class AccountStore:
    """The account tables of the ledger's database (created by migration 0004).

    Thread-safe and shareable between processes: every call is its own short transaction
    on `engine` and nothing is cached, so a key revoked by one worker is refused by every
    other at its next request.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def is_local(self) -> bool:
        """True on SQLite (a file on this machine): a key look-up is one indexed query of
        some 30 us, cheaper than a hop to a request thread and back.
        """
        return self._engine.dialect.name == "sqlite"

    @contextmanager
    def _connection(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        with transaction(self._engine, action, write=write) as connection:
            yield connection

    def create_account(self, role: Role, party_id: str, name: str) -> Account:
        """A new account for `party_id` in `role` (`ConflictError` if it exists)."""
        if _PARTY_ID.match(party_id) is None:
            raise InputError(f"party id {party_id[:80]!r} must be 1 to 64 lowercase letters, "
                             "digits and inner hyphens")
        if not name.strip() or len(name) > _NAME_MAX or not name.isprintable():
            raise InputError(f"an account name is 1 to {_NAME_MAX} printable characters")
        if role is Role.CUSTOMS and party_id not in CUSTOMS_AUTHORITIES:
            raise InputError(f"a customs account is one of the authorities "
                             f"{', '.join(CUSTOMS_AUTHORITIES)}, not {party_id!r}")
        account = Account(f"{party_id}.{role.value}", role, party_id, name, utc_timestamp())
        with self._connection("create an account", write=True) as connection:
            if connection.execute(sa.select(_ACCOUNTS.c.account_id).where(
                    _ACCOUNTS.c.account_id == account.account_id)).first() is not None:
                raise ConflictError(f"account {account.account_id} already exists")
            connection.execute(sa.insert(_ACCOUNTS).values(
                account_id=account.account_id, role=role.value, party_id=party_id, name=name,
                created_at=account.created_at))
        return account

    def account(self, account_id: str) -> Account:
        """The account `account_id` (`NotFoundError` if there is none)."""
        with self._connection("read an account") as connection:
            row = connection.execute(sa.select(_ACCOUNTS).where(
                _ACCOUNTS.c.account_id == account_id)).first()
        if row is None:
            raise NotFoundError(f"there is no account {account_id[:80]!r}")
        return _account(row)

    def has_account(self, party_id: str, role: Role) -> bool:
        """Whether `party_id` has an account in `role`."""
        with self._connection("read an account") as connection:
            return connection.execute(sa.select(_ACCOUNTS.c.account_id).where(
                _ACCOUNTS.c.account_id == f"{party_id}.{role.value}")).first() is not None

    def accounts(self) -> list[Account]:
        """Every account, in id order."""
        with self._connection("list the accounts") as connection:
            rows = connection.execute(sa.select(_ACCOUNTS).order_by(_ACCOUNTS.c.account_id))
            return [_account(row) for row in rows]

    def choose_identity(self, party_id: str, method: IssuerMethod, chosen_by: str) -> None:
        """Record that `party_id` issues as `method` from now on (a new row; none changes)."""
        with self._connection("choose an issuer identity", write=True) as connection:
            connection.execute(sa.insert(_IDENTITIES).values(
                party_id=party_id, method=method.value, chosen_by=chosen_by,
                chosen_at=utc_timestamp()))

    def identity(self, party_id: str, *, connection: Connection | None = None
                 ) -> IssuerMethod:
        """The identity `party_id` issues as: its newest choice, did:key if it made none.

        `connection` reads it inside a transaction the caller holds (a registration reads
        its held key and identity in one snapshot); otherwise in a transaction of its own.
        """
        with (nullcontext(connection) if connection is not None
              else self._connection("read an issuer identity")) as reading:
            method = reading.execute(_PARTY_IDENTITY, {"party_id": party_id}).scalar()
        return IssuerMethod.DID_KEY if method is None else IssuerMethod(method)

    def issue_key(self, account_id: str, label: str = "") -> IssuedKey:
        """A new random API key for the account; only its hash is stored."""
        account = self.account(account_id)
        if len(label) > _NAME_MAX or not label.isprintable():
            raise InputError(f"a key label is at most {_NAME_MAX} printable characters")
        key_id = secrets.token_hex(6)
        key = f"tmec_{key_id}_{secrets.token_urlsafe(32)}"
        with self._connection("issue an API key", write=True) as connection:
            connection.execute(sa.insert(_KEYS).values(
                key_hash=hash_api_key(key), key_id=key_id, account_id=account_id,
                label=label, created_at=utc_timestamp()))
        return IssuedKey(key, key_id, account)

    def keys(self, account_id: str) -> list[KeyListing]:
        """The keys of an account (never the keys themselves), oldest first."""
        query = (sa.select(_KEYS.c.key_id, _KEYS.c.account_id, _KEYS.c.label,
                           _KEYS.c.created_at, _REVOCATIONS.c.revoked_at)
                 .join_from(_KEYS, _REVOCATIONS, _KEYS.c.key_id == _REVOCATIONS.c.key_id,
                            isouter=True)
                 .where(_KEYS.c.account_id == account_id)
                 .order_by(_KEYS.c.created_at, _KEYS.c.key_id))
        with self._connection("list API keys") as connection:
            return [KeyListing(*row) for row in connection.execute(query)]

    def key_owner(self, key_id: str) -> str:
        """The account a key id belongs to (`NotFoundError` if none)."""
        with self._connection("read an API key") as connection:
            owner = connection.execute(sa.select(_KEYS.c.account_id).where(
                _KEYS.c.key_id == key_id)).scalar()
        if owner is None:
            raise NotFoundError(f"there is no API key {key_id[:40]!r}")
        return str(owner)

    def revoke_key(self, key_id: str, reason: str) -> str:
        """Revoke a key from now on; return the revocation time (`ConflictError` if done)."""
        self.key_owner(key_id)
        if not reason.strip() or len(reason) > _NAME_MAX or not reason.isprintable():
            raise InputError(f"a revocation reason is 1 to {_NAME_MAX} printable characters")
        at = utc_timestamp()
        with self._connection("revoke an API key", write=True) as connection:
            if connection.execute(sa.select(_REVOCATIONS.c.key_id).where(
                    _REVOCATIONS.c.key_id == key_id)).first() is not None:
                raise ConflictError(f"API key {key_id} is already revoked")
            connection.execute(sa.insert(_REVOCATIONS).values(key_id=key_id, revoked_at=at,
                                                              reason=reason))
        return at

    def authenticate(self, key: str) -> Account | None:
        """The account a presented key opens, or None (unknown, malformed or revoked).

        The look-up is by the key's hash, so no comparison ever runs on the secret itself.
        """
        if _KEY.match(key) is None:
            return None
        with self._connection("check an API key") as connection:
            row = connection.execute(_KEY_OWNER, {"key_hash": hash_api_key(key)}).first()
        if row is None or row.revoked_at is not None:
            return None
        return Account(row.account_id, Role(row.role), row.party_id, row.name, row.created_at)

    # -- grants: the shipments a broker is given

    def grant(self, token_digest: str, grantee_party: str, granted_by: str) -> bool:
        """Show a token to a party; False when it is shown to it already.

        A grant withdrawn earlier is given again with a ``granted`` change row.
        """
        with self._connection("grant a token", write=True) as connection:
            standing = self._grant_standing(connection, token_digest, grantee_party)
            if standing is True:
                return False
            if standing is None:
                connection.execute(sa.insert(_GRANTS).values(
                    token_digest=token_digest, grantee_party=grantee_party,
                    granted_by=granted_by, granted_at=utc_timestamp()))
            else:
                self._change_grant(connection, token_digest, grantee_party, GRANTED,
                                   granted_by)
        return True

    def withdraw_grant(self, token_digest: str, grantee_party: str, withdrawn_by: str
                       ) -> bool:
        """Stop showing a token to a party; False when it was not shown to it.

        The grant and this withdrawal both stay on record (``api_grant_changes``).
        """
        with self._connection("withdraw a grant", write=True) as connection:
            if self._grant_standing(connection, token_digest, grantee_party) is not True:
                return False
            self._change_grant(connection, token_digest, grantee_party, WITHDRAWN,
                               withdrawn_by)
        return True

    @staticmethod
    def _grant_standing(connection: Connection, token_digest: str, grantee_party: str
                        ) -> bool | None:
        """True: the grant is in force; False: withdrawn; None: never given."""
        row = connection.execute(sa.select(_IN_FORCE).where(
            _GRANTS.c.token_digest == token_digest,
            _GRANTS.c.grantee_party == grantee_party)).first()
        return None if row is None else bool(row[0])

    @staticmethod
    def _change_grant(connection: Connection, token_digest: str, grantee_party: str,
                      change: str, account_id: str) -> None:
        connection.execute(sa.insert(_GRANT_CHANGES).values(
            token_digest=token_digest, grantee_party=grantee_party, change=change,
            changed_by=account_id, changed_at=utc_timestamp()))

    def granted(self, token_digest: str, party_id: str) -> bool:
        """Whether the token is shown to the party now (given, and not withdrawn)."""
        with self._connection("read a grant") as connection:
            return self._grant_standing(connection, token_digest, party_id) is True

    def grantees(self, token_digest: str) -> list[str]:
        """The parties the token is shown to now, in party order."""
        query = (sa.select(_GRANTS.c.grantee_party)
                 .where(_GRANTS.c.token_digest == token_digest, _IN_FORCE)
                 .order_by(_GRANTS.c.grantee_party))
        with self._connection("read grants") as connection:
            return [str(p) for p in connection.execute(query).scalars()]

    def brokers(self) -> list[Account]:
        """The customs brokers' accounts, in id order (whom a token can be given to)."""
        query = (sa.select(_ACCOUNTS).where(_ACCOUNTS.c.role == Role.BROKER.value)
                 .order_by(_ACCOUNTS.c.account_id))
        with self._connection("list the brokers") as connection:
            return [_account(row) for row in connection.execute(query)]

    def granted_among(self, token_digests: Sequence[str], party_id: str) -> set[str]:
        """Which of `token_digests` are shown to the party now (one query per 500)."""
        found: set[str] = set()
        with self._connection("read grants") as connection:
            for start in range(0, len(token_digests), 500):
                chunk = token_digests[start:start + 500]
                found.update(str(d) for d in connection.execute(
                    sa.select(_GRANTS.c.token_digest).where(
                        _GRANTS.c.token_digest.in_(chunk),
                        _GRANTS.c.grantee_party == party_id, _IN_FORCE)).scalars())
        return found

    def grants_to(self, party_id: str, *, after: str = "", limit: int = 100) -> list[str]:
        """Token digests shown to a party now, in digest order, after `after` (pagination)."""
        query = (sa.select(_GRANTS.c.token_digest)
                 .where(_GRANTS.c.grantee_party == party_id, _GRANTS.c.token_digest > after,
                        _IN_FORCE)
                 .order_by(_GRANTS.c.token_digest).limit(limit))
        with self._connection("list grants") as connection:
            return [str(d) for d in connection.execute(query).scalars()]

    # -- disclosures: the BOM lines an issuer showed to a customs authority

    def disclose(self, token_digest: str, authority: str, lines: list[int],
                 disclosed_by: str) -> list[int]:
        """Record lines disclosed to `authority`; return the ones that were new."""
        if authority not in CUSTOMS_AUTHORITIES:
            raise InputError(f"disclosures go to a customs authority "
                             f"({', '.join(CUSTOMS_AUTHORITIES)}), not {authority[:40]!r}")
        at = utc_timestamp()
        with self._connection("record disclosures", write=True) as connection:
            known = set(connection.execute(sa.select(_DISCLOSURES.c.line).where(
                _DISCLOSURES.c.token_digest == token_digest,
                _DISCLOSURES.c.authority == authority)).scalars())
            new = sorted(set(lines) - known)
            if new:
                connection.execute(sa.insert(_DISCLOSURES), [
                    {"token_digest": token_digest, "authority": authority, "line": line,
                     "disclosed_by": disclosed_by, "disclosed_at": at} for line in new])
        return new

    def disclosed_lines(self, token_digest: str, authority: str) -> list[int]:
        """The lines of a token disclosed to `authority`, in order."""
        query = (sa.select(_DISCLOSURES.c.line)
                 .where(_DISCLOSURES.c.token_digest == token_digest,
                        _DISCLOSURES.c.authority == authority)
                 .order_by(_DISCLOSURES.c.line))
        with self._connection("read disclosures") as connection:
            return [int(line) for line in connection.execute(query).scalars()]
