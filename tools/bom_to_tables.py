"""Write a tmec-bom/1 JSON document as the equivalent CSV trio and Excel workbook.

The tables use the flattened column names of docs/bom-format.md (``costs.period``,
``statement.type``, ``rule.rvc.net_cost`` ...), so the output is also a template for
spreadsheet users:

    python tools/bom_to_tables.py examples/brake-caliper-mx.json examples/tables/brake-caliper-mx

Every text goes into the workbook as an explicit string cell, never as something Excel
would evaluate: a description such as ``=HYPERLINK("http://…")`` or ``+1-2`` stays the text
it is (openpyxl, like Excel, takes a text that starts with ``=`` for a formula unless the
cell is typed). Decimal strings stay text too, so no value passes through a binary float.
A CSV file has no cell types; a spreadsheet that opens one may still evaluate such a cell,
which is why the workbook, not the CSV, is the file to hand to spreadsheet users.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if name == "rule.rvc":
            for entry in value:
                flat[f"rule.rvc.{entry['method']}"] = entry["min"]
        elif name == "rule.except":
            flat[name] = ";".join(value)
        elif isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif isinstance(value, list):
            # An extension's array has no table form; it travels as its JSON text.
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


def tables(document: dict[str, Any]) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    top = {k: v for k, v in document.items() if k not in ("items", "lines", "format")}
    doc_rows = [{"field": k, "value": v} for k, v in flatten(top).items()]
    items = [flatten(item) for item in document["items"]]
    columns: list[str] = list(dict.fromkeys(c for row in items for c in row))
    return {
        "document": (["field", "value"], doc_rows),
        "items": (columns, items),
        "lines": (["parent", "child", "qty"], document["lines"]),
    }


def cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell | None:
    """A workbook cell for `value`: text always as a string cell (no formula, no number)."""
    if value is None:
        return None
    written = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        written.data_type = "s"  # an inline string, whatever the text starts with
    return written


def write_tables(document: dict[str, Any], stem: Path) -> None:
    """`stem`.{document,items,lines}.csv and `stem`.xlsx for `document`."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for name, (columns, rows) in tables(document).items():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        Path(f"{stem}.{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")
        sheet = workbook.create_sheet(name)
        sheet.append([cell(sheet, c) for c in columns])
        for row in rows:
            sheet.append([cell(sheet, row.get(c)) for c in columns])
    workbook.save(f"{stem}.xlsx")


def main() -> int:
    source, stem = Path(sys.argv[1]), Path(sys.argv[2])
    write_tables(json.loads(source.read_text(encoding="utf-8")), stem)
    print(f"wrote {stem}.{{document,items,lines}}.csv and {stem}.xlsx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
