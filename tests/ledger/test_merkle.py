"""RFC 6962 / 9162 Merkle trees: published vectors, a slow reference, properties, pymerkle.

Three independent checks of `ledger.merkle` (code-style anchors s.4.9 habit 8):
known answers from transparency-dev/merkle (tests/assets/merkle/rfc6962_vectors.json,
which names its source), the RFC-literal reference in tests/reference/merkle_ref.py, and
hypothesis properties; plus pymerkle 7 as an outside oracle for roots and audit paths.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from ledger.errors import EncodingError, OutOfRangeError, ProofError
from ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    compute_root,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from tests.reference import merkle_ref

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "merkle"
VECTORS: dict[str, Any] = json.loads((ASSETS / "rfc6962_vectors.json").read_text())
N = 300
ENTRIES = [b"entry-%d" % i for i in range(N)]
LEAVES = [leaf_hash(entry) for entry in ENTRIES]
TREE = MerkleTree(LEAVES)
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=300)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@cache
def ref_root(size: int) -> bytes:
    return merkle_ref.mth(ENTRIES[:size])


# -- known answers -----------------------------------------------------------------------


def test_vectors_cite_their_source() -> None:
    assert "transparency-dev/merkle" in VECTORS["source"]


def test_hasher_known_answers() -> None:
    hasher = VECTORS["hasher"]
    assert h(VECTORS["empty_root"]) == EMPTY_ROOT
    assert leaf_hash(b"") == h(hasher["empty_leaf_hash"])
    assert leaf_hash(hasher["leaf"]["data_ascii"].encode()) == h(hasher["leaf"]["hash"])
    node = hasher["node"]
    assert node_hash(node["left_ascii"].encode(), node["right_ascii"].encode()) == h(node["hash"])


def vector_tree() -> tuple[list[bytes], MerkleTree]:
    leaves = [leaf_hash(h(entry)) for entry in VECTORS["leaves"]]
    return leaves, MerkleTree(leaves)


def test_roots_of_every_size_match_the_vectors() -> None:
    leaves, tree = vector_tree()
    assert tree.root(0) == root([]) == compute_root([]) == EMPTY_ROOT
    for size, expected in enumerate(VECTORS["roots"], start=1):
        assert tree.root(size) == h(expected)
        assert root(leaves[:size]) == h(expected)
        assert compute_root(leaves[:size]) == h(expected)
        assert merkle_ref.mth([h(e) for e in VECTORS["leaves"][:size]]) == h(expected)


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    leaves, tree = vector_tree()
    index, size, expected = case["index"], case["size"], [h(x) for x in case["path"]]
    assert tree.inclusion_proof(index, size) == expected
    assert inclusion_proof(leaves[:size], index) == expected
    verify_inclusion(leaves[index], index, size, expected, h(VECTORS["roots"][size - 1]))


@pytest.mark.parametrize("case", VECTORS["consistency"],
                         ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_consistency_vectors(case: dict[str, Any]) -> None:
    leaves, tree = vector_tree()
    size1, size2, expected = case["size1"], case["size2"], [h(x) for x in case["proof"]]
    assert tree.consistency_proof(size1, size2) == expected
    assert consistency_proof(leaves[:size2], size1) == expected
    roots = VECTORS["roots"]
    verify_consistency(size1, size2, expected, h(roots[size1 - 1]), h(roots[size2 - 1]))


@pytest.mark.parametrize("case", VECTORS["consistency"][1:],
                         ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_corrupted_consistency_vectors_fail(case: dict[str, Any]) -> None:
    """The corruptions of transparency-dev's corruptConsistencyProof."""
    size1, size2, proof = case["size1"], case["size2"], [h(x) for x in case["proof"]]
    roots = VECTORS["roots"]
    root1, root2 = h(roots[size1 - 1]), h(roots[size2 - 1])
    probes = [
        (size1 - 1, size2, root1, root2, proof), (size1 + 1, size2, root1, root2, proof),
        (size1 ^ 2, size2, root1, root2, proof), (size1, size2 * 2, root1, root2, proof),
        (size1, size2 // 2, root1, root2, proof), (size1, size2, root2, root1, proof),
        (size1, size2, root1, root2, []), (size1, size2, root1, root2, [*proof, root1]),
        (size1, size2, root1, root2, [*proof, root2]), (size1, size2, root1, root2,
                                                        [root1, *proof]),
        (size1, size2, root1, root2, [proof[0], *proof]), (size1, size2, root1, root2,
                                                           proof[:-1]),
    ]
    for s1, s2, r1, r2, p in probes:
        with pytest.raises((ProofError, OutOfRangeError)):
            verify_consistency(s1, s2, p, r1, r2)


# -- the fast tree against the slow layers -----------------------------------------------


def test_small_trees_exhaustively_match_the_reference() -> None:
    for size in range(33):
        entries = ENTRIES[:size]
        assert TREE.root(size) == merkle_ref.mth(entries)
        for index in range(size):
            assert TREE.inclusion_proof(index, size) == merkle_ref.path(index, entries)
        for size1 in range(size + 1):
            assert TREE.consistency_proof(size1, size) == merkle_ref.proof(size1, entries)


def test_incremental_appends_build_the_same_tree_as_a_bulk_load() -> None:
    grown = MerkleTree()
    for n, leaf in enumerate(LEAVES[:130]):
        assert grown.append(leaf) == n
        assert grown.root() == compute_root(LEAVES[: n + 1])
    half = MerkleTree(LEAVES[:57])
    half.extend(LEAVES[57:130])
    bulk = MerkleTree(LEAVES[:130])
    for tree in (grown, half):
        assert tree.size == len(tree) == 130
        assert [tree.root(s) for s in range(131)] == [bulk.root(s) for s in range(131)]
        assert tree.consistency_proof(37, 129) == bulk.consistency_proof(37, 129)
        assert tree.leaf(99) == LEAVES[99]


@DETERMINISTIC
@given(st.data())
def test_inclusion_proofs_match_the_reference_and_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, N), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = TREE.inclusion_proof(index, size)
    assert proof == merkle_ref.path(index, ENTRIES[:size])
    verify_inclusion(LEAVES[index], index, size, proof, ref_root(size))


