"""Fuzzing every BOM reader: any input is a `BillOfMaterials` or an `OriginRulesError`.

Whatever bytes or text a reader gets — random, a mutation of a valid example
(`examples/*.json`, `examples/tables/*`, `tests/assets/boms/*`), or a generated valid
document with hostile values put in — it returns a `BillOfMaterials` or raises an
`OriginRulesError` whose message prints as one line; never another exception. The
determination of every BOM a reader accepts succeeds or raises `OriginRulesError`, and
its JSON form encodes as UTF-8 (a lone surrogate that slipped through would fail there).
The two JSON paths agree on every input (`both_paths.py`'s contract).

Inputs stay small so that each example takes milliseconds: the ``ci`` profile's 100
examples a test keep the whole file within seconds of ``make test``;
``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` runs 20,000 a test.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from origin_rules import (
    BillOfMaterials,
    OriginRulesError,
    bom_from_dict,
    determine_origin,
    parse_bom_csv,
    parse_bom_json,
    parse_bom_xlsx,
)
from origin_rules.bulk_reader import read_plain_json
from origin_rules.errors import BomError
from origin_rules.reader import read_json_exactly
from tests.origin_rules import hostile
from tests.origin_rules.both_paths import same_bom
from tests.origin_rules.strategies import bom_documents

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
BOMS = ROOT / "tests" / "assets" / "boms"
TABLES = ROOT / "examples" / "tables"

JSON_SEEDS = [path.read_bytes() for path in
              [*sorted((ROOT / "examples").glob("*.json")), BOMS / "two_level.json"]]
CSV_SEEDS = [tuple((folder / f"{stem}.{part}.csv").read_text(encoding="utf-8")
                   for part in ("items", "lines", "document"))
             for folder, stem in ((BOMS, "two_level"), (TABLES, "brake-caliper-mx"))]
XLSX_SEEDS = [(TABLES / "brake-caliper-mx.xlsx").read_bytes(), hostile.minimal_workbook()]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bom_to_tables",
                                                  ROOT / "tools" / "bom_to_tables.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BOM_TO_TABLES = _tool()


# ---------------------------------------------------------------------------------------
# The oracle


def check_error(error: OriginRulesError) -> None:
    """An error the CLI can print as its one line."""
    message = str(error)
    assert message
    message.encode("utf-8")  # no lone surrogate in the words
    assert len(message) < 2000, message[:200]


def check_determination(bom: BillOfMaterials) -> None:
    """Any accepted BOM is evaluated or refused with our error, and its output encodes."""
    for item in bom.items.values():
        for text in (item.id, item.hs, item.description, item.country or ""):
            text.encode("utf-8")
    json.dumps(bom.extensions, ensure_ascii=False, default=str).encode("utf-8")
    try:
        determination = determine_origin(bom)
    except OriginRulesError as error:
        check_error(error)
        return
    json.dumps(determination.to_dict(), ensure_ascii=False).encode("utf-8")
    for line in determination.explanation:
        line.encode("utf-8")


def outcome(read: Callable[[], BillOfMaterials]) -> BillOfMaterials | None:
    """What `read` gives: a checked BOM, or None for a refusal with a printable error."""
    try:
        bom = read()
    except OriginRulesError as error:
        check_error(error)
        return None
    assert isinstance(bom, BillOfMaterials)
    check_determination(bom)
    return bom


def read_json_both_ways(data: bytes | str) -> BillOfMaterials | None:
    """`parse_bom_json`, checked against the exact reader and the fast path alone."""
    public = outcome(lambda: parse_bom_json(data))
    exact = outcome(lambda: read_json_exactly(data))
    assert (public is None) == (exact is None)
    if public is not None and exact is not None:
        assert same_bom(public, exact)
    if isinstance(data, bytes):
        try:
            fast = read_plain_json(data)
        except OriginRulesError as error:  # a limit: the exact reader refuses too
            assert exact is None
            check_error(error)
        else:
            assert fast is None or (exact is not None and same_bom(fast, exact))
    return public


# ---------------------------------------------------------------------------------------
# Hostile values and mutations

SURROGATES = ["\ud800", "\udfff", "a\udc00b", "\ud83d"]
TRICKY_TEXT = [
    "", " ", "8,00", "1e5", "-0", "+1", " 12", "12 ", "1_000", "٣", "0x10", "NaN",
    "Infinity", "1.2.3", ".", "-", "9" * 16, "9" * 60, "0." + "1" * 13, "9" * 15 + "." +
    "9" * 12, "0.000000000001", "=1+1", "brake", "pad", "made", "bought", "8708.30",
    "2023-07-15", "2023-02-30", "tmec-bom/1", "\x00", "\n", '"', ";", ",", "\ufeff", "x" * 300,
]

text_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(TRICKY_TEXT + SURROGATES),
    st.from_regex(r"-?[0-9]{0,18}(\.[0-9]{0,15})?", fullmatch=True),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**70), 10**70),
              st.floats(allow_nan=False), text_values),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text_values, inner,
                                                                max_size=3),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a decoded document where a value sits."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            found += paths(child, (*prefix, n))
    return found


@st.composite
def edited_documents(draw: st.DrawFn, seed: st.SearchStrategy[Any]) -> Any:
    """A decoded document with a few values replaced, removed or added."""
    document = draw(seed)
    for _ in range(draw(st.integers(1, 3))):
        places = paths(document)
        if not places:
            return document
        *parents, leaf = draw(st.sampled_from(places))
        target = document
        for step in parents:
            target = target[step]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            target[leaf] = draw(json_values)
        elif action == "remove":
            del target[leaf]
        elif isinstance(target, dict):
            target[draw(text_values)] = draw(json_values)
        else:
            target.append(draw(json_values))
    return document


BYTE_TOKENS = [b'"', b"\\ud800", b'"\\udc00"', b"9" * 60, b"9" * 5000, b"-1", b"1e999",
               b"NaN", b"Infinity", b"[", b"]", b"{", b"}", b",", b":", b"null", b"true",
               b'""', b'"x"', b"\xff", b"\x00", b"\\", b'{"a":1,"a":2}', b"[" * 70,
               b"\xef\xbb\xbf", b"\\u003a", b" ", b"\n"]


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes], tokens: list[bytes]) -> bytes:
    """A seed with a few bytes flipped, tokens inserted, spans deleted, or cut short."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "insert", "delete", "cut"]))
        if action == "flip" and position < len(data):
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[position:position] = draw(st.sampled_from(tokens))
        elif action == "delete":
            del data[position:position + draw(st.integers(1, 40))]
        elif action == "cut":
            del data[position:]
    return bytes(data)


