"""Count the instructions of `tmec rvc FILE --json` per BOM size: is the work linear?

    .venv/bin/python bench/count_instructions.py                  # 100, 10k, 100k items
    .venv/bin/python bench/count_instructions.py --sizes 100,10000,100000,1000000

Wall time per item grows with the size of a BOM even when the work per item does not:
the passes over a million items chase pointers through a heap of almost 2 GB, and cache
and TLB misses make each step slower. Instruction counts do not see the memory hierarchy,
so they separate the two. `valgrind --tool=callgrind` counts every instruction the
process executes (the same count on every run, whatever else the machine does); the
100-item run measures the fixed cost (interpreter start-up, imports, rule data), which is
subtracted before dividing by the number of items. Under callgrind a run is ~50x slower:
about 15 s for 10k items, 2 minutes for 100k and 20 minutes for 1M.

Uses the BOMs of bench_engine.py (bench/out/, generated if missing). Prints a Markdown
table; paste it into RESULTS.md with the command that produced it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_engine import bom_path  # noqa: E402
from generate_bom import DEFAULT_SEED, write_bom  # noqa: E402

COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(path: Path) -> int:
    """Instructions executed by one `tmec rvc PATH --json` (callgrind's ``Collected``)."""
    tmec = ROOT / ".venv" / "bin" / "tmec"
    with tempfile.TemporaryDirectory() as scratch:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out",
             str(tmec), "rvc", str(path), "--json"],
            capture_output=True, text=True, check=False)
    found = COLLECTED.search(run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed on {path}:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,10000,100000",
                        help="comma-separated item counts; the smallest is the fixed cost")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    counts = {}
    for size in sizes:
        path = bom_path(size, args.seed)
        if not path.exists():
            write_bom(size, path, args.seed)
        counts[size] = instructions(path)
        print(f"{size:>9,} items: {counts[size]:,} instructions", file=sys.stderr)
    fixed = counts[sizes[0]]
    print(f"Instructions of `tmec rvc FILE --json` (valgrind --tool=callgrind); fixed cost = "
          f"the {sizes[0]:,}-item run, {fixed / 1e9:.2f} G instructions.\n")
    print("| items | instructions (G) | minus fixed cost (G) | per item |")
    print("|---:|---:|---:|---:|")
    for size in sizes:
        extra = counts[size] - fixed
        per_item = f"{extra / size:,.0f}" if size != sizes[0] else "(fixed cost)"
        print(f"| {size:,} | {counts[size] / 1e9:.2f} | {extra / 1e9:.2f} | {per_item} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
