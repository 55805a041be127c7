"""Benchmark a full origin determination on generated BOMs of 10k, 100k and 1M items.

    .venv/bin/python bench/bench_engine.py                      # 10k, 100k, 1M; 3 runs each
    .venv/bin/python bench/bench_engine.py --sizes 10000,100000 --repeat 5
    .venv/bin/python bench/bench_engine.py --write              # also update bench/RESULTS.md

Two measurements per size, each repeated `--repeat` times in a fresh process:

* **in-process**: a worker process (this file with ``--worker FILE``) runs what ``tmec rvc``
  runs — `parse_bom_json`, `determine_origin`, `to_dict` + `json.dumps` — with the garbage
  collector paused throughout as the command pauses it, and times each stage from inside:
  ``read`` (bytes from disk), ``decode`` (msgspec decoding items and lines into structs),
  ``items`` (building the item master from the structs, `bulk_reader._items`), ``lines``
  (lines, the engine's index and Kahn's order, `bulk_reader._lines`), ``graph``
  (`reader._check_graph`), ``rest`` (the other work of `parse_bom_json`: top-level fields,
  the duplicate-key count), ``determine`` (`determine_origin`) and ``output``. The worker
  fails if the document did not take the fast path. Peak RSS is the worker's
  ``ru_maxrss``; the high-water mark after each stage comes from ``VmHWM``.
* **CLI**: ``tmec rvc FILE --json > /dev/null`` as a subprocess under ``/usr/bin/time -v``
  (wall time and maximum RSS), or, without it, under a small Python wrapper reading
  ``RUSAGE_CHILDREN``. It includes interpreter start-up and imports; a 100-item BOM is
  run the same way to show that fixed cost.

Generated files are cached in bench/out/ (git-ignored), named by size, seed and generator
version, and reused unless ``--regen``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shlex
import shutil
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
STAGES = ("read", "decode", "items", "lines", "graph", "rest", "determine", "output")
PARSE_STAGES = ("decode", "items", "lines", "graph")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
STARTUP_SIZE = 100
TARGET_ITEMS, TARGET_SECONDS, TARGET_BYTES = 1_000_000, 20.0, 4 * 10**9
SECTION_START = "<!-- bench_engine:start -->"
SECTION_END = "<!-- bench_engine:end -->"

sys.path.insert(0, str(HERE))
from generate_bom import DEFAULT_SEED, GENERATOR_VERSION, write_bom  # noqa: E402

# ------------------------------------------------------------------------------- worker


def _hwm_kib() -> int:
    """Peak resident set size so far (VmHWM, KiB); ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class _Timed:
    """Wraps a function or a msgspec decoder of the readers and adds up its time per stage."""

    def __init__(self, target: object, stage: str, spent: dict[str, float]) -> None:
        self.target, self.stage, self.spent = target, stage, spent

    def __call__(self, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return self.target(*args, **kwargs)
        finally:
            self.spent[self.stage] += time.perf_counter() - started

    def decode(self, data: object) -> object:
        started = time.perf_counter()
        try:
            return self.target.decode(data)
        finally:
            self.spent[self.stage] += time.perf_counter() - started


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def worker(path: str) -> dict:
    """One in-process measurement of what `tmec rvc FILE --json` does, stage by stage."""
    clock = time.perf_counter
    started = clock()
    from origin_rules import bulk_reader, determine_origin, reader

    import_seconds = clock() - started
    spent = dict.fromkeys(PARSE_STAGES, 0.0)
    for name in ("_TOP_DECODER", "_ITEMS_DECODER", "_LINES_DECODER"):
        setattr(bulk_reader, name, _Timed(getattr(bulk_reader, name), "decode", spent))
    bulk_reader._items = _Timed(bulk_reader._items, "items", spent)
    bulk_reader._lines = _Timed(bulk_reader._lines, "lines", spent)
    reader._check_graph = _Timed(reader._check_graph, "graph", spent)
    times: dict[str, float] = {}
    hwm: dict[str, int] = {"start": _hwm_kib()}

    def mark(stage: str, since: float) -> float:
        now = clock()
        times[stage] = now - since
        hwm[stage] = _hwm_kib()
        return now

    cpu_at_start = _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF))
    enabled = gc.isenabled()
    gc.disable()  # as `tmec rvc` does for the whole command
    try:
        t = clock()
        data = Path(path).read_bytes()
        t = mark("read", t)
        bom = reader.parse_bom_json(data)
        del data
        parse = clock() - t
        if spent["items"] == 0:
            raise SystemExit(f"{path} did not take the fast path of parse_bom_json")
        for stage in PARSE_STAGES:
            times[stage] = spent[stage]
            hwm[stage] = _hwm_kib()  # the stages share one high-water mark: parse_bom_json's
        times["rest"] = parse - sum(spent.values())
        hwm["rest"] = _hwm_kib()
        t = clock()
        determination = determine_origin(bom)
        t = mark("determine", t)
        output = json.dumps(determination.to_dict(), indent=2, ensure_ascii=False) + "\n"
        mark("output", t)
    finally:
        if enabled:
            gc.enable()
    return {
        "items": len(bom.items), "lines": len(bom.lines), "import": import_seconds,
        "times": times, "hwm_kib": hwm,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "cpu": _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - cpu_at_start,
        "output_bytes": len(output.encode()),
        "originating": determination.originating,
        "rvc": {r.method.value: f"{r.rvc:.4f}" for r in determination.results},
    }


