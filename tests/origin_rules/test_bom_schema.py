"""The JSON Schema of `tmec-bom/1` against the reader and against every document we have.

The schema (`origin_rules/data/tmec-bom-1.schema.json`, printed by `tmec bom schema`) is
the format's machine form for tools outside the project. It is honest only if it agrees
with the reader, which is the format's one validator (`origin_rules.reader`):

* every example and every `tmec-bom/1` document of the tests passes it — JSON files under
  `examples/` and `tests/`, the CSV pairs and workbooks (as the reader reads them), and the
  documents the test modules build in Python, found by reading their source;
* **what the schema refuses, the reader refuses** (equivalently: whatever the reader
  accepts passes the schema), and what the schema accepts the reader accepts, unless its
  refusal is one of the checks only the reader can make, listed in the schema's
  description and in docs/bom-format.md ("JSON Schema"); checked on every document above,
  on generated valid documents, on documents mutated at random with values chosen to sit
  on the edges of the format, and field by field on random strings;
* the schema names every field the reader reads, and docs/bom-format.md every field the
  schema names.
"""

from __future__ import annotations

import ast
import builtins
import copy
import importlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from origin_rules import parse_bom_csv, parse_bom_json, parse_bom_xlsx
from origin_rules import reader as reader_module
from origin_rules.bom_schema import bom_schema, bom_schema_text
from origin_rules.errors import BomError, LimitError
from origin_rules.values import parse_iso_date
from origin_rules.writer import bom_to_dict
from tests.origin_rules.strategies import bom_documents

ROOT = Path(__file__).resolve().parents[2]
TAG = "tmec-bom/1"
SCHEMA = bom_schema()
VALIDATOR = Draft202012Validator(SCHEMA)  # format "date" stays an annotation: the pattern decides


def schema_problem(document: Any) -> str | None:
    """The schema's most relevant complaint about `document`, or None when it passes."""
    error = best_match(VALIDATOR.iter_errors(document))
    return None if error is None else f"{error.json_path}: {error.message[:300]}"


#: The reader's refusals that no JSON Schema can make, as docs/bom-format.md ("JSON
#: Schema") and the schema's description number them: ids that must name items (1, 3),
#: unique ids (2), the graph (4), comparisons across fields (5), lone surrogates (7).
#: (6) and (8) — the JSON text itself and the read limits — never reach a decoded
#: document's schema check; a `LimitError` is one of them.
READER_ONLY = re.compile("|".join([
    r"field 'good' names .*, which is not an item id",  # 1
    r"the good .* must be a made item",  # 1
    r"is already used by",  # 2
    r"field '(?:parent|child)': .* is not an item id",  # 3
    r"is a bought item and cannot have component lines",  # 3
    r"an item cannot be a component of itself",  # 3
    r"the lines form a cycle",  # 4
    r"item\(s\) are not used in the good",  # 4
    r"field 'deductions': total .* exceeds the unit_value",  # 5
    r"field 'amount': .* cannot exceed the material's unit_value",  # 5
    r"field 'vnm': .* cannot exceed the supplier's net_cost",  # 5
    r"field 'international_shipping': .* exceeds the transaction_value",  # 5
    r"field 'originating': .* exceeds total",  # 5
    r"contains a lone UTF-16 surrogate",  # 7
]))


def read(document: Any) -> Exception | None:
    """The reader's verdict on `document` given as JSON text: None (accepted) or its error."""
    try:
        parse_bom_json(json.dumps(document))
    except (BomError, LimitError) as error:
        return error
    return None


def check_agreement(document: Any) -> bool:
    """Assert that schema and reader agree on `document`; True when the reader accepts it."""
    problem = schema_problem(document)
    refusal = read(document)
    if refusal is None:
        assert problem is None, f"the reader accepts what the schema refuses: {problem}"
        return True
    if problem is None:
        assert isinstance(refusal, LimitError) or READER_ONLY.search(str(refusal)), (
            f"the schema accepts what the reader refuses, for a reason not listed as the "
            f"reader's own: {refusal}")
    return False


