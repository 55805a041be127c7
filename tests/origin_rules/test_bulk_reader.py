"""The fast path for plain JSON documents (`origin_rules.bulk_reader`).

Its contract: for a plain, valid document it builds exactly the `BillOfMaterials` the exact
reader builds; for anything else it returns None and leaves the document to the exact
reader, which accepts it or names the problem. The reader catalogue (`test_reader.py`)
runs every one of its broken documents through both paths; here are generated documents,
the duplicate-key proof, and what is deliberately left to the exact reader.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin_rules.errors import BomError
from tests.origin_rules.both_paths import fast_path, parse_both_ways, same_bom
from tests.origin_rules.strategies import bom_documents

ROOT = Path(__file__).resolve().parents[2]


def dumps(document: Any, *, ascii_only: bool = True, indent: int | None = None) -> str:
    return json.dumps(document, ensure_ascii=ascii_only, indent=indent)


# ---------------------------------------------------------------------------------------
# Plain documents take the fast path and give the exact reader's result


@given(bom_documents(), st.booleans(), st.sampled_from([None, 0, 2]))
def test_generated_documents_take_the_fast_path_with_the_exact_result(
        document: dict[str, Any], ascii_only: bool, indent: int | None) -> None:
    text = dumps(document, ascii_only=ascii_only, indent=indent)
    fast = fast_path(text)
    assert fast is not None
    assert same_bom(fast, parse_both_ways(text))


@st.composite
def decorated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """`bom_documents` with the optional item fields it leaves out, here and there."""
    document = draw(bom_documents())
    for item in document["items"]:
        if item["kind"] == "bought":
            if draw(st.booleans()):
                item["country"] = draw(st.sampled_from(["MX", "US", "CA", "CN", "DE"]))
            evidence = draw(st.sampled_from([None, "token", "certificate", "both"]))
            if evidence in ("token", "both"):
                item.setdefault("evidence", {})["token"] = "sha256:" + "ab" * 32
            if evidence in ("certificate", "both"):
                item.setdefault("evidence", {})["certificate"] = "CERT-2024-0042"
            if draw(st.integers(0, 9)) == 0 and not any(
                    item.get(flag) for flag in ("indirect", "packing")):
                item["retail_packaging"] = True
            if "deductions" in item and draw(st.booleans()):
                item["deductions"]["waste"] = "0.00"
        elif item["id"] != document["good"]:
            if draw(st.booleans()):
                item["intermediate"] = draw(st.booleans())
        elif draw(st.booleans()):
            item["international_shipping"] = "12.50"
    return document


@given(decorated_documents())
def test_every_optional_item_field_keeps_the_fast_path(document: dict[str, Any]) -> None:
    text = dumps(document)
    fast = fast_path(text)
    assert fast is not None
    assert same_bom(fast, parse_both_ways(text))


NAMES = st.text(min_size=1, max_size=12)


@given(bom_documents(), NAMES, NAMES, st.text(max_size=30))
def test_any_text_in_ids_and_descriptions_keeps_the_fast_path(
        document: dict[str, Any], good_id: str, material_id: str, description: str) -> None:
    """Colons, quotes, backslashes and non-ASCII (written as \\u escapes) in strings."""
    good, material = document["items"][0], document["items"][-1]
    if good_id == material["id"] or material_id == good["id"] or good_id == material_id:
        return
    renames = {good["id"]: good_id, material["id"]: material_id}
    for item in document["items"]:
        item["id"] = renames.get(item["id"], item["id"])
    for line in document["lines"]:
        line["parent"] = renames.get(line["parent"], line["parent"])
        line["child"] = renames.get(line["child"], line["child"])
    document["good"] = good_id
    material["description"] = description
    if len({item["id"] for item in document["items"]}) != len(document["items"]):
        return
    text = dumps(document)
    fast = fast_path(text)
    assert fast is not None
    assert same_bom(fast, parse_both_ways(text))


def _generator() -> Any:
    path = ROOT / "bench" / "generate_bom.py"
    spec = importlib.util.spec_from_file_location("generate_bom", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_documents_take_the_fast_path(tmp_path: Path) -> None:
    """`bench/` measures the path that large documents really take."""
    path = tmp_path / "bom.json"
    _generator().write_bom(3000, path)
    text = path.read_bytes()
    fast = fast_path(text)
    assert fast is not None
    assert len(fast.items) == 3000
    assert same_bom(fast, parse_both_ways(text))


# ---------------------------------------------------------------------------------------
# A repeated key anywhere is refused, whatever the strings around it hold


def _render(value: Any, target: int, key: str, first: str) -> str:
    """JSON text of `value` where the object with id `target` writes `key` twice.

    The first occurrence carries `first` (raw JSON text); the second the real value.
    """
    if isinstance(value, dict):
        parts = [f"{json.dumps(key)}:{first}"] if id(value) == target else []
        parts += [f"{json.dumps(k)}:{_render(v, target, key, first)}" for k, v in value.items()]
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_render(v, target, key, first) for v in value) + "]"
    return json.dumps(value)


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in _objects(v))]
    if isinstance(value, list):
        return [o for v in value for o in _objects(v)]
    return []


@given(bom_documents(), st.data(),
       st.sampled_from(['"1.00"', '"x:y"', "true", "null", "{}", '"\\u003a"']),
       st.sampled_from(["", "a:b", "ESCAPED-COLON"]))
def test_a_repeated_key_in_any_object_is_refused(
        document: dict[str, Any], data: st.DataObject, first: str, description: str) -> None:
    """Even when a string elsewhere adds the colon that the repeated key took away.

    ``ESCAPED-COLON`` is written as ``x\\u003ay``: a colon once decoded, none in the text.
    """
    document = copy.deepcopy(document)
    document["items"][-1]["description"] = description
    target = data.draw(st.sampled_from(_objects(document)))
    key = data.draw(st.sampled_from(sorted(target)))
    text = _render(document, id(target), key, first).replace("ESCAPED-COLON", "x\\u003ay")
    assert fast_path(text) is None
    with pytest.raises(BomError, match="repeats the key"):
        parse_both_ways(text)


# ---------------------------------------------------------------------------------------
# Valid documents the fast path leaves to the exact reader (slower, same result)


def _plain() -> dict[str, Any]:
    return {
        "format": "tmec-bom/1", "good": "caliper", "as_of": "2024-03-01", "currency": "USD",
        "items": [
            {"id": "caliper", "hs": "8708.30", "description": "brake caliper", "kind": "made",
             "costs": {"other_product": "12.00", "excluded": {"royalties": "1.00"}},
             "transaction_value": "90.00", "international_shipping": "2.00",
             "rule": {"rvc": [{"method": "net_cost", "min": "50"}]}},
            {"id": "casting", "hs": "7325.10", "description": "iron casting", "kind": "bought",
             "unit_value": "20.00", "origin": "non_originating", "country": "CN",
             "deductions": {"freight": "1.50"}},
            {"id": "seal", "hs": "4016.93", "description": "seal", "kind": "bought",
             "unit_value": "0.80", "origin": "originating", "evidence": {"certificate": "C-1"},
             "statement": {"type": "regional_value", "amount": "0.50"}},
        ],
        "lines": [{"parent": "caliper", "child": "casting", "qty": "1"},
                  {"parent": "caliper", "child": "seal", "qty": "2"}],
    }


def test_the_plain_document_takes_the_fast_path() -> None:
    assert fast_path(dumps(_plain())) is not None


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = _plain()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


LEFT_TO_THE_EXACT_READER = {
    "explicit null for an optional item field": _with(("items", 1, "country"), None),
    "explicit null inside costs": _with(("items", 0, "costs", "period"), None),
    "an item field outside the spec": _with(("items", 1, "supplier"), "Fundidora SA"),
    "a line field outside the spec": _with(("lines", 0, "note"), "per caliper"),
    "minus zero": _with(("items", 1, "deductions", "waste"), "-0"),
    "a number in an unknown statement field": _with(("items", 2, "statement", "seq"), 7),
    "a colon in a string and an escaped colon elsewhere": _with(
        ("items", 2, "description"), "seal: \u0001ring"),
}


@pytest.mark.parametrize("document", LEFT_TO_THE_EXACT_READER.values(),
                         ids=LEFT_TO_THE_EXACT_READER.keys())
def test_documents_outside_the_fast_path_are_read_exactly(document: dict[str, Any]) -> None:
    text = dumps(document).replace("\\u0001", "\\u003a")
    assert fast_path(text) is None
    bom = parse_both_ways(text)
    assert set(bom.items) == {"caliper", "casting", "seal"}


def test_a_top_level_key_with_a_colon_keeps_the_fast_path() -> None:
    document = _with(("x:note",), "checked: yes")
    fast = fast_path(dumps(document))
    assert fast is not None
    assert fast.extensions == {"x:note": "checked: yes"}


@pytest.mark.parametrize("text", [
    '{"format":"tmec-bom/1"}',
    "[]",
    "not json",
    '{"format":"tmec-bom/1","good":"g","as_of":"2024-03-01","currency":"USD",'
    '"items":[{"id":"g","hs":"8708.30","description":"","kind":"made"}],"lines":[],'
    '"as_of":"2024-03-02"}',
])
def test_broken_documents_are_left_to_the_exact_reader(text: str) -> None:
    assert fast_path(text) is None
    with pytest.raises(BomError):
        parse_both_ways(text)
