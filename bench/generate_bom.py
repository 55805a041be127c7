"""Generate a large, valid `tmec-bom/1` document: a layered DAG with shared sub-assemblies.

    python bench/generate_bom.py 1000000 bench/out/bom-1000000.json [--seed 20240301]

The output is deterministic for a given (size, seed, GENERATOR_VERSION): every random choice
comes from one `random.Random(seed)`, so the same command always writes the same bytes.

Shape (see bench/README.md):

* the good (``made``, HS 8708.30 brakes, end use passenger_vehicle, as of 2024-03-01, USD)
  on top;
* ``DEPTH`` layers of ``made`` sub-assemblies below it, each layer ~2.5x wider than the one
  above; about a quarter of all items are made;
* ``bought`` materials (three quarters of the items): originating / non_originating /
  unknown, some with Art. 4.7 deductions, a few with accumulation statements, a few
  packing / indirect / retail-packaging flags;
* lines: a spanning "backbone" (every item gets one parent in a higher layer, every made
  item gets at least one child, so everything is reachable from the good) plus extra lines
  from random made parents to skewed-random lower items, so common sub-assemblies and
  common bought parts (fasteners...) have many parents. Total lines = round(1.7 x items).
  No parent/child pair repeats; lines always point to a lower layer, so the graph is a DAG.
* no intermediate designations, no explicit rules: the good falls under Table B (RVC only).

Unit values and quantities are realistic per line (0.02-400 USD, 0.0125-8 units); own costs
of made items are 7-15 % of their (float-estimated) material cost, so the RVC of the good
lands around 73-77 % (net cost) and 77-80 % (transaction value) whatever the size. The
good's total cost grows with the size of the BOM (a bigger BOM is a bigger product); values
are exact decimal strings of <= 4 decimals. A sub-assembly has ~1.4 parents on average (up
to ~60), a bought part ~1.8 (the most common ones several hundred).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

GENERATOR_VERSION = 1
DEFAULT_SEED = 20240301

MADE_FRACTION = 0.25
LINES_PER_ITEM = 1.7
DEPTH = 6  # made layers below the good
LAYER_GROWTH = 2.5

_MADE_HS = ("8708.30.99", "8708.30", "8708.99", "8708.99.81", "8413.30", "8481.20",
            "8708.80", "8409.91")
_MADE_NAMES = ("caliper assembly", "brake booster", "master cylinder", "pad carrier",
               "rotor hub", "piston kit", "ABS valve block", "bracket weldment",
               "hose assembly", "parking brake module")
_BOUGHT = (
    # (hs, description, low, high)  unit value range in USD (log-uniform)
    ("7318.15", "hex bolt M8x25", 0.05, 0.60),
    ("7318.16", "flange nut M8", 0.03, 0.30),
    ("7318.21", "spring washer", 0.02, 0.15),
    ("4016.93", "EPDM seal", 0.10, 2.50),
    ("4009.31", "brake hose", 2.00, 18.00),
    ("7325.99", "cast iron blank", 6.00, 45.00),
    ("7616.99", "aluminium housing", 8.00, 60.00),
    ("6813.81", "friction pad material", 1.50, 12.00),
    ("8481.80", "solenoid valve", 9.00, 80.00),
    ("8544.42", "wiring harness", 4.00, 40.00),
    ("8542.31", "ABS control IC", 3.00, 25.00),
    ("3926.90", "plastic clip", 0.02, 0.40),
    ("7208.51", "steel plate", 1.00, 20.00),
    ("3403.19", "brake grease", 0.40, 5.00),
    ("8708.30.99", "brake component", 5.00, 400.00),
)
_QTY_BOUGHT = (("1", 30), ("2", 20), ("4", 14), ("6", 6), ("8", 3), ("0.5", 10),
               ("0.25", 7), ("1.5", 5), ("0.125", 3), ("0.0125", 2))
_QTY_MADE = (("1", 80), ("2", 8), ("0.5", 8), ("0.25", 4))
_COUNTRIES = {"originating": ("MX", "US", "CA"),
              "non_originating": ("CN", "DE", "JP", "KR", "IN", "BR", "TH"),
              "unknown": ("CN", "VN", "TW")}


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    values = [v for v, _ in table]
    weights = [w for _, w in table]
    return rng.choices(values, weights)[0]


def _money(value: float, places: int = 2) -> str:
    """A non-negative decimal string with `places` decimals (at least 0.01 / 0.0001)."""
    floor = 10.0 ** -places
    return f"{max(value, floor):.{places}f}"


def _layer_sizes(made: int) -> list[int]:
    """Sizes of made layers 1..DEPTH summing to made - 1 (layer 0 is the good)."""
    below = made - 1
    depth = max(1, min(DEPTH, below))
    weights = [LAYER_GROWTH ** k for k in range(1, depth + 1)]
    total = sum(weights)
    sizes = [max(1, int(below * w / total)) for w in weights]
    sizes[-1] += below - sum(sizes)
    # Each layer at least as wide as the one above keeps every parent served by the backbone.
    for k in range(1, len(sizes)):
        if sizes[k] < sizes[k - 1]:
            raise ValueError("BOM too small for its layering")
    return sizes


def generate(size: int, seed: int = DEFAULT_SEED) -> tuple[dict, list[dict], list[list]]:
    """Build the document header, the items and the per-parent child lists."""
    if size < 50:
        raise ValueError("size must be at least 50 items")
    rng = random.Random(seed)
    made = max(8, round(size * MADE_FRACTION))
    bought = size - made
    layer_sizes = _layer_sizes(made)
    # Item indexes: 0 = the good, then made layers top to bottom, then bought items.
    layers: list[range] = [range(1)]
    start = 1
    for width in layer_sizes:
        layers.append(range(start, start + width))
        start += width
    bought_range = range(made, size)
    deepest = len(layers) - 1
    layer_of = [0] * made
    for depth, layer in enumerate(layers):
        for i in layer:
            layer_of[i] = depth

    children: list[dict[int, str]] = [{} for _ in range(made)]

    def link(parent: int, child: int) -> bool:
        kids = children[parent]
        if child in kids:
            return False
        qty = _weighted(rng, _QTY_MADE if child < made else _QTY_BOUGHT)
        kids[child] = qty
        return True

    # Backbone: every made item below the good gets a parent in the layer just above;
    # every parent gets at least one child.
    for depth in range(1, len(layers)):
        above = list(layers[depth - 1])
        members = list(layers[depth])
        rng.shuffle(members)
        for n, child in enumerate(members):
            link(above[n] if n < len(above) else rng.choice(above), child)
    bought_ids = list(bought_range)
    rng.shuffle(bought_ids)
    leaves = list(layers[deepest])
    for n, child in enumerate(bought_ids):
        link(leaves[n] if n < len(leaves) else rng.randrange(made), child)

    # Shared lines: random made parent -> skewed-random lower item. A few sub-assemblies
    # and many bought parts end up with many parents.
    common_bought = bought_ids[:]  # already shuffled: which items are "common" is random
    target = round(LINES_PER_ITEM * size)
    lines = size - 1
    while lines < target:
        parent = rng.randrange(made)
        depth = layer_of[parent]
        if depth < deepest and rng.random() < 0.4:
            lower = depth + 1 if rng.random() < 0.7 else rng.randint(depth + 1, deepest)
            layer = layers[lower]
            child = layer[int(len(layer) * rng.random() ** 2)]
        else:
            child = common_bought[int(bought * rng.random() ** 2.5)]
        if link(parent, child):
            lines += 1

    # Bought items.
    items: list[dict] = [{} for _ in range(size)]
    material = [0.0] * size  # float estimate of each item's cost (for own costs only)
    vnm = [0.0] * size
    id_width = len(str(size))
    for i in bought_range:
        hs, name, low, high = rng.choice(_BOUGHT)
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        places = 4 if value < 1 else 2
        unit_value = _money(value, places)
        value = float(unit_value)
        roll = rng.random()
        origin = ("originating" if roll < 0.52 else
                  "non_originating" if roll < 0.90 else "unknown")
        item: dict = {"id": f"M{i:0{id_width}d}", "hs": hs,
                      "description": f"{name} #{i}", "kind": "bought",
                      "unit_value": unit_value, "origin": origin,
                      "country": rng.choice(_COUNTRIES[origin])}
        if origin == "originating" and rng.random() < 0.6:
            item["evidence"] = ({"token": f"{rng.getrandbits(128):032x}"}
                                if rng.random() < 0.5
                                else {"certificate": f"CUSMA-2024-{rng.randrange(10**6):06d}"})
        own_vnm = 0.0 if origin == "originating" else value
        if origin != "originating" and rng.random() < 0.25:
            freight = value * rng.uniform(0.02, 0.08)
            duties = value * rng.uniform(0.0, 0.05)
            deductions = {"freight": _money(freight, places), "duties": _money(duties, places)}
            if rng.random() < 0.3:
                deductions["brokerage"] = _money(value * 0.01, places)
            if rng.random() < 0.1:
                deductions["waste"] = _money(value * 0.005, places)
            if sum(float(v) for v in deductions.values()) <= value:
                item["deductions"] = deductions
                own_vnm = value - sum(float(v) for v in deductions.values())
        if origin != "originating" and rng.random() < 0.01:
            kind = rng.choice(("net_cost_and_vnm", "regional_value", "vnm"))
            if kind == "net_cost_and_vnm":
                net_cost = _money(value * 0.95, places)
                stated = _money(float(net_cost) * 0.4, places)
                item["statement"] = {"type": kind, "net_cost": net_cost, "vnm": stated}
                own_vnm = float(stated)
            elif kind == "regional_value":
                item["statement"] = {"type": kind, "amount": _money(value * 0.6, places)}
                own_vnm = value * 0.4
            else:
                item["statement"] = {"type": kind, "vnm": _money(value * 0.5, places)}
        flag = rng.random()
        if flag < 0.003:
            item["packing"] = True
            value = own_vnm = 0.0
        elif flag < 0.010:
            item["indirect"] = True
            own_vnm = 0.0
        elif flag < 0.012:
            item["retail_packaging"] = True
        items[i] = item
        material[i], vnm[i] = value, own_vnm

    # Made items, bottom-up so own costs can be a share of the material cost.
    for i in range(made - 1, -1, -1):
        mat = sum(float(q) * material[k] for k, q in children[i].items())
        nonorig = sum(float(q) * vnm[k] for k, q in children[i].items())
        costs: dict = {
            "other_product": _money(mat * rng.uniform(0.05, 0.10)),
            "period": _money(mat * rng.uniform(0.02, 0.04)),
        }
        if rng.random() < 0.5:
            costs["other"] = _money(mat * rng.uniform(0.0, 0.01))
        if i == 0 or rng.random() < 0.3:
            costs["excluded"] = {
                "sales_promotion": _money(mat * rng.uniform(0.002, 0.01)),
                "royalties": _money(mat * rng.uniform(0.0, 0.005)),
                "shipping_packing": _money(mat * rng.uniform(0.0, 0.005)),
                "non_allowable_interest": _money(mat * rng.uniform(0.0, 0.002)),
            }
        own = sum(float(v) for k, v in costs.items() if k != "excluded")
        depth = layer_of[i]
        item = {"id": "BRK-ASSY-1" if i == 0 else f"SA{depth}-{i:0{id_width}d}",
                "hs": "8708.30" if i == 0 else rng.choice(_MADE_HS),
                "description": ("front brake assembly, passenger vehicle" if i == 0
                                else f"{rng.choice(_MADE_NAMES)} L{depth} #{i}"),
                "kind": "made", "costs": costs}
        if i == 0:
            total = mat + own
            tv = total * rng.uniform(1.12, 1.20)
            item["transaction_value"] = _money(tv)
            item["international_shipping"] = _money(tv * 0.015)
        items[i] = item
        material[i], vnm[i] = mat + own, nonorig

    header = {
        "format": "tmec-bom/1",
        "good": items[0]["id"],
        "as_of": "2024-03-01",
        "currency": "USD",
        "end_use": "passenger_vehicle",
        "producer": {"name": "Frenos del Bajio SA de CV", "country": "MX",
                     "tax_id": "FBA010101AB1"},
        "generator": {"tool": "bench/generate_bom.py", "version": GENERATOR_VERSION,
                      "seed": seed, "items": size, "lines": lines,
                      "layers": [1, *layer_sizes, bought],
                      "estimated_rvc_net_cost": round(
                          100 * (1 - vnm[0] / (material[0] - _excluded(items[0]))), 2)},
    }
    edges = [list(kids.items()) for kids in children]
    return header, items, edges


def _excluded(item: dict) -> float:
    return sum(float(v) for v in item["costs"].get("excluded", {}).values())


def write_bom(size: int, path: Path, seed: int = DEFAULT_SEED, *,
              shuffled: bool = False) -> dict:
    """Generate and write compact JSON to `path`; returns a small summary.

    The items are listed assembly first (layer by layer) and the lines parent by parent,
    as an indented BOM lists them. `shuffled` writes the same document with items and
    lines in a random order (seeded): what a reader gets from a tool that sorts by part
    number, and the reader's worst case for memory locality.
    """
    started = time.perf_counter()
    header, items, edges = generate(size, seed)
    ids = [item["id"] for item in items]
    lines = [(p, c, q) for p, kids in enumerate(edges) for c, q in kids]
    if shuffled:
        order = random.Random(seed + 1)
        items = items[:]
        order.shuffle(items)
        order.shuffle(lines)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        head = dumps(header)
        out.write(head[:-1] + ',"items":[')
        out.write(",".join(dumps(item) for item in items))
        out.write('],"lines":[')
        out.write(",".join(
            f'{{"parent":{dumps(ids[p])},"child":{dumps(ids[c])},"qty":"{q}"}}'
            for p, c, q in lines))
        out.write("]}\n")
    tmp.replace(path)
    return {"path": str(path), "items": size, "lines": header["generator"]["lines"],
            "bytes": path.stat().st_size, "seconds": time.perf_counter() - started,
            "layers": header["generator"]["layers"],
            "estimated_rvc_net_cost": header["generator"]["estimated_rvc_net_cost"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", type=int, help="number of items (>= 50), e.g. 1000000")
    parser.add_argument("output", type=Path, help="where to write the JSON document")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--shuffled", action="store_true",
                        help="items and lines in random order instead of assembly first")
    args = parser.parse_args(argv)
    summary = write_bom(args.size, args.output, args.seed, shuffled=args.shuffled)
    print(f"wrote {summary['path']}: {summary['items']:,} items, {summary['lines']:,} lines "
          f"({summary['lines'] / summary['items']:.2f} per item), layers {summary['layers']}, "
          f"{summary['bytes']:,} bytes ({summary['bytes'] / 2**20:.1f} MiB) in "
          f"{summary['seconds']:.1f} s; estimated net-cost RVC "
          f"{summary['estimated_rvc_net_cost']} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