# ---------------------------------------------------------------------------------------
# The schema itself, and `tmec bom schema`


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert json.loads(bom_schema_text()) == SCHEMA


def _properties(schema: dict[str, Any]) -> set[str]:
    return set(schema.get("properties", {}))


def test_the_schema_names_every_field_the_reader_reads() -> None:
    defs = SCHEMA["$defs"]
    top = _properties(SCHEMA)
    assert top == set(reader_module._TOP_LEVEL) | set(reader_module._RULE_CHOICES)
    assert _properties(defs["bought"]) == set(reader_module._BOUGHT_ONLY) | set(
        reader_module._MADE_ONLY)
    assert _properties(defs["made"]) == set(reader_module._BOUGHT_ONLY) | set(
        reader_module._MADE_ONLY)
    # each kind's own fields are described; the other kind's must be absent (null)
    for kind, own in (("bought", reader_module._BOUGHT_ONLY), ("made", reader_module._MADE_ONLY)):
        for name, field in defs[kind]["properties"].items():
            assert (field == {"$ref": "#/$defs/absent"}) == (name not in own), (kind, name)


def _every_property(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties":
                yield from value
            yield from _every_property(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _every_property(value)


def test_the_definitive_text_documents_every_field_of_the_schema() -> None:
    text = (ROOT / "docs" / "bom-format.md").read_text(encoding="utf-8")
    missing = sorted({name for name in _every_property(SCHEMA) if f"`{name}`" not in text
                      and f'"{name}"' not in text and f"{name}`" not in text})
    assert not missing, f"docs/bom-format.md does not name {missing}"
    assert "tmec bom schema" in text


# ---------------------------------------------------------------------------------------
# Every document of the examples and the tests


def _json_documents() -> Iterator[tuple[str, Any]]:
    """JSON files under examples/ and tests/ that are (or hold, as "document") a BOM."""
    for folder in ("examples", "tests"):
        for path in sorted((ROOT / folder).rglob("*.json")):
            try:
                value = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict) and value.get("format") != TAG:
                value = value.get("document")
            if isinstance(value, dict) and value.get("format") == TAG:
                yield path.relative_to(ROOT).as_posix(), value


JSON_DOCUMENTS = dict(_json_documents())


def test_the_documents_are_found() -> None:
    assert len(JSON_DOCUMENTS) >= 39
    assert {p for p in JSON_DOCUMENTS if p.startswith("examples/")} == {
        f"examples/{p.name}" for p in (ROOT / "examples").glob("*.json")}


@pytest.mark.parametrize("path", sorted(JSON_DOCUMENTS))
def test_every_json_document_passes_the_schema(path: str) -> None:
    document = JSON_DOCUMENTS[path]
    assert schema_problem(document) is None
    assert check_agreement(document)


def _table_documents() -> Iterator[tuple[str, Any]]:
    """CSV pairs and workbooks under examples/ and tests/, as the document they describe."""
    for folder in ("examples", "tests"):
        for items in sorted((ROOT / folder).rglob("*.items.csv")):
            stem = items.name.removesuffix(".items.csv")
            document = items.with_name(f"{stem}.document.csv")
            bom = parse_bom_csv(
                items.read_text(encoding="utf-8"),
                items.with_name(f"{stem}.lines.csv").read_text(encoding="utf-8"),
                document.read_text(encoding="utf-8") if document.exists() else None,
                name=stem, overrides={"good": None} if document.exists() else
                {"good": "caliper-assy-fc42", "currency": "MXN", "as_of": "2026-03-16"})
            yield items.relative_to(ROOT).as_posix(), {**bom_to_dict(bom), **bom.extensions}
        for workbook in sorted((ROOT / folder).rglob("*.xlsx")):
            bom = parse_bom_xlsx(workbook.read_bytes())
            yield workbook.relative_to(ROOT).as_posix(), {**bom_to_dict(bom), **bom.extensions}


TABLE_DOCUMENTS = dict(_table_documents())


@pytest.mark.parametrize("path", sorted(TABLE_DOCUMENTS))
def test_every_table_document_passes_the_schema(path: str) -> None:
    assert schema_problem(TABLE_DOCUMENTS[path]) is None


def _tagged(node: ast.AST) -> bool:
    """A dict display with ``"format": "tmec-bom/1"``."""
    return isinstance(node, ast.Dict) and any(
        isinstance(k, ast.Constant) and k.value == "format" and isinstance(v, ast.Constant)
        and v.value == TAG for k, v in zip(node.keys, node.values, strict=True))


def _free_names(node: ast.AST) -> set[str]:
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(node) if isinstance(n, ast.Lambda)
              for a in n.args.args}
    return loaded - bound


