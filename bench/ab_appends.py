"""Durable appends/s with derived state, A/B between checkouts, SQLite and PostgreSQL.

    .venv/bin/python bench/ab_appends.py --trees BASELINE_TREE,. --count 10240 --rounds 3

The appends row of bench_service_core.py (a fresh ledger, one party, N synthetic token
statements with their blobs stored first, appended in batches of 256 with signatures
checked, SQLite with synchronous=FULL, PostgreSQL with fsync on), run for each tree in
turn, `--rounds` times, so that every tree meets the same load on this shared machine. The
median of each tree's rounds is printed; each round is a fresh database and process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_service_core import child  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", default=".")
    parser.add_argument("--count", type=int, default=10_240)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    engines = args.engines.split(",")
    work = Path(tempfile.mkdtemp(prefix="tmec-ab-appends-"))
    cluster = None
    admin = None
    if "postgresql" in engines:
        import sqlalchemy as sa

        from tests.ledger.conftest import _Cluster, _find_binaries

        bin_dir = _find_binaries()
        if bin_dir is None:
            raise SystemExit("PostgreSQL needs initdb and pg_ctl")
        cluster = _Cluster(bin_dir)
        admin_url = cluster.start()
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    rates: dict[tuple[str, Path], list[float]] = {}
    try:
        serial = 0
        for _ in range(args.rounds):
            for engine in engines:
                for tree in trees:
                    serial += 1
                    if engine == "sqlite":
                        url = f"sqlite:///{work}/a{serial}.db"
                    else:
                        assert admin is not None
                        with admin.connect() as connection:
                            connection.exec_driver_sql(f'CREATE DATABASE "a{serial}"')
                        url = admin_url.set(database=f"a{serial}").render_as_string(
                            hide_password=False)
                    out = child(tree, "appends", url, str(args.count))
                    rates.setdefault((engine, tree), []).append(
                        out["appended"] / out["answer_s"])
        print(f"{args.count:,} statements, batches of 256, {args.rounds} rounds, "
              f"{time.strftime('%Y-%m-%d %H:%M')} UTC")
        print("| engine | tree | median appends/s | all rounds |")
        print("|---|---|---:|---|")
        for (engine, tree), values in rates.items():
            print(f"| {engine} | {tree} | {statistics.median(values):,.0f} | "
                  f"{', '.join(f'{v:,.0f}' for v in values)} |")
        load = Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
        print(f"load average after: {', '.join(load)}")
    finally:
        if admin is not None:
            admin.dispose()
        if cluster is not None:
            cluster.stop()
            cluster.remove()


if __name__ == "__main__":
    main()
