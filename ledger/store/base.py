"""The storage protocol of the ledger log (what the core needs, nothing more).

The log is append-only: the protocol has no update and no delete. An append is a batch
written atomically and durably (the call returns only after the data is on disk), under a
single writer (`writer()`; an advisory lock on PostgreSQL) so that indices are dense and
never reused. Each entry keeps the canonical statement bytes it was hashed from, so an
audit can recompute every leaf hash and detect a row edited behind the ledger's back.

Besides entries the store keeps three append-only collections: token blobs by digest
(content-addressed; writing the same digest again with other bytes is a conflict), the
issuer's disclosure records of each token (its salts and line records: commercial data,
written before the token is logged so that a logged token can always be disclosed), and
signed checkpoints by tree size. And two it derives from the entries, written with them:
the ledger's index of keys and tokens (`ledger.state`: a status change is a new row) and
the tree as full C2SP tlog-tiles (`ledger.tiles`). Reading either costs indexed look-ups,
never a replay. Witness cosignature state is *not* here (witnesses are other parties).
Errors: `ConflictError`, `NotFoundError`, `OutOfRangeError`, `StoreUnavailableError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ledger.keys import KeyRecord
from ledger.state import BulkStateReader, DerivedRows, KeyEvent, KeyRow, TokenEvent, TokenRow
from ledger.tiles import Tile, TileSource

__all__ = ["BlobRecord", "EntryRecord", "LogStore", "NewEntry", "StoreView"]


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append: the canonical statement bytes and what to index it by."""

    leaf_hash: bytes
    body: bytes
    kind: str
    token_digest: str | None = None
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """A stored entry at `index`."""

    index: int
    leaf_hash: bytes
    body: bytes
    kind: str
    token_digest: str | None
    key_id: str | None


@dataclass(frozen=True, slots=True)
class BlobRecord:
    """A stored token (or other content-addressed document)."""

    digest: str
    data: bytes


class StoreView(BulkStateReader, TileSource, Protocol):
    """What one read transaction answers: the size, derived state (also in bulk), tiles."""

    def size(self) -> int:
        """Entries in the log as this view sees it."""
        ...

    def key_histories(self, kids: Sequence[str]) -> dict[str, tuple[KeyRow, list[KeyEvent]]]:
        """Each existing key's row and raw events (to read the state as of an entry)."""
        ...

    def party_key_histories(self, party_id: str) -> list[tuple[KeyRow, list[KeyEvent]]]:
        """A party's keys with their raw events, oldest first."""
        ...

    def shipment_token_rows(self, party_id: str, shipments: Sequence[str],
                            before: int) -> list[TokenRow]:
        """Every token a party logged for any of `shipments` at an index below `before`."""
        ...

    def token_rows_before(self, digests: Sequence[str], before: int) -> dict[str, TokenRow]:
        """The token rows among `digests` logged at an index below `before`."""
        ...

    def token_events_before(self, digests: Sequence[str],
                            before: int) -> dict[str, list[TokenEvent]]:
        """The events below index `before` of each of `digests` that has some, in order."""
        ...

    def entries_at(self, indices: Sequence[int]) -> dict[int, EntryRecord]:
        """The entries at `indices` (each must exist: `TamperedError` otherwise)."""
        ...

    def latest_status(self, digest: str, below: int) -> EntryRecord | None:
        """The last status statement about token `digest` at an index below `below`."""
        ...

    def checkpoint(self, size: int) -> str | None:
        """The checkpoint text recorded for tree `size`, if any."""
        ...

    def get_blob(self, digest: str) -> bytes | None:
        """The blob stored under `digest`, if any."""
        ...