def _python_documents() -> Iterator[tuple[str, Any]]:
    """The documents the test modules write in Python.

    A *builder* is a module-level function of a test module that holds a tagged dict
    display or returns a builder's call (`tests.origin_rules.builders.document`, a case's
    own ``brake_pads(end_use)``). Every tagged dict display, and every call of a builder,
    whose names are all module-level (not a test's local variables) is evaluated in its
    module: that is the document the test reads.
    """
    sources = {path: path.read_text(encoding="utf-8")
               for path in sorted((ROOT / "tests").rglob("*.py"))}
    trees = {path: ast.parse(text) for path, text in sources.items()}
    modules: dict[Path, Any] = {}

    def module(path: Path) -> Any:
        if path not in modules:
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[path] = importlib.import_module(name)
        return modules[path]

    builders: set[Any] = set()
    for _ in range(3):  # builders of builders: a fixpoint in a few rounds
        for path, tree in trees.items():
            for fn in tree.body:
                if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("test"):
                    continue
                direct = any(_tagged(n) for n in ast.walk(fn))
                calls = [n.value.func.id for n in ast.walk(fn)
                         if isinstance(n, ast.Return) and isinstance(n.value, ast.Call)
                         and isinstance(n.value.func, ast.Name)]
                if direct or (calls and path in modules and any(
                        getattr(modules[path], c, None) in builders for c in calls)):
                    builders.add(getattr(module(path), fn.name))
        for path in trees:
            if path not in modules and any(b.__name__ in sources[path] for b in builders):
                module(path)
    allowed = set(dir(builtins))
    for path, tree in trees.items():
        if path not in modules:
            continue
        namespace = vars(modules[path])
        for node in ast.walk(tree):
            is_call = (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                       and namespace.get(node.func.id) in builders)
            if not (is_call or _tagged(node)):
                continue
            if not _free_names(node) <= set(namespace) | allowed:
                continue
            try:
                value = eval(compile(ast.Expression(node), str(path), "eval"), namespace)
            except Exception:  # a builder's argument check, a name bound only at run time
                continue
            if isinstance(value, dict) and value.get("format") == TAG:
                yield f"{path.relative_to(ROOT).as_posix()}:{node.lineno}", value


PYTHON_DOCUMENTS = dict(_python_documents())


def test_the_documents_of_the_test_modules_are_found() -> None:
    assert len(PYTHON_DOCUMENTS) >= 100, len(PYTHON_DOCUMENTS)
    files = {key.rsplit(":", 1)[0] for key in PYTHON_DOCUMENTS}
    assert {"tests/cli/test_cli_product_rules.py", "tests/ledger/test_token.py",
            "tests/origin_rules/test_reader.py", "tests/origin_rules/test_explain.py"} <= files


@pytest.mark.parametrize("key", sorted(PYTHON_DOCUMENTS))
def test_the_documents_of_the_test_modules_agree(key: str) -> None:
    check_agreement(PYTHON_DOCUMENTS[key])


