"""Party keys as recorded by the log, and what a key may sign at a given log position.

Key transparency (ledger design s.6): a key is valid for a statement at index ``t`` when it
was added at an earlier index, was not retired (rotated away or revoked) before ``t``, and
is not "compromised since" an index at or before ``t``. Revoking a key as compromised since
``i`` voids what it signed from ``i`` on and keeps what it signed before, because the
witnessed log order proves those came first.

`KeyRegistry` is built by replaying the log; it is a pure in-memory value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import ConflictError, KeyRevokedError, UnknownKeyError

__all__ = ["KeyRecord", "KeyRegistry"]


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


@dataclass
class KeyRegistry:
    """Every key the log has recorded, by key id."""

    keys: dict[str, KeyRecord] = field(default_factory=dict)

    def get(self, kid: str) -> KeyRecord:
        """The record of `kid` (`UnknownKeyError` if the log never recorded it)."""
        record = self.keys.get(kid)
        if record is None:
            raise UnknownKeyError(f"key {kid} is not registered in the log", key_id=kid)
        return record

    def require_valid(self, kid: str, index: int) -> KeyRecord:
        """The record of `kid`, which must be valid for a statement at `index`."""
        record = self.get(kid)
        status = record.status_at(index)
        if status == "unknown":
            raise UnknownKeyError(f"key {kid} is not registered before index {index}",
                                  key_id=kid)
        if status != "valid":
            raise KeyRevokedError(f"key {kid} is {status} at index {index}", key_id=kid)
        return record

    def add(self, kid: str, public_key: bytes, party: Mapping[str, Any], index: int) -> None:
        """Record a new key at `index`."""
        if kid in self.keys:
            raise ConflictError(f"key {kid} is already registered (index "
                                f"{self.keys[kid].added_at})")
        self.keys[kid] = KeyRecord(kid, public_key, dict(party), index)

    def retire(self, kid: str, index: int, *, compromised_since: int | None = None) -> None:
        """Retire `kid` at `index` (rotation or revocation), possibly as compromised."""
        record = self.get(kid)
        if record.retired_at is None:
            record.retired_at = index
        if compromised_since is not None and (record.compromised_since is None
                                              or compromised_since < record.compromised_since):
            record.compromised_since = compromised_since

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        return sorted((r for r in self.keys.values() if r.party_id == party_id),
                      key=lambda r: r.added_at)
