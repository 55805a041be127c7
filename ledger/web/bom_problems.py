"""A BOM the reader refused, shown where the problem is: beside the file, at its line.

The readers (`origin_rules.reader`) say what is wrong in words that name the file or sheet,
the row a spreadsheet shows and the field, and locate it for machines in `BomError.path`
(``items[3].unit_value``, ``lines[7].child``, ``as_of``; ``items.<id>`` from the engine; a
`DesignationError` names its item). The upload page puts the message beside the file
field the problem is in (the ``items`` or ``lines`` table of a CSV pair, the ``document``
table for a top-level field, the one file of a JSON or Excel BOM) and shows the named
line as the file has it, its fields listed with the faulty one marked, so the clerk sees
what to correct without opening the file.

Showing the line means reading the rejected upload once more as plain rows (JSON, CSV, or
the workbook's sheet), bounded like the readers: only when the upload was not refused for
its size, and at most `_MAX_FIELDS` fields of `_MAX_VALUE` characters each.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from origin_rules.errors import DesignationError, LimitError, OriginRulesError

__all__ = ["BomProblem", "Location", "bom_problem", "locate"]

_INDEXED = re.compile(r"(items|lines)\[(\d+)\](?:\.(.+))?\Z")
_BY_ID = re.compile(r"items\.([^.]+)(?:\.(.+))?\Z")
_MAX_FIELDS = 40
_MAX_VALUE = 200


@dataclass(frozen=True, slots=True)
class Location:
    """Where in the document a problem is: a table, a line of it and a field."""

    table: str  # items | lines | document
    index: int | None = None  # 0-based position among the table's lines
    item: str | None = None  # an item named by id instead
    field: str | None = None  # dotted, as the columns are named (costs.period)


@dataclass(frozen=True, slots=True)
class BomProblem:
    """What the upload page shows for a refused BOM."""

    upload_field: str  # the file input it belongs beside: bom | items | lines | document
    message: str  # the reader's words (they name file, row and field)
    location: Location | None
    line: tuple[tuple[str, str, bool], ...]  # (field, value, is the faulty one)


def locate(exc: OriginRulesError) -> Location | None:
    """The table, line and field an error of the readers or the engine names."""
    path = getattr(exc, "path", None)
    if isinstance(exc, DesignationError):
        return Location("items", item=exc.item)
    if not isinstance(path, str) or not path:
        return None
    found = _INDEXED.match(path)
    if found:
        return Location(found.group(1), index=int(found.group(2)), field=found.group(3))
    found = _BY_ID.match(path)
    if found:
        return Location("items", item=found.group(1), field=found.group(2))
    if path in ("items", "lines"):
        return Location(path)
    return Location("document", field=path)


def _flat(record: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            fields += _flat(value, f"{name}.")
        elif value is not None:
            fields.append((name, value if isinstance(value, str) else json.dumps(value)))
    return fields


def _json_rows(data: bytes, table: str) -> list[list[tuple[str, str]]]:
    document = json.loads(data)
    rows = document.get(table) if isinstance(document, dict) else None
    if not isinstance(rows, list):
        return []
    return [_flat(row) if isinstance(row, Mapping) else [("", str(row))] for row in rows]


def _blank(cells: list[Any] | tuple[Any, ...]) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in cells)


def _table_rows(rows: list[list[Any]] | list[tuple[Any, ...]]) -> list[list[tuple[str, str]]]:
    """Data rows of a table (header first, blank rows skipped as the readers skip them)."""
    if not rows:
        return []
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    return [[(name, "" if cell is None else str(cell)) for name, cell in zip(header, row,
                                                                             strict=False)]
            for row in rows[1:] if not _blank(row)]


def _csv_rows(data: bytes) -> list[list[tuple[str, str]]]:
    text = data.decode("utf-8-sig")
    dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") \
        else ","
    return _table_rows(list(csv.reader(io.StringIO(text), delimiter=dialect)))


def _sheet_rows(data: bytes, table: str) -> list[list[tuple[str, str]]]:
    from openpyxl import load_workbook  # the excel extra, which the HTTP service installs

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if table not in book.sheetnames:
            return []
        return _table_rows([tuple(row) for row in book[table].iter_rows(values_only=True)])
    finally:
        book.close()


def _rows(files: Mapping[str, tuple[str, bytes]], table: str) -> list[list[tuple[str, str]]]:
    if "bom" in files:
        name, data = files["bom"]
        if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
            return _sheet_rows(data, table)
        return _json_rows(data, table)
    if table in files:
        return _csv_rows(files[table][1])
    return []


def _line(files: Mapping[str, tuple[str, bytes]], where: Location
          ) -> tuple[tuple[str, str, bool], ...]:
    if where.table == "document" or (where.index is None and where.item is None):
        return ()
    try:
        rows = _rows(files, where.table)
    except Exception:  # the reader already said what is wrong; show no line then
        return ()
    row: list[tuple[str, str]] | None = None
    if where.index is not None and 0 <= where.index < len(rows):
        row = rows[where.index]
    elif where.item is not None:
        row = next((r for r in rows if ("id", where.item) in r), None)
    if row is None:
        return ()
    return tuple((name[:_MAX_VALUE], value[:_MAX_VALUE], name == where.field)
                 for name, value in row[:_MAX_FIELDS])


def bom_problem(exc: OriginRulesError, files: Mapping[str, tuple[str, bytes]]) -> BomProblem:
    """What to show, and beside which file field, for a BOM the reader or engine refused.

    `files` are the upload's parts by field, (file name, bytes), as the reader got them.
    """
    where = locate(exc)
    if "bom" in files:
        field = "bom"
    elif where is None:
        field = "items" if "items" in files else "bom"
    else:
        field = where.table
    shown = () if where is None or isinstance(exc, LimitError) else _line(files, where)
    return BomProblem(field, exc.message, where, shown)