# ------------------------------------------------------------------------------- driver


def bom_path(size: int, seed: int, *, shuffled: bool = False) -> Path:
    suffix = "-shuffled" if shuffled else ""
    return OUT / f"bom-{size}-s{seed}-g{GENERATOR_VERSION}{suffix}.json"


def ensure_bom(size: int, seed: int, regen: bool, *, shuffled: bool = False) -> Path:
    path = bom_path(size, seed, shuffled=shuffled)
    if regen or not path.exists():
        summary = write_bom(size, path, seed, shuffled=shuffled)
        print(f"  generated {path.name}: {summary['items']:,} items, {summary['lines']:,} "
              f"lines, {summary['bytes'] / 2**20:.1f} MiB in {summary['seconds']:.1f} s",
              file=sys.stderr)
    return path


def wait_quiet(threshold: float, timeout: float) -> float:
    """Wait (up to `timeout` s) until the 1-minute load average is below `threshold`."""
    deadline = time.monotonic() + timeout
    while threshold > 0 and os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def run_inprocess(python: str, path: Path) -> dict:
    proc = subprocess.run([python, str(Path(__file__).resolve()), "--worker", str(path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"in-process worker failed on {path}:\n{proc.stderr}")
    return json.loads(proc.stdout)


_TIME_WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
_TIME_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_TIME_CPU = re.compile(r"(?:User|System) time \(seconds\): ([\d.]+)")


def _clock_seconds(text: str) -> float:
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run_cli(tmec: str, path: Path) -> dict:
    """Wall time and peak RSS of `tmec rvc FILE --json > /dev/null`."""
    command = [tmec, "rvc", str(path), "--json"]
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with open(os.devnull, "wb") as devnull:
        if gnu_time:
            started = time.perf_counter()
            proc = subprocess.run([gnu_time, "-v", *command], stdout=devnull,
                                  stderr=subprocess.PIPE, text=True, cwd=ROOT, check=False)
            wall = time.perf_counter() - started
            rss = _TIME_RSS.search(proc.stderr)
            reported = _TIME_WALL.search(proc.stderr)
            if proc.returncode != 0 or rss is None:
                raise SystemExit(f"CLI failed on {path}:\n{proc.stderr[-2000:]}")
            return {"wall": wall, "time_wall": _clock_seconds(reported.group(1))
                    if reported else None, "max_rss_kib": int(rss.group(1)),
                    "cpu": sum(float(x) for x in _TIME_CPU.findall(proc.stderr)),
                    "via": "time -v"}
        wrapper = ("import resource, subprocess, sys, time\n"
                   "t = time.perf_counter()\n"
                   "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
                   "t = time.perf_counter() - t\n"
                   "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                   "print(rc, t, u.ru_maxrss, u.ru_utime + u.ru_stime)\n")
        proc = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True,
                              text=True, cwd=ROOT, check=False)
        rc, wall, rss, cpu = proc.stdout.split()
        if rc != "0":
            raise SystemExit(f"CLI failed on {path}:\n{proc.stderr[-2000:]}")
        return {"wall": float(wall), "time_wall": None, "max_rss_kib": int(rss),
                "cpu": float(cpu), "via": "RUSAGE_CHILDREN"}


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds >= 0.1 else f"{seconds:.3f}"


def _fmt_mib(kib: float) -> str:
    return f"{kib / 1024:,.0f}"


def _label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else (
        f"{size // 1000}k" if size % 1000 == 0 else str(size))


def summarize(results: dict, repeat: int) -> str:
    """Markdown tables: in-process stages, CLI, and per-item linearity."""
    out: list[str] = []
    sizes = sorted(results)
    if any(results[s].get("inproc") for s in sizes):
        out += [f"**In-process** (fresh worker process per run; median of {repeat} runs, "
                "min in brackets; seconds):", "",
                "| items | lines | file MiB | " + " | ".join(STAGES)
                + " | total | CPU s | peak RSS MiB | µs/item |",
                "|---:|---:|---:|" + "---:|" * (len(STAGES) + 4)]
        for size in sizes:
            runs = results[size].get("inproc")
            if not runs:
                continue
            cells = []
            for stage in STAGES:
                values = [r["times"][stage] for r in runs]
                cells.append(f"{_fmt_s(_med(values))} [{_fmt_s(min(values))}]")
            totals = [sum(r["times"].values()) for r in runs]
            rss = _med([r["max_rss_kib"] for r in runs])
            out.append(f"| {size:,} | {runs[0]['lines']:,} | "
                       f"{results[size]['bytes'] / 2**20:.1f} | " + " | ".join(cells)
                       + f" | **{_fmt_s(_med(totals))}** [{_fmt_s(min(totals))}] | "
                       f"{_fmt_s(_med([r['cpu'] for r in runs]))} | "
                       f"{_fmt_mib(rss)} | {_med(totals) / size * 1e6:.1f} |")
        out.append("")
        out += ["Peak RSS (VmHWM, MiB) reached by the end of each stage, median run:", "",
                "| items | start (imports) | " + " | ".join(STAGES) + " |",
                "|---:|---:|" + "---:|" * len(STAGES)]
        for size in sizes:
            runs = results[size].get("inproc")
            if not runs:
                continue
            out.append(f"| {size:,} | {_fmt_mib(_med([r['hwm_kib']['start'] for r in runs]))}"
                       " | " + " | ".join(_fmt_mib(_med([r["hwm_kib"][s] for r in runs]))
                                          for s in STAGES) + " |")
        out.append("")
    if any(results[s].get("cli") for s in sizes):
        via = next(r["via"] for s in sizes for r in results[s].get("cli", []))
        out += [f"**CLI** `tmec rvc FILE --json > /dev/null` (wall time and max RSS via {via}; "
                f"median of {repeat} runs, min in brackets):", "",
                "| items | wall s | CPU s | peak RSS MiB | µs/item | "
                "vs target (1M items: 20 s, 4 GB) |",
                "|---:|---:|---:|---:|---:|:---|"]
        startup_runs = results.get(STARTUP_SIZE, {}).get("cli", [])
        startup = _med([r["wall"] for r in startup_runs]) if startup_runs else 0.0
        base_rss = _med([r["max_rss_kib"] for r in startup_runs]) * 1024 if startup_runs else 0
        for size in sizes:
            runs = results[size].get("cli")
            if not runs:
                continue
            walls = [r["wall"] for r in runs]
            wall, rss = _med(walls), _med([r["max_rss_kib"] for r in runs]) * 1024
            if size == STARTUP_SIZE:
                verdict = "fixed cost: interpreter start-up, imports, rule data"
            elif size == TARGET_ITEMS:
                verdict = (f"time {'met' if wall <= TARGET_SECONDS else 'MISSED'}, memory "
                           f"{'met' if rss <= TARGET_BYTES else 'MISSED'}")
            else:
                scale = TARGET_ITEMS / size
                verdict = (f"linear projection to 1M: {startup + (wall - startup) * scale:.0f} s,"
                           f" {(base_rss + (rss - base_rss) * scale) / 1e9:.1f} GB")
            cpu = _fmt_s(_med([r["cpu"] for r in runs]))
            out.append(f"| {size:,} | **{_fmt_s(wall)}** [{_fmt_s(min(walls))}] | "
                       f"{cpu} | {_fmt_mib(rss / 1024)} | {wall / size * 1e6:.1f} | {verdict} |")
        out.append("")
    out += linearity(results)
    loads = [x for s in sizes for mode in ("inproc", "cli") for r in results[s].get(mode, [])
             for x in r.get("load", [])]
    if loads:
        out += [f"1-minute load average at the start/end of the runs: {min(loads):.2f} to "
                f"{max(loads):.2f} on {os.cpu_count()} CPUs (other work on the machine "
                "inflates wall times; compare the min columns).", ""]
    outcome = [f"{size:,}: {'originating' if r['inproc'][0]['originating'] else 'not originating'}"
               f" (RVC " + ", ".join(f"{m} {v} %" for m, v in r["inproc"][0]["rvc"].items())
               + ")" for size, r in sorted(results.items()) if r.get("inproc")]
    if outcome:
        out += ["Determination (same for every run): " + "; ".join(outcome) + ".", ""]
    return "\n".join(out)


def linearity(results: dict) -> list[str]:
    sizes = [s for s in sorted(results) if s > STARTUP_SIZE]
    if len(sizes) < 2:
        return []
    lines = ["**Linearity** (median time per item, µs; a linear cost keeps each column flat):",
             "", "| items | " + " | ".join(STAGES) + " | in-process total | CLI wall |",
             "|---:|" + "---:|" * (len(STAGES) + 2)]
    startup = _med([r["wall"] for r in results.get(STARTUP_SIZE, {}).get("cli", [])] or [0.0])
    for size in sizes:
        runs = results[size].get("inproc", [])
        cells = [f"{_med([r['times'][s] for r in runs]) / size * 1e6:.2f}" if runs else "-"
                 for s in STAGES]
        total = (f"{_med([sum(r['times'].values()) for r in runs]) / size * 1e6:.2f}"
                 if runs else "-")
        cli = results[size].get("cli", [])
        wall = (f"{(_med([r['wall'] for r in cli]) - startup) / size * 1e6:.2f}"
                if cli else "-")
        lines.append(f"| {size:,} | " + " | ".join(cells) + f" | {total} | {wall} |")
    lines += ["", f"(CLI µs/item here excludes the fixed start-up cost of "
                  f"{_fmt_s(startup)} s measured on a {STARTUP_SIZE}-item BOM.)"
              if startup else "", ""]
    return lines


def interpretation(results: dict) -> str:
    """A few sentences generated from the numbers."""
    sizes = [s for s in sorted(results) if s > STARTUP_SIZE and results[s].get("inproc")]
    if len(sizes) < 2:
        return ""
    small, large = sizes[0], sizes[-1]

    def per_item(size: int, stage: str | None = None) -> float:
        runs = results[size]["inproc"]
        values = [sum(r["times"].values()) if stage is None else r["times"][stage]
                  for r in runs]
        return _med(values) / size

    text = [f"- In-process cost per item goes from {per_item(small) * 1e6:.1f} µs at "
            f"{small:,} items to {per_item(large) * 1e6:.1f} µs at {large:,} "
            f"(x{per_item(large) / per_item(small):.2f}); per stage: " + ", ".join(
                f"{s} x{per_item(large, s) / per_item(small, s):.2f}" for s in STAGES) + "."]
    runs = results[large]["inproc"]
    total = _med([sum(r["times"].values()) for r in runs])
    shares = sorted(((_med([r["times"][s] for r in runs]) / total, s) for s in STAGES),
                    reverse=True)
    text.append(f"- At {large:,} items the time goes to " + ", ".join(
        f"{s} {share * 100:.0f} %" for share, s in shares) + ".")
    cli = results[large].get("cli")
    if cli and large == TARGET_ITEMS:
        wall = _med([r["wall"] for r in cli])
        rss = _med([r["max_rss_kib"] for r in cli]) * 1024
        over = "met" if wall <= TARGET_SECONDS else f"missed, x{wall / TARGET_SECONDS:.1f}"
        text.append(f"- Target for {TARGET_ITEMS:,} items through the CLI: {TARGET_SECONDS:g} s "
                    f"and {TARGET_BYTES / 1e9:g} GB. Measured {wall:.1f} s ({over}) and "
                    f"{rss / 1e9:.2f} GB ({'met' if rss <= TARGET_BYTES else 'missed'}).")
    return "\n".join(text)


def summarize_shuffled(shuffled: dict[int, list[dict]], results: dict) -> str:
    """The CLI on the same documents with items and lines in random order."""
    if not shuffled:
        return ""
    out = ["", "**CLI, items and lines in random order** (`generate_bom.py --shuffled`: the "
           "same documents; no shortcut for the order, and every pass jumps around memory):",
           "", "| items | wall s | CPU s | peak RSS MiB | vs listed assembly first |",
           "|---:|---:|---:|---:|---:|"]
    for size, runs in sorted(shuffled.items()):
        walls = [r["wall"] for r in runs]
        listed = results.get(size, {}).get("cli")
        ratio = (f"x{_med(walls) / _med([r['wall'] for r in listed]):.2f}" if listed
                 else "n/a")
        out.append(f"| {size:,} | **{_fmt_s(_med(walls))}** [{_fmt_s(min(walls))}] | "
                   f"{_fmt_s(_med([r['cpu'] for r in runs]))} | "
                   f"{_fmt_mib(_med([r['max_rss_kib'] for r in runs]))} | {ratio} |")
    return "\n".join(out) + "\n"


def machine() -> str:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = run("nproc").strip() or str(os.cpu_count())
    mem = next((line.split()[1] for line in run("free", "-g").splitlines()
                if line.startswith("Mem:")), "?")
    return (f"{cores} cores ({cpu}), {mem} GB RAM (`free -g`), {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()} "
            f"({platform.python_implementation()})")


def revision() -> str:
    """The commit measured, and whether the engine or CLI differ from it in the work tree."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT,
                                  check=False).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "origin_rules", "cli")
    return f"`{commit}`" + (" with local changes in origin_rules/ or cli/" if dirty else
                            " (origin_rules/ and cli/ as committed)")


def write_results(body: str, command: str) -> None:
    section = "\n".join([
        SECTION_START,
        f"## Run of {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}", "",
        f"- Machine: {machine()}",
        f"- Code: commit {revision()}",
        f"- Command: `{command}`",
        f"- BOMs: `bench/generate_bom.py` generator v{GENERATOR_VERSION}, seed "
        f"{DEFAULT_SEED} (files in bench/out/, git-ignored)", "",
        body, "",
        SECTION_END,
    ])
    if RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8")
        if SECTION_START in text and SECTION_END in text:
            head, _, rest = text.partition(SECTION_START)
            _, _, tail = rest.partition(SECTION_END)
            RESULTS.write_text(head + section + tail, encoding="utf-8")
            return
        RESULTS.write_text(text.rstrip() + "\n\n" + section + "\n", encoding="utf-8")
        return
    RESULTS.write_text("# Benchmark results: full origin determination on large BOMs\n\n"
                       "Generated by `bench/bench_engine.py --write` (see bench/README.md); "
                       "the section between the markers is rewritten by each such run; "
                       "the analysis after it is written by hand and kept.\n\n"
                       + section + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated item counts (default 10000,100000,1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and mode")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--regen", action="store_true", help="regenerate cached BOM files")
    parser.add_argument("--mode", choices=("both", "inproc", "cli"), default="both")
    parser.add_argument("--python", default=str(ROOT / ".venv/bin/python"),
                        help="interpreter for the in-process worker")
    parser.add_argument("--tmec", default=str(ROOT / ".venv/bin/tmec"), help="tmec executable")
    parser.add_argument("--shuffled", default="", metavar="SIZES",
                        help="also run the CLI on these sizes with items and lines in "
                             "random order (e.g. 1000000)")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also dump raw measurements to this file")
    parser.add_argument("--quiet-load", type=float, default=0.0, metavar="LOAD",
                        help="before each run wait until the 1-min load average is below LOAD "
                             "(shared machines; 0 = do not wait)")
    parser.add_argument("--quiet-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="longest wait for --quiet-load (default 300)")
    parser.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    args.shuffled_sizes = [int(s.replace("_", "")) for s in args.shuffled.split(",")
                           if s.strip()]
    results: dict[int, dict] = {}
    plan = ([STARTUP_SIZE] if args.mode != "inproc" else []) + sizes
    for size in plan:
        path = ensure_bom(size, args.seed, args.regen)
        entry = results.setdefault(size, {"bytes": path.stat().st_size})
        for n in range(args.repeat):
            if args.mode in ("both", "inproc") and size != STARTUP_SIZE:
                load = wait_quiet(args.quiet_load, args.quiet_timeout)
                run = run_inprocess(args.python, path)
                run["load"] = [load, os.getloadavg()[0]]
                entry.setdefault("inproc", []).append(run)
                print(f"  {size:>9,} in-process run {n + 1}: "
                      f"{sum(run['times'].values()):.2f} s, "
                      f"{run['max_rss_kib'] / 1024:,.0f} MiB", file=sys.stderr)
            if args.mode in ("both", "cli"):
                load = wait_quiet(args.quiet_load, args.quiet_timeout)
                run = run_cli(args.tmec, path)
                run["load"] = [load, os.getloadavg()[0]]
                entry.setdefault("cli", []).append(run)
                print(f"  {size:>9,} CLI run {n + 1}: {run['wall']:.2f} s, "
                      f"{run['max_rss_kib'] / 1024:,.0f} MiB", file=sys.stderr)
    shuffled: dict[int, list[dict]] = {}
    for size in ([] if args.mode == "inproc" else args.shuffled_sizes):
        path = ensure_bom(size, args.seed, args.regen, shuffled=True)
        for n in range(args.repeat):
            load = wait_quiet(args.quiet_load, args.quiet_timeout)
            run = run_cli(args.tmec, path)
            run["load"] = [load, os.getloadavg()[0]]
            shuffled.setdefault(size, []).append(run)
            print(f"  {size:>9,} CLI run {n + 1}, shuffled: {run['wall']:.2f} s, "
                  f"{run['max_rss_kib'] / 1024:,.0f} MiB", file=sys.stderr)
    body = summarize(results, args.repeat) + summarize_shuffled(shuffled, results)
    notes = interpretation(results)
    if notes:
        body += "\n**Interpretation**\n\n" + notes + "\n"
    print(body)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.write:
        shown = list(argv if argv is not None else sys.argv[1:])
        write_results(body, shlex.join([".venv/bin/python", "bench/bench_engine.py", *shown]))
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
