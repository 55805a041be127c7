"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Hashes (RFC 9162 s.2.1.1): ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left ||
right)``, and the root of the empty tree is ``SHA-256("")``. The tree over ``n`` leaves
splits at ``k``, the largest power of two smaller than ``n``.

The functions here are pure and work on a sequence of *leaf hashes*. They are the slow,
obviously-correct layer: `root`, `inclusion_proof` and `consistency_proof` follow the
recursive definitions of RFC 9162 s.2.1.3-2.1.4 directly; the verifiers follow the
iterative algorithms of s.2.1.3.2 and s.2.1.4.2. Verification functions return None and
raise `ProofError` (or `OutOfRangeError`) on failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger.errors import OutOfRangeError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
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
