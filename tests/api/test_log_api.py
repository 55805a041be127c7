"""The log as C2SP tlog-tiles over HTTP: byte for byte what `tmec log tiles` exports."""

from __future__ import annotations

from pathlib import Path

from ledger.checkpoint import Checkpoint
from ledger.merkle import leaf_hash, root
from ledger.static_tiles import write_static_tiles
from ledger.tiles import parse_entry_bundle
from tests.api.conftest import World, problem


def _checkpoint(world: World) -> Checkpoint:
    text = world.client.get("/checkpoint").text
    return Checkpoint.parse(text.split("\n\n", 1)[0] + "\n")


def test_the_served_tiles_are_the_exported_ones(world: World, tmp_path: Path) -> None:
    response = world.client.get("/checkpoint")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"].startswith("text/plain")
    out = tmp_path / "static"
    exported = write_static_tiles(world.service.ledger, out)
    if (out / "checkpoint").read_text("utf-8") != response.text:  # a checkpoint in between
        response = world.client.get("/checkpoint")
        exported = write_static_tiles(world.service.ledger, out)
    assert (out / "checkpoint").read_text("utf-8") == response.text
    files = sorted(p for p in (out / "tile").rglob("*") if p.is_file())
    assert len(files) == exported.tiles + exported.entry_bundles
    for path in files:
        served = world.client.get("/" + path.relative_to(out).as_posix())
        assert served.status_code == 200, path
        assert served.content == path.read_bytes(), path
        assert "immutable" in served.headers["cache-control"]


def test_the_leaves_in_the_tiles_hash_to_the_checkpoint_root(world: World) -> None:
    checkpoint = _checkpoint(world)
    size = checkpoint.size
    assert 0 < size < 256  # the demo fits in one partial tile of each kind
    hashes = world.client.get(f"/tile/0/000.p/{size}").content
    leaves = [hashes[i:i + 32] for i in range(0, len(hashes), 32)]
    entries = parse_entry_bundle(world.client.get(f"/tile/entries/000.p/{size}").content)
    assert [leaf_hash(e) for e in entries] == leaves
    assert root(leaves) == checkpoint.root_hash
    shorter = world.client.get("/tile/0/000.p/3").content
    assert shorter == hashes[:96]


def test_tiles_beyond_the_checkpoint_and_bad_paths_are_not_found(sqlite_world: World
                                                                 ) -> None:
    size = _checkpoint(sqlite_world).size
    problem(sqlite_world.client.get("/tile/0/000"), 404, "ledger.not_found")
    problem(sqlite_world.client.get(f"/tile/0/000.p/{size + 1}"), 404, "ledger.not_found")
    problem(sqlite_world.client.get("/tile/1/000.p/1"), 404, "ledger.not_found")
    for bad in ("0/1", "0/000.p/0", "0/000.p/256", "00/000", "x/000", "0/x000/000",
                "entries/000.p/01"):
        problem(sqlite_world.client.get(f"/tile/{bad}"), 404, "api.not_found")
    # Dot segments are resolved before routing: this asks for /etc/passwd, a web address,
    # so it is the HTML "no such page" (and never a file of the machine).
    escaped = sqlite_world.client.get("/tile/../../etc/passwd")
    assert escaped.status_code == 404
    assert escaped.headers["content-type"].startswith("text/html")
    assert "root:" not in escaped.text
