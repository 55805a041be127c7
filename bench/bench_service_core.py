"""The ledger as a service core (issue 7): reads at 1M entries against the replaying ledger.

    .venv/bin/python bench/bench_service_core.py --entries 1000000 [--postgres URL] [--write]

What it does, all in one run so the baseline shares the machine's state:

1. Builds a ledger of N entries with the code *before* this issue (``--baseline``, default
   commit 7b2a1b8, checked out as a git worktree): one party key, N-1 token statements with
   real token blobs, appended in batches of 256. That is a revision-0002 database, which is
   what the replaying ledger can open.
2. Copies it; the copy is migrated by today's code (migration 0003 derives the index and
   tiles of every entry: the upgrade path, timed).
3. In a fresh process per measurement, for the old and the new code on their own copy:
   open the ledger and answer a token status; an inclusion proof; a bundle; and the CLI's
   ``tmec keys list`` (a workspace whose ledger.db is that database), each with wall time
   and the process's peak RSS. The CLI is also timed on an empty ledger, for the 1.2x
   target.
4. Appends/s with derived state (batches of 256, signatures checked, SQLite file with
   synchronous=FULL), and audit entries/s, for both.

With ``--postgres URL`` (a server where the user may CREATE DATABASE) the same database is
loaded into PostgreSQL (old code) and cloned as a template for the new code.

Targets (issue 7): open + status <= 50 ms; peak memory independent of size (<= 150 MB at
1M); bundle <= 5 ms at 1M; a CLI command at 1M within 1.2x of an empty ledger; appends
>= 8,000/s SQLite, >= 3,000/s PostgreSQL; audit >= 20,000 entries/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import machine  # noqa: E402

# Runs inside a child process, with the tree under test first on sys.path. It must work
# with the old and the new Ledger API (both have token_status, inclusion_proof, bundle).
CHILD = r'''
import json, resource, sys, time
tree, action, url = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, tree)
t0 = time.perf_counter()
from ledger.crypto import SigningKey
from ledger.service import Ledger
from ledger.store.sql import SqlStore
from datetime import UTC, datetime
imported = time.perf_counter()
key = SigningKey(bytes([1]) * 32)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
out = {}


def party_ledger(seed, party_id):
    """A fresh ledger at `url` with one registered party; and a token signer for it."""
    from ledger.crypto import sha256
    from ledger.multikey import did_key, verification_method_id
    from ledger.statements import sign_statement
    from ledger.token import shipment_digest
    store = SqlStore.open(url)
    ledger = Ledger(store, key, origin="tmec.example/ledger", now=lambda: NOW)
    party = SigningKey(bytes([seed]) * 32)
    kid = verification_method_id(party.public_key)
    ledger.register_key(party, {"id": party_id, "name": "Party", "country": "MX"})
    issuer = did_key(party.public_key)

    def token(n):
        """(blob, signed statement) of synthetic token `n` (real bytes, real digest)."""
        blob = b'{"%s":%d}' % (party_id.encode(), n)
        return (sha256(blob).hex(), blob), sign_statement({"v": 1, "type": "token",
            "time": "2026-11-22T12:00:00Z", "tokenDigest": sha256(blob).hex(),
            "issuer": issuer, "parents": [], "blanket": False,
            "shipment": shipment_digest(f"{party_id}{n}")}, party, kid)
    return store, ledger, token


if action == "generate":
    count = int(sys.argv[4])
    store, ledger, token = party_ledger(7, "p")
    n = 0
    real = None
    while n < count - 3:
        if real is None and n >= count // 2:  # one real token in the middle, for bundles
            from tests.ledger.world import FRENOS, FRENOS_KEY, issue
            ledger.register_key(FRENOS_KEY, FRENOS)
            real = issue(ledger, FRENOS_KEY, FRENOS).digest
        made = [token(i) for i in range(n, min(n + 256, count - 3))]
        store.put_blobs([blob for blob, _ in made])
        ledger.append([statement for _, statement in made])
        n += len(made)
    ledger.publish_checkpoint()
    out["size"] = ledger.store.size()
    out["real"] = real
elif action == "migrate":
    SqlStore.open(url).close()
elif action == "appends":  # a fresh ledger: N token statements in batches of 256
    count = int(sys.argv[4])
    store, ledger, token = party_ledger(9, "q")
    made = [token(i) for i in range(count)]
    blobs = [blob for blob, _ in made]
    statements = [statement for _, statement in made]
    store.put_blobs(blobs)
    start = time.perf_counter()
    for i in range(0, count, 256):
        ledger.append(statements[i:i + 256])
    out["answer_s"] = time.perf_counter() - start
    out["appended"] = count
else:
    store = SqlStore(url)
    ledger = Ledger(store, key, origin="tmec.example/ledger", now=lambda: NOW)
    opened = time.perf_counter()
    middle = sys.argv[4]
    start = time.perf_counter()
    if action == "status":
        ledger.token_status(middle)
    elif action == "proof":
        size = store.size()
        ledger.inclusion_proof(size // 2, size)
    elif action == "bundle":
        if hasattr(ledger, "refresh_status"):  # today: the write first, then the pure read
            ledger.refresh_status(middle)
            start = time.perf_counter()
            ledger.bundle(middle)
        else:
            ledger.bundle(middle)  # before: logs a status and a checkpoint, then reads
    elif action in ("audit", "audit1"):  # audit1: in this process only (its threads)
        report = ledger.audit(processes=1) if action == "audit1" else ledger.audit()
        out["ok"] = report.ok
        out["audited"] = report.size
    out["answer_s"] = time.perf_counter() - start
out["import_s"] = imported - t0
out["total_s"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out))
'''


def child(tree: Path, action: str, url: str, *extra: str) -> dict[str, Any]:
    script = Path(tempfile.gettempdir()) / "tmec_bench_core_child.py"
    script.write_text(CHILD, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), str(tree), action, url, *extra],
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(tree)})
    if result.returncode != 0:
        raise SystemExit(f"{action} in {tree} failed:\n{result.stderr[-3000:]}")
    value: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return value


def cli(tree: Path, home: Path, *args: str) -> dict[str, float]:
    """Wall time and peak RSS of one `tmec` command of `tree` (GNU time)."""
    cmd = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "cli", *args, "--home",
           str(home)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(tree)})
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"tmec {' '.join(args)} in {tree} failed:\n{result.stderr[-2000:]}")
    _elapsed, peak_kb = result.stderr.strip().splitlines()[-1].split()
    return {"wall_s": wall, "peak_mb": int(peak_kb) / 1024}


def workspace(tree: Path, home: Path, database: Path | None) -> None:
    subprocess.run([sys.executable, "-m", "cli", "init", "--home", str(home)], cwd=tree,
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(tree)})
    if database is not None:
        for suffix in ("", "-wal", "-shm"):
            (home / f"ledger.db{suffix}").unlink(missing_ok=True)
        shutil.copyfile(database, home / "ledger.db")


def best(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return min(runs, key=lambda r: r[key])


def compile_tree(tree: Path) -> None:
    """Write the .pyc files of `tree`'s packages, as `pip install` (and `make`) does.

    Without them every command compiles ~80 modules from source first (~150 ms here):
    with ``PYTHONDONTWRITEBYTECODE`` set, as on this machine, Python never caches them.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", "cli", "ledger",
                    "origin_rules"], cwd=tree, check=True, capture_output=True)


