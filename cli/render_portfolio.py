"""Rendering of the what-if commands: the rule sets list, the portfolio table and its CSV.

Text that came from a document or a file name (item ids, file names, error messages
quoting them) is shown as text in the terminal (`cli.render.text`) and, in the CSV, kept
from being run by a spreadsheet: a cell starting with ``=``, ``+``, ``-``, ``@`` or a
control character is prefixed with ``'`` (OWASP "CSV Injection"). Amounts and
percentages are our own Decimal strings and are written as they are, signs included.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.render import say, text
from origin_rules.portfolio import Change, Comparison, Portfolio, Verdict
from origin_rules.values import format_money

__all__ = ["CSV_COLUMNS", "render_portfolio", "render_rule_sets", "write_portfolio_csv"]

#: The CSV's columns: one ``good`` row per document and scenario (one ``error`` row for a
#: document that could not be read), then one ``total`` row per scenario and currency.
CSV_COLUMNS = (
    "row", "file", "good", "hs", "currency", "scenario", "in_force_rule_set",
    "originating_in_force", "criterion_in_force", "originating_scenario",
    "criterion_scenario", "change", "method_in_force", "headroom_in_force",
    "method_scenario", "headroom_scenario", "headroom_change", "goods", "lost", "gained",
    "unchanged", "errors", "error",
)

_CHANGE_STYLE = {Change.LOST: "bold red", Change.GAINED: "bold green",
                 Change.UNCHANGED: "", Change.ERROR: "yellow"}


def render_rule_sets(out: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """`tmec rules list`: one row per rule set, then each scenario's changes and sources."""
    table = Table(title="Rule sets (tmec rvc --rules NAME, tmec portfolio --scenario NAME)",
                  title_justify="left")
    for column in ("name", "status", "effective", "title"):
        table.add_column(column, no_wrap=column == "name")
    for row in rows:
        hypothetical = row["status"] != "in_force"
        table.add_row(text(row["name"], "bold"),
                      Text("HYPOTHETICAL", style="bold yellow") if hypothetical
                      else Text("in force", style="green"),
                      text(f"from {row['effective_from']}" if not hypothetical
                           else "what-if, any date"),
                      text(row["title"]))
    out.print(table)
    for row in rows:
        say(out, f"{row['name']} ({row['data_file']})", "bold")
        if row["status"] == "in_force":
            say(out, f"  reference: {row['reference']}")
            for source in row["sources"]:
                say(out, f"  source: {source}", "dim")
            continue
        say(out, f"  based on {row['based_on']}; {row['effective']}")
        say(out, f"  reference: {row['reference']}")
        for change in row["changes"]:
            say(out, f"  change: {change}")
        say(out, f"  hypothetical: {row['hypothetical']}", "dim")
        for source in row["sources"]:
            where = f" <{source['url']}>" if source["url"] else ""
            when = f", {source['published']}" if source["published"] else ""
            say(out, f"  source: {source['title']}{when}{where}: {source['says']}", "dim")


def _verdict(verdict: Verdict) -> Text:
    if verdict.error is not None:
        return Text("error", style="yellow")
    if verdict.originating:
        return Text(f"originating {verdict.criterion}", style="green")
    return Text("not originating", style="red")


def _money(value: Decimal | None) -> str:
    return "-" if value is None else format_money(value)


