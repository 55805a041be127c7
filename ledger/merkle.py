"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Hashes (RFC 9162 s.2.1.1): ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left ||
right)``, and the root of the empty tree is ``SHA-256("")``. The tree over ``n`` leaves
splits at ``k``, the largest power of two smaller than ``n``.

The functions here are pure and work on a sequence of *leaf hashes*. They are the slow,
obviously-correct layer: `root`, `inclusion_proof` and `consistency_proof` follow the
recursive definitions of RFC 9162 s.2.1.3-2.1.4 directly; the verifiers follow the
iterative algorithms of s.2.1.3.2 and s.2.1.4.2. Verification functions return None and
raise `ProofError` (or `OutOfRangeError`) on failure.

The fast layer is `MerkleTree`, the log's in-memory tree, and `compute_root`, an iterative
root for bulk loads and token parts roots. `MerkleTree` keeps, per level ``h``, the hash of
every *complete* subtree of ``2**h`` leaves as soon as its last leaf arrives (a "dense
Merkle tree" in the sense of transparency-dev/merkle's compact ranges). Because complete
subtrees never change in an append-only log, any historical tree of size ``m`` is the
left-to-right fold of the complete subtrees named by the binary digits of ``m``, so roots,
inclusion proofs and consistency proofs for *any* earlier size are O(log n) list look-ups
plus at most O(log n) hashes. Both layers are checked against each other by the tests.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from ledger.errors import EncodingError, OutOfRangeError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompleteSubtrees",
    "MerkleTree",
    "compute_root",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 s.2.1.1: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 s.2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) of a sequence of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 9162 s.2.1.3.1 PATH(m, D[n]): the audit path of leaf `index`."""
    n = len(leaves)
    if not 0 <= index < n:
        raise OutOfRangeError(f"leaf index {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(leaves[:k], index), root(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), root(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], size1: int) -> list[bytes]:
    """RFC 9162 s.2.1.4.1 PROOF(m, D[n]) between the first `size1` leaves and all of them."""
    n = len(leaves)
    if not 0 <= size1 <= n:
        raise OutOfRangeError(f"tree size {size1} is outside 0..{n}")
    if size1 in (0, n):
        return []
    return _subproof(leaves, size1, True)


def _subproof(leaves: Sequence[bytes], m: int, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves[:k], m, complete), root(leaves[k:])]
    return [*_subproof(leaves[k:], m - k, False), root(leaves[:k])]


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, expected {HASH_SIZE}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     expected_root: bytes) -> None:
    """RFC 9162 s.2.1.3.2: check that `leaf` is at `index` in the tree of `size` and root."""
    if not 0 <= index < size:
        raise OutOfRangeError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    _check_hash(expected_root, "root hash")
    fn, sn = index, size - 1
    r = leaf
    for n, p in enumerate(proof):
        _check_hash(p, f"proof hash {n}")
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, more than a tree of "
                             f"size {size} needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few for index "
                         f"{index} in a tree of size {size}")
    if r != expected_root:
        raise ProofError(f"inclusion proof for index {index} leads to root {r.hex()}, "
                         f"expected {expected_root.hex()}")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes,
                       root2: bytes) -> None:
    """RFC 9162 s.2.1.4.2: check that the tree of `size2` extends the tree of `size1`."""
    if not 0 <= size1 <= size2:
        raise OutOfRangeError(f"tree size {size1} is not within 0..{size2}")
    _check_hash(root1, "first root")
    _check_hash(root2, "second root")
    for n, p in enumerate(proof):
        _check_hash(p, f"proof hash {n}")
    if size1 == size2:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError(f"trees of equal size {size1} have different roots")
        return
    if size1 == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has too many hashes ({len(proof)})")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof has too few hashes ({len(proof)})")
    if fr != root1:
        raise ProofError(f"consistency proof does not lead to the first root "
                         f"({fr.hex()} != {root1.hex()})")
    if sr != root2:
        raise ProofError(f"consistency proof does not lead to the second root "
                         f"({sr.hex()} != {root2.hex()})")


def compute_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 9162 s.2.1.1 root (MTH) of `leaves`, computed level by level.

    Equal to `root` but iterative and O(n): each level pairs neighbours left to right and
    carries an odd last node up unchanged. That is the same tree as the recursive split at
    the largest power of two below n, because the split keeps every complete left subtree
    intact and only the rightmost, incomplete, subtree is ever short of a partner. Used for
    bulk loads and for a token's `partsRoot`, where `root`'s slicing would cost O(n log n).
    """
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    level = list(leaves)
    for position, value in enumerate(level):
        if len(value) != HASH_SIZE:
            raise EncodingError(f"leaf hash {position} has {len(value)} bytes, expected "
                                f"{HASH_SIZE}")
    sha = hashlib.sha256
    while len(level) > 1:
        paired = [sha(b"\x01" + level[i] + level[i + 1]).digest()
                  for i in range(0, len(level) - 1, 2)]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


