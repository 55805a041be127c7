"""Signing keys the service holds for parties that prefer it, sealed at rest.

A party may keep its Ed25519 key itself (the CLI signs locally) or let the service hold it.
A held key is stored only sealed: XChaCha20-Poly1305 under the key-encryption key of the
settings (``TMEC_KEY_ENCRYPTION_KEY``), with the key id as associated data, so a sealed
key copied onto another key's row does not open (`ledger.crypto.seal`). No route ever
returns key material; the profile beside it (the Annex 5-A contact details certifications
carry) is not secret.

The key a party signs with is its newest held key that the log says is valid now: a key
the log rotated away or revoked is never used again, whatever this table holds. Rows are
append-only (migration 0004): a new key is a new row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.api.accounts import utc_timestamp
from ledger.crypto import SigningKey, seal, unseal
from ledger.errors import ConflictError, LedgerError, NotFoundError
from ledger.keys import KeyLookup
from ledger.multikey import verification_method_id
from ledger.store.sql import METADATA, transaction
from ledger.store.sql_accounts import account_tables
from ledger.token import check_party_profile

__all__ = ["HeldKey", "KeyVault", "KeysNotConfiguredError"]

_HELD = account_tables(METADATA)["api_party_keys"]
# Built once: every registration reads its party's held keys (see ledger.store.sql).
_PARTY_HELD_KEYS: Final = (sa.select(_HELD).where(_HELD.c.party_id == sa.bindparam("party"))
                           .order_by(_HELD.c.created_at.desc(), _HELD.c.kid.desc()))


class KeysNotConfiguredError(LedgerError):
    """The service holds no keys: no key-encryption key in its settings."""

    code = "ledger.not_configured"


@dataclass(frozen=True)
class HeldKey:
    """A party's key as the service holds it: the key, its id and its profile."""

    key: SigningKey
    kid: str
    party: dict[str, Any]


class KeyVault:
    """The ``api_party_keys`` table, sealed under one key-encryption key.

    Safe to share between threads and processes: every call is its own transaction.
    """

    def __init__(self, engine: Engine, encryption_key: bytes | None) -> None:
        self._engine = engine
        self._kek = encryption_key

    def require_configured(self) -> None:
        """Raise `KeysNotConfiguredError` unless a key-encryption key is set."""
        self._require_kek()

    def _require_kek(self) -> bytes:
        if self._kek is None:
            raise KeysNotConfiguredError("the service holds no signing keys: set "
                                         "TMEC_KEY_ENCRYPTION_KEY (32 bytes, hex) to let it")
        return self._kek

    def hold(self, key: SigningKey, party: Mapping[str, Any]) -> str:
        """Keep `key` for `party` (its profile, checked); return the key id."""
        kek = self._require_kek()
        check_party_profile(party)
        kid = verification_method_id(key.public_key)
        sealed = seal(kek, key.seed, kid.encode("utf-8"))
        with transaction(self._engine, "hold a signing key", write=True) as connection:
            if connection.execute(sa.select(_HELD.c.kid).where(_HELD.c.kid == kid)).first():
                raise ConflictError(f"key {kid} is already held")
            connection.execute(sa.insert(_HELD).values(
                kid=kid, party_id=str(party["id"]), sealed=sealed,
                profile=json.dumps(dict(party), ensure_ascii=False, sort_keys=True),
                created_at=utc_timestamp()))
        return kid

    def held_kids(self, party_id: str) -> list[str]:
        """The ids of the keys held for a party, newest first."""
        query = (sa.select(_HELD.c.kid).where(_HELD.c.party_id == party_id)
                 .order_by(_HELD.c.created_at.desc(), _HELD.c.kid))
        with transaction(self._engine, "read held keys", write=False) as connection:
            return [str(k) for k in connection.execute(query).scalars()]

    def held(self, kid: str) -> SigningKey | None:
        """The held key `kid`, whatever the log says of it now (None: not held here).

        For signing what that key already signed (a JOSE copy of its token): the caller
        checks the key is still valid in the log before using it.
        """
        kek = self._require_kek()
        query = sa.select(_HELD.c.sealed).where(_HELD.c.kid == kid)
        with transaction(self._engine, "read a held key", write=False) as connection:
            sealed = connection.execute(query).scalar()
        if sealed is None:
            return None
        return SigningKey(unseal(kek, bytes(sealed), kid.encode("utf-8")))

    def current(self, party_id: str, keys: KeyLookup, position: int, *,
                connection: Connection | None = None) -> HeldKey:
        """The newest held key of `party_id` the log says is valid at `position`.

        `connection` is an open read transaction on the same database (the one `keys`
        and `position` were read in): the held keys are read in it, one transaction per
        registration instead of two; without it, in a transaction of their own.

        Raises:
            NotFoundError: the service holds no valid key for the party.
        """
        kek = self._require_kek()
        if connection is not None:
            rows = connection.execute(_PARTY_HELD_KEYS, {"party": party_id}).all()
        else:
            with transaction(self._engine, "read a held key", write=False) as own:
                rows = own.execute(_PARTY_HELD_KEYS, {"party": party_id}).all()
        for row in rows:
            record = keys.key(row.kid)
            if record is None or record.status_at(position) != "valid":
                continue
            key = SigningKey(unseal(kek, bytes(row.sealed), str(row.kid).encode("utf-8")))
            return HeldKey(key, str(row.kid), json.loads(row.profile))
        raise NotFoundError(f"the service holds no valid signing key for party {party_id}: "
                            "register one (POST /v1/signing-keys) or sign with the CLI")