@DETERMINISTIC
@given(st.data())
def test_consistency_proofs_match_the_reference_and_verify(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(0, N), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    proof = TREE.consistency_proof(size1, size2)
    assert proof == merkle_ref.proof(size1, ENTRIES[:size2])
    verify_consistency(size1, size2, proof, ref_root(size1), ref_root(size2))


@DETERMINISTIC
@given(st.integers(0, N))
def test_historical_roots_match_the_reference(size: int) -> None:
    assert TREE.root(size) == ref_root(size) == compute_root(LEAVES[:size])


def mutations(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    """One flipped bit, a dropped hash, or an added hash."""
    kinds = ["drop", "add", "flip"] if proof else ["add"]
    kind = data.draw(st.sampled_from(kinds), label="mutation")
    if kind == "drop":
        at = data.draw(st.integers(0, len(proof) - 1), label="dropped")
        return proof[:at] + proof[at + 1:]
    if kind == "add":
        at = data.draw(st.integers(0, len(proof)), label="inserted at")
        extra = data.draw(st.sampled_from([proof[0] if proof else EMPTY_ROOT, EMPTY_ROOT,
                                           hashlib.sha256(b"x").digest()]), label="extra")
        return [*proof[:at], extra, *proof[at:]]
    at = data.draw(st.integers(0, len(proof) - 1), label="hash")
    byte = data.draw(st.integers(0, 31), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    changed = bytearray(proof[at])
    changed[byte] ^= 1 << bit
    return [*proof[:at], bytes(changed), *proof[at + 1:]]


@DETERMINISTIC
@given(st.data())
def test_any_altered_inclusion_proof_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, N), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    altered = mutations(TREE.inclusion_proof(index, size), data)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, size, altered, TREE.root(size))


@DETERMINISTIC
@given(st.data())
def test_any_altered_consistency_proof_fails(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(2, N), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    altered = mutations(TREE.consistency_proof(size1, size2), data)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, altered, TREE.root(size1), TREE.root(size2))


@DETERMINISTIC
@given(st.data())
def test_proofs_against_a_different_history_fail(data: st.DataObject) -> None:
    """A fork: same size, one leaf changed; old proofs must not verify against it."""
    size2 = data.draw(st.integers(2, 64), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    changed_at = data.draw(st.integers(0, size1 - 1), label="changed leaf")
    forked = list(LEAVES[:size2])
    forked[changed_at] = leaf_hash(b"forged")
    fork = MerkleTree(forked)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, fork.consistency_proof(size1, size2),
                           TREE.root(size1), fork.root(size2))


# -- pymerkle as an independent oracle ---------------------------------------------------


@cache
def pymerkle_tree() -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for entry in ENTRIES:
        tree.append_entry(entry)
    return tree


def test_roots_and_leaves_agree_with_pymerkle() -> None:
    other = pymerkle_tree()
    assert other.get_root(0) == EMPTY_ROOT
    for size in range(1, N + 1):
        assert other.get_root(size) == TREE.root(size)
    for index in (0, 1, 150, N - 1):
        assert other.get_leaf(index + 1) == TREE.leaf(index)


@DETERMINISTIC
@given(st.data())
def test_inclusion_paths_agree_with_pymerkle(data: st.DataObject) -> None:
    """pymerkle's path is the leaf hash followed by the RFC audit path (1-based index)."""
    size = data.draw(st.integers(1, N), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    path = pymerkle_tree().prove_inclusion(index + 1, size).path
    assert path[0] == TREE.leaf(index)
    assert path[1:] == TREE.inclusion_proof(index, size)


@DETERMINISTIC
@given(st.data())
def test_consistency_proofs_verify_against_pymerkle_roots(data: st.DataObject) -> None:
    """pymerkle orders consistency paths its own way, so compare through the roots."""
    size2 = data.draw(st.integers(1, N), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    other = pymerkle_tree()
    verify_consistency(size1, size2, TREE.consistency_proof(size1, size2),
                       other.get_root(size1), other.get_root(size2))


# -- API edges ---------------------------------------------------------------------------


def test_out_of_range_requests_are_refused() -> None:
    tree = MerkleTree(LEAVES[:10])
    for call in (lambda: tree.leaf(10), lambda: tree.leaf(-1), lambda: tree.root(11),
                 lambda: tree.inclusion_proof(10), lambda: tree.inclusion_proof(5, 5),
                 lambda: tree.consistency_proof(11), lambda: tree.consistency_proof(6, 5),
                 lambda: tree.consistency_proof(-1)):
        with pytest.raises(OutOfRangeError):
            call()


def test_empty_tree() -> None:
    tree = MerkleTree()
    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT
    assert tree.consistency_proof(0) == []
    tree.extend([])
    assert tree.size == 0


def test_leaf_hashes_must_be_32_bytes() -> None:
    with pytest.raises(EncodingError):
        MerkleTree([b"short"])
    with pytest.raises(EncodingError):
        MerkleTree().append(b"\x00" * 33)
    with pytest.raises(EncodingError):
        MerkleTree().append("0" * 32)  # type: ignore[arg-type]
    with pytest.raises(EncodingError):
        compute_root([LEAVES[0], b"x"])
    assert MerkleTree([bytearray(LEAVES[0])]).leaf(0) == LEAVES[0]  # type: ignore[list-item]


def test_trivial_proofs_are_empty() -> None:
    assert TREE.inclusion_proof(0, 1) == []
    assert TREE.consistency_proof(0, 5) == []
    assert TREE.consistency_proof(5, 5) == []
    assert TREE.consistency_proof(N) == []
