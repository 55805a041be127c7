"""What-if commands: `tmec rules list` and `tmec portfolio DIR`.

`rules list` shows every rule set a command can be asked to use: the rule sets in force
and the hypothetical scenarios (`origin_rules.scenarios`), each with its effective date,
status and sources. `portfolio` reads every BOM of a folder (JSON, CSV pair, Excel: the
same readers as `tmec rvc`), evaluates each under the rules in force and under each
scenario (`origin_rules.portfolio`), and prints what changes, as a table and as CSV.

Exit codes of `portfolio` (README, "Exit codes"): 0 when every BOM was read and evaluated
under every rule set; `SOME_FAILED` (10) when the report is complete but some BOM could
not be read or evaluated (each is a row with its error); 6 when the folder does not
exist or holds no BOM; 3 for a path that is not a folder or an unknown scenario.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.errors import fail, handle_errors
from cli.files import date_option, paused_gc, read_bom
from cli.render import console, print_json
from cli.render_portfolio import render_portfolio, render_rule_sets, write_portfolio_csv
from origin_rules.errors import OriginRulesError
from origin_rules.portfolio import GoodResult, Portfolio, compare, portfolio, unreadable
from origin_rules.scenarios import default_catalogue

__all__ = ["SOME_FAILED", "bom_sources", "register", "run_portfolio"]

#: `tmec portfolio`: the report is complete, but some BOM could not be read or evaluated
SOME_FAILED = 10

_CSV_PARTS = (".items.csv", ".lines.csv", ".document.csv")
_TABLE_SUFFIXES = (".xlsx", ".xlsm")


def bom_sources(folder: Path) -> tuple[list[tuple[str, Path | None, str | None]], int]:
    """The BOMs of `folder` (not its subfolders), in name order, and how many other files
    were left aside.

    Each entry is ``(label, path, problem)``: a ``.json`` file, an Excel workbook, or a
    CSV pair named by its stem (``NAME.items.csv`` with ``NAME.lines.csv`` and, if there,
    ``NAME.document.csv``; the reader names a missing half). A ``.csv`` that is no part
    of a pair is an entry with its problem. Hidden files and Excel's ``~$`` lock files
    are skipped.
    """
    entries: list[tuple[str, Path | None, str | None]] = []
    pairs: dict[str, Path] = {}
    ignored = 0
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name
        lower = name.lower()
        if name.startswith((".", "~$")) or not path.is_file():
            ignored += not name.startswith(".")
            continue
        if lower.endswith(".json") or lower.endswith(_TABLE_SUFFIXES):
            entries.append((name, path, None))
        elif lower.endswith(".csv"):
            part = next((s for s in _CSV_PARTS if lower.endswith(s)), None)
            if part is None:
                entries.append((name, None, "a CSV BOM is a pair NAME.items.csv and "
                                            "NAME.lines.csv (and NAME.document.csv)"))
                continue
            stem = name[: -len(part)]
            # name the pair by its items table, which the reader looks for first
            pairs.setdefault(stem, folder / f"{stem}.items.csv")
        else:
            ignored += 1
    entries.extend((f"{stem}.items.csv", path, None) for stem, path in pairs.items())
    entries.sort(key=lambda entry: entry[0])
    return entries, ignored


def run_portfolio(sources: Sequence[tuple[str, Path | None, str | None]],
                  scenarios: Sequence[str], *, as_of: date | None = None, jobs: int = 1
                  ) -> Portfolio:
    """Read and compare every BOM of `sources` (from `bom_sources`) under the rules in force
    and each named scenario; what `tmec portfolio` does between listing and printing.

    One document at a time per process: read, compare, let it go, so a folder of large
    BOMs never sits in memory at once. With `jobs` > 1 the documents are shared among that
    many worker processes (the results keep the folder's order); each returns only the
    brief `GoodResult`. A document that cannot be read is a row with its error.
    """
    names = tuple(scenarios)
    default_catalogue().book(None)  # loaded before any worker starts (inherited by fork)
    if jobs <= 1 or len(sources) < 2:
        results = [_compare_one(source, names, as_of) for source in sources]
    else:
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(sources)),
                                 mp_context=context) as pool:
            results = list(pool.map(_compare_one, sources, repeat(names), repeat(as_of),
                                    chunksize=max(1, min(16, len(sources) // (jobs * 8)))))
    return portfolio(results, names)


def _cpus() -> int:
    """The CPUs this process may run on (a container may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _compare_one(source: tuple[str, Path | None, str | None], scenarios: tuple[str, ...],
                 as_of: date | None) -> GoodResult:
    """One document of the portfolio (also run in a worker process: module level, and the
    rule books looked up by name in the process's own catalogue).
    """
    label, path, problem = source
    if path is None:
        return unreadable(label, f"rules.bom_invalid: {problem}")
    catalogue = default_catalogue()
    with paused_gc():
        try:
            bom = read_bom(str(path))
        except OriginRulesError as exc:
            return unreadable(label, f"{exc.code}: {exc}")
        except OSError as exc:
            return unreadable(label, f"io.unreadable: {exc.strerror or exc}")
        except UnicodeDecodeError as exc:
            return unreadable(label, f"io.not_text: not UTF-8 ({exc.reason})")
        return compare(bom, label, in_force=catalogue.in_force,
                       scenarios=[(name, catalogue.book(name)) for name in scenarios],
                       as_of=as_of)


def register(app: typer.Typer, rules_app: typer.Typer) -> None:
    """Add `tmec rules list` and `tmec portfolio`."""
    rules_app.command("list")(handle_errors(rules_list))
    app.command("portfolio")(handle_errors(portfolio_command))


def rules_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the rule sets: in force (with its start) and hypothetical scenarios (what-ifs)."""
    catalogue = default_catalogue()
    rows: list[dict[str, Any]] = []
    for rule_set in catalogue.in_force.rule_sets:
        rows.append({"name": rule_set.rule_set, "rule_set": rule_set.rule_set,
                     "status": "in_force", "effective_from": rule_set.valid_from.isoformat(),
                     "title": rule_set.title, "reference": rule_set.reference,
                     "data_file": rule_set.source, "sources": list(rule_set.sources)})
    for scenario in catalogue.scenarios:
        base = catalogue.book(scenario.based_on).rule_sets[0]
        rows.append({**scenario.summary(), "effective_from": None,
                     "effective": f"what-if: as if in force on the date evaluated (any date "
                                  f"from {base.valid_from.isoformat()}, the start of "
                                  f"{scenario.based_on})",
                     "data_file": scenario.source})
    if as_json:
        print_json({"rule_sets": rows})
        return
    render_rule_sets(console(), rows)


def portfolio_command(
    folder: Annotated[Path, typer.Argument(help="Folder of BOMs: .json, .xlsx, CSV pairs "
                                                "(NAME.items.csv + NAME.lines.csv).")],
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", metavar="NAME", help="A scenario to compare with the rules in force "
        "(repeat for several; default: every scenario of tmec rules list).")] = None,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", metavar="FILE", help="Also write every row and the totals as CSV to FILE "
        "(- for standard output instead of the table).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD", help="Evaluate every BOM on this date instead of "
        "its own as_of.")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=0, help="Worker processes sharing the BOMs (0: one per CPU; "
        "default 1).")] = 1,
) -> None:
    """What if the rules change? Every BOM of a folder under the rules in force and under
    each scenario: the verdicts that change and the headroom lost or gained.
    """
    day = date_option(as_of, "--as-of")
    catalogue = default_catalogue()
    chosen = ([catalogue.scenario(name) for name in dict.fromkeys(scenario)]
              if scenario else list(catalogue.scenarios))
    if not folder.exists():
        raise FileNotFoundError(2, "No such file or directory", str(folder))
    if not folder.is_dir():
        raise fail("io.not_a_directory", f"{folder} is not a folder: give the folder that "
                                         "holds the BOMs")
    sources, ignored = bom_sources(folder)
    if not sources:
        raise fail("io.not_found", f"no BOM (.json, .xlsx, or a CSV pair) in {folder}")
    # Documents are read and compared one at a time, each freed by reference counting
    # (no cycles among their objects): the cyclic collector would only walk them again.
    with paused_gc():
        report = run_portfolio(sources, [s.name for s in chosen], as_of=day,
                               jobs=jobs or _cpus())
    if csv_file is not None:
        write_portfolio_csv(report, csv_file)
    if csv_file is None or str(csv_file) != "-":
        render_portfolio(console(), report, ignored=ignored)
    if report.failed:
        raise typer.Exit(SOME_FAILED)
