"""C2SP tlog-tiles: the tiles an append completes, and proofs read from them.

The reference is `ledger.merkle`'s recursive RFC 9162 functions over the plain list of
leaf hashes: whatever the batch sizes of the appends, every root, inclusion proof and
consistency proof read from tiles must equal theirs and verify with their verifiers.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import EncodingError, OutOfRangeError
from ledger.tiles import (
    EdgeLeaves,
    Tile,
    TiledTree,
    completed_tiles,
    entry_bundle,
    parse_entry_bundle,
    tile_path,
    tile_width,
)


class ListTiles:
    """A tile source over lists, fed the way the store is: full tiles as appends complete."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self.tiles: dict[tuple[int, int], Tile] = {}

    def append(self, new: list[bytes]) -> list[Tile]:
        done = completed_tiles(self, len(self.leaves), new)
        for tile in done:
            assert (tile.level, tile.index) not in self.tiles, "a tile is written once"
            self.tiles[tile.level, tile.index] = tile
        self.leaves.extend(new)
        return done

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return self.leaves[start:end]

    def tile(self, level: int, index: int) -> bytes | None:
        tile = self.tiles.get((level, index))
        return None if tile is None else tile.hashes

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        return [self.tiles[level, n].root for n in range(start, end)
                if (level, n) in self.tiles]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


def test_a_tile_is_256_hashes_of_the_level_below():
    source = ListTiles()
    source.append(leaves(256 * 256 + 5))
    level0 = source.tiles[0, 3]
    assert level0.hashes == b"".join(source.leaves[768:1024])
    assert level0.root == merkle.root(source.leaves[768:1024])
    level1 = source.tiles[1, 0]
    assert level1.hashes == b"".join(source.tiles[0, n].root for n in range(256))
    assert level1.root == merkle.root(source.leaves[:65536])
    assert (1, 1) not in source.tiles
    assert (0, 256) not in source.tiles


def test_the_spec_example_of_a_tree_of_70000():
    """tlog-tiles: 273 full level-0 tiles, a partial of 112; one full level-1 tile, a
    partial of 17; a partial level-2 tile of width 1."""
    assert [tile_width(0, n, 70_000) for n in (272, 273, 274)] == [256, 112, 0]
    assert [tile_width(1, n, 70_000) for n in (0, 1)] == [256, 17]
    assert tile_width(2, 0, 70_000) == 1
    assert tile_width(1, 0, 256) == 1


def test_tile_paths_as_the_spec_names_them():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tile_path(0, 1000, entries=True) == "tile/entries/x001/000"
    assert tile_path(1, 0) == "tile/1/000"
    with pytest.raises(OutOfRangeError):
        tile_path(0, 0, 0)


def test_entry_bundles_round_trip_and_refuse_what_does_not_fit():
    bodies = [b"", b"a", b"x" * 300]
    data = entry_bundle(bodies)
    assert data[:2] == b"\x00\x00"
    assert data[2:5] == b"\x00\x01a"
    assert parse_entry_bundle(data) == bodies
    with pytest.raises(EncodingError):
        parse_entry_bundle(data[:-1])
    with pytest.raises(EncodingError):
        entry_bundle([b"x" * 65536])


def test_proofs_for_every_size_of_a_small_log():
    source = ListTiles()
    source.append(leaves(600))
    for size in range(0, 601, 7):
        tree = TiledTree(source, size)
        assert tree.root() == merkle.root(source.leaves[:size])
        for index in range(0, size, 13):
            proof = tree.inclusion_proof(index)
            assert proof == merkle.inclusion_proof(source.leaves[:size], index)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.integers(1, 700), min_size=1, max_size=8), data=st.data())
