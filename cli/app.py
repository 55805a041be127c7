"""`tmec`: the command line of the T-MEC origin ledger.

A thin shell: it reads files, calls `origin_rules` (and the ledger), and renders the result
as a Rich report or JSON. Errors become one line on stderr and an exit code
(`cli.errors`); a traceback never reaches the user for bad input.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from typing import Annotated

try:
    import typer
except ModuleNotFoundError as _missing:  # installed without the `cli` extra: say so, briefly
    print(f"error [install.extra_missing]: the tmec command needs the 'cli' extra "
          f"({_missing.name} is not installed): pip install 'tmec-ledger[cli]'",
          file=sys.stderr)
    raise SystemExit(70) from None

from cli import audit_cli, ledger_cli, remote_cli, scenario_cli, service_cli, witness_cli
from cli.bom_cli import register as register_bom_cli  # tmec bom schema
from cli.errors import handle_errors
from cli.files import date_option, paused_gc, read_bom
from cli.render import console, render_candidates, render_determination, say
from cli.render import print_json as _print_json
from origin_rules import EndUse, Method, default_rule_book, determine_origin
from origin_rules.errors import BomError
from origin_rules.values import format_decimal

app = typer.Typer(
    name="tmec",
    help="T-MEC / USMCA / CUSMA origin ledger: qualify BOMs, issue and verify origin tokens.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no "<bool>" on flags, no markup in help texts
)
rules_app = typer.Typer(help="Which rule of origin applies, with thresholds and references.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(rules_app, name="rules")
ledger_cli.register(app)
service_cli.register(app)
audit_cli.register(app)
witness_cli.register(app)
remote_cli.register(app)
register_bom_cli(app)
scenario_cli.register(app, rules_app)  # tmec rules list, tmec portfolio (what-if)


def _version(value: bool) -> None:
    if value:
        # Here, not at the top: importlib.metadata (and the email parser it loads) would
        # add to the start-up of every command for the sake of this flag.
        from importlib import metadata

        try:
            version = metadata.version("tmec-ledger")
        except metadata.PackageNotFoundError:  # run from a checkout without installing
            version = "unknown (not installed)"
        rule_sets = ", ".join(r.rule_set for r in default_rule_book().rule_sets)
        print(f"tmec {version} (rule sets: {rule_sets})")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and the rule sets, then "
                                               "exit.")] = False,
) -> None:
    """T-MEC / USMCA / CUSMA origin ledger: qualify BOMs, issue and verify origin tokens."""
    del version


AsOf = Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD",
                                           help="Date of production or export; selects the "
                                           "thresholds in force (periods start July 1).")]
EndUseOption = Annotated[EndUse | None, typer.Option("--end-use", help="Original-equipment "
                                                     "use of a part.", case_sensitive=False)]


@app.command("rvc")
@handle_errors
def rvc(
    file: Annotated[str, typer.Argument(help="BOM: .json, .xlsx, or a CSV pair "
                                             "(NAME.items.csv / NAME.lines.csv); - for stdin.")],
    as_of: AsOf = None,
    method: Annotated[Method | None, typer.Option("--method", help="Evaluate one RVC method "
                                                  "only.", case_sensitive=False)] = None,
    end_use: EndUseOption = None,
    good: Annotated[str | None, typer.Option("--good", help="Good id (CSV/Excel without a "
                                             "document table).")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217 currency "
                                                 "(CSV/Excel).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the determination as JSON "
                                          "(tmec-bom/1 output).")] = False,
    rules: Annotated[str | None, typer.Option(
        "--rules", metavar="NAME", help="Evaluate under this rule set: a rule set in force "
        "(usmca/2020-07-01) or a hypothetical scenario (tmec rules list); default: the "
        "rules in force on the date.")] = None,
) -> None:
    """Qualify a bill of materials: is the good originating, why, and with how much headroom."""
    as_of_date = date_option(as_of, "--as-of")
    book = None
    if rules is not None:  # checked before the document is read: a typo fails fast
        from origin_rules.scenarios import default_catalogue

        book = default_catalogue().book(rules)
    overrides = {"good": good, "currency": currency}
    is_table = file.lower().endswith((".csv", ".xlsx", ".xlsm"))
    if is_table:
        overrides |= {"as_of": as_of, "method": method.value if method else None,
                      "end_use": end_use.value if end_use else None}
    # A command that holds a whole BOM and exits: the cyclic collector would only walk its
    # millions of objects (no cycles among them) again and again.
    with paused_gc():
        bom = read_bom(file, overrides)
        determination = determine_origin(bom, as_of=as_of_date, method=method,
                                         end_use=end_use, rules=book)
        _SKIP_TEARDOWN["enabled"] = len(bom.items) > LARGE_BOM_ITEMS
        if as_json:
            _print_json(determination.to_dict())
        else:
            render_determination(console(), determination)


@rules_app.command("show")
@handle_errors
def rules_show(
    hs: Annotated[str, typer.Argument(help="HS code, e.g. 8708.30")],
    as_of: AsOf = None,
    end_use: EndUseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show which automotive rule applies to an HS code on a date, with legal references."""
    from origin_rules.product_rule_engine import alternative_summary
    from origin_rules.values import HS_PATTERN

    if HS_PATTERN.match(hs) is None:
        raise BomError(f"{hs[:40]!r} is not an HS code of the form NNNN.NN")
    day = date_option(as_of, "--as-of") or date.today()
    rule_set = default_rule_book().rule_set_on(day)
    selected = rule_set.rule_for(hs, as_of=day, end_use=end_use)
    candidates = [
        (cat, entry.text, cat is selected.category)
        for cat, entry in rule_set.candidates(hs, end_use=end_use)
        if cat.kind == "part" or end_use is None or cat is selected.category
    ]
    if as_json:
        _print_json({
            "hs": hs,
            "as_of": day.isoformat(),
            "end_use": end_use.value if end_use else None,
            "rule_set": rule_set.rule_set,
            "selected": {
                "category": selected.category.id if selected.category else None,
                "title": selected.title,
                "reference": selected.reference,
                "thresholds": [{"method": t.method.value, "min": format_decimal(t.min),
                                "valid_from": t.valid_from.isoformat() if t.valid_from
                                else None} for t in selected.rvc],
                "requirements": list(selected.category.requirements)
                if selected.category else [],
                "notes": list(selected.notes),
                "product_specific_rule": (selected.product_rule.summary()
                                          if selected.product_rule else None),
                "alternatives": [alternative_summary(alt) for alt in selected.alternatives],
            },
            "candidates": [
                {"category": cat.id, "title": cat.title, "listed_as": text,
                 "reference": cat.reference, "selected": chosen,
                 "thresholds": [{"method": t.method.value, "min": format_decimal(t.min),
                                 "valid_from": t.valid_from.isoformat() if t.valid_from
                                 else None} for t in cat.thresholds]}
                for cat, text, chosen in candidates
            ],
        })
        return
    out = console()
    render_candidates(out, rule_set, hs, day.isoformat(), end_use, candidates)
    if selected.rvc:
        say(out, "In force on " + day.isoformat() + ": " + ", ".join(
            f"{t.method.value} {t.min} %" for t in selected.rvc), "bold")
    if selected.alternatives:
        say(out, f"In force on {day.isoformat()}: {selected.title} [{selected.reference}], "
                 "one of:", "bold")
        for alt in selected.alternatives:
            say(out, f"  {alternative_summary(alt)}")
    for note in selected.notes:
        say(out, f"  note: {note}")


#: Set by a command that leaves millions of objects behind (a very large BOM): freeing them
#: one by one at exit takes longer than the answer did, and the process is about to end.
_SKIP_TEARDOWN = {"enabled": False}
LARGE_BOM_ITEMS = 100_000


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as exc:
        if not _SKIP_TEARDOWN["enabled"]:
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
