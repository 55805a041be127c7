"""The log's Merkle tree as C2SP tlog-tiles: what is stored, how proofs read it.

C2SP tlog-tiles (https://c2sp.org/tlog-tiles) cuts the RFC 6962 tree into tiles of height
8: the ``n``-th tile at level ``l`` is the 256 hashes ``MTH(D[(n*256 + i) * 256**l :
(n*256 + i + 1) * 256**l])``, ``i`` from 0 to 255. Level 0 tiles are leaf hashes; each hash
of a level ``l + 1`` tile is the root of a *full* tile at level ``l``. The rightmost tile of
each level is usually partial (``floor(s / 256**l) mod 256`` hashes for a tree of size
``s``).

What the store keeps, and why: **full tiles only**, written once in the same transaction
as the entries that complete them (append-only like everything else), each with its own
root. A partial tile is never stored, because it changes with every append and the log is
never updated: it is read when needed, at level 0 from the stored leaf hashes, at level
``l + 1`` from the roots of the full level ``l`` tiles (at most 255 small values each).
Because tiles and leaves only ever grow, a reader that fixes a tree size (a checkpoint)
sees exactly that tree however many entries are appended meanwhile: a consistent snapshot
with no lock.

`TiledTree` answers roots and RFC 9162 proofs for any size from at most a few tiles per
level (O(log n) tiles); `completed_tiles` says which tiles an append completes. Both work
through the small `TileSource` protocol, which `ledger.store` implements. Paths and entry
bundles follow the spec's static layout, for `tmec log tiles` and the HTTP routes.
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.errors import EncodingError, OutOfRangeError
from ledger.merkle import HASH_SIZE, CompleteSubtrees, compute_root, node_hash

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "EdgeLeaves",
    "Tile",
    "TileAddress",
    "TileSource",
    "TiledTree",
    "completed_tiles",
    "entry_bundle",
    "parse_entry_bundle",
    "parse_tile_path",
    "tile_path",
    "tile_width",
]

TILE_HEIGHT = 8
"""Tree levels per tile (tlog-tiles fixes it at 8)."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256)."""

MAX_ENTRY_BYTES = 0xFFFF
"""An entry bundle prefixes each entry with a big-endian uint16 length."""


@dataclass(frozen=True, slots=True)
class Tile:
    """A full tile: its level, its index within the level, its 256 hashes and their root."""

    level: int
    index: int
    hashes: bytes
    root: bytes

    def __post_init__(self) -> None:
        if len(self.hashes) != TILE_WIDTH * HASH_SIZE or len(self.root) != HASH_SIZE:
            raise EncodingError(f"tile {self.level}/{self.index} is not 256 hashes wide")


class TileSource(Protocol):
    """What reading the tree needs from a store (every call reads committed data)."""

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes with start <= index < end."""
        ...

    def tile(self, level: int, index: int) -> bytes | None:
        """The 8,192 bytes of full tile `index` at `level`, if it is complete."""
        ...

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        """Roots of the full tiles start <= index < end at `level` (all must exist)."""
        ...


def _split_hashes(data: bytes) -> list[bytes]:
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile `index` at `level` has in a tree of `size` (0 to 256)."""
    nodes = size >> (TILE_HEIGHT * level)  # complete subtrees of height 8 * level
    return max(0, min(TILE_WIDTH, nodes - index * TILE_WIDTH))


