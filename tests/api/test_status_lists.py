"""Status-list indices: reserved in the store a block at a time, never given out twice.

Each worker process has its own `StatusLists`; two of them over one database stand for two
workers. Bitstring Status List v1.0 needs one index per credential: two tokens sharing an
index would revoke each other.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.api.status_lists import StatusLists
from ledger.status_list import LIST_BITS
from ledger.store.sql import SqlStore
from tests.api.conftest import World


def _lists(world: World, block: int) -> StatusLists:
    store = world.service.ledger.store
    assert isinstance(store, SqlStore)
    return StatusLists(store.engine, world.service.settings.public_url, block=block)


def test_two_workers_never_hand_out_the_same_index(sqlite_world: World) -> None:
    @settings(max_examples=25, deadline=None, database=None)
    @given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 5))
    def interleaved(turns: list[bool], block: int) -> None:
        first, second = _lists(sqlite_world, block), _lists(sqlite_world, block)
        given_out = [(first if turn else second).allocate()[0] for turn in turns]
        assert len(set(given_out)) == len(given_out)

    interleaved()


def test_a_worker_that_stops_leaves_its_block_unused(world: World) -> None:
    """On SQLite and PostgreSQL: what a stopped worker reserved is never reused."""
    stopped = _lists(world, 8)
    kept, _ = stopped.allocate()
    del stopped  # the process ended with seven indices of its block unused
    after = _lists(world, 8)
    index, entry = after.allocate()
    assert index >= kept + 8
    assert entry["statusListIndex"] == str(index % LIST_BITS)
    assert entry["statusListCredential"].endswith(f"/v1/status/{index // LIST_BITS}")


def test_a_token_in_the_second_list_names_its_position_inside_that_list(
        sqlite_world: World) -> None:
    """Bitstring Status List v1.0 s.2.1: statusListIndex is the position in the list the
    entry names, so a standard verifier reading list 1 finds the bit where we set it.
    """
    lists = _lists(sqlite_world, LIST_BITS + 3)  # one reservation reaches list 1
    given_out = [lists.allocate() for _ in range(LIST_BITS + 2)]
    index, entry = given_out[-1]
    assert index >= LIST_BITS
    assert entry["statusListCredential"].endswith("/v1/status/1")
    assert entry["statusListIndex"] == str(index - LIST_BITS)
    assert entry["id"] == f"{entry['statusListCredential']}#{index - LIST_BITS}"
    assert all(0 <= int(e["statusListIndex"]) < LIST_BITS for _, e in given_out)