def baseline_tree(commit: str) -> Path:
    tree = Path(tempfile.gettempdir()) / f"tmec-baseline-{commit}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT,
                       check=True, capture_output=True)
    return tree


def read_rows(old_tree: Path, new_tree: Path, old_url: str, new_url: str, middle: str,
              engine: str, size: int, repeat: int) -> list[tuple[str, str, str]]:
    """Open + status / proof / bundle, and the audit, old vs new, on one engine."""
    rows = []
    for label, action in (("open + token status", "status"),
                          ("open + inclusion proof", "proof"),
                          ("open + bundle", "bundle")):
        old = best([child(old_tree, action, old_url, middle)
                    for _ in range(min(repeat, 2))], "total_s")
        new = best([child(new_tree, action, new_url, middle) for _ in range(repeat)],
                   "total_s")
        rows.append((f"{label}, {engine}, {size:,} entries",
                     f"{old['total_s'] - old['import_s']:.2f} s open+answer, "
                     f"{old['peak_mb']:.0f} MB",
                     f"{(new['total_s'] - new['import_s']) * 1000:.1f} ms open+answer "
                     f"({new['answer_s'] * 1000:.2f} ms answer), {new['peak_mb']:.0f} MB"))
    old_audit = child(old_tree, "audit", old_url, middle)
    runs = [child(new_tree, "audit", new_url, middle) for _ in range(repeat)]
    assert all(run["ok"] for run in runs), "the upgraded ledger must audit clean"
    rates = sorted(run["audited"] / run["answer_s"] for run in runs)
    new_audit = runs[0]
    rows.append((f"audit, {engine}, {size:,} entries",
                 f"{old_audit['audited'] / old_audit['answer_s']:,.0f} entries/s, "
                 f"{old_audit['peak_mb']:.0f} MB",
                 f"{rates[len(rates) // 2]:,.0f} entries/s median of {len(rates)} "
                 f"({rates[0]:,.0f}-{rates[-1]:,.0f}), one process per core: "
                 f"{new_audit['peak_mb']:.0f} MB here, {new_audit['worker_peak_mb']:.0f} MB "
                 "per worker"))
    one = child(new_tree, "audit1", new_url, middle)
    rows.append((f"audit in one process (`processes=1`), {engine}, {size:,} entries", "",
                 f"{one['audited'] / one['answer_s']:,.0f} entries/s, "
                 f"{one['peak_mb']:.0f} MB"))
    return rows