def test_most_documents_of_the_test_modules_are_valid() -> None:
    # the tests read many broken documents on purpose; most of what they build is valid
    valid = [k for k, d in PYTHON_DOCUMENTS.items() if schema_problem(d) is None]
    assert len(valid) >= len(PYTHON_DOCUMENTS) // 2


@given(bom_documents())
def test_generated_valid_documents_pass_the_schema(document: dict[str, Any]) -> None:
    assert check_agreement(document)


# ---------------------------------------------------------------------------------------
# Mutated documents: what the schema refuses, the reader refuses


def rich_document() -> dict[str, Any]:
    """A valid vehicle document that uses every field of the format at least once."""
    return {
        "format": TAG, "good": "truck", "as_of": "2024-02-29", "currency": "USD",
        "end_use": None, "method": "net_cost", "automotive_table": None,
        "producer": {"name": "Camiones del Norte", "country": "MX", "tax_id": "CNO010101AB1"},
        "psr_goods": None, "psr_provision": None, "x-origin": {"exported_by": ["erp", 7]},
        "vehicle": {
            "category": "light_truck",
            "labor_value_content": {"high_wage_material_and_manufacturing": "30",
                                    "high_wage_technology": "6", "high_wage_assembly": "4"},
            "steel_aluminum": {"steel": {"originating": "80", "total": "100"},
                               "aluminum": {"originating": "0", "total": ".5"}},
        },
        "items": [
            {"id": "truck", "hs": "8704.21", "description": "light truck", "kind": "made",
             "costs": {"other_product": "900.00", "period": "100", "other": None,
                       "excluded": {"sales_promotion": "1", "royalties": "0.5",
                                    "shipping_packing": "0", "non_allowable_interest": None}},
             "transaction_value": "4000", "international_shipping": "5.",
             "tariff_shift_as": None, "erp_ref": "T-1"},
            {"id": "axle", "hs": "8708.50.99", "description": "", "kind": "made",
             "costs": {"other_product": "100"}, "intermediate": True,
             "tariff_shift_as": "material",
             "rule": {"tariff_shift": "CTH", "except": ["87.06", "8707"],
                      "rvc": [{"method": "net_cost", "min": "50"},
                              {"method": "transaction_value", "min": "060.0"}],
                      "combine": "any"}},
            {"id": "frame", "hs": "8708.99", "description": "frame", "kind": "made",
             "tariff_shift_as": "inputs", "rule": None, "intermediate": False},
            {"id": "steel", "hs": "7208.51", "description": "steel plate", "kind": "bought",
             "unit_value": "400.00", "origin": "non_originating", "country": "CN",
             "deductions": {"freight": "10", "duties": "5", "brokerage": None, "waste": "0"},
             "statement": {"type": "regional_value", "amount": "100"}},
            {"id": "gear", "hs": "8483.40", "description": "gear", "kind": "bought",
             "unit_value": "300", "origin": "originating", "country": "US",
             "evidence": {"token": "sha256:9f2c4e1a", "certificate": None},
             "statement": {"type": "net_cost_and_vnm", "net_cost": "250", "vnm": "20"}},
            {"id": "bolt", "hs": "7318.15", "description": "bolt", "kind": "bought",
             "unit_value": "1", "origin": "unknown", "statement": {"type": "vnm", "vnm": "1"},
             "evidence": {"certificate": "CERT-1"}, "retail_packaging": None},
            {"id": "oil", "hs": "2710.19", "description": "oil", "kind": "bought",
             "unit_value": "2", "origin": "non_originating", "indirect": True,
             "packing": False},
            {"id": "crate", "hs": "4415.10", "description": "crate", "kind": "bought",
             "unit_value": "3", "origin": "originating", "packing": True, "costs": None},
        ],
        "lines": [
            {"parent": "truck", "child": "axle", "qty": "2"},
            {"parent": "truck", "child": "frame", "qty": "1", "note": "one per truck"},
            {"parent": "axle", "child": "gear", "qty": "1"},
            {"parent": "frame", "child": "steel", "qty": "0.5"},
            {"parent": "truck", "child": "bolt", "qty": "40"},
            {"parent": "truck", "child": "oil", "qty": ".25"},
            {"parent": "truck", "child": "crate", "qty": "1"},
        ],
    }


