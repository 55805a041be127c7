"""`write_static_tiles`: the directory a tlog-tiles client reads, checked as one would.

The client here knows only the spec (c2sp.org/tlog-tiles) and RFC 6962 hashing: it reads
``checkpoint``, walks ``tile/0/...`` and ``tile/entries/...`` by the spec's path rules, and
checks that every entry hashes to its level-0 tile hash, every level-1 hash is the root of
a full level-0 tile, and the root of all leaves is the checkpoint's root.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ledger import merkle
from ledger.crypto import sha256
from ledger.errors import NotFoundError
from ledger.multikey import did_key
from ledger.service import Ledger
from ledger.statements import sign_statement
from ledger.static_tiles import write_static_tiles
from ledger.store import MemoryStore
from ledger.token import shipment_digest
from tests.ledger.world import FRENOS, FRENOS_KEY, LOG_KEY, ORIGIN, kid_of, now


def grow(ledger: Ledger, count: int) -> None:
    statements = []
    for n in range(ledger.size, ledger.size + count):
        blob = b'{"n":%d}' % n
        ledger.store.put_blob(sha256(blob).hex(), blob)
        statements.append(sign_statement(
            {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
             "tokenDigest": sha256(blob).hex(), "issuer": did_key(FRENOS_KEY.public_key),
             "parents": [], "blanket": False, "shipment": shipment_digest(f"S{n}")},
            FRENOS_KEY, kid_of(FRENOS_KEY)))
    ledger.append(statements)


def index_path(index: int) -> str:
    digits = f"{index:0{-(-len(str(index)) // 3) * 3}d}"
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def read_as_a_client(out: Path) -> int:
    """Check the layout; return the tree size."""
    text = (out / "checkpoint").read_text("utf-8")
    origin, size_line, root_line = text.split("\n")[:3]
    assert origin == ORIGIN
    size, root = int(size_line), base64.b64decode(root_line)
    leaves: list[bytes] = []
    for n in range(-(-size // 256)):
        width = min(256, size - 256 * n)
        suffix = "" if width == 256 else f".p/{width}"
        hashes = (out / f"tile/0/{index_path(n)}{suffix}").read_bytes()
        bundle = (out / f"tile/entries/{index_path(n)}{suffix}").read_bytes()
        entries, at = [], 0
        while at < len(bundle):
            length = int.from_bytes(bundle[at:at + 2], "big")
            entries.append(bundle[at + 2:at + 2 + length])
            at += 2 + length
        assert len(hashes) == 32 * width
        assert [merkle.leaf_hash(e) for e in entries] == [
            hashes[i:i + 32] for i in range(0, len(hashes), 32)]
        leaves += [hashes[i:i + 32] for i in range(0, len(hashes), 32)]
    assert merkle.root(leaves) == root
    full = size // 256
    if full:
        width = full % 256 or 256
        level1 = (out / ("tile/1/000" + ("" if full >= 256 else f".p/{width}"))).read_bytes()
        assert level1[:32] == merkle.root(leaves[:256])
        assert level1[-32:] == merkle.root(leaves[256 * (full - 1):256 * full])
    return size


def test_the_static_layout_is_what_a_tiles_client_expects(tmp_path: Path) -> None:
    ledger = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now)
    with pytest.raises(NotFoundError, match="no checkpoint"):
        write_static_tiles(ledger, tmp_path)
    ledger.register_key(FRENOS_KEY, FRENOS)
    grow(ledger, 700)
    ledger.publish_checkpoint()
    first = write_static_tiles(ledger, tmp_path)
    assert (first.size, first.skipped) == (701, 0)
    assert read_as_a_client(tmp_path) == 701
    assert (tmp_path / "tile/0/002.p/189").exists()
    assert (tmp_path / "tile/1/000.p/2").exists()

    grow(ledger, 100)
    ledger.publish_checkpoint()
    again = write_static_tiles(ledger, tmp_path)
    assert again.skipped == 4  # tiles 0/000, 0/001 and entries 000, 001 were already there
    assert read_as_a_client(tmp_path) == 801
