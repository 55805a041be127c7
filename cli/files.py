"""Reading BOM files for the CLI: JSON, a CSV pair, or an Excel workbook.

The engine takes text or bytes; choosing the reader by file name, finding the sibling
files of a CSV pair and reading at most a bounded number of bytes is I/O and belongs here.
The bounds are `origin_rules.limits.ReadLimits`, taken from ``TMEC_MAX_*`` environment
variables (`limits_from_env`); a read never takes more than the limit plus one byte, so
``tmec rvc /dev/zero`` stops at the limit instead of filling the memory.
"""

from __future__ import annotations

import errno
import gc
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

from ledger.bounded import read_capped
from origin_rules import BillOfMaterials, parse_bom_csv, parse_bom_json, parse_bom_xlsx
from origin_rules.errors import BomError, LimitError
from origin_rules.limits import DEFAULT_LIMITS, ReadLimits
from origin_rules.values import parse_iso_date

__all__ = ["ENV_PREFIX", "date_option", "limits_from_env", "paused_gc", "read_bom",
           "read_capped"]

_CSV_PARTS = (".items.csv", ".lines.csv", ".document.csv")

#: Environment variables that set `ReadLimits`: ``TMEC_`` + the field name in upper case
#: (``TMEC_MAX_ROWS``, ``TMEC_MAX_DOCUMENT_BYTES``...).
ENV_PREFIX = "TMEC_"

#: Bytes asked of the operating system at a time when the size is not known in advance
#: (a pipe, standard input, a device): small enough that a read past the limit costs little.

_POSITIVE_INTEGER = re.compile(r"[0-9]{1,19}\Z")


def date_option(text: str | None, option: str,
                error: Callable[[str], Exception] = BomError) -> date | None:
    """A ``YYYY-MM-DD`` command-line option (None when not given), or `error` naming it."""
    if text is None:
        return None
    value = parse_iso_date(text)
    if value is None:
        raise error(f"option {option} must be a date YYYY-MM-DD, got {text!r}")
    return value


def limits_from_env(env: Mapping[str, str] | None = None) -> ReadLimits:
    """`DEFAULT_LIMITS` with the ``TMEC_MAX_*`` variables of `env` (`os.environ` if None).

    Each variable is a positive integer in plain digits (``TMEC_MAX_ROWS=100000``); an
    empty variable counts as unset. Anything else is a `BomError` naming the variable, so
    that the CLI prints one line instead of starting on limits nobody chose.
    """
    source = os.environ if env is None else env
    values: dict[str, int] = {}
    for field in fields(ReadLimits):
        name = ENV_PREFIX + field.name.upper()
        text = source.get(name, "").strip()
        if not text:
            continue
        if _POSITIVE_INTEGER.match(text) is None or int(text) == 0:
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise BomError(f"environment variable {name} must be a positive integer "
                           f"(a number of {field.name.removeprefix('max_')}), got {shown!r}")
        values[field.name] = int(text)
    return replace(DEFAULT_LIMITS, **values) if values else DEFAULT_LIMITS


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a command that holds a whole BOM.

    A large BOM is millions of containers, none of which can form a cycle; collection
    passes would only walk them again and again (about half the load time and seconds of
    the determination at a million items). The library has no process-wide side
    effects, so the pause is the command's: it restores the collector's state after.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            # Everything allocated during the pause sits in the youngest generation; the
            # first allocation after `enable()` would make the collector walk all of it
            # (0.2 s per 100,000 items). Freezing moves it out of the collector's sight;
            # reference counting still frees it.
            gc.freeze()
            gc.enable()


def read_bom(path: str, overrides: Mapping[str, str | None] | None = None,
             limits: ReadLimits | None = None) -> BillOfMaterials:
    """Read and validate the BOM at `path` (``-`` reads JSON from standard input).

    A CSV pair may be named by any of its files (``NAME.items.csv``, ``NAME.lines.csv``,
    ``NAME.document.csv``) or by ``NAME.csv``; `overrides` supply top-level fields.
    `limits` default to `limits_from_env()`; a `LimitError` says which ``TMEC_MAX_*``
    variable raises the limit that was hit.
    """
    limits = limits_from_env() if limits is None else limits
    try:
        with paused_gc():
            return _read_bom(path, dict(overrides or {}), limits)
    except LimitError as exc:
        variable = ENV_PREFIX + exc.limit.upper()
        raise LimitError(f"{exc.message}; set {variable} to change it", limit=exc.limit,
                         maximum=exc.maximum, path=exc.path) from None


def _read_bom(path: str, overrides: dict[str, str | None], limits: ReadLimits) -> (
    BillOfMaterials
):
    maximum = limits.max_document_bytes
    if path == "-":
        data = read_capped("-", maximum, "the BOM on standard input")
        return _with_overrides(parse_bom_json(data, limits=limits), overrides)
    name = path.lower()
    if name.endswith((".xlsx", ".xlsm")):
        data = read_capped(path, maximum, f"the workbook {path}")
        return parse_bom_xlsx(data, overrides=overrides, limits=limits)
    if name.endswith(".csv"):
        return _read_csv_pair(path, overrides, limits)
    data = read_capped(path, maximum, f"the BOM file {path}")
    return _with_overrides(parse_bom_json(data, limits=limits), overrides)


def _read_csv_pair(path: str, overrides: dict[str, str | None], limits: ReadLimits) -> (
    BillOfMaterials
):
    name = path.lower()
    for suffix in _CSV_PARTS:
        if name.endswith(suffix):
            stem = path[: -len(suffix)]
            break
    else:
        stem = path[: -len(".csv")]
    items, lines = Path(f"{stem}.items.csv"), Path(f"{stem}.lines.csv")
    document = Path(f"{stem}.document.csv")
    if not items.is_file() and not lines.is_file() and not Path(path).exists():
        # Nothing of the pair is there: the file named is simply not found.
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    for required in (items, lines):
        if not required.is_file():
            raise BomError(f"a CSV BOM needs {items.name} and {lines.name}; "
                           f"{required} does not exist")

    def text(table: Path) -> str:
        data = read_capped(table, limits.max_document_bytes, f"the CSV file {table}")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BomError(f"{table} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                           "save it as CSV UTF-8") from None

    return parse_bom_csv(
        text(items), text(lines), text(document) if document.is_file() else None,
        overrides=overrides, name=Path(stem).name, limits=limits,
        override_label=lambda field: f"option --{field.replace('_', '-')}",
    )


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