# ---------------------------------------------------------------------------------------
# JSON


@given(st.binary(max_size=300))
def test_random_bytes_are_a_bom_or_an_error(data: bytes) -> None:
    assert read_json_both_ways(data) is None


@given(mutated_bytes(JSON_SEEDS, BYTE_TOKENS))
def test_mutated_example_documents_are_a_bom_or_an_error(data: bytes) -> None:
    read_json_both_ways(data)


@given(edited_documents(st.sampled_from(JSON_SEEDS).map(json.loads)), st.booleans())
def test_examples_with_hostile_values_are_a_bom_or_an_error(document: Any,
                                                            ascii_only: bool) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    read_json_both_ways(text.encode("utf-8", "surrogatepass") if ascii_only else text)


@given(edited_documents(bom_documents(max_made=3, max_bought=4)))
def test_generated_documents_with_hostile_values_are_a_bom_or_an_error(document: Any) -> None:
    read_json_both_ways(json.dumps(document).encode())
    outcome(lambda: bom_from_dict(document))


@given(json_values)
def test_any_json_value_is_a_bom_or_an_error(value: Any) -> None:
    read_json_both_ways(json.dumps(value).encode())


# ---------------------------------------------------------------------------------------
# Extreme values within the bounds: the engine's arithmetic never raises

EXTREME_MONEY = ["0", "0.000000000001", "1", "0.5", "999999999999999.999999999999",
                 "123456789012345", "100000000000000.000000000001"]
EXTREME_QTY = ["0.000000000001", "1", "999999999999999", "999999999999999.999999999999",
               "0.000000000007"]


