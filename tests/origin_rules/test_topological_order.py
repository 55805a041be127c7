"""`bom.topological_order`: every item after all its parents, or fewer items on a cycle.

The engine's top-down pass relies on it: a material's quantity is final only once every
parent has been visited. Documents listed assembly first (or components first) take a
shortcut — their own order — which must agree with that contract as much as Kahn's does.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from origin_rules.bom import topological_order

ONE = Decimal(1)


@st.composite
def dags(draw: st.DrawFn) -> list[list[tuple[int, Decimal]]]:
    """A random DAG over n nodes, its nodes numbered in a random order."""
    size = draw(st.integers(1, 30))
    rank = draw(st.permutations(range(size)))  # rank[node]: its place in a hidden order
    children: list[list[tuple[int, Decimal]]] = [[] for _ in range(size)]
    for parent in range(size):
        later = [node for node in range(size) if rank[node] > rank[parent]]
        if later:
            for child in draw(st.lists(st.sampled_from(later), max_size=4, unique=True)):
                children[parent].append((child, ONE))
    return children


def assert_parents_first(children: list[list[tuple[int, Decimal]]], order: list[int]) -> None:
    assert sorted(order) == list(range(len(children)))
    place = {node: n for n, node in enumerate(order)}
    for parent, kids in enumerate(children):
        for child, _ in kids:
            assert place[parent] < place[child]


@given(dags())
def test_every_item_comes_after_all_its_parents(children: list) -> None:
    assert_parents_first(children, topological_order(children))


@given(dags())
def test_the_same_order_when_the_caller_counted_parents_and_sources(children: list) -> None:
    indegree = [0] * len(children)
    for kids in children:
        for child, _ in kids:
            indegree[child] += 1
    sources = [node for node, degree in enumerate(indegree) if degree == 0]
    assert topological_order(children, indegree, sources) == topological_order(children)


@given(dags(), st.data())
def test_a_cycle_leaves_items_unordered(children: list, data: st.DataObject) -> None:
    edges = [(p, c) for p, kids in enumerate(children) for c, _ in kids]
    if not edges:
        return
    parent, child = data.draw(st.sampled_from(edges))
    children[child].append((parent, ONE))  # closes parent -> ... -> child -> parent
    assert len(topological_order(children)) < len(children)


def test_a_document_listed_assembly_first_keeps_its_order() -> None:
    children = [[(1, ONE), (2, ONE)], [(3, ONE)], [(3, ONE)], []]
    assert topological_order(children) == [0, 1, 2, 3]


def test_a_document_listed_components_first_is_read_backwards() -> None:
    children = [[], [(0, ONE)], [(0, ONE)], [(1, ONE), (2, ONE)]]
    assert topological_order(children) == [3, 2, 1, 0]


def test_a_self_loop_is_a_cycle_whatever_the_listing() -> None:
    assert len(topological_order([[(0, ONE)]])) == 0
    assert len(topological_order([[(1, ONE)], [(1, ONE)]])) < 2
