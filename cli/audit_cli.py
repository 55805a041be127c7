"""`tmec audit export` and `tmec audit verify`: a party's records, checked by anyone offline.

The export is `ledger.audit_export`'s JSON Lines (checkpoints, consistency proofs, the
party's entries with inclusion proofs, its tokens); `verify` needs only the file and a
trust file, and exits 0 when everything checks, 8 naming the first line that does not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import INTEGRITY, handle_errors
from cli.render import console, say
from cli.render import print_json as _print_json
from ledger.audit_export import ExportPeriod, export_lines, verify_export
from ledger.config import Settings
from ledger.errors import InputError, NotFoundError
from ledger.installation import Workspace

audit_app = typer.Typer(help="Compliance exports of a party's records, verifiable offline.",
                        no_args_is_help=True, rich_markup_mode=None)

Home = Annotated[str | None, typer.Option("--home", metavar="DIR", help="Ledger workspace "
                                          "(default $TMEC_HOME or ./var/ledger).")]


def parse_day(text: str | None, option: str) -> date | None:
    """A ``--from`` / ``--to`` day (`InputError` naming the option when it is not one)."""
    if text is None:
        return None
    try:
        if len(text) != 10:  # fromisoformat also reads 20260101 and week dates
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} must be a date, YYYY-MM-DD, not {text[:40]!r}") from None


@audit_app.command("export")
@handle_errors
def audit_export(
    party: Annotated[str, typer.Option(help="The party whose records to export.")],
    out: Annotated[Path, typer.Option(help="The export file to write (JSON Lines).")],
    since: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="Only "
                                              "tokens logged on or after this day (UTC).")
                     ] = None,
    until: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Only "
                                              "tokens logged on or before this day (UTC).")
                     ] = None,
    home: Home = None,
) -> None:
    """Write a party's records with every proof an auditor needs (of a period, if given)."""
    period = ExportPeriod(parse_day(since, "--from"), parse_day(until, "--to"))
    workspace = Workspace(Settings.from_env(home=home))
    ledger = workspace.open_ledger(with_witnesses=False)
    lines = 0
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for line in export_lines(ledger, party, period):
            handle.write(line)
            lines += 1
    partial.replace(out)  # never a half-written export under the final name
    say(console(), f"exported {lines} lines for party {party} to {out}")


@audit_app.command("verify")
@handle_errors
def audit_verify(
    export: Annotated[Path, typer.Argument(metavar="EXPORT")],
    trust: Annotated[Path | None, typer.Option(help="Trust file (default: the workspace's "
                                               "trust.json).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    home: Home = None,
) -> None:
    """Check an export offline: exit 0 when every line checks, 8 naming the first that fails."""
    trust_file = Workspace(Settings.from_env(home=home)).trust(trust)
    if not export.is_file():
        raise NotFoundError(f"no export file {export}")
    with export.open("rb") as handle:
        report = verify_export(handle, trust_file)
    if as_json:
        _print_json(report.to_dict())
    else:
        out = console()
        if report.ok:
            span = ""
            if report.period is not None:
                bounds = report.period.to_dict()
                span = f", period {bounds['from'] or '…'} to {bounds['to'] or '…'}"
            say(out, f"export verified: party {report.party}{span}, log size {report.size}, "
                f"{report.checkpoints} checkpoints, {report.entries} entries, "
                f"{report.tokens} tokens", "bold green")
        else:
            say(out, f"export FAILS at line {report.line}: {report.problem}", "bold red")
    if not report.ok:
        raise typer.Exit(INTEGRITY)


def register(app: typer.Typer) -> None:
    """Attach `audit` to the main `tmec` app."""
    app.add_typer(audit_app, name="audit")
