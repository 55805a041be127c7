"""The service's Bitstring Status Lists: indices for new tokens, lists built from the log.

A token issued through the API gets the next index (``api_status_indices``, allocated
before signing: the index is inside the signed token), bound to its digest once logged
(``api_status_tokens``). List `n` covers indices ``n * LIST_BITS`` to the next list; its
bits are the tokens the log revoked (``log_token_events``), so the list is always the
log's word, recomputed when some standing changed (`LogStore.standing_watermark`) and
signed with the log's key. An index whose token never got logged stays 0.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.api.accounts import utc_timestamp
from ledger.crypto import SigningKey
from ledger.status_list import LIST_BITS, status_entry, status_list_credential
from ledger.store.sql import METADATA, store_errors
from ledger.store.sql_accounts import account_tables

__all__ = ["StatusLists"]

_TABLES = account_tables(METADATA)
_INDICES = _TABLES["api_status_indices"]
_TOKENS = _TABLES["api_status_tokens"]


class StatusLists:
    """Allocation and publication of revocation lists (safe between threads)."""

    def __init__(self, engine: Engine, base_url: str) -> None:
        self._engine = engine
        self.base_url = base_url
        self._cache: dict[int, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def list_url(self, number: int) -> str:
        """Where list `number` is served."""
        return f"{self.base_url}/v1/status/{number}"

    def allocate(self) -> tuple[int, dict[str, str]]:
        """A new index and the ``credentialStatus`` entry a token carries for it."""
        with store_errors("allocate a status index"), self._engine.connect() as connection, \
                connection.begin():
            key = connection.execute(sa.insert(_INDICES).values(
                allocated_at=utc_timestamp())).inserted_primary_key
            assert key is not None
            index = int(key[0]) - 1  # the autoincrement counts from 1, indices from 0
        return index, status_entry(self.list_url(index // LIST_BITS), index)

    def bind(self, index: int, token_digest: str) -> None:
        """Record that `index` belongs to the logged token `token_digest`."""
        with store_errors("bind a status index"), self._engine.connect() as connection, \
                connection.begin():
            connection.execute(sa.insert(_TOKENS).values(status_index=index,
                                                         token_digest=token_digest))

    def revoked(self, number: int) -> list[int]:
        """The indices of list `number` whose token the log revoked."""
        events = METADATA.tables["log_token_events"]
        first = number * LIST_BITS
        query = (sa.select(_TOKENS.c.status_index)
                 .join(events, events.c.digest == _TOKENS.c.token_digest)
                 .where(events.c.event == "revoked", _TOKENS.c.status_index >= first,
                        _TOKENS.c.status_index < first + LIST_BITS)
                 .distinct())
        with store_errors("read revocations"), self._engine.connect() as connection:
            return [int(i) - first for i in connection.execute(query).scalars()]

    def credential(self, number: int, key: SigningKey, watermark: int) -> dict[str, Any]:
        """List `number` as a signed credential, rebuilt when the watermark moved."""
        with self._lock:
            cached = self._cache.get(number)
            if cached is not None and cached[0] == watermark:
                return cached[1]
        made = status_list_credential(self.list_url(number), self.revoked(number), key,
                                      utc_timestamp())
        with self._lock:
            self._cache[number] = (watermark, made)
        return made
