"""`tmec bom schema`: the JSON Schema of the `tmec-bom/1` format, for tools outside tmec.

Prints the schema shipped with the engine (`origin_rules.bom_schema`), byte for byte, so
that a supplier's export or an editor can check documents before they reach `tmec rvc`.
The schema agrees with the reader; what only the reader checks is in its description.
"""

from __future__ import annotations

import sys

import typer

from cli.errors import handle_errors
from origin_rules.bom_schema import bom_schema_text

bom_app = typer.Typer(help="The tmec-bom/1 bill-of-materials format.",
                      no_args_is_help=True, rich_markup_mode=None)


@bom_app.command("schema")
@handle_errors
def bom_schema() -> None:
    """Print the JSON Schema (draft 2020-12) of tmec-bom/1 documents."""
    sys.stdout.write(bom_schema_text())


def register(app: typer.Typer) -> None:
    """Attach `bom` to the main `tmec` app."""
    app.add_typer(bom_app, name="bom")
