"""Instructions per audited entry of `Ledger.audit` (issue 7), A/B between checkouts.

    .venv/bin/python bench/count_audit_instructions.py --trees BASELINE_TREE,.
    .venv/bin/python bench/count_audit_instructions.py --trees A,B --sizes 2000,10000 --wall 3

Wall time on a 2-core VM shared with other sessions says little about a change of a few
microseconds per entry, so this counts instructions (`valgrind --tool=callgrind`, the same
count on every run whatever else the machine does). It builds SQLite ledgers of each size
once, with bench_service_core's builder (one party key, synthetic token statements with
real blobs, batches of 256, a checkpoint), then, for each tree, counts one process that
opens the ledger and audits it; the smallest size is the fixed cost (start-up, imports,
checkpoints), subtracted before dividing by the extra entries. Callgrind counts every
thread and runs them one at a time, so the count is the audit's total work, not its wall
time on two cores; Ed25519 verification is most of it (~the same in every tree). With
``--wall N`` it also times N alternating runs of each tree on the largest ledger, and with
``--postgres`` (wall only, no callgrind) the same on a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_service_core import CHILD  # noqa: E402

COLLECTED = re.compile(r"Collected : (\d+)")

AUDIT = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ledger.crypto import SigningKey
from ledger.service import Ledger
from ledger.store.sql import SqlStore
ledger = Ledger(SqlStore(sys.argv[2]), SigningKey(bytes([1]) * 32), origin="tmec.example/ledger")
start = time.perf_counter()
report = ledger.audit()
print(json.dumps({"ok": report.ok, "size": report.size, "s": time.perf_counter() - start}))
'''


def build(tree: Path, path: Path, entries: int, url: str | None = None) -> None:
    script = path.with_suffix(".build.py")
    script.write_text(CHILD, encoding="utf-8")
    subprocess.run([sys.executable, str(script), str(tree), "generate",
                    url or f"sqlite:///{path}", str(entries)], check=True,
                   capture_output=True, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def run(tree: Path, db: Path | str, script: Path, *,
        callgrind: bool) -> tuple[int, dict[str, object]]:
    """(instructions or 0, the child's JSON) of one audit of `db` by `tree`'s code."""
    prefix = (["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
              if callgrind else [])
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    done = subprocess.run([*prefix, sys.executable, str(script), str(tree), url],
                          capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        raise SystemExit(f"audit by {tree} failed:\n{done.stderr[-2000:]}")
    out: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if not out["ok"]:
        raise SystemExit(f"{db} does not audit clean with {tree}")
    found = COLLECTED.search(done.stderr) if callgrind else None
    return (int(found.group(1)) if found else 0), out


def postgres_wall(trees: list[Path], work: Path, script: Path, size: int, repeat: int) -> None:
    """Alternating timed audits of one `size`-entry ledger on a throwaway PostgreSQL."""
    import sqlalchemy as sa

    sys.path.insert(0, str(ROOT))
    from tests.ledger.conftest import _Cluster, _find_binaries

    bin_dir = _find_binaries()
    if bin_dir is None:
        raise SystemExit("--postgres needs initdb and pg_ctl")
    cluster = _Cluster(bin_dir)
    admin_url = cluster.start()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql('CREATE DATABASE "audit"')
        url = admin_url.set(database="audit").render_as_string(hide_password=False)
        build(trees[-1], work / "pg", size, url)
        times: dict[Path, list[float]] = {t: [] for t in trees}
        for _ in range(repeat):
            for tree in trees:
                times[tree].append(float(run(tree, url, script, callgrind=False)[1]["s"]))  # type: ignore[arg-type]
        for tree, seconds in times.items():
            print(f"wall, PostgreSQL, {size:,} entries, {tree}: best {min(seconds):.3f} s "
                  f"({size / min(seconds):,.0f} entries/s), all "
                  f"{', '.join(f'{s:.3f}' for s in seconds)}")
    finally:
        admin.dispose()
        cluster.stop()
        cluster.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", default=".", help="comma-separated checkouts to compare")
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--wall", type=int, default=0, help="alternating timed runs per tree")
    parser.add_argument("--postgres", action="store_true", help="wall runs on PostgreSQL too")
    parser.add_argument("--no-callgrind", action="store_true")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    work = Path(tempfile.mkdtemp(prefix="tmec-audit-count-"))
    try:
        script = work / "audit.py"
        script.write_text(AUDIT, encoding="utf-8")
        dbs = {n: work / f"l{n}.db" for n in sizes}
        for n, db in dbs.items():
            build(trees[-1], db, n)
        print(f"| tree | {' | '.join(f'{n:,} entries' for n in sizes)} | per extra entry |")
        print("|---|" + "---:|" * (len(sizes) + 1))
        for tree in trees:
            run(tree, dbs[sizes[0]], script, callgrind=False)  # compile the tree's .pyc first
            if args.no_callgrind:
                continue
            counts = [run(tree, dbs[n], script, callgrind=True)[0] for n in sizes]
            per = (counts[-1] - counts[0]) / (sizes[-1] - sizes[0])
            print(f"| {tree} | {' | '.join(f'{c / 1e6:,.0f} M' for c in counts)} "
                  f"| {per:,.0f} |")
        if args.wall:
            big = dbs[sizes[-1]]
            times: dict[Path, list[float]] = {t: [] for t in trees}
            for _ in range(args.wall):
                for tree in trees:
                    out = run(tree, big, script, callgrind=False)[1]
                    times[tree].append(float(out["s"]))  # type: ignore[arg-type]
            for tree, seconds in times.items():
                best = min(seconds)
                print(f"wall, {sizes[-1]:,} entries, {tree}: best {best:.3f} s "
                      f"({sizes[-1] / best:,.0f} entries/s), all "
                      f"{', '.join(f'{s:.3f}' for s in seconds)}")
        if args.postgres:
            postgres_wall(trees, work, script, sizes[-1], max(args.wall, 1))
        load = Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
        print(f"load average: {', '.join(load)}, {time.strftime('%H:%M')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
