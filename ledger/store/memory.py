"""`MemoryStore`: the in-memory fake of `LogStore`, for tests, examples and benchmarks.

It follows the same contract as the SQL store (the contract suite runs against both):
append-only, dense indices, content-addressed blobs, checkpoints by size.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

from ledger.errors import ConflictError, NotFoundError, OutOfRangeError
from ledger.store.base import EntryRecord, NewEntry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Lists and dicts behind a lock; nothing is ever removed or replaced."""

    def __init__(self) -> None:
        self._entries: list[EntryRecord] = []
        self._blobs: dict[str, bytes] = {}
        self._checkpoints: dict[int, list[str]] = {}
        self._recorded: list[tuple[int, str]] = []
        self._disclosures: dict[str, bytes] = {}
        self._lock = threading.RLock()

    def size(self) -> int:
        """Number of entries."""
        return len(self._entries)

    def append(self, entries: Sequence[NewEntry], *, require_blobs: Sequence[str] = ()) -> int:
        """Append atomically (all or nothing under the lock), `require_blobs` stored."""
        with self._lock:
            missing = sorted(set(require_blobs) - set(self._blobs))
            if missing:
                raise NotFoundError(f"token {missing[0]} is not stored in the ledger: an "
                                    "entry is logged only after its token")
            first = len(self._entries)
            self._entries.extend(
                EntryRecord(first + n, e.leaf_hash, e.body, e.kind, e.token_digest, e.key_id)
                for n, e in enumerate(entries)
            )
            return first

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

    def iter_entries(self, batch: int = 10_000) -> Iterator[EntryRecord]:
        """Every entry in order."""
        del batch
        yield from list(self._entries)
