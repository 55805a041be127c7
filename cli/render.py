r"""Rich rendering of determinations, rules and ledger reports for people (JSON is for tools).

Every string that came from a document — item ids and descriptions from a BOM, shipment
ids and party names from a token, messages quoting them — is shown as text: hidden
characters escaped (`cli.terminal.printable`) and never parsed as Rich markup. Consoles
are made by `console()` with markup off, and table cells are `Text` objects built by
`text()`, so ``[red]x[/red]`` in an item id prints as typed and ``ESC[2J`` as ``\x1b[2J``.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.terminal import printable, printable_json
from origin_rules import Determination, RuleSet
from origin_rules.bom import EndUse, Method
from origin_rules.rules import Category
from origin_rules.values import format_money, format_percent

__all__ = ["console", "print_json", "render_candidates", "render_determination", "say",
           "text"]

_METHOD = {Method.NET_COST: "net cost", Method.TRANSACTION_VALUE: "transaction value"}


def console() -> Console:
    """A console for reports: no markup, no highlighting, no emoji codes, lines kept whole."""
    return Console(highlight=False, emoji=False, markup=False, soft_wrap=True)


def text(value: object, style: str = "") -> Text:
    """A table cell or line of text that shows `value` as typed (see the module docstring)."""
    return Text(printable(str(value)), style=style)


def say(out: Console, message: object, style: str = "") -> None:
    """Print one line of text (document values in it shown as text)."""
    out.print(text(message, style))


def print_json(data: Any) -> None:
    """JSON for tools on stdout: indented, UTF-8 kept, hidden characters escaped."""
    sys.stdout.write(printable_json(data) + "\n")


def render_determination(out: Console, d: Determination) -> None:
    """A readable report: verdict, one row per method, tariff shift, requirements, reasons."""
    verdict = (Text(f"ORIGINATING - criterion {d.criterion}", style="bold green")
               if d.originating else Text("NOT ORIGINATING", style="bold red"))
    if d.scenario is not None:  # a what-if: said on the verdict itself, not only below
        verdict = Text.assemble(verdict, text(f"  (HYPOTHETICAL: scenario {d.scenario.name}, "
                                              "not the rules in force)", "bold yellow"))
    # Line breaks are ours, between cells of document text (which `text` escapes).
    newline = Text("\n")
    header = Text.assemble(
        text(d.good, "bold"), text(f"  {d.description}  HS {d.hs}"), newline,
        text(f"as of {d.as_of.isoformat()}  currency {d.currency}  rule set {d.rule_set}"),
        newline, text(f"rule: {d.rule.title}"), newline, text(d.rule.reference, "dim"),
    )
    title = ("WHAT-IF (hypothetical rule set) - not an origin determination"
             if d.scenario is not None else "T-MEC / USMCA origin determination")
    out.print(Panel(Group(header, verdict), title=title, expand=False))
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
        out.print(table)
        for r in d.results:
            if r.contributors:
                top = Table(title=f"Largest non-originating materials ({_METHOD[r.method]})",
                            title_justify="left")
                for column in ("item", "HS", "VNM", "share %"):
                    top.add_column(column)
                for c in r.contributors:
                    top.add_row(text(c.item), text(c.hs), format_money(c.vnm),
                                format_percent(c.share))
                out.print(top)
                break
    if d.us_content is not None:
        _render_us_content(out, d)
    if d.requirements:
        req = Table(title="Vehicle requirements", title_justify="left")
        for column in ("requirement", "status", "detail"):
            req.add_column(column)
        for requirement in d.requirements:
            status = {True: Text("met", style="green"), False: Text("not met", style="red"),
                      None: Text("not evaluated", style="yellow")}[requirement.passed]
            req.add_row(text(requirement.name.replace("_", " ")), status,
                        text(requirement.detail))
        out.print(req)
    out.print(Text("Why", style="bold"))
    for line in d.explanation:
        say(out, f"  - {line}")


def _render_us_content(out: Console, d: Determination) -> None:
    """US and non-US content per unit and as shares, with what the figure is not."""
    us = d.us_content
    assert us is not None
    share = us.share
    table = Table(title="US content (a sourcing figure, not an origin rule)",
                  title_justify="left")
    for column, justify in (("", "left"), (f"per unit ({d.currency})", "right"),
                            ("share of total cost %", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    non_us_share = us.non_us_share
    table.add_row("US content", format_money(us.us),
                  "-" if share is None else format_percent(share))
    table.add_row("non-US content", format_money(us.non_us),
                  "-" if non_us_share is None else format_percent(non_us_share))
    table.add_row("total cost", format_money(us.base), "")
    out.print(table)
    if us.materials_without_country:
        say(out, f"  {us.materials_without_country} material(s) without a country, counted "
                 "as non-US content", "dim")
    say(out, f"  {us.statement} [{us.reference}]", "dim")


def render_candidates(out: Console, rule_set: RuleSet, hs: str, as_of_text: str,
                      end_use: EndUse | None,
                      candidates: list[tuple[Category, str, bool]]) -> None:
    """`tmec rules show`: every category that covers the HS code, the selected one first."""
    say(out, f"Rules for HS {hs} on {as_of_text}"
             + (f" for end use {end_use.value}" if end_use else "")
             + f" - rule set {rule_set.rule_set}", "bold")
    for cat, entry_text, selected in candidates:
        table = Table(title=text(("(selected) " if selected else "") + cat.title,
                                 "bold" if selected else ""),
                      title_justify="left", show_lines=False)
        table.add_column("method")
        table.add_column("minimum %", justify="right")
        table.add_column("in force from")
        for t in sorted(cat.thresholds, key=lambda t: (t.method.value, t.valid_from or 0)):
            table.add_row(_METHOD[t.method], str(t.min),
                          t.valid_from.isoformat() if t.valid_from else "always")
        out.print(table)
        say(out, f"  listed as: {entry_text}")
        say(out, f"  reference: {cat.reference}")
        if cat.requirements:
            say(out, f"  also requires: {', '.join(cat.requirements)}")
        if cat.note:
            say(out, f"  note: {cat.note}")