class TiledTree(CompleteSubtrees):
    """The tree of the first `size` leaves of a log, read from its tiles.

    One instance answers for one size (pick it from a checkpoint) and caches the tiles and
    nodes it has read, so a bundle's three proofs under one checkpoint read each tile once.
    It is cheap to create and not shared between threads (make one per request); the
    source it reads is, since committed tiles never change.
    """

    __slots__ = ("_nodes", "_size", "_source", "_tiles")

    def __init__(self, source: TileSource, size: int) -> None:
        if size < 0:
            raise OutOfRangeError(f"tree size {size} is negative")
        self._source = source
        self._size = size
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self._nodes: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        """The number of leaves of this snapshot."""
        return self._size

    def tile_hashes(self, level: int, index: int) -> list[bytes]:
        """The hashes of tile `index` at `level` in this tree (full or partial)."""
        key = (level, index)
        cached = self._tiles.get(key)
        if cached is not None:
            return cached
        width = tile_width(level, index, self._size)
        if width == 0:
            raise OutOfRangeError(f"tile {level}/{index} is empty in a tree of size "
                                  f"{self._size}")
        hashes: list[bytes]
        full = self._source.tile(level, index) if width == TILE_WIDTH else None
        if full is not None:
            hashes = _split_hashes(full)
        else:
            start = index * TILE_WIDTH
            if level == 0:
                hashes = self._source.leaf_hashes(start, start + width)
            else:
                hashes = self._source.tile_roots(level - 1, start, start + width)
            if len(hashes) != width:
                raise OutOfRangeError(f"tile {level}/{index} has {len(hashes)} of its "
                                      f"{width} hashes in the store")
        self._tiles[key] = hashes
        return hashes

    def _node(self, height: int, index: int) -> bytes:
        """The complete subtree `index` at `height`, from the one tile that holds its base.

        A tile stores only its bottom row (C2SP tlog-tiles), so a node inside it is hashed
        up from its 2**(height % 8) base hashes, row by row; every node made on the way is
        kept, so the other proofs of a bundle under the same tree reuse them. (Row by row
        in one loop is a fraction of the work of recursing node by node: a bundle's proofs
        hash some 750 nodes at 1M entries.)
        """
        key = (height, index)
        cached = self._nodes.get(key)
        if cached is not None:
            return cached
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest  # the leftmost base node, at height 8 * level
        offset = first & (TILE_WIDTH - 1)
        hashes = self.tile_hashes(level, first >> TILE_HEIGHT)
        row = hashes[offset:offset + (1 << rest)]
        if len(row) != 1 << rest:
            raise OutOfRangeError(f"node {height}/{index} is not a complete subtree of a "
                                  f"tree of size {self._size}")
        nodes, at = self._nodes, level * TILE_HEIGHT
        while len(row) > 1:
            row = [node_hash(left, right)
                   for left, right in zip(row[0::2], row[1::2], strict=True)]
            at, first = at + 1, first >> 1
            for n, value in enumerate(row):
                nodes[(at, first + n)] = value
        nodes[key] = row[0]
        return row[0]


class EdgeLeaves:
    """The leaf hashes of a log's last partial tile, kept between appends of one process.

    Every append reads the partial tile's leaf hashes to see which tiles it completes
    (`completed_tiles`): on average 128 rows, a tenth of a small batch's work. Committed
    leaf hashes never change (the log is append-only, its triggers forbid updates) and
    their indices are dense, so hashes read once for positions ``start..`` stay right for
    as long as the partial tile starts at ``start``; the next append reads only the rows
    after them. It holds at most 255 hashes and only ever hands out what was committed:
    what was read in a transaction, or appended by a transaction that committed
    (`appended`). Safe between threads.
    """

    __slots__ = ("_hashes", "_lock", "_start")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = -1
        self._hashes: list[bytes] = []

    def source(self, source: TileSource) -> TileSource:
        """`source`, reading level-0 hashes of a tile from this cache where it can."""
        return _EdgeSource(self, source)

    def read(self, source: TileSource, start: int, end: int) -> list[bytes]:
        """`source.leaf_hashes(start, end)`, of which only the rows not held are read."""
        if start % TILE_WIDTH or not 0 <= end - start < TILE_WIDTH:
            return source.leaf_hashes(start, end)
        with self._lock:
            held = self._hashes[:end - start] if self._start == start else []
        if len(held) == end - start:  # this process made the last append: no query
            return held
        hashes = held + source.leaf_hashes(start + len(held), end)
        self._keep(start, hashes)
        return hashes

    def appended(self, size: int, leaves: Sequence[bytes]) -> None:
        """A committed append put `leaves` at positions ``size..``: keep the partial tile's."""
        start = (size + len(leaves)) // TILE_WIDTH * TILE_WIDTH
        with self._lock:
            if self._start == size // TILE_WIDTH * TILE_WIDTH and \
                    self._start + len(self._hashes) == size:
                known = self._hashes + list(leaves)
                self._start, self._hashes = start, known[start - self._start:]
            else:  # not the rows before them: read again next time
                self._start, self._hashes = -1, []

    def _keep(self, start: int, hashes: list[bytes]) -> None:
        with self._lock:
            if self._start != start or len(hashes) > len(self._hashes):
                self._start, self._hashes = start, hashes


class _EdgeSource:
    """A `TileSource` whose level-0 reads go through an `EdgeLeaves` cache."""

    __slots__ = ("_edge", "_source")

    def __init__(self, edge: EdgeLeaves, source: TileSource) -> None:
        self._edge, self._source = edge, source

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return self._edge.read(self._source, start, end)

    def tile(self, level: int, index: int) -> bytes | None:
        return self._source.tile(level, index)

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        return self._source.tile_roots(level, start, end)