def test_the_rich_document_is_valid() -> None:
    assert schema_problem(rich_document()) is None
    assert read(rich_document()) is None


#: Values that sit on the edges of the format: decimal strings and near misses, dates,
#: HS codes, enum values of every field (so that a value valid in one place lands in
#: another), ids of the rich document, and JSON values of every type.
EDGE_VALUES: list[Any] = [
    None, True, False, 0, 1, 12.5, -1, "", " ", "\u00a0", "\t",
    "0", "-0", "-0.00", "-.0", "-1", "+1", "1e5", "12.50", "7.", ".5", ".", "1.2.3", "8,00",
    " 12", "12 ", "12\n", "١٢", "１２", "0.000000000001", "0." + "1" * 13, "9" * 15,
    "9" * 16, "100", "100.0", "100.01", "99.9", "0100", "101", "NaN", "Infinity",
    "2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "0000-01-01", "2024-13-01",
    "2024-04-31", "2024-1-01", "2024-03-01\n", "USD", "usd", "US", "USDX",
    "8708.30", "8708.3", "8708.30.99", "8708.30.9999", "8708.3099", "87083", "8708.30.999",
    "8708.30\n", "87", "8708", "87.08", "870", "٨٧", "87 08", "...",
    "made", "bought", "originating", "non_originating", "unknown", "net_cost",
    "transaction_value", "vnm", "regional_value", "net_cost_and_vnm", "CC", "CTH", "CTSH",
    "all", "any", "material", "inputs", "passenger_vehicle", "aftermarket", "A.1", "none",
    "MX", "CA", "light_truck", TAG, "tmec-bom/2",
    "truck", "axle", "frame", "steel", "gear", "bolt", "oil", "crate", "\ud800",
    {}, [], ["87"], ["8708", "x"], {"type": "vnm"}, {"type": "vnm", "vnm": "1"},
    {"token": None}, {"certificate": "C"}, {"originating": "1", "total": "0"},
    {"originating": "1", "total": "2"}, {"method": "net_cost", "min": "50"},
    [{"method": "net_cost", "min": "50"}, {"method": "net_cost", "min": "60"}],
    [{"method": "net_cost", "min": "50"}], {"high_wage_material_and_manufacturing": "1"},
    {"name": "P", "country": "US"}, {"parent": "truck", "child": "bolt", "qty": "1"},
]

#: Field names of the format, added where they may or may not belong.
FIELD_NAMES = sorted({*reader_module._TOP_LEVEL, *reader_module._RULE_CHOICES,
                      *reader_module._BOUGHT_ONLY, *reader_module._MADE_ONLY, "id", "hs",
                      "description", "kind", "type", "net_cost", "vnm", "amount", "token",
                      "certificate", "freight", "waste", "other_product", "period",
                      "excluded", "royalties", "tariff_shift", "except", "rvc", "combine",
                      "method", "min", "parent", "child", "qty", "category", "steel",
                      "aluminum", "originating", "total", "labor_value_content",
                      "steel_aluminum", "high_wage_material_and_manufacturing",
                      "high_wage_technology", "name", "country", "tax_id"})