class CompleteSubtrees(ABC):
    """Roots and RFC 9162 proofs of a tree known by its complete subtrees.

    A subclass says what ``_node(h, i)`` is: the hash of the complete subtree over leaves
    ``i * 2**h`` up to ``(i + 1) * 2**h - 1`` (it never changes once its last leaf is in an
    append-only log, RFC 9162 s.2.1). A range that starts on a multiple of a power of two at
    least as large as the range is the fold of the complete subtrees named by the binary
    digits of its length; every range the RFC 9162 s.2.1.3-2.1.4 recursions visit has that
    shape, which makes `root`, `inclusion_proof` and `consistency_proof` O(log n) node
    look-ups for any size. `MerkleTree` keeps the nodes in memory; `ledger.tiles.TiledTree`
    reads them from C2SP tlog-tiles.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def size(self) -> int:
        """The number of leaves."""

    @abstractmethod
    def _node(self, height: int, index: int) -> bytes:
        """The hash of complete subtree `index` of `2**height` leaves."""

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first `size` leaves (default: all of them)."""
        size = self._check_size(size)
        return self._range_root(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 s.2.1.3.1 PATH(index, D[0:size]), the same hashes as `inclusion_proof`.

        Walks the RFC recursion top down without recursing: left siblings are complete
        subtrees (one look-up each); only the first right sibling can be incomplete.
        """
        size = self._check_size(size)
        if not 0 <= index < size:
            raise OutOfRangeError(f"leaf index {index} is outside a tree of size {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._range_root(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_root(lo, lo + k))
                lo += k
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 s.2.1.4.1 PROOF(size1, D[0:size2]), the same hashes as `consistency_proof`.

        The iterative form of SUBPROOF(m, D[n], b): `complete` is the flag b, true while the
        old tree is still a complete left-hand subtree whose root the verifier already has.
        """
        size2 = self._check_size(size2)
        if not 0 <= size1 <= size2:
            raise OutOfRangeError(f"tree size {size1} is outside 0..{size2}")
        if size1 in (0, size2):
            return []
        path: list[bytes] = []
        lo, hi, m, complete = 0, size2, size1, True
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                path.append(self._range_root(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_root(lo, lo + k))
                lo += k
                m -= k
                complete = False
        if not complete:
            path.append(self._range_root(lo, hi))
        path.reverse()
        return path

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise OutOfRangeError(f"tree size {size} is outside 0..{self.size}")
        return size

    def _range_root(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a range whose start is aligned to its largest subtree.

        The range is the complete subtrees of sizes given by the binary digits of
        ``hi - lo``, largest first; the root folds them from the right.
        """
        if lo == hi:
            return EMPTY_ROOT
        parts: list[bytes] = []
        width = hi - lo
        height = width.bit_length() - 1
        while height >= 0:
            if width >> height & 1:
                parts.append(self._node(height, lo >> height))
                lo += 1 << height
            height -= 1
        result = parts[-1]
        for part in reversed(parts[:-1]):
            result = node_hash(part, result)
        return result


class MerkleTree(CompleteSubtrees):
    """An append-only RFC 9162 Merkle tree over leaf hashes, in memory.

    ``levels[h][i]`` is the hash of the complete subtree over leaves ``i * 2**h`` up to
    ``(i + 1) * 2**h - 1``; it is stored when that subtree's last leaf is appended and never
    changes afterwards. Memory is about two hashes per leaf, so the ledger itself keeps its
    tree as tiles in the store (`ledger.tiles`); this one serves audits of bounded ranges,
    token parts trees and the tests' reference.

    The tree holds hashes only: callers hash entries with `leaf_hash` (the log's statements)
    and may rebuild the tree from stored leaf hashes by passing them to the constructor. It
    is not thread-safe.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return len(self._levels[0])

    def __repr__(self) -> str:
        return f"MerkleTree(size={self.size})"

    def _node(self, height: int, index: int) -> bytes:
        return self._levels[height][index]

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; return its index.

        Completes the subtrees that end at this leaf: while the new node is a right child
        (odd index at its level), hash it with its left sibling into the level above.
        """
        value = _as_hash(leaf_hash, "leaf hash")
        levels = self._levels
        index = len(levels[0])
        levels[0].append(value)
        position, height = index, 0
        while position & 1:
            level = levels[height]
            parent = node_hash(level[position - 1], value)
            height += 1
            if height == len(levels):
                levels.append([])
            levels[height].append(parent)
            value = parent
            position >>= 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes (a bulk load from storage), level by level."""
        new = [_as_hash(value, f"leaf hash {n}") for n, value in enumerate(leaf_hashes)]
        if not new:
            return
        levels = self._levels
        levels[0].extend(new)
        sha = hashlib.sha256
        height = 0
        while len(levels[height]) >= 2:
            lower = levels[height]
            if height + 1 == len(levels):
                levels.append([])
            upper = levels[height + 1]
            upper.extend(sha(b"\x01" + lower[2 * i] + lower[2 * i + 1]).digest()
                         for i in range(len(upper), len(lower) // 2))
            height += 1

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        if not 0 <= index < self.size:
            raise OutOfRangeError(f"leaf index {index} is outside a tree of size {self.size}")
        return self._levels[0][index]


def _as_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise EncodingError(f"{what} must be bytes, got {type(value).__name__}")
    value = bytes(value)
    if len(value) != HASH_SIZE:
        raise EncodingError(f"{what} has {len(value)} bytes, expected {HASH_SIZE}")
    return value