def append_row(old_tree: Path, new_tree: Path, url_for: Any, engine: str, count: int,
               repeat: int) -> tuple[str, str, str]:
    """Median appends/s of `repeat` fresh ledgers (url_for(name) gives each a database)."""
    medians = {}
    for tree, name in ((old_tree, "old"), (new_tree, "new")):
        runs = [child(tree, "appends", url_for(f"{name}_{n}"), str(count))
                for n in range(repeat)]
        rates = sorted(r["appended"] / r["answer_s"] for r in runs)
        medians[name] = rates[len(rates) // 2]
    return (f"durable appends/s, {engine}, batches of 256, {count:,} statements (median)",
            f"{medians['old']:,.0f}", f"{medians['new']:,.0f} (with derived rows and tiles)")


def postgres_rows(old_tree: Path, new_tree: Path,
                  args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """The same reads, audit and appends on a throwaway PostgreSQL cluster."""
    import sqlalchemy as sa

    sys.path.insert(0, str(ROOT))
    from tests.ledger.conftest import _Cluster, _find_binaries

    bin_dir = _find_binaries()
    if bin_dir is None:
        raise SystemExit("--postgres needs initdb and pg_ctl (Debian: postgresql)")
    cluster = _Cluster(bin_dir)
    admin_url = cluster.start()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def database(name: str, template: str | None = None) -> str:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"'
                                       + (f' TEMPLATE "{template}"' if template else ""))
        return admin_url.set(database=name).render_as_string(hide_password=False)

    rows: list[tuple[str, str, str]] = []
    try:
        old_url = database("core_old")
        started = time.perf_counter()
        made = child(old_tree, "generate", old_url, str(args.entries))
        generated = time.perf_counter() - started
        new_url = database("core_new", template="core_old")
        migrated = child(new_tree, "migrate", new_url)
        rows.append(("PostgreSQL: build (old code) / upgrade (migration 0003)",
                     f"{made['size']:,} entries in {generated:.0f} s",
                     f"{migrated['total_s']:.1f} s, {migrated['peak_mb']:.0f} MB peak"))
        rows += read_rows(old_tree, new_tree, old_url, new_url, str(made["real"]),
                          "PostgreSQL", made["size"], args.repeat)
        rows.append(append_row(old_tree, new_tree, lambda name: database(f"appends_{name}"),
                               "PostgreSQL", args.appends, args.repeat))
    finally:
        admin.dispose()
        cluster.stop()
        cluster.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--baseline", default="7b2a1b8")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throwaway PostgreSQL cluster (initdb/pg_ctl)")
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    old_tree, new_tree = baseline_tree(args.baseline), ROOT
    for tree in (old_tree, new_tree):  # bytecode, as an installed package has it
        compile_tree(tree)
    work = Path(tempfile.mkdtemp(prefix="tmec-core-"))
    rows: list[tuple[str, str, str]] = []
    try:
        old_db = work / "old.db"
        started = time.perf_counter()
        made = child(old_tree, "generate", f"sqlite:///{old_db}", str(args.entries))
        generated = time.perf_counter() - started
        new_db = work / "new.db"
        shutil.copyfile(old_db, new_db)
        migrated = child(new_tree, "migrate", f"sqlite:///{new_db}")
        rows.append(("build the ledger (old code, batches of 256)",
                     f"{made['size']:,} entries in {generated:.0f} s", ""))
        rows.append(("upgrade: migration 0003 derives index and tiles",
                     f"{migrated['total_s']:.1f} s", f"{migrated['peak_mb']:.0f} MB peak"))
        middle = str(made["real"])
        reads = read_rows(old_tree, new_tree, f"sqlite:///{old_db}", f"sqlite:///{new_db}",
                          middle, "SQLite", made["size"], args.repeat)
        rows += reads[:3]
        for tree, db, name in ((old_tree, old_db, "old"), (new_tree, new_db, "new")):
            workspace(tree, work / f"{name}-big", db)
            workspace(tree, work / f"{name}-empty", None)
        timings = {}
        for name, tree in (("old", old_tree), ("new", new_tree)):
            big = [cli(tree, work / f"{name}-big", "keys", "list", "--json")
                   for _ in range(min(args.repeat, 2) if name == "old" else args.repeat)]
            empty = [cli(tree, work / f"{name}-empty", "keys", "list", "--json")
                     for _ in range(args.repeat)]
            timings[name] = (best(big, "wall_s"), best(empty, "wall_s"))
        (ob, oe), (nb, ne) = timings["old"], timings["new"]
        rows.append((f"tmec keys list, {made['size']:,} entries vs empty",
                     f"{ob['wall_s']:.2f} s ({ob['peak_mb']:.0f} MB) vs {oe['wall_s']:.2f} s",
                     f"{nb['wall_s']:.2f} s ({nb['peak_mb']:.0f} MB) vs {ne['wall_s']:.2f} s "
                     f"({nb['wall_s'] / ne['wall_s']:.2f}x)"))
        rows += reads[3:]
        rows.append(append_row(old_tree, new_tree,
                               lambda name: f"sqlite:///{work}/appends-{name}.db", "SQLite",
                               args.appends, args.repeat))
        if args.postgres:
            rows += postgres_rows(old_tree, new_tree, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python bench/bench_service_core.py " + " ".join(sys.argv[1:])
    table = [f"Command: `{command}` on {time.strftime('%Y-%m-%d')}, {machine()}.", "",
             f"| measurement | before ({args.baseline}, replays the log) | after |",
             "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(table)
    print(text)
    if args.write:
        results = ROOT / "bench" / "RESULTS.md"
        results.write_text(results.read_text("utf-8").rstrip() + "\n\n## The ledger as a "
                           "service core (issue 7)\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
