"""The log as static files in the C2SP tlog-tiles layout, for any tlog-tiles client.

`write_static_tiles` writes, under a directory, what a tiled log serves (c2sp.org/tlog-tiles):

* ``checkpoint`` — the latest recorded checkpoint, with its cosignatures;
* ``tile/<L>/<N>`` — every full tile the checkpoint's tree has, and ``tile/<L>/<N>.p/<W>``
  for the partial tile of each level at that size (the spec requires partial tiles for
  every size a checkpoint was produced for; this writes those of the latest one);
* ``tile/entries/<N>`` and ``tile/entries/<N>.p/<W>`` — the entry bundles: each log entry
  (the canonical statement bytes that were hashed into its leaf) with a big-endian uint16
  length prefix.

Full tiles and full entry bundles never change, so the directory can be refreshed in place
(files already there are left alone) and served as immutable, cacheable files; only
``checkpoint`` and the partial tiles change. Everything is read from the store in pages:
memory stays bounded whatever the size of the log.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger.checkpoint import Checkpoint
from ledger.errors import NotFoundError
from ledger.service import Ledger
from ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TiledTree,
    entry_bundle,
    tile_path,
    tile_width,
)

__all__ = ["StaticTiles", "write_static_tiles"]


@dataclass(frozen=True, slots=True)
class StaticTiles:
    """What `write_static_tiles` wrote."""

    size: int
    tiles: int
    entry_bundles: int
    skipped: int  # full tiles and bundles already present from an earlier export


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a server reading the directory never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, path)
    finally:
        if os.path.exists(name):
            os.unlink(name)


def write_static_tiles(ledger: Ledger, out: Path) -> StaticTiles:
    """Write the tlog-tiles layout of the latest checkpoint under `out`.

    Raises:
        NotFoundError: the log has no checkpoint yet.
    """
    latest = ledger.store.latest_checkpoint()
    if latest is None:
        raise NotFoundError("the log has no checkpoint yet: publish one first "
                            "(tmec log checkpoint)")
    size, text = latest
    Checkpoint.parse(text.split("\n\n", 1)[0] + "\n")  # a checkpoint, not anything else
    written = skipped = bundles = 0
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = -(-(size >> (TILE_HEIGHT * level)) // TILE_WIDTH)
        for index in range(count):
            width = tile_width(level, index, size)
            target = out / tile_path(level, index, width)
            if width == TILE_WIDTH and target.exists():
                skipped += 1
                continue
            _write(target, b"".join(TiledTree(ledger.store, size).tile_hashes(level, index)))
            written += 1
        level += 1
    for index in range(-(-size // TILE_WIDTH)):
        start = index * TILE_WIDTH
        width = min(TILE_WIDTH, size - start)
        target = out / tile_path(0, index, width, entries=True)
        if width == TILE_WIDTH and target.exists():
            skipped += 1
            continue
        bodies = [e.body for e in ledger.store.entries(start, start + width)]
        _write(target, entry_bundle(bodies))
        bundles += 1
    _write(out / "checkpoint", text.encode("utf-8"))
    return StaticTiles(size, written, bundles, skipped)
