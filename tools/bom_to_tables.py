"""Write a tmec-bom/1 JSON document as the equivalent CSV trio and Excel workbook.

The tables use the flattened column names of spec/bom-format.md (``costs.period``,
``statement.type``, ``rule.rvc.net_cost`` ...), so the output is also a template for
spreadsheet users:

    python tools/bom_to_tables.py examples/brake-caliper-mx.json examples/tables/brake-caliper-mx
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from openpyxl import Workbook


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
        else:
            flat[name] = value
    return flat


def tables(document: dict[str, Any]) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    top = {k: v for k, v in document.items() if k not in ("items", "lines", "format")}
    doc_rows = [{"field": k, "value": v} for k, v in flatten(top).items()]
    items = [flatten(item) for item in document["items"]]
    columns: list[str] = []
    for row in items:
        columns += [c for c in row if c not in columns]
    return {
        "document": (["field", "value"], doc_rows),
        "items": (columns, items),
        "lines": (["parent", "child", "qty"], document["lines"]),
    }


def main() -> int:
    source, stem = Path(sys.argv[1]), Path(sys.argv[2])
    stem.parent.mkdir(parents=True, exist_ok=True)
    document = json.loads(source.read_text(encoding="utf-8"))
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, (columns, rows) in tables(document).items():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        Path(f"{stem}.{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
    workbook.save(f"{stem}.xlsx")
    print(f"wrote {stem}.{{document,items,lines}}.csv and {stem}.xlsx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
