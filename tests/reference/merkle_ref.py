"""RFC 9162 s.2.1 Merkle tree hash, audit paths and consistency proofs, as written in the RFC.

Written fresh from the text of RFC 9162 (Certificate Transparency Version 2.0), s.2.1.1
"Definition of the Merkle Tree", s.2.1.3.1 "Generating an Inclusion Proof" and s.2.1.4.1
"Generating a Consistency Proof". Deliberately slow and independent of `ledger.merkle`: it
hashes the *entries* itself with hashlib, works on Python lists by slicing, and recurses
exactly as the RFC's definitions do, so the tests compare two implementations that share
no code. Use only for small trees.
"""

from __future__ import annotations

import hashlib


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    """RFC 9162 s.2.1.1: "k be the largest power of two smaller than n (i.e., k < n <= 2k)"."""
    assert n > 1
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) over a list of entries (not leaf hashes)."""
    n = len(entries)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + entries[0])
    k = largest_power_of_two_below(n)
    return _sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path for the (m+1)th entry."""
    n = len(entries)
    assert 0 <= m < n
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def proof(m: int, entries: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n; empty otherwise."""
    n = len(entries)
    assert 0 <= m <= n
    if m in (0, n):
        return []
    return subproof(m, entries, True)


def subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 s.2.1.4.1."""
    n = len(entries)
    if m == n:
        return [] if b else [mth(entries)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*subproof(m, entries[:k], b), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]
