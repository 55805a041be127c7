"""Reading BOM files for the CLI: JSON, a CSV pair, or an Excel workbook.

The engine takes text or bytes; choosing the reader by file name and finding the sibling
files of a CSV pair is I/O and belongs here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from origin_rules import BillOfMaterials, parse_bom_csv, parse_bom_json, parse_bom_xlsx
from origin_rules.errors import BomError
from origin_rules.values import parse_iso_date

__all__ = ["date_option", "read_bom"]

_CSV_PARTS = (".items.csv", ".lines.csv", ".document.csv")


def date_option(text: str | None, option: str,
                error: Callable[[str], Exception] = BomError) -> date | None:
    """A ``YYYY-MM-DD`` command-line option (None when not given), or `error` naming it."""
    if text is None:
        return None
    value = parse_iso_date(text)
    if value is None:
        raise error(f"option {option} must be a date YYYY-MM-DD, got {text!r}")
    return value


def read_bom(path: str, overrides: Mapping[str, str | None] | None = None) -> BillOfMaterials:
    """Read and validate the BOM at `path` (``-`` reads JSON from standard input).

    A CSV pair may be named by any of its files (``NAME.items.csv``, ``NAME.lines.csv``,
    ``NAME.document.csv``) or by ``NAME.csv``; `overrides` supply top-level fields.
    """
    overrides = dict(overrides or {})
    if path == "-":
        return _with_overrides(parse_bom_json(sys.stdin.buffer.read()), overrides)
    name = path.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return parse_bom_xlsx(Path(path).read_bytes(), overrides=overrides)
    if name.endswith(".csv"):
        stem = path
        for suffix in _CSV_PARTS:
            if name.endswith(suffix):
                stem = path[: -len(suffix)]
                break
        else:
            stem = path[: -len(".csv")]
        items, lines = Path(f"{stem}.items.csv"), Path(f"{stem}.lines.csv")
        document = Path(f"{stem}.document.csv")
        for required in (items, lines):
            if not required.is_file():
                raise BomError(f"a CSV BOM needs {items.name} and {lines.name}; "
                               f"{required} does not exist")
        return parse_bom_csv(
            items.read_text(encoding="utf-8-sig"),
            lines.read_text(encoding="utf-8-sig"),
            document.read_text(encoding="utf-8-sig") if document.is_file() else None,
            overrides=overrides,
            name=Path(stem).name,
        )
    return _with_overrides(parse_bom_json(Path(path).read_bytes()), overrides)


def _with_overrides(bom: BillOfMaterials, overrides: Mapping[str, str | None]) -> (
    BillOfMaterials
):
    """JSON documents carry their own top-level fields; options only fill in as_of etc.

    The determination takes `as_of`, `method` and `end_use` as arguments, so nothing needs
    rewriting here; other overrides make no sense for a complete JSON document.
    """
    unknown = {k for k, v in overrides.items() if v is not None} - {"as_of", "method",
                                                                     "end_use"}
    if unknown:
        raise BomError(f"option(s) {', '.join(sorted(unknown))} apply to CSV and Excel "
                       "BOMs only; a JSON document carries its own top-level fields")
    return bom
