"""One contract for every `LogStore`: MemoryStore, SqlStore on SQLite, SqlStore on PostgreSQL.

The memory fake defines the behaviour; the SQL store must be indistinguishable through the
protocol. Backend-specific guarantees (database triggers, migrations, error mapping) are
in test_store_sql.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledger.errors import ConflictError, NotFoundError, OutOfRangeError
from ledger.merkle import leaf_hash
from ledger.store import LogStore, MemoryStore, NewEntry
from ledger.store.sql import SqlStore


def entry(n: int, *, kind: str = "token", token_digest: str | None = None,
          key_id: str | None = None) -> NewEntry:
    """A realistic entry: a ~300-byte canonical statement and its RFC 6962 leaf hash."""
    digest = token_digest or f"sha256:{n:064x}"
    body = (f'{{"issuerKid":"{key_id or "did:key:z6Mk" + "a" * 44}","parents":[],'
            f'"pad":"{"x" * 120}","seq":{n},"tokenDigest":"{digest}","type":"{kind}"}}'
            ).encode()
    return NewEntry(leaf_hash(body), body, kind, token_digest, key_id)


def batch(start: int, count: int) -> list[NewEntry]:
    return [entry(n) for n in range(start, start + count)]


class Backend:
    """Opens stores on one storage location; `open()` again gives a second handle."""

    def __init__(self, name: str, opener: Callable[[], LogStore]) -> None:
        self.name = name
        self._opener = opener
        self._opened: list[LogStore] = []

    def open(self) -> LogStore:
        store = self._opener()
        self._opened.append(store)
        return store

    def close(self) -> None:
        for store in self._opened:
            if isinstance(store, SqlStore):
                store.close()


def _backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "memory":
        memory = MemoryStore()
        return Backend(name, lambda: memory)
    if name == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return Backend(name, lambda: SqlStore.open(url))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = _backend(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = _backend(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def store(backend: Backend) -> LogStore:
    return backend.open()


def test_store_satisfies_the_protocol(store: LogStore) -> None:
    assert isinstance(store, LogStore)


class TestEmptyStore:
    def test_has_nothing(self, store: LogStore) -> None:
        assert store.size() == 0
        assert store.entries(0, 0) == []
        assert store.leaf_hashes(0, 0) == []
        assert store.find() == []
        assert list(store.iter_entries()) == []
        assert store.get_blob("sha256:00") is None
        assert store.latest_checkpoint() is None
        assert store.checkpoint(0) is None

    def test_refuses_any_nonempty_range(self, store: LogStore) -> None:
        with pytest.raises(OutOfRangeError):
            store.entries(0, 1)
        with pytest.raises(OutOfRangeError):
            store.leaf_hashes(0, 1)


class TestAppend:
    def test_returns_dense_indices_across_batches(self, store: LogStore) -> None:
        assert store.append(batch(0, 3)) == 0
        assert store.append(batch(3, 1)) == 3
        assert store.append(batch(4, 5)) == 4
        assert store.size() == 9
        assert [e.index for e in store.entries(0, 9)] == list(range(9))

    def test_keeps_every_field(self, store: LogStore) -> None:
        new = [entry(0, kind="key", key_id="did:key:z6MkA"),
               entry(1, kind="token", token_digest="sha256:t1", key_id="did:key:z6MkA")]
        store.append(new)
        stored = store.entries(0, 2)
        for index, (given, kept) in enumerate(zip(new, stored, strict=True)):
            assert kept.index == index
            assert (kept.leaf_hash, kept.body, kept.kind, kept.token_digest, kept.key_id) == (
                given.leaf_hash, given.body, given.kind, given.token_digest, given.key_id)
            assert isinstance(kept.body, bytes)
            assert isinstance(kept.leaf_hash, bytes)
            assert leaf_hash(kept.body) == kept.leaf_hash

    def test_an_empty_batch_appends_nothing(self, store: LogStore) -> None:
        store.append(batch(0, 2))
        assert store.append([]) == 2
        assert store.size() == 2


class TestRanges:
    @pytest.fixture
    def filled(self, store: LogStore) -> LogStore:
        store.append(batch(0, 10))
        return store

    def test_entries_and_leaf_hashes_slice_the_log(self, filled: LogStore) -> None:
        expected = batch(0, 10)
        assert [e.body for e in filled.entries(2, 7)] == [e.body for e in expected[2:7]]
        assert filled.leaf_hashes(0, 10) == [e.leaf_hash for e in expected]
        assert filled.leaf_hashes(9, 10) == [expected[9].leaf_hash]
        assert filled.entries(10, 10) == []
        assert filled.leaf_hashes(4, 4) == []

    @pytest.mark.parametrize(("start", "end"), [(0, 11), (-1, 2), (5, 4), (10, 11), (11, 11)])
    def test_out_of_range(self, filled: LogStore, start: int, end: int) -> None:
        with pytest.raises(OutOfRangeError):
            filled.entries(start, end)
        with pytest.raises(OutOfRangeError):
            filled.leaf_hashes(start, end)

    def test_iter_entries_in_log_order_whatever_the_batch(self, filled: LogStore) -> None:
        for size in (1, 3, 10, 10_000):
            assert [e.index for e in filled.iter_entries(size)] == list(range(10))
        assert [e.body for e in filled.iter_entries(4)] == [e.body for e in batch(0, 10)]


class TestFind:
    @pytest.fixture
    def filled(self, store: LogStore) -> LogStore:
        store.append([
            entry(0, kind="key", key_id="kid-a"),
            entry(1, kind="token", token_digest="sha256:t1", key_id="kid-a"),
            entry(2, kind="token", token_digest="sha256:t2", key_id="kid-b"),
        ])
        store.append([
            entry(3, kind="revoke", token_digest="sha256:t1", key_id="kid-a"),
            entry(4, kind="key", key_id="kid-b"),
        ])
        return store

    @pytest.mark.parametrize(("criteria", "indices"), [
        ({"token_digest": "sha256:t1"}, [1, 3]),
        ({"key_id": "kid-b"}, [2, 4]),
        ({"kind": "key"}, [0, 4]),
        ({"kind": "token", "key_id": "kid-a"}, [1]),
        ({"token_digest": "sha256:t1", "kind": "revoke", "key_id": "kid-a"}, [3]),
        ({"token_digest": "sha256:none"}, []),
        ({}, [0, 1, 2, 3, 4]),
    ])
    def test_matches_every_criterion_in_log_order(
            self, filled: LogStore, criteria: dict[str, str], indices: list[int]) -> None:
        found = filled.find(**criteria)
        assert [e.index for e in found] == indices
        assert found == [filled.entries(i, i + 1)[0] for i in indices]


class TestBlobs:
    def test_put_get_idempotent(self, store: LogStore) -> None:
        store.put_blob("sha256:aa", b'{"token":1}')
        store.put_blob("sha256:aa", b'{"token":1}')
        store.put_blob("sha256:bb", b"\x00\xff" * 1000)
        assert store.get_blob("sha256:aa") == b'{"token":1}'
        assert store.get_blob("sha256:bb") == b"\x00\xff" * 1000
        assert store.get_blob("sha256:cc") is None

    def test_other_bytes_under_the_same_digest_conflict(self, store: LogStore) -> None:
        store.put_blob("sha256:aa", b"one")
        with pytest.raises(ConflictError):
            store.put_blob("sha256:aa", b"two")
        assert store.get_blob("sha256:aa") == b"one"


class TestManyBlobs:
    def test_put_many_in_one_go(self, store: LogStore) -> None:
        store.put_blob("sha256:aa", b"one")
        store.put_blobs([("sha256:aa", b"one"), ("sha256:bb", b"two")])
        assert store.get_blob("sha256:bb") == b"two"
        digests = [f"sha256:{n:04d}" for n in range(1200)]  # beyond one IN list
        store.put_blobs([(d, b"x") for d in digests])
        assert store.append([entry(0)], require_blobs=digests) == 0

    def test_a_conflict_stores_none_of_the_batch(self, store: LogStore) -> None:
        store.put_blob("sha256:aa", b"one")
        with pytest.raises(ConflictError):
            store.put_blobs([("sha256:bb", b"two"), ("sha256:aa", b"other")])
        assert store.get_blob("sha256:bb") is None

    def test_an_append_naming_a_missing_blob_writes_nothing(self, store: LogStore) -> None:
        store.put_blob("sha256:aa", b"one")
        with pytest.raises(NotFoundError, match="sha256:bb"):
            store.append([entry(0), entry(1)], require_blobs=["sha256:aa", "sha256:bb"])
        assert store.size() == 0


class TestDisclosures:
    def test_put_get_idempotent(self, store: LogStore) -> None:
        store.put_disclosures("ab" * 32, b'{"salts":[]}')
        store.put_disclosures("ab" * 32, b'{"salts":[]}')
        assert store.get_disclosures("ab" * 32) == b'{"salts":[]}'
        assert store.get_disclosures("cd" * 32) is None

    def test_other_records_for_the_same_token_conflict(self, store: LogStore) -> None:
        store.put_disclosures("ab" * 32, b"one")
        with pytest.raises(ConflictError):
            store.put_disclosures("ab" * 32, b"two")
        assert store.get_disclosures("ab" * 32) == b"one"


class TestCheckpoints:
    def test_every_text_in_the_order_recorded(self, store: LogStore) -> None:
        texts = [(3, "log\n3\nroot3\n\n— sig\n"), (5, "log\n5\nroot5\n\n— sig\n"),
                 (4, "log\n4\nroot4\n\n— sig\n"), (5, "log\n5\nroot5\n\n— sig\n— cbp\n")]
        for size, text in texts:
            store.add_checkpoint(size, text)
        store.add_checkpoint(3, texts[0][1])  # recorded before: not again
        assert list(store.iter_checkpoints()) == texts
        assert list(store.iter_checkpoints(batch=1)) == texts

    def test_by_size_and_latest(self, store: LogStore) -> None:
        store.add_checkpoint(3, "log\n3\nroot3\n\n— sig\n")
        store.add_checkpoint(5, "log\n5\nroot5\n\n— sig\n")
        assert store.latest_checkpoint() == (5, "log\n5\nroot5\n\n— sig\n")
        assert store.checkpoint(3) == "log\n3\nroot3\n\n— sig\n"
        assert store.checkpoint(4) is None
        store.add_checkpoint(4, "log\n4\nroot4\n\n— sig\n")  # an older size recorded later
        assert store.latest_checkpoint() == (5, "log\n5\nroot5\n\n— sig\n")

    def test_more_cosignatures_replace_the_latest_text(self, store: LogStore) -> None:
        signed = "log\n5\nroot5\n\n— log sig\n"
        cosigned = signed + "— cbp cosig\n"
        store.add_checkpoint(5, signed)
        store.add_checkpoint(5, cosigned)
        assert store.checkpoint(5) == cosigned
        assert store.latest_checkpoint() == (5, cosigned)
        store.add_checkpoint(5, signed)  # seen before: no change
        assert store.latest_checkpoint() == (5, cosigned)


class TestWriter:
    def test_is_reentrant(self, store: LogStore) -> None:
        with store.writer(), store.writer():
            assert store.append(batch(0, 2)) == 0
        assert store.size() == 2

    def test_sections_are_exclusive_and_indices_dense(self, store: LogStore) -> None:
        rounds, per_batch = 15, 4
        sections_seen: list[tuple[int, int]] = []
        seen_lock = threading.Lock()

        def sequencer(worker: int) -> None:
            for r in range(rounds):
                start = (worker * rounds + r) * per_batch
                with store.writer():
                    first = store.append(batch(start, per_batch))
                    # Nobody else appends inside our section.
                    assert store.size() == first + per_batch
                    second = store.append(batch(start + 10_000, 1))
                    assert second == first + per_batch
                with seen_lock:
                    sections_seen.append((first, per_batch + 1))

        def bare_appender() -> None:  # appends outside any section still serialise
            for r in range(rounds):
                store.append(batch(90_000 + r * 2, 2))

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(sequencer, 0), pool.submit(sequencer, 1),
                       pool.submit(bare_appender)]
            for future in futures:
                future.result()

        total = 2 * rounds * (per_batch + 1) + rounds * 2
        assert store.size() == total
        stored = list(store.iter_entries(batch=7))
        assert [e.index for e in stored] == list(range(total))
        assert len({e.body for e in stored}) == total  # nothing lost, nothing doubled
        for first, count in sections_seen:  # each section's entries are contiguous
            seqs = [int(e.body.split(b'"seq":')[1].split(b",")[0])
                    for e in stored[first:first + count]]
            assert seqs[1:per_batch] == [s + 1 for s in seqs[:per_batch - 1]]
            assert seqs[per_batch] == seqs[0] + 10_000


def test_another_handle_sees_committed_data(durable_backend: Backend) -> None:
    first = durable_backend.open()
    first.append(batch(0, 5))
    first.put_blob("sha256:aa", b"token")
    first.add_checkpoint(5, "checkpoint 5\n")
    assert isinstance(first, SqlStore)
    first.close()  # SQLite: the file is all that is left; PostgreSQL: a new pool

    again = durable_backend.open()
    assert again.size() == 5
    assert [e.body for e in again.entries(0, 5)] == [e.body for e in batch(0, 5)]
    assert again.get_blob("sha256:aa") == b"token"
    assert again.latest_checkpoint() == (5, "checkpoint 5\n")
    assert again.append(batch(5, 1)) == 5


class TestStandingWatermark:
    """One past the last entry that changed a token's or key's standing."""

    def test_moves_only_with_token_and_key_events(self, store: LogStore) -> None:
        from ledger.state import DerivedRows, KeyEvent, TokenEvent, TokenEventKind, TokenRow

        assert store.standing_watermark() == 0
        token = TokenRow("sha256:" + "a" * 64, 0, "did:key:z6Mk#k", "p", "s" * 64, ())
        store.append(batch(0, 2), derived=DerivedRows(tokens=[token]))
        assert store.standing_watermark() == 0  # a new token changes no standing
        store.append(batch(2, 2), derived=DerivedRows(token_events=[
            TokenEvent(3, token.digest, TokenEventKind.REVOKED, None)]))
        assert store.standing_watermark() == 4
        store.append(batch(4, 3), derived=DerivedRows(key_events=[
            KeyEvent(5, "did:key:z6Mk#k", None)]))
        assert store.standing_watermark() == 6
        store.append(batch(7, 1))
        assert store.standing_watermark() == 6


class TestAppendWithDocuments:
    """A token, its disclosure records and its statement: one step, all or nothing."""

    def test_blobs_and_disclosures_land_with_the_entries(self, store: LogStore) -> None:
        digest = "sha256:" + "c" * 64
        store.append([entry(0, token_digest=digest)], require_blobs=[digest],
                     blobs=[(digest, b"token")], disclosures=[(digest, b"records")])
        assert store.get_blob(digest) == b"token"
        assert store.get_disclosures(digest) == b"records"
        assert store.size() == 1

    def test_a_conflict_writes_none_of_them(self, store: LogStore) -> None:
        digest = "sha256:" + "d" * 64
        store.put_disclosures(digest, b"first records")
        with pytest.raises(ConflictError):
            store.append([entry(0, token_digest=digest)], require_blobs=[digest],
                         blobs=[(digest, b"token")], disclosures=[(digest, b"other")])
        assert store.size() == 0
        assert store.get_blob(digest) is None
        assert store.get_disclosures(digest) == b"first records"


class TestReadsBelowAnIndex:
    """The audit's look-ups of the state before a page: only rows below the bound."""

    def test_token_rows_events_and_shipments_stop_at_the_bound(self, store: LogStore) -> None:
        from ledger.state import DerivedRows, TokenEvent, TokenEventKind, TokenRow

        old = TokenRow("a" * 64, 1, "did:key:z6Mk#k", "p", "s" * 64, ())
        new = TokenRow("b" * 64, 4, "did:key:z6Mk#k", "p", "s" * 64, (old.digest,))
        store.append(batch(0, 3), derived=DerivedRows(tokens=[old], token_events=[
            TokenEvent(2, old.digest, TokenEventKind.REVOKED, None)]))
        store.append(batch(3, 3), derived=DerivedRows(tokens=[new], token_events=[
            TokenEvent(5, new.digest, TokenEventKind.REVOKED, None)]))
        digests = [old.digest, new.digest, "c" * 64]
        with store.snapshot() as view:
            assert view.token_rows_before(digests, 4) == {old.digest: old}
            assert view.token_rows_before(digests, 5) == {old.digest: old, new.digest: new}
            assert view.token_rows_before(digests, 1) == {}
            assert view.token_events_before(digests, 2) == {}
            assert view.token_events_before(digests, 5) == {
                old.digest: [TokenEvent(2, old.digest, TokenEventKind.REVOKED, None)]}
            assert [r.digest for r in view.shipment_token_rows("p", ["s" * 64], 5)] in (
                [old.digest, new.digest], [new.digest, old.digest])
            assert view.shipment_token_rows("p", ["s" * 64], 4) == [old]
            assert view.shipment_token_rows("p", ["s" * 64], 1) == []
            assert view.shipment_token_rows("q", ["s" * 64], 9) == []
