"""A long log audited one range per process names what one pass from scratch names.

`Ledger.audit` cuts a long log into ranges on tile boundaries, each audited in its own
process over the stored tiles and derived state before it (`ledger.audit_worker`). These
tests hold it to the single pass: the right edge of the tree read from stored tiles is the
one a pass rebuilds; the ranges cover the log; on SQLite and a real PostgreSQL server, a
clean ledger audits clean and a ledger tampered with in a worker's range (a statement, a
token, a tile, a derived row, a deleted entry) gets the same problems, and a worker that
cannot run has its range audited in the calling process.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.service import Ledger, RangeAudit, _Frontier, audit_ranges
from ledger.store.sql import SqlStore
from ledger.tiles import TILE_WIDTH, Tile, completed_tiles
from tests.ledger.test_service import RogueDba
from tests.ledger.world import (
    HURON,
    HURON_KEY,
    LAKESHORE,
    LAKESHORE_KEY,
    LOG_KEY,
    ORIGIN,
    issue,
    now,
)

# ------------------------------------------------------------------------- the tree's edge


class _StoredTiles:
    """The full tiles a pass over the log completed, as a store keeps them."""

    def __init__(self) -> None:
        self.roots: dict[tuple[int, int], bytes] = {}

    def add(self, tile: Tile) -> None:
        self.roots[tile.level, tile.index] = tile.root

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        raise AssertionError(f"the edge is read from tiles, not leaves {start}..{end}")

    def tile(self, level: int, index: int) -> bytes | None:
        raise AssertionError(f"the edge needs roots only, not tile {level}/{index}")

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        return [self.roots[level, n] for n in range(start, end)]


def _pass(leaves: int, page: int) -> Iterator[tuple[_Frontier, _StoredTiles]]:
    """A pass from scratch over `leaves` synthetic leaf hashes, `page` at a time, as the
    audit makes it: the frontier and the tiles stored so far after each page."""
    frontier, stored = _Frontier(), _StoredTiles()
    for start in range(0, leaves, page):
        hashes = [hashlib.sha256(n.to_bytes(4, "big")).digest()
                  for n in range(start, min(start + page, leaves))]
        for tile in completed_tiles(frontier, frontier.size, hashes):
            frontier.complete(tile)
            stored.add(tile)
        frontier.extend(hashes)
        yield frontier, stored


def test_the_edge_read_from_stored_tiles_is_the_edge_a_pass_rebuilds() -> None:
    """Past a full level-1 tile (65,536 entries), at every 16th tile boundary."""
    for frontier, stored in _pass(70_144, 16 * TILE_WIDTH):
        read = _Frontier.at(stored, frontier.size)
        assert read.size == frontier.size
        assert [level for level in read.levels[1:] if level] == \
            [level for level in frontier.levels[1:] if level]
        assert not frontier.levels[0]  # a tile boundary: no partial leaf tile


@given(size=st.integers(0, 3_000_000), parts=st.integers(1, 16),
       lead=st.sampled_from([0, 4_096]))
def test_the_ranges_cover_the_log_each_from_a_tile_boundary(size: int, parts: int,
                                                            lead: int) -> None:
    ranges = audit_ranges(size, parts, lead)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    assert all(start % TILE_WIDTH == 0 and start < end for start, end in ranges[1:])
    assert len(ranges) <= parts


# ------------------------------------------------------------------------- whole ledgers

#: Entries in the ledger under test: the second of two ranges starts at 512.
ENTRIES = 1_100


@pytest.fixture
def long_ledger(sql_url: str) -> Iterator[tuple[Ledger, dict[str, int]]]:
    """Two parties' keys, tokens (one citing another) spread over the log, registrar
    status statements between them, revocations late in the log, a checkpoint per batch.
    Returns the ledger and where a few things are: a token logged in the second range
    (``late_token``), and the revocation of one (``late_revocation``)."""
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        ledger.register_key(LAKESHORE_KEY, LAKESHORE)
        ledger.register_key(HURON_KEY, HURON)
        tokens = []
        while ledger.size < ENTRIES - 60:
            supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
            tokens.append(issue(ledger, HURON_KEY, HURON, name="cylinder-head-us",
                                cites=supplier.digest))
            tokens.append(supplier)
            ledger.append([ledger._sign(ledger._status_of(supplier.digest, ledger.size), None)
                           for _ in range(min(100, ENTRIES - 60 - ledger.size))])
            ledger.publish_checkpoint()
        late = next(t for t in tokens if t.index > 600)
        revocation = ledger.revoke_token(tokens[-1].digest, signer=LAKESHORE_KEY,
                                         reason="recall")
        while ledger.size < ENTRIES:
            issue(ledger, HURON_KEY, HURON, name="cylinder-head-us")
        ledger.publish_checkpoint()
        assert revocation > 512
        yield ledger, {"late_token": late.index, "late_revocation": revocation}


def _fresh(ledger: Ledger) -> Ledger:
    return Ledger(ledger.store, LOG_KEY, origin=ORIGIN, now=now)


def test_a_clean_long_ledger_audits_clean_in_two_processes(
        long_ledger: tuple[Ledger, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, _ = long_ledger
    assert audit_ranges(ledger.size, 2) == [(0, 512), (512, ENTRIES)]
    one = ledger.audit(processes=1)
    here: list[tuple[int, int]] = []
    audit_range = ledger.audit_range

    def recorded(start: int, end: int, *, pipelined: bool = False) -> RangeAudit:
        here.append((start, end))
        return audit_range(start, end, pipelined=pipelined)

    monkeypatch.setattr(ledger, "audit_range", recorded)
    two = ledger.audit(processes=2)
    assert here == [(0, 512)]  # the second range was the worker's
    assert two.ok, two.problems
    assert (two.size, two.checkpoints) == (one.size, one.checkpoints) == (ENTRIES,
                                                                          one.checkpoints)
    assert one.checkpoints > 5


def test_tampering_in_a_workers_range_is_named_as_one_pass_names_it(
        long_ledger: tuple[Ledger, dict[str, int]], sql_url: str) -> None:
    """A revocation rewritten with its leaf hash fixed up, a token's bytes altered and a
    leaf tile zeroed, all after entry 512: the worker's problems are the single pass's."""
    ledger, where = long_ledger
    dba = RogueDba(sql_url)
    body = ledger.entry(where["late_revocation"]).body
    dba.edit_statement(where["late_revocation"],
                       body.replace(b'"reason":"recall"', b'"reason":"typo"'), rehash=True)
    digest = ledger.entry(where["late_token"]).body.split(b'"tokenDigest":"')[1][:64].decode()
    blob = ledger.store.get_blob(digest)
    assert blob is not None
    dba.edit_blob(digest, blob.replace(b'"', b"'", 1))
    dba.edit_tile(0, 3, bytes(TILE_WIDTH * 32))

    one, two = _fresh(ledger).audit(processes=1), _fresh(ledger).audit(processes=2)
    assert two.problems == one.problems
    assert any(p.startswith(f"entry {where['late_revocation']}:") and "signature" in p
               for p in two.problems), two.problems
    assert f"entry {where['late_token']}: stored token {digest} was altered" in two.problems
    assert "tile 0/3: stored tile differs from the entries' leaf hashes" in two.problems
    assert any(p.startswith("checkpoint") and "root differs" in p for p in two.problems)


def test_a_derived_row_erased_in_a_workers_range_is_named(
        long_ledger: tuple[Ledger, dict[str, int]], sql_url: str) -> None:
    ledger, where = long_ledger
    index = where["late_revocation"]
    RogueDba(sql_url).delete_row("log_token_events", "leaf_index = ?", (index,))
    problems = _fresh(ledger).audit(processes=2).problems
    assert problems[0] == (f"entry {index}: the stored token event row differs from a "
                           "replay of the log"), problems


@pytest.mark.parametrize("deleted", [511, 700])
def test_an_entry_deleted_at_or_after_the_cut_is_named_missing(
        long_ledger: tuple[Ledger, dict[str, int]], sql_url: str, deleted: int) -> None:
    """511 is the last entry of the first range: no tile of that range completes without
    it, so only counting the entries names it."""
    ledger, _ = long_ledger
    RogueDba(sql_url).delete_entry(deleted)
    for processes in (1, 2):
        problems = _fresh(ledger).audit(processes=processes).problems
        assert f"entry {deleted}: missing from the store (deleted after it was logged)" \
            in problems, (processes, problems)
        assert any(p.startswith("checkpoint") and "more entries" in p for p in problems)


@pytest.mark.parametrize("python", ["/nonexistent/python3", "/bin/false"])
def test_a_worker_that_cannot_run_has_its_range_audited_here(
        long_ledger: tuple[Ledger, dict[str, int]], sql_url: str, python: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, where = long_ledger
    body = ledger.entry(where["late_revocation"]).body
    RogueDba(sql_url).edit_statement(where["late_revocation"], body + b" ")
    expected = _fresh(ledger).audit(processes=1)
    monkeypatch.setattr("ledger.audit_worker.sys.executable", python)
    found = _fresh(ledger).audit(processes=2)
    assert (found.problems, found.size) == (expected.problems, expected.size)
    assert found.problems[0].startswith(f"entry {where['late_revocation']}: ")