def _places(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _places(child, (*prefix, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            found += _places(child, (*prefix, n))
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """The rich document or an example with one to three edits: a value replaced by an
    edge value, a field removed, or a field of the format added to some object.
    """
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(_places(document)[1:]))
        *parents, leaf = place
        target = document
        for step in parents:
            target = target[step]
        action = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add"]))
        if action == "replace":
            target[leaf] = copy.deepcopy(draw(st.sampled_from(EDGE_VALUES)))
        elif action == "remove":
            del target[leaf]
        else:
            value = target[leaf]
            if isinstance(value, dict):
                value[draw(st.sampled_from(FIELD_NAMES))] = copy.deepcopy(
                    draw(st.sampled_from(EDGE_VALUES)))
            elif isinstance(value, list):
                value.append(copy.deepcopy(draw(st.sampled_from(EDGE_VALUES))))
    return document


SEEDS = [rich_document(), *(JSON_DOCUMENTS[p] for p in sorted(JSON_DOCUMENTS)
                            if p.startswith("examples/"))]


@given(mutated_documents())
def test_schema_and_reader_agree_on_mutated_documents(document: Any) -> None:
    check_agreement(document)


def _edit(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    steps: list[Any] = [int(s) if s.isdigit() else s for s in path.split(".")]

    def apply(document: dict[str, Any]) -> None:
        target: Any = document
        for step in steps[:-1]:
            target = target[step]
        if value is _REMOVE:
            del target[steps[-1]]
        else:
            target[steps[-1]] = value

    return apply


_REMOVE = object()

#: One edit each, refused by both: what each part of the schema is for.
REFUSED_BY_BOTH = {
    "another format tag": _edit("format", "tmec-bom/2"),
    "no good": _edit("good", _REMOVE),
    "an empty good": _edit("good", ""),
    "30 February": _edit("as_of", "2023-02-30"),
    "29 February of 1900": _edit("as_of", "1900-02-29"),
    "a date with a line break": _edit("as_of", "2024-03-01\n"),
    "a lowercase currency": _edit("currency", "usd"),
    "an unknown end use": _edit("end_use", "tractor"),
    "a producer of another country": _edit("producer.country", "CN"),
    "a producer without a name": _edit("producer.name", " "),
    "an unknown automotive table": _edit("automotive_table", "G"),
    "a number for psr_provision": _edit("psr_provision", 8708),
    "a blank psr_goods": _edit("psr_goods", "  "),
    "vehicle steel purchases of total 0": _edit("vehicle.steel_aluminum.steel.total", "0"),
    "vehicle aluminum without steel": _edit("vehicle.steel_aluminum.steel", None),
    "labor value content without its points": _edit(
        "vehicle.labor_value_content.high_wage_material_and_manufacturing", _REMOVE),
    "no items": _edit("items", []),
    "an HS code of five digits": _edit("items.0.hs", "8704.2"),
    "a JSON number as money": _edit("items.3.unit_value", 400),
    "an exponent": _edit("items.3.unit_value", "4e2"),
    "a negative amount": _edit("items.3.deductions.freight", "-1"),
    "16 digits before the point": _edit("items.3.unit_value", "1" * 16),
    "13 decimals": _edit("items.3.unit_value", "0." + "1" * 13),
    "other scripts' digits": _edit("items.3.unit_value", "٤٠٠"),
    "a comma decimal": _edit("items.3.unit_value", "400,00"),
    "a bought item with costs": _edit("items.3.costs", {"period": "1"}),
    "a made item with an origin": _edit("items.0.origin", "originating"),
    "intermediate: false on a bought item": _edit("items.4.intermediate", False),
    "an unknown origin word": _edit("items.3.origin", "mexican"),
    "a blank country": _edit("items.3.country", ""),
    "evidence with neither token nor certificate": _edit("items.4.evidence", {"token": None}),
    "a statement without its amount": _edit("items.3.statement", {"type": "regional_value"}),
    "a statement of an unknown type": _edit("items.3.statement.type", "vnm_and_cost"),
    "two flags": _edit("items.7.indirect", True),
    "a flag as a word": _edit("items.6.indirect", "yes"),
    "international shipping without a transaction value": _edit(
        "items.0.transaction_value", None),
    "an unknown shift": _edit("items.1.rule.tariff_shift", "CTI"),
    "an except prefix of three digits": _edit("items.1.rule.except", ["870"]),
    "an except prefix in Arabic-Indic digits": _edit("items.1.rule.except", ["٨٧٠٨"]),
    "exceptions without a shift": _edit("items.1.rule.tariff_shift", None),
    "a method twice": _edit("items.1.rule.rvc.1.method", "net_cost"),
    "a minimum above 100": _edit("items.1.rule.rvc.0.min", "100.5"),
    "combine given as a word": _edit("items.1.rule.combine", "either"),
    "an empty rule": _edit("items.1.rule", {"rvc": []}),
    "an unknown s.3(8) choice": _edit("items.2.tariff_shift_as", "both"),
    "a quantity of zero": _edit("lines.0.qty", "0"),
    "a quantity of minus zero": _edit("lines.0.qty", "-0"),
    "a line without a child": _edit("lines.0.child", _REMOVE),
    "a line with a number as parent": _edit("lines.0.parent", 1),
}


@pytest.mark.parametrize("edit", REFUSED_BY_BOTH.values(), ids=REFUSED_BY_BOTH.keys())
def test_a_document_the_schema_refuses_is_refused_by_the_reader(
        edit: Callable[[dict[str, Any]], None]) -> None:
    document = rich_document()
    edit(document)
    assert schema_problem(document) is not None
    assert read(document) is not None
    check_agreement(document)


#: One edit each, accepted by both: the format's tolerances the schema must not refuse.
ACCEPTED_BY_BOTH = {
    "29 February of 2000": _edit("as_of", "2000-02-29"),
    "minus zero money": _edit("items.3.deductions.waste", "-0.00"),
    "a percentage with leading zeros": _edit("items.1.rule.rvc.0.min", "0100"),
    "an unknown field in an item": _edit("items.3.supplier", {"name": "Aceros SA"}),
    "a whitespace id": _edit("items.5.id", " "),
    "a country that is not a code": _edit("items.3.country", "China"),
    "an HS code without the second dot": _edit("items.3.hs", "7208.5190"),
    "an except prefix with dots anywhere": _edit("items.1.rule.except", ["8.7.0.8"]),
    "a rule with only a shift": _edit("items.1.rule", {"tariff_shift": "CC"}),
    "an empty description": _edit("items.0.description", ""),
    "except, rvc and combine given as null": _edit("items.1.rule", {
        "tariff_shift": "CTH", "except": None, "rvc": None, "combine": None}),
}


@pytest.mark.parametrize("edit", ACCEPTED_BY_BOTH.values(), ids=ACCEPTED_BY_BOTH.keys())
def test_the_format_s_tolerances_pass_the_schema(edit: Callable[[dict[str, Any]], None]
                                                 ) -> None:
    document = rich_document()
    edit(document)
    if edit is ACCEPTED_BY_BOTH["a whitespace id"]:
        document["lines"][4]["child"] = " "
    assert check_agreement(document)


#: One edit each that only the reader refuses: the numbered list of the schema's
#: description and of docs/bom-format.md ("JSON Schema").
READER_ONLY_EDITS = {
    "1. the good is not an item": _edit("good", "van"),
    "1. the good is bought": _edit("good", "steel"),
    "2. an id used twice": _edit("items.7.id", "oil"),
    "3. a line to an unknown item": _edit("lines.0.child", "wheel"),
    "3. a line below a bought item": _edit("lines.3.parent", "gear"),
    "3. an item in itself": _edit("lines.0.child", "truck"),
    "4. a cycle": _edit("lines.3", {"parent": "frame", "child": "truck", "qty": "1"}),
    "4. an item not used": _edit("lines.6", {"parent": "axle", "child": "gear", "qty": "1"}),
    "5. deductions above the value": _edit("items.3.deductions.freight", "500"),
    "5. a regional value above the value": _edit("items.3.statement.amount", "401"),
    "5. a VNM above the net cost": _edit("items.4.statement.vnm", "251"),
    "5. shipping above the transaction value": _edit("items.0.international_shipping",
                                                     "4000.01"),
    "5. originating steel above the total": _edit(
        "vehicle.steel_aluminum.steel.originating", "101"),
    "7. a lone surrogate": _edit("items.3.description", "plate \ud800"),
}


@pytest.mark.parametrize("edit", READER_ONLY_EDITS.values(), ids=READER_ONLY_EDITS.keys())
def test_what_only_the_reader_refuses(edit: Callable[[dict[str, Any]], None]) -> None:
    document = rich_document()
    edit(document)
    assert schema_problem(document) is None
    assert read(document) is not None
    assert check_agreement(document) is False


def test_the_reader_s_own_checks_are_listed_in_the_schema_and_the_text() -> None:
    description = SCHEMA["description"]
    text = (ROOT / "docs" / "bom-format.md").read_text(encoding="utf-8")
    for words in ("'good' names an item", "item ids are unique", "form no cycle",
                  "deductions at most the unit_value", "no object repeats a key",
                  "lone UTF-16 surrogate", "read limits"):
        assert words in description, words
        assert words in text, words


# ---------------------------------------------------------------------------------------
# Field by field, on random strings: the patterns are the reader's


def _minimal(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": TAG, "good": "g", "as_of": "2024-03-01", "currency": "USD",
        "items": [{"id": "g", "hs": "8708.30", "description": "", "kind": "made",
                   "transaction_value": "10",
                   "rule": {"tariff_shift": "CTH", "except": ["87"],
                            "rvc": [{"method": "net_cost", "min": "50"}]}},
                  {"id": "b", "hs": "7326.90", "description": "", "kind": "bought",
                   "unit_value": "1", "origin": "unknown"}],
        "lines": [{"parent": "g", "child": "b", "qty": "1"}],
    }
    for path, value in fields.items():
        _edit(path, value)(document)
    return document


FIELDS = {
    "money": "items.1.unit_value",
    "quantity": "lines.0.qty",
    "percentage": "items.0.rule.rvc.0.min",
    "date": "as_of",
    "HS code": "items.1.hs",
    "currency": "currency",
    "except prefix": "items.0.rule.except.0",
    "country": "items.1.country",
}

edge_strings = st.text(alphabet="0123456789.-+eE ,\n\t\u00a0٣AUSDZ", max_size=22)
shaped_strings = st.one_of(
    st.from_regex(r"-?[0-9]{0,17}(\.[0-9]{0,14})?\n?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\n?", fullmatch=True),
    st.from_regex(r"[0-9]{4}\.?[0-9]{2}(\.?[0-9]{1,3}){0,3}\n?", fullmatch=True),
    st.from_regex(r"[A-Za-z]{2,4}", fullmatch=True),
)


@pytest.mark.parametrize("path", FIELDS.values(), ids=FIELDS.keys())
@given(text=st.one_of(edge_strings, shaped_strings))
def test_schema_and_reader_agree_field_by_field(path: str, text: str) -> None:
    check_agreement(_minimal(**{path: text}))


@given(st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
def test_the_date_pattern_is_the_calendar(text: str) -> None:
    pattern = re.compile(SCHEMA["$defs"]["date"]["pattern"])
    assert (pattern.search(text) is not None) == (parse_iso_date(text) is not None)


@pytest.mark.parametrize("year", [1, 4, 100, 400, 1900, 1996, 2000, 2023, 2024, 2100, 2400,
                                  9996, 9999])
def test_the_29th_of_february_in_the_date_pattern(year: int) -> None:
    pattern = re.compile(SCHEMA["$defs"]["date"]["pattern"])
    text = f"{year:04d}-02-29"
    assert (pattern.search(text) is not None) == (parse_iso_date(text) is not None)