@runtime_checkable
class LogStore(Protocol):
    """Append-only storage of log entries, token blobs and signed checkpoints."""

    def size(self) -> int:
        """Number of entries in the log."""
        ...

    def append(self, entries: Sequence[NewEntry], *, require_blobs: Sequence[str] = (),
               derived: DerivedRows | None = None, tiles: Sequence[Tile] = (),
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> int:
        """Append `entries` atomically and durably; return the index of the first one.

        Every digest in `require_blobs` must have a blob stored, checked in the same
        transaction (`NotFoundError` otherwise, and nothing is written). The `derived`
        rows (`ledger.state`) and the full `tiles` the entries complete (`ledger.tiles`)
        are written in that same transaction: the index and the tree are never behind or
        ahead of the log. `blobs` (digest, bytes) and `disclosures` (token digest,
        records) are stored in it too (same rules as `put_blobs` / `put_disclosures`), so
        a token, its disclosure records and its statement land together or not at all.
        """
        ...

    # -- derived state (ledger.state.StateReader): indexed look-ups, never a scan

    def snapshot(self) -> AbstractContextManager[StoreView]:
        """A consistent read view for many look-ups (one transaction on SQL stores)."""
        ...

    def key(self, kid: str) -> KeyRecord | None:
        """The key `kid` with its retirements, if the log added it."""
        ...

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        ...

    def all_keys(self) -> list[KeyRecord]:
        """Every key the log added, oldest first (for listings)."""
        ...

    def token_row(self, digest: str) -> TokenRow | None:
        """Where and by whom token `digest` was logged, if it was."""
        ...

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The revocations and supersessions of token `digest`, in log order."""
        ...

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The token a party logged last for a shipment, if any."""
        ...

    def tokens_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` logged token digests starting with `prefix`, in digest order."""
        ...

    def derived_rows(self, start: int, end: int) -> DerivedRows:
        """The derived rows of entries start <= index < end, each list in index order."""
        ...

    def latest_status(self, digest: str, below: int) -> EntryRecord | None:
        """The last status statement about token `digest` at an index below `below`."""
        ...

    # -- the tree as tlog-tiles (ledger.tiles.TileSource)

    def tile(self, level: int, index: int) -> bytes | None:
        """The 8,192 bytes of full tile `index` at `level`, if it is complete."""
        ...

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        """Roots of the full tiles start <= index < end at `level` that exist."""
        ...

    def entries(self, start: int, end: int) -> list[EntryRecord]:
        """Entries with start <= index < end (`OutOfRangeError` beyond the size)."""
        ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes with start <= index < end."""
        ...

    def find(self, *, token_digest: str | None = None, key_id: str | None = None,
             kind: str | None = None) -> list[EntryRecord]:
        """Entries matching every given criterion, in log order."""
        ...

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store a blob once; the same bytes again are fine, other bytes a `ConflictError`."""
        ...

    def get_blob(self, digest: str) -> bytes | None:
        """The blob stored under `digest`, if any."""
        ...

    def get_blobs(self, digests: Sequence[str]) -> dict[str, bytes]:
        """The blobs stored under any of `digests` (missing ones are left out)."""
        ...

    def put_blobs(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """`put_blob` for many (digest, data) pairs in one transaction."""
        ...

    def put_disclosures(self, digest: str, data: bytes) -> None:
        """Store a token's disclosure records once (other bytes later: `ConflictError`)."""
        ...

    def get_disclosures(self, digest: str) -> bytes | None:
        """The disclosure records stored for token `digest`, if any."""
        ...

    def iter_checkpoints(self, batch: int = 1_000) -> Iterator[tuple[int, str]]:
        """Every recorded checkpoint text as (size, text), in the order recorded."""
        ...

    def add_checkpoint(self, size: int, text: str) -> None:
        """Record a signed checkpoint (with its cosignatures) for tree `size`.

        A checkpoint for a size already recorded may be added again only with more
        cosignatures on the same body (the latest text is kept alongside the earlier).
        """
        ...

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """(size, text) of the largest checkpoint, with the most cosignatures seen."""
        ...

    def party_tokens(self, party_id: str, after: int = -1, limit: int = 1_000
                     ) -> list[TokenRow]:
        """A party's tokens logged after entry `after`, in log order, at most `limit`."""
        ...

    def standing_watermark(self) -> int:
        """One past the last entry that changed any token's or key's standing, else 0.

        Token events (revocations, supersessions) and key events (rotations, revocations,
        compromise declarations) are the only entries that change what a verification of
        an already logged token says; while this number stays the same, a verification
        made earlier still holds (what `ledger.api` caches on). Two primary-key maxima.
        """
        ...

    def checkpoint(self, size: int) -> str | None:
        """The checkpoint text recorded for tree `size`, if any."""
        ...

    def writer(self) -> AbstractContextManager[None]:
        """Exclusive writer section: one sequencer appends at a time."""
        ...

    def iter_entries(self, batch: int = 10_000, *, start: int = 0,
                     end: int | None = None) -> Iterator[EntryRecord]:
        """Every entry with start <= index < end (default: the size when iteration
        starts), in log order (for audits and rebuilding the tree).
        """
        ...

    def shared_url(self) -> str | None:
        """A URL with which another process opens this same store (an audit's workers),
        password included; None when the store lives only in this process.
        """
        ...