def test_tiles_from_any_batching_give_the_reference_tree(batches, data):
    """However the log was appended to, tiles equal those of one append, and proofs from
    them are the reference proofs and verify."""
    source = ListTiles()
    for n, count in enumerate(batches):
        source.append(leaves(count, salt=n))
    whole = ListTiles()
    whole.append(list(source.leaves))
    assert source.tiles == whole.tiles
    total = len(source.leaves)
    size = data.draw(st.integers(1, total), label="size")
    old = data.draw(st.integers(0, size), label="old size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = TiledTree(source, size)
    reference = source.leaves[:size]
    root = tree.root()
    assert root == merkle.root(reference)
    proof = tree.inclusion_proof(index)
    assert proof == merkle.inclusion_proof(reference, index)
    merkle.verify_inclusion(reference[index], index, size, proof, root)
    consistency = tree.consistency_proof(old)
    assert consistency == merkle.consistency_proof(reference, old)
    if old:
        merkle.verify_consistency(old, size, consistency, merkle.root(reference[:old]), root)


def test_a_snapshot_does_not_move_when_the_log_grows():
    source = ListTiles()
    source.append(leaves(300))
    tree = TiledTree(source, 300)
    before = tree.root()
    source.append(leaves(70_000, salt=1))
    assert TiledTree(source, 300).root() == before == merkle.root(source.leaves[:300])


def test_a_missing_tile_is_an_error_not_a_wrong_root():
    source = ListTiles()
    source.append(leaves(512))
    del source.tiles[0, 1]
    source.leaves = source.leaves[:300]  # the store lost entries behind the log's back
    with pytest.raises(OutOfRangeError, match="tile 1/0"):
        TiledTree(source, 512).root()


def test_reading_a_proof_touches_few_tiles():
    """A proof in a log of 70,000 reads at most one tile per level and the right edge."""
    source = ListTiles()
    source.append(leaves(70_000))
    tree = TiledTree(source, 70_000)
    tree.inclusion_proof(12_345)
    assert len(tree._tiles) <= 6
    assert hashlib.sha256(b"").digest() == TiledTree(source, 0).root()


def test_the_audit_frontier_rebuilds_every_tile_in_bounded_memory():
    """The audit keeps only each level's partial tile (`_Frontier`); fed pages of any size
    across two level-1 tile boundaries it completes exactly the reference tiles."""
    from ledger.service import _Frontier

    all_leaves = leaves(256 * 256 * 2 + 300)
    reference = ListTiles()
    reference.append(all_leaves)
    frontier = _Frontier()
    found = {}
    at = 0
    for size in [5, 251, 4096, 60_000, 1, 70_000, 4096 * 3]:
        page = all_leaves[at:at + size]
        for tile in completed_tiles(frontier, frontier.size, page):
            frontier.complete(tile)
            found[tile.level, tile.index] = tile
        frontier.extend(page)
        at += len(page)
        assert all(len(level) < 256 for level in frontier.levels)
    assert at == len(all_leaves)
    assert found == reference.tiles


class CountingTiles(ListTiles):
    """`ListTiles` that counts the leaf hashes it is asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        self.read += max(0, end - start)
        return super().leaf_hashes(start, end)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 300)), max_size=25))
def test_the_edge_cache_gives_the_tiles_of_a_fresh_read_whoever_appends(
        appends: list[tuple[bool, int]]) -> None:
    """Appends by this process (told to the cache) and by another one (not told) in any
    order: the tiles completed through the cache are those of reading the store afresh,
    and the cache only ever saves reads."""
    store, edge = CountingTiles(), EdgeLeaves()
    for mine, count in appends:
        new = leaves(count, salt=len(store.leaves))
        size = len(store.leaves)
        fresh = ListTiles()
        fresh.leaves, fresh.tiles = list(store.leaves), dict(store.tiles)
        expected = completed_tiles(fresh, size, new)
        before = store.read
        got = completed_tiles(edge.source(store), size, new) if mine else \
            completed_tiles(store, size, new)
        assert got == expected
        assert store.read - before <= size % 256
        for tile in got:
            store.tiles[tile.level, tile.index] = tile
        store.leaves.extend(new)
        if mine:
            edge.appended(size, new)
    assert edge.read(store, len(store.leaves) // 256 * 256, len(store.leaves)) == \
        store.leaves[len(store.leaves) // 256 * 256:]


def test_the_edge_cache_reads_only_the_rows_after_what_it_holds() -> None:
    store, edge = CountingTiles(), EdgeLeaves()

    def reads(start: int, end: int) -> int:
        before = store.read
        assert edge.read(store, start, end) == store.leaves[start:end]
        return store.read - before

    store.append(leaves(300))  # the partial tile holds 44 leaves
    assert reads(256, 300) == 44
    store.append(leaves(5, salt=1))  # another process appended five
    assert reads(256, 305) == 5  # only the five new rows
    assert reads(256, 290) == 0  # an older snapshot: all held
    assert reads(0, 10) == 10  # not the partial tile: read as asked
