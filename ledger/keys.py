"""Party keys as recorded by the log, and what a key may sign at a given log position.

Key transparency (ledger design s.6): a key is valid for a statement at index ``t`` when it
was added at an earlier index, was not retired (rotated away or revoked) before ``t``, and
is not "compromised since" an index at or before ``t``. Revoking a key as compromised since
``i`` voids what it signed from ``i`` on and keeps what it signed before, because the
witnessed log order proves those came first.

Records come from the store's derived tables (`ledger.state`): a key's row plus its
retirements. `KeyDirectory` looks them up; `require_valid` is the rule itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.errors import KeyRevokedError, UnknownKeyError

__all__ = ["KeyDirectory", "KeyLookup", "KeyRecord", "require_key", "require_valid"]


@dataclass(slots=True)
class KeyRecord:
    """One registered key and its life in the log."""

    kid: str
    public_key: bytes
    party: Mapping[str, Any]
    added_at: int
    retired_at: int | None = None
    compromised_since: int | None = None

    @property
    def party_id(self) -> str:
        """The id of the party that holds the key."""
        return str(self.party["id"])

    def status_at(self, index: int) -> str:
        """``valid``, ``revoked`` (retired before `index`), ``compromised`` or ``unknown``
        (not yet added) for a statement at log position `index`.
        """
        if index <= self.added_at:
            return "unknown"
        if self.compromised_since is not None and index >= self.compromised_since:
            return "compromised"
        if self.retired_at is not None and index > self.retired_at:
            return "revoked"
        return "valid"


    def summary(self, size: int) -> dict[str, Any]:
        """The key as a listing shows it, for a log of `size` entries (JSON-ready)."""
        state = self.status_at(size + 1)
        return {"kid": self.kid, "party": self.party_id, "name": self.party.get("name"),
                "added": self.added_at, "retired": self.retired_at,
                "compromisedSince": self.compromised_since,
                "status": "retired" if state == "revoked" else state}


class KeyLookup(Protocol):
    """Where key records come from (the store's derived tables, or a batch over them)."""

    def key(self, kid: str) -> KeyRecord | None:
        """The record of `kid`, if the log added it."""
        ...

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        ...


def require_key(record: KeyRecord | None, kid: str) -> KeyRecord:
    """`record`, which must exist (`UnknownKeyError` if the log never recorded `kid`)."""
    if record is None:
        raise UnknownKeyError(f"key {kid} is not registered in the log", key_id=kid)
    return record


def require_valid(record: KeyRecord | None, kid: str, index: int) -> KeyRecord:
    """`record`, which must be valid for a statement at `index`."""
    record = require_key(record, kid)
    status = record.status_at(index)
    if status == "unknown":
        raise UnknownKeyError(f"key {kid} is not registered before index {index}",
                              key_id=kid)
    if status != "valid":
        raise KeyRevokedError(f"key {kid} is {status} at index {index}", key_id=kid)
    return record


class KeyDirectory:
    """Every key the log has recorded, looked up in the store on each call.

    Holds no records itself, so it is never stale and costs nothing to create; `keys`
    lists them all (a listing, O(keys)), every other method is one indexed look-up.
    """

    def __init__(self, source: KeyLookup, listing: Callable[[], list[KeyRecord]]) -> None:
        self._source = source
        self._listing = listing

    @property
    def keys(self) -> dict[str, KeyRecord]:
        """Every key by key id, oldest first."""
        return {record.kid: record for record in self._listing()}

    def get(self, kid: str) -> KeyRecord:
        """The record of `kid` (`UnknownKeyError` if the log never recorded it)."""
        return require_key(self._source.key(kid), kid)

    def require_valid(self, kid: str, index: int) -> KeyRecord:
        """The record of `kid`, which must be valid for a statement at `index`."""
        return require_valid(self._source.key(kid), kid, index)

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        return self._source.party_keys(party_id)
