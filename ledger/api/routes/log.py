"""The log for witnesses and monitors: C2SP tlog-tiles, served from the database.

``/checkpoint`` is the latest recorded checkpoint with its cosignatures; ``/tile/<L>/<N>``,
``/tile/<L>/<N>.p/<W>`` and ``/tile/entries/<N>[.p/<W>]`` are the tiles and entry bundles
of the tree it commits to (c2sp.org/tlog-tiles), the paths spelled exactly as
`ledger.tiles.tile_path` writes them and ``tmec log tiles`` exports them. Full tiles never
change (``Cache-Control: immutable``); a partial tile's first W hashes never change either,
so it is cacheable too; only the checkpoint is ``no-cache``. Public: a log is only as good
as the number of people who can check it.
"""

from __future__ import annotations

from fastapi import Request, Response

from ledger.api.access import Caller, public
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of
from ledger.errors import NotFoundError, OutOfRangeError
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TiledTree, entry_bundle, parse_tile_path

__all__ = ["router"]

router = api_router(tags=["log (tlog-tiles)"])

IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/checkpoint", response_class=Response, summary="The latest checkpoint",
            responses={200: {"content": {"text/plain": {"example": "tmec.example/ledger\n"
                                                         "42\nbase64root=\n\n— ...\n"}}}})
def checkpoint(request: Request, caller: Caller = public()) -> Response:
    """The latest checkpoint, a signed note with the witnesses' cosignatures."""
    del caller
    latest = service_of(request).ledger.store.latest_checkpoint()
    if latest is None:
        raise NotFoundError("the log has no checkpoint yet")
    return Response(latest[1], media_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@router.get("/tile/{path:path}", response_class=Response, summary="A tile or entry bundle",
            responses={200: {"content": {"application/octet-stream": {
                "example": "(binary: 32-byte hashes, or uint16-length-prefixed entries)"}}}})
def tile(path: str, request: Request, caller: Caller = public()) -> Response:
    """A tile (256 hashes of 32 bytes, fewer when partial) or an entry bundle."""
    del caller
    try:
        address = parse_tile_path(path)
    except OutOfRangeError as exc:
        raise ApiProblem("api.not_found", f"no such tile: {exc}") from None
    ledger = service_of(request).ledger
    latest = ledger.store.latest_checkpoint()
    size = 0 if latest is None else latest[0]
    level = 0 if address.level is None else address.level
    first = (address.index * TILE_WIDTH) << (TILE_HEIGHT * level)
    needed = ((address.index * TILE_WIDTH + address.width) << (TILE_HEIGHT * level))
    if needed > size:
        raise NotFoundError(f"tile/{path} is beyond the latest checkpoint (size {size})")
    if address.level is None:
        bodies = [e.body for e in ledger.store.entries(first, first + address.width)]
        data = entry_bundle(bodies)
    else:
        hashes = TiledTree(ledger.store, size).tile_hashes(address.level, address.index)
        data = b"".join(hashes[:address.width])
    return Response(data, media_type="application/octet-stream",
                    headers={"Cache-Control": IMMUTABLE})