@st.composite
def extreme_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A chain of sub-assemblies (each also buying a material) with values at the bounds."""
    depth = draw(st.integers(1, 12))
    money = st.sampled_from(EXTREME_MONEY)
    items: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for level in range(depth):
        made: dict[str, Any] = {
            "id": f"m{level}", "hs": draw(st.sampled_from(["8708.30", "8708.99", "8483.40"])),
            "description": "", "kind": "made",
            "costs": {"other_product": draw(money), "period": draw(money),
                      "excluded": {"royalties": draw(money)}},
            "intermediate": level > 0 and draw(st.booleans()),
        }
        if level == 0:
            made["transaction_value"] = draw(money)
            made["rule"] = {"rvc": [{"method": "net_cost", "min": draw(st.sampled_from(
                ["0", "50", "100", "0.000000000001", "99.999999999999"]))},
                {"method": "transaction_value", "min": "60"}], "combine": "any"}
        items.append(made)
        value = draw(money)
        bought: dict[str, Any] = {
            "id": f"b{level}", "hs": draw(st.sampled_from(["7326.90", "8708.99", "4016.93"])),
            "description": "", "kind": "bought", "unit_value": value,
            "origin": draw(st.sampled_from(["originating", "non_originating", "unknown"])),
        }
        statement = draw(st.sampled_from([None, "vnm", "regional_value"]))
        if statement == "vnm":
            bought["statement"] = {"type": "vnm", "vnm": value}
        elif statement == "regional_value":
            bought["statement"] = {"type": "regional_value", "amount": value}
        items.append(bought)
        lines.append({"parent": f"m{level}", "child": f"b{level}",
                      "qty": draw(st.sampled_from(EXTREME_QTY))})
        if level:
            lines.append({"parent": f"m{level - 1}", "child": f"m{level}",
                          "qty": draw(st.sampled_from(EXTREME_QTY))})
    return {"format": "tmec-bom/1", "good": "m0", "as_of": "2024-03-01", "currency": "USD",
            "method": draw(st.sampled_from([None, "net_cost", "transaction_value"])),
            "items": items, "lines": lines}


@given(extreme_documents())
def test_extreme_values_within_the_bounds_are_evaluated_or_refused(
    document: dict[str, Any]
) -> None:
    bom = outcome(lambda: bom_from_dict(document))
    text = json.dumps(document).encode()
    assert (outcome(lambda: parse_bom_json(text)) is None) == (bom is None)


# ---------------------------------------------------------------------------------------
# CSV

CSV_TOKENS = [",", ";", '"', '""', "\n", "\r\n", "\r", "\ufeff", "\x00", "\ud800", " ",
              "=1+1", "8,00", "9" * 20, "-1", "true", "maybe", "..", "rule.rvc.net_cost",
              "costs.period.x", "\n\n\n", ",,,,", "x" * 200]


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(chars)))
        action = draw(st.sampled_from(["insert", "insert", "delete", "cut"]))
        if action == "insert":
            chars[position:position] = draw(st.sampled_from(CSV_TOKENS))
        elif action == "delete":
            del chars[position:position + draw(st.integers(1, 20))]
        else:
            del chars[position:]
    return "".join(chars)


@st.composite
def mutated_trios(draw: st.DrawFn) -> tuple[str, str, str | None]:
    items, lines, document = draw(st.sampled_from(CSV_SEEDS))
    which = draw(st.sampled_from(["items", "lines", "document", "all"]))
    if which in ("items", "all"):
        items = draw(mutated_text(items))
    if which in ("lines", "all"):
        lines = draw(mutated_text(lines))
    if which in ("document", "all"):
        document = draw(mutated_text(document))
    return items, lines, draw(st.sampled_from([document, None]))


options = st.fixed_dictionaries({}, optional={
    "good": text_values, "as_of": text_values, "currency": text_values,
    "method": text_values, "end_use": text_values})


def read_csv(items: str, lines: str, document: str | None,
             overrides: dict[str, str] | None = None) -> BillOfMaterials | None:
    return outcome(lambda: parse_bom_csv(items, lines, document, overrides=overrides,
                                         name="fuzz"))


@given(st.text(max_size=200), st.text(max_size=100), st.none() | st.text(max_size=100))
def test_random_csv_text_is_a_bom_or_an_error(items: str, lines: str,
                                              document: str | None) -> None:
    read_csv(items, lines, document)


@given(mutated_trios(), options)
def test_mutated_csv_tables_are_a_bom_or_an_error(trio: tuple[str, str, str | None],
                                                  overrides: dict[str, str]) -> None:
    read_csv(*trio, overrides=overrides)


def to_csv(columns: list[str], rows: list[dict[str, Any]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@given(edited_documents(bom_documents(max_made=3, max_bought=4)), st.sampled_from([",", ";"]))
def test_generated_tables_with_hostile_cells_are_a_bom_or_an_error(
    document: Any, delimiter: str
) -> None:
    try:
        tables = BOM_TO_TABLES.tables(document)
        texts = [to_csv(*tables[part], delimiter) for part in ("items", "lines", "document")]
    except (KeyError, TypeError, AttributeError, ValueError):
        return  # an edit the converter cannot flatten (the test's tool, not a reader)
    read_csv(*texts)


@given(bom_documents(max_made=3, max_bought=4), st.sampled_from([",", ";"]))
def test_generated_tables_read_as_their_json_document(document: Any, delimiter: str) -> None:
    tables = BOM_TO_TABLES.tables(document)
    texts = [to_csv(*tables[part], delimiter) for part in ("items", "lines", "document")]
    from_csv = read_csv(*texts)
    assert from_csv is not None
    assert same_bom(from_csv, parse_bom_json(json.dumps(document)))


# ---------------------------------------------------------------------------------------
# Excel

XML_TOKENS = [b"<", b">", b"</row>", b'<row r="99999999"/>', b'<row r="0"/>',
              b'<row r="1.5"/>', b'<c r="XFD1" t="s"><v>999</v></c>',
              b'<c r="ZZZZ9"><v>1</v></c>', b"&#xD800;", b"&amp;", b"&nope;", b"<!DOCTYPE x>",
              b'<c t="n"><v>1e400</v></c>', b'<c t="n"><v>nan</v></c>',
              b'<c t="d"><v>garbage</v></c>', b'<c t="b"><v>2</v></c>',
              b'<c t="e"><v>#DIV/0!</v></c>', b'<c t="inlineStr"><is><t>=1+1</t></is></c>',
              b'<c t="s"><v>-1</v></c>', b'<c><f>1+1</f></c>', b"\x00", b"\xff", b'"']


@st.composite
def mutated_workbooks(draw: st.DrawFn) -> bytes:
    """A seed workbook with one of its XML parts mutated, repacked."""
    with zipfile.ZipFile(io.BytesIO(draw(st.sampled_from(XLSX_SEEDS)))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml_parts = sorted(name for name in parts if name.endswith((".xml", ".rels")))
    sheets = [name for name in xml_parts if "worksheets/" in name]
    name = draw(st.sampled_from(sheets) | st.sampled_from(xml_parts))
    parts[name] = draw(mutated_bytes([parts[name]], XML_TOKENS))
    if draw(st.integers(0, 9)) == 0:
        del parts[draw(st.sampled_from(sorted(parts)))]
    return hostile.write_zip(dict(parts), level=1)


@given(st.binary(max_size=300))
def test_random_bytes_as_a_workbook_are_an_error(data: bytes) -> None:
    assert outcome(lambda: parse_bom_xlsx(data)) is None


@given(mutated_bytes(XLSX_SEEDS, [b"PK\x05\x06", b"PK\x03\x04", b"\x00" * 8, b"\xff" * 4]))
def test_mutated_workbook_bytes_are_a_bom_or_an_error(data: bytes) -> None:
    outcome(lambda: parse_bom_xlsx(data))


@given(mutated_workbooks(), options)
def test_workbooks_with_mutated_xml_are_a_bom_or_an_error(data: bytes,
                                                          overrides: dict[str, str]) -> None:
    outcome(lambda: parse_bom_xlsx(data, overrides=overrides))


def legal_xml(text: str) -> str:
    """`text` without what XML 1.0 cannot hold (control characters, lone surrogates)."""
    return "".join(ch for ch in text if (ch in "\t\n\r" or ord(ch) >= 0x20)
                   and not 0xD800 <= ord(ch) <= 0xDFFF)


cell_values = st.one_of(
    text_values.map(legal_xml), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.dates(min_value=date(1900, 3, 1)), st.datetimes(min_value=datetime(1900, 3, 1)),
    st.none())


@st.composite
def generated_workbooks(draw: st.DrawFn) -> bytes:
    """A generated document's tables as a workbook, some cells replaced by other types."""
    document = draw(bom_documents(max_made=3, max_bought=4))
    sheets: dict[str, list[list[Any]]] = {}
    for name, (columns, rows) in BOM_TO_TABLES.tables(document).items():
        sheets[name] = [list(columns)]
        for row in rows:
            cells = [row.get(column) for column in columns]
            if cells and draw(st.integers(0, 3)) == 0:
                cells[draw(st.integers(0, len(cells) - 1))] = draw(cell_values)
            sheets[name].append(cells)
    # Written only once everything is drawn: a write-only sheet left unsaved (hypothesis
    # stopping a draw half-way) complains when it is collected.
    book = Workbook(write_only=True)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for cells in rows:
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@given(generated_workbooks())
def test_generated_workbooks_with_odd_cells_are_a_bom_or_an_error(data: bytes) -> None:
    outcome(lambda: parse_bom_xlsx(data))


def test_the_oracle_refuses_what_escapes() -> None:
    """The oracle itself: another exception is a failure, not an outcome."""
    def broken() -> BillOfMaterials:
        raise ValueError("not ours")

    with pytest.raises(ValueError, match="not ours"):
        outcome(broken)
    assert outcome(lambda: (_ for _ in ()).throw(BomError("ours"))) is None