def completed_tiles(source: TileSource, size: int, new_leaves: Sequence[bytes]) -> list[Tile]:
    """The full tiles that appending `new_leaves` to a log of `size` completes.

    Level by level: the new nodes join the partial tile already there (read from the
    source: leaf hashes at level 0, roots of full tiles above); every 256 of them make a
    full tile, whose root is a new node of the level above. Everything the source returns
    is committed, so the caller must hold the writer section (the size cannot move).
    """
    tiles: list[Tile] = []
    level, start, new = 0, size, list(new_leaves)
    while new:
        first = start // TILE_WIDTH
        base = first * TILE_WIDTH
        if start > base:
            prefix = (source.leaf_hashes(base, start) if level == 0
                      else source.tile_roots(level - 1, base, start))
        else:
            prefix = []
        nodes = prefix + new
        roots: list[bytes] = []
        for n in range(len(nodes) // TILE_WIDTH):
            hashes = nodes[n * TILE_WIDTH:(n + 1) * TILE_WIDTH]
            root = compute_root(hashes)
            tiles.append(Tile(level, first + n, b"".join(hashes), root))
            roots.append(root)
        level, start, new = level + 1, first, roots
    return tiles


def tile_path(level: int, index: int, width: int = TILE_WIDTH, *,
              entries: bool = False) -> str:
    """The tlog-tiles path of a tile: ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>...``.

    `<N>` is zero-padded to groups of three digits, every group but the last prefixed with
    ``x`` (index 1234067 is ``x001/x234/067``).
    """
    if not 0 < width <= TILE_WIDTH or index < 0 or not 0 <= level <= 63:
        raise OutOfRangeError(f"no tile {level}/{index} of width {width}")
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    name = "/".join([*("x" + g for g in groups[:-1]), groups[-1]])
    if width < TILE_WIDTH:
        name += f".p/{width}"
    return f"tile/{'entries' if entries else level}/{name}"


@dataclass(frozen=True, slots=True)
class TileAddress:
    """A parsed tlog-tiles path: a tile (`level`) or an entry bundle (`level` None)."""

    level: int | None
    index: int
    width: int


_GROUP = re.compile(r"x[0-9]{3}\Z")
_LAST = re.compile(r"[0-9]{3}\Z")


def parse_tile_path(path: str) -> TileAddress:
    """The inverse of `tile_path`, strict: only the spelling `tile_path` produces.

    `path` is what follows ``tile/`` (``0/x001/234``, ``entries/005.p/17``). Anything
    else (leading zeros elsewhere, a width of 0 or 256 after ``.p/``, a level over 63)
    is an `OutOfRangeError`, so one tile never has two names.
    """
    parts = path.split("/")
    if len(parts) < 2:
        raise OutOfRangeError(f"not a tile path: {path[:80]!r}")
    kind, rest = parts[0], parts[1:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not rest[-1].isdigit() or rest[-1] != str(int(rest[-1])):
            raise OutOfRangeError(f"not a partial tile width: {rest[-1][:20]!r}")
        width = int(rest[-1])
        if not 0 < width < TILE_WIDTH:
            raise OutOfRangeError(f"a partial tile has 1 to {TILE_WIDTH - 1} entries")
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest or any(_GROUP.match(g) is None for g in rest[:-1]) or \
            _LAST.match(rest[-1]) is None or len(rest) > 7:
        raise OutOfRangeError(f"not a tile index: {'/'.join(rest)[:80]!r}")
    index = int("".join(g.removeprefix("x") for g in rest))
    if kind == "entries":
        level = None
    elif kind.isdigit() and kind == str(int(kind)) and int(kind) <= 63:
        level = int(kind)
    else:
        raise OutOfRangeError(f"not a tile level: {kind[:20]!r}")
    address = TileAddress(level, index, width)
    canonical = tile_path(level or 0, index, width, entries=level is None)
    if canonical != f"tile/{path}":
        raise OutOfRangeError(f"tile {path[:80]!r} is spelled {canonical!r}")
    return address


def entry_bundle(bodies: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for body in bodies:
        if len(body) > MAX_ENTRY_BYTES:
            raise EncodingError(f"an entry of {len(body)} bytes does not fit an entry bundle "
                                f"(at most {MAX_ENTRY_BYTES})")
        out += struct.pack(">H", len(body))
        out += body
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle (`EncodingError` when it is cut short)."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise EncodingError("entry bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, at)
        at += 2
        if at + length > len(data):
            raise EncodingError("entry bundle ends inside an entry")
        entries.append(data[at:at + length])
        at += length
    return entries
