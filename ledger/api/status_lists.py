"""The service's Bitstring Status Lists: indices for new tokens, lists built from the log.

A token issued through the API gets an index of its own before it is signed (the index
is inside the signed token). Indices are reserved in the store (``api_status_indices``)
a block at a time, one transaction per `BLOCK` tokens, and handed out by the worker that
reserved them; a block is never given out twice, by any worker. A worker that stops
leaves the rest of its block unused: those bits stay 0 for ever, which the list format
allows (W3C Bitstring Status List v1.0 s.3: bits no credential uses are 0; its lists are
large, `LIST_BITS` entries, so that a few thousand lost ones cost nothing).

Service-wide, index ``i`` is bit ``i % LIST_BITS`` of list ``i // LIST_BITS``: the token's
``credentialStatus`` names that list and, as ``statusListIndex``, the position inside it
(W3C Bitstring Status List v1.0 s.2.1: "the zero-based index value identifies the
position of the status of the verifiable credential" in the list it names; for list 0 the
two numbers are equal, so tokens issued before this distinction read the same). A list's
bits are the tokens the log revoked (``log_token_events``), each at the position its own
signed token names in ``credentialStatus`` (read from the stored token, so the list is
always the log's and the token's word), recomputed when some standing changed
(`LogStore.standing_watermark`) and signed with the log's key. Tokens from before
credentialStatus, and those that name another service's list, have no bit here.
(``api_status_tokens``, where an earlier version recorded each binding after the append,
is no longer written: the token itself says it, and the extra transaction cost every
registration an fsync.)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.api.accounts import utc_timestamp
from ledger.crypto import SigningKey
from ledger.errors import EncodingError
from ledger.status_list import (
    LIST_BITS,
    decode_status_list,
    status_entry,
    status_list_credential,
)
from ledger.store.sql import METADATA, transaction
from ledger.store.sql_accounts import account_tables

__all__ = ["BLOCK", "StatusLists"]

_TABLES = account_tables(METADATA)
_INDICES = _TABLES["api_status_indices"]
_BLOBS = METADATA.tables["log_blobs"]
_EVENTS = METADATA.tables["log_token_events"]

#: Indices a worker reserves in one transaction.
BLOCK = 64


class StatusLists:
    """Allocation and publication of revocation lists (safe between threads)."""

    def __init__(self, engine: Engine, base_url: str, *, block: int = BLOCK) -> None:
        self._engine = engine
        self.base_url = base_url
        self.block = block
        self._cache: dict[int, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._reserved: deque[int] = deque()

    def list_url(self, number: int) -> str:
        """Where list `number` is served."""
        return f"{self.base_url}/v1/status/{number}"

    def number_of(self, url: object) -> int | None:
        """The number of the list `url` names, if it is one of this service's lists."""
        prefix = f"{self.base_url}/v1/status/"
        if not isinstance(url, str) or not url.startswith(prefix):
            return None
        rest = url[len(prefix):]
        if not rest.isascii() or not rest.isdigit() or len(rest) > 10 or (
                len(rest) > 1 and rest[0] == "0") or int(rest) >= 2**31:
            return None
        return int(rest)

    def bit(self, number: int, position: int, key: SigningKey, watermark: int) -> int:
        """Bit `position` of list `number`, as its published credential has it (1: revoked).

        `position` is the ``statusListIndex`` a token names: the place inside the list its
        ``statusListCredential`` names. Read from the cached credential (`credential`), so a
        verification costs no query while no standing moved.
        """
        if not 0 <= position < LIST_BITS:
            raise EncodingError(f"status index {position} is not in a list of {LIST_BITS} "
                                "entries")
        credential = self.credential(number, key, watermark)
        bits = decode_status_list(credential["credentialSubject"]["encodedList"])
        return (bits[position // 8] >> (7 - position % 8)) & 1

    def allocate(self) -> tuple[int, dict[str, str]]:
        """A new service-wide index and the ``credentialStatus`` entry a token carries for
        it: list ``index // LIST_BITS``, position ``index % LIST_BITS`` inside it.
        """
        with self._lock:
            if not self._reserved:
                self._reserved.extend(self._reserve(self.block))
            index = self._reserved.popleft()
        number, position = divmod(index, LIST_BITS)
        return index, status_entry(self.list_url(number), position)

    def _reserve(self, count: int) -> list[int]:
        stamp = utc_timestamp()
        with transaction(self._engine, "reserve status indices", write=True) as connection:
            keys = connection.execute(
                sa.insert(_INDICES).returning(_INDICES.c.status_index),
                [{"allocated_at": stamp}] * count).scalars().all()
        # The autoincrement counts from 1, indices from 0.
        return sorted(int(key) - 1 for key in keys)

    def revoked(self, number: int) -> list[int]:
        """The positions in list `number` whose token the log revoked."""
        url = self.list_url(number)
        query = (sa.select(_BLOBS.c.data)
                 .where(_BLOBS.c.digest.in_(sa.select(_EVENTS.c.digest)
                                            .where(_EVENTS.c.event == "revoked"))))
        found: set[int] = set()
        with transaction(self._engine, "read revocations", write=False) as connection:
            for data in connection.execute(query).scalars():
                position = _status_index(bytes(data), url)
                if position is not None and position < LIST_BITS:
                    found.add(position)
        return sorted(found)

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


def _status_index(token: bytes, list_url: str) -> int | None:
    """The index a stored token's ``credentialStatus`` names in `list_url`, if any."""
    entry = json.loads(token).get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("statusListCredential") != list_url:
        return None
    index = entry.get("statusListIndex")
    return int(index) if isinstance(index, str) and index.isdigit() else None
