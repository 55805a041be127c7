"""Benchmark `tmec portfolio`: 1,000 generated BOMs of 1,000 items under three scenarios.

    .venv/bin/python bench/bench_portfolio.py                   # 1,000 x 1,000, 1 run each
    .venv/bin/python bench/bench_portfolio.py --boms 100 --repeat 3
    .venv/bin/python bench/bench_portfolio.py --write           # also update bench/RESULTS.md

Target (issue 10): the whole folder under the rules in force and three scenarios in under
60 s on the 2-core development machine. Three measurements, each in a fresh process, in
the same run and on the same files:

* **baseline, in-process**: what the command does (`cli.scenario_cli.run_portfolio`:
  read each BOM with the CLI's reader, evaluate it, keep the brief verdict; then the
  terminal table into /dev/null and the CSV) with *no* scenario: every BOM under the rules
  in force only, once. This is the cost a portfolio pays anyway (reading + one
  determination per BOM).
* **three scenarios, in-process**: the same with the three shipped scenarios (four
  determinations per BOM). The difference to the baseline is what the what-if costs.
* **three scenarios, CLI**: ``tmec portfolio DIR --scenario A --scenario B --scenario C
  --csv FILE --jobs 1 > /dev/null`` as a subprocess, wall time with interpreter start-up:
  the figure the target is about; and the same with ``--jobs 2`` (two worker processes
  share the BOMs: what the two cores can give when nothing else runs).

The BOMs come from `bench/generate_bom.py` (seeds 1..N, so every document differs), are
cached in ``bench/out/portfolio-<N>x<items>-v<generator>/`` (git-ignored) and reused
unless ``--regen``. Each generated good is a Table B brake part (70 % NC / 80 % TV in
force) with an RVC of ~73-77 % NC: the RVC scenario moves many of them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
RESULTS = HERE / "RESULTS.md"
SCENARIOS = ("rvc-82", "us-content-50", "steel-melted-poured-now")
TARGET_SECONDS = 60.0
SECTION_START = "<!-- bench_portfolio:start -->"
SECTION_END = "<!-- bench_portfolio:end -->"

sys.path.insert(0, str(HERE))
from bench_engine import machine, revision  # noqa: E402
from generate_bom import GENERATOR_VERSION, write_bom  # noqa: E402


def ensure_boms(count: int, items: int, regen: bool) -> Path:
    """The folder of `count` generated BOMs of `items` items (seeds 1..count)."""
    folder = OUT / f"portfolio-{count}x{items}-v{GENERATOR_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(1, count + 1):
        path = folder / f"bom-{seed:05d}.json"
        if regen or not path.exists():
            write_bom(items, path, seed)
    return folder


def worker(folder: str, scenarios: list[str], csv_path: str, jobs: int = 1
           ) -> dict[str, float]:
    """One in-process run of the command's own code path; times from inside."""
    import gc

    from rich.console import Console

    from cli.render_portfolio import render_portfolio, write_portfolio_csv
    from cli.scenario_cli import bom_sources, run_portfolio
    from origin_rules.scenarios import default_catalogue

    gc.disable()  # as the command does around each document (cli.files.paused_gc)
    started = time.perf_counter()
    default_catalogue()
    sources, ignored = bom_sources(Path(folder))
    loaded = time.perf_counter()
    report = run_portfolio(sources, scenarios, jobs=jobs)
    compared = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        render_portfolio(Console(file=sink, width=160), report, ignored=ignored)
    write_portfolio_csv(report, Path(csv_path))
    done = time.perf_counter()
    lost = sum(t.lost for t in report.totals())
    return {"setup": loaded - started, "compare": compared - loaded,
            "output": done - compared, "total": done - started, "boms": len(report.goods),
            "failed": report.failed, "lost": lost}


