"""Rich rendering of determinations and rules for people (the JSON output is for tools)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from origin_rules import Determination, RuleSet
from origin_rules.bom import EndUse, Method
from origin_rules.rules import Category
from origin_rules.values import format_money, format_percent

__all__ = ["print_json", "render_candidates", "render_determination"]

_METHOD = {Method.NET_COST: "net cost", Method.TRANSACTION_VALUE: "transaction value"}


def print_json(data: Any) -> None:
    """JSON for tools on stdout: indented, UTF-8 kept as is."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def render_determination(console: Console, d: Determination) -> None:
    """A readable report: verdict, one row per method, tariff shift, requirements, reasons."""
    verdict = (Text(f"ORIGINATING - criterion {d.criterion}", style="bold green")
               if d.originating else Text("NOT ORIGINATING", style="bold red"))
    header = Text.assemble(  # Text, not markup: references contain [brackets]
        (f"{d.good}", "bold"), f"  {d.description}  HS {d.hs}\n",
        f"as of {d.as_of.isoformat()}  currency {d.currency}  rule set {d.rule_set}\n",
        f"rule: {d.rule.title}\n", (f"{d.rule.reference}", "dim"),
    )
    console.print(Panel(Group(header, verdict), title="T-MEC / USMCA origin determination",
                        expand=False))
    if d.results:
        table = Table(title="Regional value content (Art. 4.5)", title_justify="left")
        for column, justify in (("method", "left"), ("base", "right"), ("VNM", "right"),
                                ("RVC %", "right"), ("threshold %", "right"),
                                ("result", "left"), ("margin pts", "right"),
                                ("headroom", "right")):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for r in d.results:
            table.add_row(
                _METHOD[r.method], format_money(r.base), format_money(r.vnm),
                format_percent(r.rvc), str(r.threshold),
                Text("pass", style="green") if r.passed else Text("fail", style="red"),
                format_percent(r.margin), format_money(r.headroom),
            )
        console.print(table)
        for r in d.results:
            if r.contributors:
                top = Table(title=f"Largest non-originating materials ({_METHOD[r.method]})",
                            title_justify="left")
                for column in ("item", "HS", "VNM", "share %"):
                    top.add_column(column)
                for c in r.contributors:
                    top.add_row(c.item, c.hs, format_money(c.vnm), format_percent(c.share))
                console.print(top)
                break
    if d.requirements:
        req = Table(title="Vehicle requirements", title_justify="left")
        for column in ("requirement", "status", "detail"):
            req.add_column(column)
        for requirement in d.requirements:
            status = {True: Text("met", style="green"), False: Text("not met", style="red"),
                      None: Text("not evaluated", style="yellow")}[requirement.passed]
            req.add_row(requirement.name.replace("_", " "), status, requirement.detail)
        console.print(req)
    console.print(Text("Why", style="bold"))
    for line in d.explanation:
        console.print(f"  - {line}", highlight=False, markup=False)


def render_candidates(console: Console, rule_set: RuleSet, hs: str, as_of_text: str,
                      end_use: EndUse | None,
                      candidates: list[tuple[Category, str, bool]]) -> None:
    """`tmec rules show`: every category that covers the HS code, the selected one first."""
    console.print(f"Rules for HS {hs} on {as_of_text}"
                  + (f" for end use {end_use.value}" if end_use else "")
                  + f" - rule set {rule_set.rule_set}", style="bold", highlight=False,
                  markup=False)
    for cat, entry_text, selected in candidates:
        table = Table(title=Text(("(selected) " if selected else "") + cat.title,
                                 style="bold" if selected else ""),
                      title_justify="left", show_lines=False)
        table.add_column("method")
        table.add_column("minimum %", justify="right")
        table.add_column("in force from")
        for t in sorted(cat.thresholds, key=lambda t: (t.method.value, t.valid_from or 0)):
            table.add_row(_METHOD[t.method], str(t.min),
                          t.valid_from.isoformat() if t.valid_from else "always")
        console.print(table)
        console.print(f"  listed as: {entry_text}", highlight=False, markup=False)
        console.print(f"  reference: {cat.reference}", highlight=False, markup=False)
        if cat.requirements:
            console.print(f"  also requires: {', '.join(cat.requirements)}", highlight=False,
                          markup=False)
        if cat.note:
            console.print(f"  note: {cat.note}", highlight=False, markup=False)
