"""`MemoryStore`: the in-memory fake of `LogStore`, for tests, examples and benchmarks.

It follows the same contract as the SQL store (the contract suite runs against both):
append-only, dense indices, content-addressed blobs, checkpoints by size.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from ledger.errors import ConflictError, NotFoundError, OutOfRangeError
from ledger.keys import KeyRecord
from ledger.state import DerivedRows, KeyEvent, KeyRow, TokenEvent, TokenRow, key_record
from ledger.store.base import EntryRecord, NewEntry
from ledger.tiles import Tile

__all__ = ["MemoryStore"]

_Row = TypeVar("_Row", KeyRow, KeyEvent, TokenRow, TokenEvent)


class MemoryStore:
    """Lists and dicts behind a lock; nothing is ever removed or replaced."""

    def __init__(self) -> None:
        self._entries: list[EntryRecord] = []
        self._blobs: dict[str, bytes] = {}
        self._checkpoints: dict[int, list[str]] = {}
        self._recorded: list[tuple[int, str]] = []
        self._disclosures: dict[str, bytes] = {}
        self._keys: dict[str, KeyRow] = {}
        self._key_events: dict[str, list[KeyEvent]] = {}
        self._party_keys: dict[str, list[str]] = {}
        self._tokens: dict[str, TokenRow] = {}
        self._token_events: dict[str, list[TokenEvent]] = {}
        self._shipments: dict[tuple[str, str], str] = {}
        self._statuses: dict[str, list[EntryRecord]] = {}
        self._tiles: dict[tuple[int, int], Tile] = {}
        self._lock = threading.RLock()

    def size(self) -> int:
        """Number of entries."""
        return len(self._entries)

    def append(self, entries: Sequence[NewEntry], *, require_blobs: Sequence[str] = (),
               derived: DerivedRows | None = None, tiles: Sequence[Tile] = (),
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> int:
        """Append atomically (all or nothing under the lock), `require_blobs` stored;
        `blobs` and `disclosures` are stored in the same step.
        """
        derived = derived or DerivedRows()
        with self._lock:
            for digest, data in blobs:
                if self._blobs.get(digest, data) != data:
                    raise ConflictError(f"a different document is already stored as {digest}")
            for digest, data in disclosures:
                if self._disclosures.get(digest, data) != data:
                    raise ConflictError(f"other disclosure records are already stored for "
                                        f"{digest}")
            stored = set(self._blobs) | {digest for digest, _ in blobs}
            missing = sorted(set(require_blobs) - stored)
            if missing:
                raise NotFoundError(f"token {missing[0]} is not stored in the ledger: an "
                                    "entry is logged only after its token")
            taken = [f"tile {t.level}/{t.index}" for t in tiles
                     if (t.level, t.index) in self._tiles]
            taken += [f"key {k.kid}" for k in derived.keys if k.kid in self._keys]
            taken += [f"token {t.digest}" for t in derived.tokens if t.digest in self._tokens]
            if taken:
                raise ConflictError(f"{taken[0]} is already recorded")
            for digest, data in blobs:
                self._blobs[digest] = bytes(data)
            for digest, data in disclosures:
                self._disclosures[digest] = bytes(data)
            first = len(self._entries)
            records = [
                EntryRecord(first + n, e.leaf_hash, e.body, e.kind, e.token_digest, e.key_id)
                for n, e in enumerate(entries)
            ]
            self._entries.extend(records)
            for record in records:
                if record.kind == "status" and record.token_digest:
                    self._statuses.setdefault(record.token_digest, []).append(record)
            for key in derived.keys:
                self._keys[key.kid] = key
                self._party_keys.setdefault(key.party_id, []).append(key.kid)
            for event in derived.key_events:
                self._key_events.setdefault(event.kid, []).append(event)
            for token in derived.tokens:
                self._tokens[token.digest] = token
                self._shipments[token.party_id, token.shipment] = token.digest
            for token_event in derived.token_events:
                self._token_events.setdefault(token_event.digest, []).append(token_event)
            for tile in tiles:
                self._tiles[tile.level, tile.index] = tile
            return first

    @contextmanager
    def snapshot(self) -> Iterator[MemoryStore]:
        """This store itself, under its lock (one consistent view)."""
        with self._lock:
            yield self

    def key_histories(self, kids: Sequence[str]) -> dict[str, tuple[KeyRow, list[KeyEvent]]]:
        """Each existing key's row and raw events."""
        return {k: (self._keys[k], list(self._key_events.get(k, []))) for k in kids
                if k in self._keys}

    def party_key_histories(self, party_id: str) -> list[tuple[KeyRow, list[KeyEvent]]]:
        """A party's keys with their raw events, oldest first."""
        return list(self.key_histories(self._party_keys.get(party_id, [])).values())

    def shipment_token_rows(self, party_id: str, shipments: Sequence[str],
                            before: int) -> list[TokenRow]:
        """Every token of the party for any of `shipments` below index `before` (a scan:
        tests only).
        """
        wanted = set(shipments)
        return [t for t in list(self._tokens.values())
                if t.party_id == party_id and t.shipment in wanted and t.index < before]

    def token_rows_before(self, digests: Sequence[str], before: int) -> dict[str, TokenRow]:
        """The token rows among `digests` logged below index `before`."""
        return {d: r for d in digests
                if (r := self._tokens.get(d)) is not None and r.index < before}

    def token_events_before(self, digests: Sequence[str],
                            before: int) -> dict[str, list[TokenEvent]]:
        """The events below index `before` of each digest that has some."""
        found = {d: [e for e in self.token_events(d) if e.index < before] for d in digests}
        return {d: events for d, events in found.items() if events}

    def entries_at(self, indices: Sequence[int]) -> dict[int, EntryRecord]:
        """The entries at `indices`."""
        return {i: self._entries[i] for i in indices}

    def keys_many(self, kids: Sequence[str]) -> dict[str, KeyRecord]:
        """The keys among `kids` that exist."""
        return {kid: r for kid in kids if (r := self.key(kid)) is not None}

    def token_rows_many(self, digests: Sequence[str]) -> dict[str, TokenRow]:
        """The token rows among `digests` that exist."""
        return {d: r for d in digests if (r := self._tokens.get(d)) is not None}

    def token_events_many(self, digests: Sequence[str]) -> dict[str, list[TokenEvent]]:
        """The events of each digest."""
        return {d: self.token_events(d) for d in digests}

    def shipment_tokens_many(self, pairs: Sequence[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
        """The last token of each pair that has one."""
        return {p: d for p in pairs if (d := self._shipments.get(p)) is not None}

    def key(self, kid: str) -> KeyRecord | None:
        """The key with its retirements."""
        row = self._keys.get(kid)
        return None if row is None else key_record(row, self._key_events.get(kid, []))

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """The party's keys, oldest first."""
        return [r for kid in self._party_keys.get(party_id, [])
                if (r := self.key(kid)) is not None]

    def all_keys(self) -> list[KeyRecord]:
        """Every key, oldest first."""
        return [r for kid in list(self._keys) if (r := self.key(kid)) is not None]

    def token_row(self, digest: str) -> TokenRow | None:
        """The token's row."""
        return self._tokens.get(digest)

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The token's events in log order."""
        return list(self._token_events.get(digest, []))

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The last token of the party for the shipment."""
        return self._shipments.get((party_id, shipment))

    def tokens_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Digests starting with `prefix` (a scan: this store is for tests)."""
        return sorted(d for d in list(self._tokens) if d.startswith(prefix))[:limit]

    def party_tokens(self, party_id: str, after: int = -1, limit: int = 1_000
                     ) -> list[TokenRow]:
        """A party's tokens after entry `after`, in log order (a scan: for tests)."""
        rows = sorted((r for r in list(self._tokens.values())
                       if r.party_id == party_id and r.index > after), key=lambda r: r.index)
        return rows[:limit]

    def standing_watermark(self) -> int:
        """One past the last token or key event (a scan: this store is for tests)."""
        with self._lock:
            events = [e.index for es in self._token_events.values() for e in es]
            events += [e.index for es in self._key_events.values() for e in es]
        return max(events) + 1 if events else 0

    def derived_rows(self, start: int, end: int) -> DerivedRows:
        """The derived rows of entries in [start, end), in index order (a scan)."""
        def within(rows: list[_Row]) -> list[_Row]:
            return sorted((r for r in rows if start <= r.index < end), key=lambda r: r.index)

        return DerivedRows(
            keys=within(list(self._keys.values())),
            key_events=within([e for es in self._key_events.values() for e in es]),
            tokens=within(list(self._tokens.values())),
            token_events=within([e for es in self._token_events.values() for e in es]),
        )

    def latest_status(self, digest: str, below: int) -> EntryRecord | None:
        """The last status statement about `digest` below index `below`."""
        found = [e for e in self._statuses.get(digest, []) if e.index < below]
        return found[-1] if found else None

    def tile(self, level: int, index: int) -> bytes | None:
        """A full tile's hashes."""
        tile = self._tiles.get((level, index))
        return None if tile is None else tile.hashes

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        """Roots of the full tiles that exist in the range."""
        return [t.root for n in range(start, end) if (t := self._tiles.get((level, n)))]

    def _check_range(self, start: int, end: int) -> None:
        size = len(self._entries)
        if not 0 <= start <= end <= size:
            raise OutOfRangeError(f"entries {start}..{end} are outside a log of size {size}")

    def entries(self, start: int, end: int) -> list[EntryRecord]:
        """Entries start <= index < end."""
        self._check_range(start, end)
        return self._entries[start:end]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes start <= index < end."""
        self._check_range(start, end)
        return [e.leaf_hash for e in self._entries[start:end]]

    def find(self, *, token_digest: str | None = None, key_id: str | None = None,
             kind: str | None = None) -> list[EntryRecord]:
        """Entries matching every given criterion."""
        return [
            e for e in self._entries
            if (token_digest is None or e.token_digest == token_digest)
            and (key_id is None or e.key_id == key_id)
            and (kind is None or e.kind == kind)
        ]

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store once; identical re-puts are idempotent."""
        with self._lock:
            existing = self._blobs.get(digest)
            if existing is not None and existing != data:
                raise ConflictError(f"a different document is already stored as {digest}")
            self._blobs[digest] = data

    def get_blob(self, digest: str) -> bytes | None:
        """The blob under `digest`."""
        return self._blobs.get(digest)

    def get_blobs(self, digests: Sequence[str]) -> dict[str, bytes]:
        """The blobs stored under any of `digests`."""
        return {d: self._blobs[d] for d in digests if d in self._blobs}

    def put_blobs(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Store several blobs, all or none."""
        with self._lock:
            for digest, data in blobs:
                existing = self._blobs.get(digest)
                if existing is not None and existing != data:
                    raise ConflictError(f"a different document is already stored as {digest}")
            for digest, data in blobs:
                self._blobs[digest] = bytes(data)

    def put_disclosures(self, digest: str, data: bytes) -> None:
        """Store once; identical re-puts are idempotent."""
        with self._lock:
            existing = self._disclosures.get(digest)
            if existing is not None and existing != data:
                raise ConflictError(f"other disclosure records are already stored for "
                                    f"{digest}")
            self._disclosures[digest] = bytes(data)

    def get_disclosures(self, digest: str) -> bytes | None:
        """The disclosure records of `digest`."""
        return self._disclosures.get(digest)

    def iter_checkpoints(self, batch: int = 1_000) -> Iterator[tuple[int, str]]:
        """Every recorded checkpoint text, in the order recorded."""
        del batch
        yield from list(self._recorded)

    def add_checkpoint(self, size: int, text: str) -> None:
        """Record a checkpoint text for `size` (later texts add cosignatures)."""
        with self._lock:
            texts = self._checkpoints.setdefault(size, [])
            if text not in texts:
                texts.append(text)
                self._recorded.append((size, text))

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """The largest size and its most recently recorded text."""
        if not self._checkpoints:
            return None
        size = max(self._checkpoints)
        return size, self._checkpoints[size][-1]

    def checkpoint(self, size: int) -> str | None:
        """The most recent text recorded for `size`."""
        texts = self._checkpoints.get(size)
        return texts[-1] if texts else None

    def writer(self) -> AbstractContextManager[None]:
        """The single-writer section (a re-entrant lock)."""
        lock = self._lock

        class _Writer(AbstractContextManager[None]):
            def __enter__(self) -> None:
                lock.acquire()

            def __exit__(self, *exc: object) -> None:
                lock.release()

        return _Writer()

    def iter_entries(self, batch: int = 10_000, *, start: int = 0,
                     end: int | None = None) -> Iterator[EntryRecord]:
        """Every entry with start <= index < end, in order."""
        del batch
        yield from self._entries[start:end]

    def shared_url(self) -> None:
        """None: a memory store is this process's alone."""
        return None