def run_worker(python: str, folder: Path, scenarios: list[str]) -> dict[str, float]:
    csv_path = OUT / f"portfolio-bench-{len(scenarios)}.csv"
    proc = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", str(folder),
         "--worker-scenarios", ",".join(scenarios), "--worker-csv", str(csv_path)],
        capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {proc.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_cli(tmec: str, folder: Path, scenarios: list[str], jobs: int) -> dict[str, float]:
    command = [tmec, "portfolio", str(folder), "--csv", str(OUT / "portfolio-bench-cli.csv"),
               "--jobs", str(jobs)]
    for name in scenarios:
        command += ["--scenario", name]
    started = time.perf_counter()
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "160"},
                          check=False)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 10):
        raise SystemExit(f"tmec portfolio failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {"wall": wall, "exit": proc.returncode}


def summarize(runs: dict[str, list[dict[str, float]]], count: int, items: int) -> str:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    base, three = med("baseline", "total"), med("three", "total")
    cli, cli2 = med("cli", "wall"), med("cli2", "wall")
    best = min(cli, cli2)
    lines = [
        f"{count:,} BOMs of {items:,} items (about {int(items * 1.7):,} lines each), "
        f"scenarios {', '.join(SCENARIOS)}; median of {len(runs['cli'])} run(s), each in a "
        "fresh process.", "",
        "| run | what | wall s | per BOM ms | compare s | output s |",
        "|---|---|---:|---:|---:|---:|",
        f"| baseline, in-process | rules in force only (read + 1 determination per BOM), "
        f"table + CSV | {base:.1f} | {base / count * 1000:.1f} | "
        f"{med('baseline', 'compare'):.1f} | {med('baseline', 'output'):.2f} |",
        f"| three scenarios, in-process | read + 4 determinations per BOM, table + CSV | "
        f"{three:.1f} | {three / count * 1000:.1f} | {med('three', 'compare'):.1f} | "
        f"{med('three', 'output'):.2f} |",
        f"| three scenarios, `tmec portfolio --jobs 1` | the same, with interpreter start-up "
        f"| {cli:.1f} | {cli / count * 1000:.1f} | | |",
        f"| three scenarios, `tmec portfolio --jobs 2` | two worker processes | {cli2:.1f} | "
        f"{cli2 / count * 1000:.1f} | | |", "",
        f"The what-if adds {three - base:.1f} s to the baseline's {base:.1f} s "
        f"({(three - base) / max(base, 1e-9):.0%}): three more determinations per BOM, "
        f"the read is paid once. Target: under {TARGET_SECONDS:.0f} s for the CLI: "
        f"{'met' if best < TARGET_SECONDS else 'NOT met'} ({best:.1f} s).",
        "", "1-min load average before / after each run: " + "; ".join(
            f"{name} {r['load'][0]:.2f} / {r['load'][1]:.2f}"
            for name in ("baseline", "three", "cli", "cli2") for r in runs[name]),
        f"Goods that lose their origin under the three scenarios together: "
        f"{int(runs['three'][0]['lost'])} of {count} (generated Table B goods keep it "
        "through the tariff-shift alternative of SOR/2020-155 s.14(14)).",
    ]
    return "\n".join(lines)


def write_results(body: str, command: str) -> None:
    section = "\n".join([
        SECTION_START,
        f"## `tmec portfolio` (issue 10): run of "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}", "",
        f"- Machine: {machine()}",
        f"- Code: commit {revision()}",
        f"- Command: `{command}`", "",
        body, "",
        SECTION_END,
    ])
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if SECTION_START in text and SECTION_END in text:
        head, _, rest = text.partition(SECTION_START)
        _, _, tail = rest.partition(SECTION_END)
        RESULTS.write_text(head + section + tail, encoding="utf-8")
    else:
        RESULTS.write_text(text.rstrip() + "\n\n" + section + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boms", type=int, default=1000, help="BOMs in the folder")
    parser.add_argument("--items", type=int, default=1000, help="items per BOM")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement")
    parser.add_argument("--regen", action="store_true", help="regenerate the BOM files")
    parser.add_argument("--python", default=str(ROOT / ".venv/bin/python"))
    parser.add_argument("--tmec", default=str(ROOT / ".venv/bin/tmec"))
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-scenarios", default="", help=argparse.SUPPRESS)
    parser.add_argument("--worker-csv", default=os.devnull, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        names = [n for n in args.worker_scenarios.split(",") if n]
        print(json.dumps(worker(args.worker, names, args.worker_csv)))
        return 0

    started = time.perf_counter()
    folder = ensure_boms(args.boms, args.items, args.regen)
    print(f"BOMs in {folder} ({time.perf_counter() - started:.1f} s to prepare)")
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "three": [], "cli": [],
                                                "cli2": []}
    for n in range(args.repeat):
        for name in runs:
            before = os.getloadavg()[0]
            if name.startswith("cli"):
                run = run_cli(args.tmec, folder, list(SCENARIOS), 2 if name == "cli2" else 1)
            else:
                run = run_worker(args.python, folder,
                                 list(SCENARIOS) if name == "three" else [])
            run["load"] = [before, os.getloadavg()[0]]  # type: ignore[assignment]
            runs[name].append(run)
            shown = run.get("total", run.get("wall", 0.0))
            print(f"  run {n + 1} {name}: {shown:.1f} s (load {before:.2f})", flush=True)
    body = summarize(runs, args.boms, args.items)
    print(body)
    if args.write:
        command = " ".join(["python", "bench/bench_portfolio.py", *(argv or sys.argv[1:])])
        write_results(body, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