def render_portfolio(out: Console, report: Portfolio, *, ignored: int = 0) -> None:
    """The goods whose verdict or headroom moves (each scenario a row), the totals per
    scenario and currency, then every error in full.
    """
    table = Table(title="What if the rules change? Goods whose verdict or headroom moves "
                        "(headroom per unit: the method most in the producer's favour)",
                  title_justify="left")
    for column, justify in (("BOM", "left"), ("good", "left"), ("scenario", "left"),
                            ("in force", "left"), ("under scenario", "left"),
                            ("change", "left"), ("headroom in force", "right"),
                            ("under scenario", "right"), ("change/unit", "right"),
                            ("cur", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    quiet = 0
    for good in report.goods:
        if good.error is not None:
            table.add_row(text(good.source), "-", "-", Text("not read", style="yellow"), "",
                          Text("error", style="yellow"), "", "", "", "")
            continue
        for c in good.comparisons:
            delta = c.headroom_change
            if c.change is Change.UNCHANGED and c.in_force.headroom == c.under.headroom:
                quiet += 1
                continue
            table.add_row(text(good.source), text(good.good or ""), text(c.scenario),
                          _verdict(c.in_force), _verdict(c.under),
                          Text(c.change.value, style=_CHANGE_STYLE[c.change]),
                          _money(c.in_force.headroom), _money(c.under.headroom),
                          _money(delta), text(good.currency or ""))
    out.print(table)
    say(out, "headroom '-': no RVC result (the good qualifies by a tariff shift or the RVC "
             "de minimis, or was not evaluated)", "dim")
    if quiet:
        say(out, f"{quiet} good-scenario pair(s) with the same verdict and headroom are not "
                 "listed (the CSV has every row)", "dim")
    totals = Table(title="Totals per scenario and currency (headroom summed per unit of "
                         "each good, over the goods with an RVC result under both)",
                   title_justify="left")
    for column in ("scenario", "cur", "goods", "lost", "gained", "unchanged", "errors",
                   "headroom in force", "under scenario", "change"):
        totals.add_column(column, justify="left" if column in ("scenario", "cur")
                          else "right")
    for total in report.totals():
        totals.add_row(text(total.scenario), text(total.currency), str(total.goods),
                       Text(str(total.lost), style="bold red" if total.lost else ""),
                       Text(str(total.gained), style="bold green" if total.gained else ""),
                       str(total.unchanged), str(total.errors),
                       format_money(total.headroom_in_force),
                       format_money(total.headroom_under), format_money(total.headroom_change))
    out.print(totals)
    say(out, f"{len(report.goods)} BOM(s) compared under the rules in force and "
             f"{len(report.scenarios)} hypothetical scenario(s): "
             f"{', '.join(report.scenarios) or 'none'}; what-ifs, not determinations of origin"
             + (f"; {ignored} other file(s) in the folder ignored" if ignored else ""))
    for good in report.goods:
        for problem in _errors(good.error, good.in_force, good.comparisons):
            say(out, f"error in {good.source}: {problem}", "yellow")
    if report.failed:
        say(out, f"{report.failed} BOM(s) could not be read or evaluated (exit code 10)",
            "bold yellow")


def _errors(read: str | None, in_force: Verdict | None,
            comparisons: Sequence[Comparison]) -> list[str]:
    found = [read] if read else []
    if in_force is not None and in_force.error:
        found.append(f"rules in force: {in_force.error}")
    found.extend(f"scenario {c.scenario}: {c.under.error}" for c in comparisons
                 if c.under.error and not (in_force and in_force.error == c.under.error))
    return found


def _cell(value: str) -> str:
    """A document's text as a CSV cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def _dec(value: Decimal | None) -> str:
    return "" if value is None else format_money(value)


def csv_rows(report: Portfolio) -> list[list[str]]:
    """Every row of the CSV, header first."""
    rows = [list(CSV_COLUMNS)]
    blank = dict.fromkeys(CSV_COLUMNS, "")
    for good in report.goods:
        if good.error is not None:
            rows.append(list({**blank, "row": "error", "file": _cell(good.source),
                              "error": _cell(good.error)}.values()))
            continue
        for c in good.comparisons:
            base, under = c.in_force, c.under
            rows.append(list({
                **blank, "row": "good", "file": _cell(good.source),
                "good": _cell(good.good or ""), "hs": _cell(good.hs or ""),
                "currency": _cell(good.currency or ""), "scenario": c.scenario,
                "in_force_rule_set": base.rule_set or "",
                "originating_in_force": _flag(base.originating),
                "criterion_in_force": base.criterion or "",
                "originating_scenario": _flag(under.originating),
                "criterion_scenario": under.criterion or "", "change": c.change.value,
                "method_in_force": base.method.value if base.method else "",
                "headroom_in_force": _dec(base.headroom),
                "method_scenario": under.method.value if under.method else "",
                "headroom_scenario": _dec(under.headroom),
                "headroom_change": _dec(c.headroom_change),
                "error": _cell("; ".join(_errors(None, base, (c,)))),
            }.values()))
    for total in report.totals():
        rows.append(list({
            **blank, "row": "total", "currency": _cell(total.currency),
            "scenario": total.scenario, "headroom_in_force": _dec(total.headroom_in_force),
            "headroom_scenario": _dec(total.headroom_under),
            "headroom_change": _dec(total.headroom_change), "goods": str(total.goods),
            "lost": str(total.lost), "gained": str(total.gained),
            "unchanged": str(total.unchanged), "errors": str(total.errors),
        }.values()))
    return rows


def write_portfolio_csv(report: Portfolio, target: Path) -> None:
    """The CSV to `target` (``-``: standard output), UTF-8 with a byte-order mark for a file
    so that spreadsheets read accents right.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv_rows(report))
    if str(target) == "-":
        sys.stdout.write(buffer.getvalue())
        return
    target.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
