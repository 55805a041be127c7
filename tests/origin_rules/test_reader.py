"""The `tmec-bom/1` JSON reader against `docs/bom-format.md`.

Every malformed document is rejected with a `BomError` (code ``rules.bom_invalid``) whose
message names the offending item / line / field and whose `.path` points at it: never a
traceback, never another exception type. Each case below starts from one valid document
(`valid_document`) and breaks exactly one thing.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import networkx as nx
import pytest

from origin_rules.bom import ItemKind, Method, Origin, StatementType, TariffShift
from origin_rules.errors import BomError
from origin_rules.reader import FORMAT_TAG, bom_from_dict
from tests.origin_rules.both_paths import parse_both_ways

# ---------------------------------------------------------------------------------------
# The valid document every case starts from


def valid_document() -> dict[str, Any]:
    """A two-level brake assembly that uses every optional field of the format."""
    return {
        "format": "tmec-bom/1",
        "good": "brake",
        "as_of": "2023-07-15",
        "currency": "USD",
        "end_use": "passenger_vehicle",
        "method": "net_cost",
        "producer": {"name": "Frenos del Norte", "country": "MX", "tax_id": "FNO010101AB1"},
        "automotive_table": "B",
        "items": [
            {  # items[0]
                "id": "brake", "hs": "8708.30", "description": "brake assembly",
                "kind": "made",
                "costs": {
                    "other_product": "20.00", "period": "10.00", "other": "1.50",
                    "excluded": {"sales_promotion": "1.00", "royalties": "0.50",
                                 "shipping_packing": "0.25", "non_allowable_interest": "0"},
                },
                "transaction_value": "150.00", "international_shipping": "5.00",
                "rule": {"tariff_shift": "CTH", "except": ["8708"],
                         "rvc": [{"method": "net_cost", "min": "50"},
                                 {"method": "transaction_value", "min": "60"}],
                         "combine": "all"},
            },
            {  # items[1]
                "id": "caliper", "hs": "8708.30.99", "description": "caliper", "kind": "made",
                "costs": {"other_product": "4.00"}, "intermediate": True,
                "rule": {"rvc": [{"method": "net_cost", "min": "40"}]},
            },
            {  # items[2]
                "id": "pad", "hs": "6813.81", "description": "brake pad", "kind": "bought",
                "unit_value": "8.00", "origin": "non_originating", "country": "CN",
                "deductions": {"freight": "0.50", "duties": "0.20", "brokerage": "0.10",
                               "waste": "0"},
            },
            {  # items[3]
                "id": "disc", "hs": "7325.99", "description": "cast disc", "kind": "bought",
                "unit_value": "20.00", "origin": "originating", "country": "MX",
                "evidence": {"token": "sha256:9f2c4e1a"},
                "statement": {"type": "net_cost_and_vnm", "net_cost": "18.00", "vnm": "4.00"},
            },
            {  # items[4]
                "id": "bolt", "hs": "7318.15", "description": "bolt", "kind": "bought",
                "unit_value": "0.40", "origin": "unknown",
                "statement": {"type": "regional_value", "amount": "0.10"},
            },
            {  # items[5]
                "id": "grease", "hs": "3403.99", "description": "grease", "kind": "bought",
                "unit_value": "0.30", "origin": "non_originating", "indirect": True,
                "statement": {"type": "vnm", "vnm": "0.30"},
            },
            {  # items[6]
                "id": "crate", "hs": "4415.10", "description": "crate", "kind": "bought",
                "unit_value": "2.00", "origin": "originating", "packing": True,
                "evidence": {"certificate": "CERT-2023-0001"},
            },
        ],
        "lines": [
            {"parent": "brake", "child": "caliper", "qty": "2"},  # lines[0]
            {"parent": "caliper", "child": "pad", "qty": "2"},  # lines[1]
            {"parent": "caliper", "child": "bolt", "qty": "4"},  # lines[2]
            {"parent": "brake", "child": "disc", "qty": "2"},  # lines[3]
            {"parent": "brake", "child": "grease", "qty": "0.05"},  # lines[4]
            {"parent": "brake", "child": "crate", "qty": "0.25"},  # lines[5]
        ],
    }


ITEM = {"brake": 0, "caliper": 1, "pad": 2, "disc": 3, "bolt": 4, "grease": 5, "crate": 6}


def parse(document: Any) -> Any:
    return parse_both_ways(json.dumps(document))


# ---------------------------------------------------------------------------------------
# Edits: each case changes the valid document in one place

_DROP = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def set_(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or with `_DROP` remove) the value at a path such as ``items[2].unit_value``."""

    def edit(document: dict[str, Any]) -> None:
        *parents, leaf = _steps(path)
        target: Any = document
        for step in parents:
            if isinstance(step, str) and step not in target:
                target[step] = {}
            target = target[step]
        if value is _DROP:
            del target[leaf]
        else:
            target[leaf] = copy.deepcopy(value)

    return edit


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    return set_(path, _DROP)


def add_item(**item: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["items"].append(item)


def made(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "hs": "8708.99", "description": item_id, "kind": "made"}


def bought(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "hs": "7318.15", "description": item_id, "kind": "bought",
            "unit_value": "1.00", "origin": "non_originating"}


def add_line(parent: str, child: str, qty: str = "1") -> Callable[[dict[str, Any]], None]:
    return lambda document: document["lines"].append(
        {"parent": parent, "child": child, "qty": qty})


def both(*edits: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        for one in edits:
            one(document)

    return edit


@dataclass(frozen=True)
class Bad:
    """One malformed document: what was broken, where the error must point, what it says."""

    name: str
    edit: Callable[[dict[str, Any]], None]
    path: str | None
    says: tuple[str, ...] = field(default=())


def cases(*bad: Bad) -> Any:
    return pytest.mark.parametrize("case", [pytest.param(b, id=b.name) for b in bad])


def assert_rejected(document: Any, case: Bad) -> BomError:
    with pytest.raises(BomError) as caught:
        parse(document)
    error = caught.value
    assert error.code == "rules.bom_invalid"
    assert error.path == case.path, str(error)
    for words in case.says:
        assert words in str(error), f"{words!r} not in: {error}"
    assert "\n" not in str(error)
    return error


def run(case: Bad) -> BomError:
    document = valid_document()
    case.edit(document)
    return assert_rejected(document, case)


def test_the_starting_document_is_valid() -> None:
    bom = parse(valid_document())
    assert bom.good == "brake"
    assert list(bom.items) == list(ITEM)


# ---------------------------------------------------------------------------------------
# Top level: format tag and required fields

@cases(
    Bad("format missing", drop("format"), "format", ("'format'", "tmec-bom/1", "null")),
    Bad("format of another version", set_("format", "tmec-bom/2"), "format",
        ("'format'", '"tmec-bom/2"')),
    Bad("format with other case", set_("format", "TMEC-BOM/1"), "format", ("'format'",)),
    Bad("format a number", set_("format", 1), "format", ("'format'", "number 1")),
    Bad("good missing", drop("good"), "good", ("'good'", "required")),
    Bad("as_of missing", drop("as_of"), "as_of", ("'as_of'", "required")),
    Bad("currency missing", drop("currency"), "currency", ("'currency'", "required")),
    Bad("items missing", drop("items"), "items", ("'items'", "required")),
    Bad("lines missing", drop("lines"), "lines", ("'lines'", "required")),
    Bad("good null", set_("good", None), "good", ("'good'", "required")),
    Bad("good not a string", set_("good", 7), "good", ("'good'", "number 7")),
    Bad("good empty", set_("good", ""), "good", ("'good'",)),
    Bad("items not an array", set_("items", {"brake": {}}), "items", ("'items'", "array")),
    Bad("lines not an array", set_("lines", "brake>caliper"), "lines", ("'lines'", "array")),
)
def test_format_tag_and_required_top_level_fields(case: Bad) -> None:
    run(case)


@cases(
    Bad("good is not an item", set_("good", "rotor"), "good", ("'good'", "'rotor'",
                                                                "not an item id")),
    Bad("good is a bought item", set_("good", "pad"), "good", ("'pad'", "made item")),
)
def test_the_good_is_a_made_item_of_the_document(case: Bad) -> None:
    run(case)


# ---------------------------------------------------------------------------------------
# Graph: ids, dangling line ends, cycles, reachability

@cases(
    Bad("duplicate id", add_item(**bought("pad")), "items[7].id",
        ("'pad'", "items[7]", "items[2]")),
    Bad("duplicate id of the good", add_item(**made("brake")), "items[7].id",
        ("'brake'", "items[7]", "items[0]")),
)
def test_duplicate_item_id_names_both_positions(case: Bad) -> None:
    run(case)


@cases(
    Bad("dangling parent", add_line("rotor", "pad"), "lines[6].parent",
        ("lines[6]", "parent", '"rotor"', "not an item id")),
    Bad("dangling child", add_line("brake", "rotor"), "lines[6].child",
        ("lines[6]", "child", '"rotor"', "not an item id")),
    Bad("parent missing", drop("lines[0].parent"), "lines[0].parent",
        ("lines[0]", "'parent'", "required")),
    Bad("child missing", drop("lines[0].child"), "lines[0].child",
        ("lines[0]", "'child'", "required")),
    Bad("qty missing", drop("lines[0].qty"), "lines[0].qty", ("lines[0]", "'qty'", "required")),
    Bad("child not a string", set_("lines[0].child", 1), "lines[0].child",
        ("lines[0]", "number 1")),
    Bad("line not an object", set_("lines[0]", ["brake", "caliper", "2"]), "lines[0]",
        ("lines[0]", "must be an object")),
    Bad("item not an object", set_("items[2]", "pad"), "items[2]",
        ("items[2]", "must be an object")),
    Bad("item without id", drop("items[2].id"), "items[2].id", ("items[2]", "'id'")),
    Bad("bought item with component lines", add_line("pad", "bolt"), "lines[6].parent",
        ("lines[6]", "'pad'", "bought")),
)
def test_line_ends_must_be_items(case: Bad) -> None:
    run(case)


def cycle_in(message: str) -> list[str]:
    """The ``a -> b -> a`` path a cycle message shows."""
    shown = re.search(r"cycle: (.+)$", message)
    assert shown is not None, message
    return shown.group(1).split(" -> ")


@pytest.mark.parametrize(
    ("edit", "members"),
    [
        pytest.param(
            both(add_item(**made("housing")), add_item(**made("cover")),
                 add_line("brake", "housing"), add_line("housing", "cover"),
                 add_line("cover", "housing")),
            {"housing", "cover"}, id="2-node cycle"),
        pytest.param(
            both(add_item(**made("housing")), add_item(**made("cover")),
                 add_item(**made("shell")), add_line("brake", "housing"),
                 add_line("housing", "cover"), add_line("cover", "shell"),
                 add_line("shell", "housing")),
            {"housing", "cover", "shell"}, id="3-node cycle"),
        # The cycle passes through items that also have materials (pad, bolt) hanging
        # below it, which come earlier in the document than the rest of the cycle.
        pytest.param(add_line("caliper", "brake"), {"brake", "caliper"},
                     id="2-node cycle through the good and its sub-assembly"),
        pytest.param(
            both(add_item(**made("housing")), add_line("caliper", "housing"),
                 add_line("housing", "caliper")),
            {"caliper", "housing"}, id="2-node cycle below materials listed earlier"),
        pytest.param(
            both(add_item(**made("housing")), add_item(**made("cover")),
                 add_line("caliper", "housing"), add_line("housing", "cover"),
                 add_line("cover", "caliper")),
            {"caliper", "housing", "cover"}, id="3-node cycle below materials listed earlier"),
    ],
)
def test_a_cycle_is_rejected_and_its_path_shown(
    edit: Callable[[dict[str, Any]], None], members: set[str]
) -> None:
    document = valid_document()
    edit(document)
    with pytest.raises(BomError) as caught:
        parse(document)
    assert caught.value.path == "lines"
    path = cycle_in(str(caught.value))
    assert path[0] == path[-1], path
    assert set(path) == members
    edges = {(line["parent"], line["child"]) for line in document["lines"]}
    assert all(step in edges for step in itertools.pairwise(path)), path


def test_a_self_loop_is_rejected_naming_the_item() -> None:
    run(Bad("self-loop", add_line("caliper", "caliper"), "lines[6].child",
            ("lines[6]", "caliper -> caliper", "component of itself")))


@cases(
    Bad("one unreachable item", add_item(**bought("spare")), "items",
        ("1 item(s)", "'spare'", "'brake'")),
    Bad("several unreachable items",
        both(add_item(**made("kit")), add_item(**bought("spare")), add_line("kit", "spare")),
        "items", ("2 item(s)", "'kit'", "'spare'")),
    Bad("item above the good", both(add_item(**made("pallet")), add_line("pallet", "brake")),
        "items", ("'pallet'",)),
    Bad("many unreachable items are counted",
        both(*(add_item(**bought(f"spare{n}")) for n in range(7))),
        "items", ("7 item(s)", "'spare0'", "and 2 more")),
)
def test_items_not_reachable_from_the_good(case: Bad) -> None:
    run(case)


# ---------------------------------------------------------------------------------------
# Decimal strings

DECIMAL_FIELDS = [
    # (path of the value, words the message must contain)
    ("items[2].unit_value", ("'pad'", "'unit_value'")),
    ("lines[0].qty", ("lines[0]", "'qty'")),
    ("items[0].costs.period", ("'brake'", "'costs'", "'period'")),
    ("items[0].costs.excluded.royalties", ("'brake'", "'excluded'", "'royalties'")),
    ("items[3].statement.vnm", ("'disc'", "'statement'", "'vnm'")),
    ("items[2].deductions.freight", ("'pad'", "'deductions'", "'freight'")),
    ("items[0].rule.rvc[0].min", ("'brake'", "'rvc[0]'", "'min'")),
    ("items[0].transaction_value", ("'brake'", "'transaction_value'")),
]


@pytest.mark.parametrize(("path", "names"), DECIMAL_FIELDS, ids=[p for p, _ in DECIMAL_FIELDS])
@pytest.mark.parametrize("number", [12.5, 12, 0.1], ids=["float", "integer", "float-0.1"])
def test_json_numbers_are_refused_where_a_decimal_string_is_required(
    path: str, names: tuple[str, ...], number: float
) -> None:
    run(Bad("json number", set_(path, number), path,
            (*names, "decimal string", f"number {number!r}")))


@pytest.mark.parametrize(("path", "names"), DECIMAL_FIELDS, ids=[p for p, _ in DECIMAL_FIELDS])
@pytest.mark.parametrize(
    "text",
    ["NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN", "1e3", "1E+2", "2.5e-1", "12,50",
     "12.5.0", "$12", "", " 12", "12 ", "0x10", "1_000", "twelve"],
)
def test_garbage_decimal_strings_are_refused(
    path: str, names: tuple[str, ...], text: str
) -> None:
    run(Bad("garbage", set_(path, text), path, (*names, json.dumps(text, ensure_ascii=False))))


@pytest.mark.parametrize("path", ["items[2].unit_value", "lines[0].qty"])
@pytest.mark.parametrize("text", ["١٢", "１２", "١٢.٥٠"], ids=["arabic-indic", "fullwidth",
                                                              "arabic-indic with decimals"])
def test_decimal_strings_with_non_ascii_digits_are_refused(path: str, text: str) -> None:
    # The spec's decimal strings are ASCII ("12.50"); Python's \d and Decimal() also
    # accept other scripts' digits, which no tool outside the project would read back.
    run(Bad("non-ascii digits", set_(path, text), path, (json.dumps(text, ensure_ascii=False),)))


@pytest.mark.parametrize(("path", "names"), DECIMAL_FIELDS, ids=[p for p, _ in DECIMAL_FIELDS])
@pytest.mark.parametrize("text", ["-1", "-0.01"])
def test_negative_values_are_refused(path: str, names: tuple[str, ...], text: str) -> None:
    run(Bad("negative", set_(path, text), path, (*names, "negative", text)))


@cases(
    Bad("boolean", set_("items[2].unit_value", True), "items[2].unit_value",
        ("'pad'", "decimal string", "boolean true")),
    Bad("array", set_("lines[0].qty", ["2"]), "lines[0].qty",
        ("lines[0]", "decimal string", "JSON array")),
    Bad("object", set_("items[0].costs.period", {"value": "1"}), "items[0].costs.period",
        ("'brake'", "decimal string", "JSON object")),
    Bad("null unit_value", set_("items[2].unit_value", None), "items[2].unit_value",
        ("'pad'", "required")),
    Bad("null qty", set_("lines[0].qty", None), "lines[0].qty", ("lines[0]", "required")),
)
def test_other_json_types_are_refused_where_a_decimal_string_is_required(case: Bad) -> None:
    run(case)


@pytest.mark.parametrize("qty", ["0", "0.000", "00"])
def test_qty_zero_is_refused(qty: str) -> None:
    run(Bad("qty zero", set_("lines[1].qty", qty), "lines[1].qty",
            ("lines[1]", "caliper -> pad", "'qty'", "greater than zero")))


@pytest.mark.parametrize(
    ("text", "value"),
    [("12.50", Decimal("12.50")), ("0", Decimal(0)), ("0.1", Decimal("0.1")),
     (".5", Decimal("0.5")), ("7.", Decimal(7)), ("123456789012345.123456789012",
                                                   Decimal("123456789012345.123456789012"))],
)
def test_plain_decimal_strings_are_read_exactly(text: str, value: Decimal) -> None:
    document = valid_document()
    set_("items[2].unit_value", text)(document)
    set_("items[2].deductions", {})(document)
    item = parse(document).items["pad"]
    assert item.unit_value == value
    assert str(item.unit_value) == str(Decimal(text))


# ---------------------------------------------------------------------------------------
# Enumerations, dates, HS codes, currency

@cases(
    Bad("kind", set_("items[2].kind", "service"), "items[2].kind",
        ("'pad'", "'kind'", '"service"')),
    Bad("kind in upper case", set_("items[2].kind", "BOUGHT"), "items[2].kind",
        ("'pad'", '"BOUGHT"')),
    Bad("kind missing", drop("items[2].kind"), "items[2].kind", ("'pad'", "'kind'")),
    Bad("origin", set_("items[2].origin", "yes"), "items[2].origin",
        ("'pad'", "'origin'", '"yes"')),
    Bad("origin missing", drop("items[2].origin"), "items[2].origin", ("'pad'", "'origin'")),
    Bad("end_use", set_("end_use", "car"), "end_use", ("'end_use'", '"car"')),
    Bad("method", set_("method", "rvc"), "method", ("'method'", '"rvc"')),
    Bad("statement.type", set_("items[3].statement.type", "regional"),
        "items[3].statement.type", ("'disc'", "'statement'", "'type'", '"regional"')),
    Bad("rule.tariff_shift", set_("items[0].rule.tariff_shift", "CTI"),
        "items[0].rule.tariff_shift", ("'brake'", "'rule'", "'tariff_shift'", '"CTI"')),
    Bad("rule.combine", set_("items[0].rule.combine", "either"), "items[0].rule.combine",
        ("'brake'", "'combine'", '"either"')),
    Bad("rule.rvc[].method", set_("items[0].rule.rvc[1].method", "build_down"),
        "items[0].rule.rvc[1].method", ("'brake'", "'rvc[1]'", '"build_down"')),
    Bad("producer.country", set_("producer.country", "GT"), "producer.country",
        ("'producer'", "'country'", '"GT"')),
    Bad("automotive_table", set_("automotive_table", "G"), "automotive_table",
        ("'automotive_table'", '"G"')),
)
def test_unknown_enum_values_are_refused(case: Bad) -> None:
    run(case)


@pytest.mark.parametrize(
    "as_of",
    ["2023-02-30", "20230715", "2023-7-1", "2023-07-15T00:00:00", "15/07/2023", "",
     "２０２３-07-15", 20230715],
)
def test_bad_dates_are_refused(as_of: Any) -> None:
    run(Bad("date", set_("as_of", as_of), "as_of", ("'as_of'", "YYYY-MM-DD")))


@pytest.mark.parametrize(
    "hs",
    ["8708", "87083", "8708.3", "abcd.ef", "8708.30.9", "8708.30.99.99.99", "8708-30",
     "８７０８.３０", "٨٧٠٨.٣٠", 8708.30, 870830],
    ids=["8708", "87083", "8708.3", "abcd.ef", "8708.30.9", "8708.30.99.99.99", "8708-30",
         "fullwidth digits", "arabic-indic digits", "number 8708.30", "number 870830"],
)
def test_bad_hs_codes_are_refused(hs: Any) -> None:
    run(Bad("hs", set_("items[2].hs", hs), "items[2].hs", ("'pad'", "'hs'")))


@pytest.mark.parametrize("hs", ["8708.30", "8708.30.99", "8708.30.9999", "8708.30.99.99"])
def test_hs_codes_with_national_digits_are_accepted(hs: str) -> None:
    document = valid_document()
    set_("items[2].hs", hs)(document)
    item = parse(document).items["pad"]
    assert item.hs == hs
    assert item.subheading == "870830"


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "US$", "", 840])
def test_bad_currency_is_refused(currency: Any) -> None:
    run(Bad("currency", set_("currency", currency), "currency", ("'currency'", "ISO 4217")))


# ---------------------------------------------------------------------------------------
# Made and bought items

@cases(
    *(Bad(f"{name} on a bought item", set_(f"items[2].{name}", value), f"items[2].{name}",
          ("'pad'", f"'{name}'", "made items"))
      for name, value in [("costs", {"period": "1"}), ("transaction_value", "9.00"),
                          ("international_shipping", "1.00"), ("intermediate", True),
                          ("rule", {"tariff_shift": "CC"})]),
    *(Bad(f"{name} on a made item", set_(f"items[1].{name}", value), f"items[1].{name}",
          ("'caliper'", f"'{name}'", "bought items"))
      for name, value in [("unit_value", "1.00"), ("origin", "originating"),
                          ("country", "MX"), ("evidence", {"token": "t"}),
                          ("deductions", {"freight": "1"}),
                          ("statement", {"type": "vnm", "vnm": "1"}), ("indirect", True),
                          ("packing", True), ("retail_packaging", True)]),
    Bad("bought item without unit_value", drop("items[2].unit_value"), "items[2].unit_value",
        ("'pad'", "'unit_value'", "required")),
    Bad("two of indirect/packing/retail_packaging", set_("items[6].indirect", True),
        "items[6]", ("'crate'", "only one")),
    Bad("boolean given as a string", set_("items[6].packing", "true"), "items[6].packing",
        ("'crate'", "'packing'", "true or false")),
    Bad("description not a string", set_("items[2].description", 5), "items[2].description",
        ("'pad'", "'description'")),
    Bad("evidence without token or certificate", set_("items[3].evidence", {}),
        "items[3].evidence", ("'disc'", "'evidence'")),
)
def test_fields_of_the_other_kind_and_item_fields(case: Bad) -> None:
    run(case)


@cases(
    Bad("deductions exceed unit_value", set_("items[2].deductions.freight", "7.75"),
        "items[2].deductions", ("'pad'", "'deductions'", "8.05", "8.00")),
    Bad("net_cost_and_vnm without vnm", drop("items[3].statement.vnm"), "items[3].statement.vnm",
        ("'disc'", "'vnm'", "required", "net_cost_and_vnm")),
    Bad("net_cost_and_vnm without net_cost", drop("items[3].statement.net_cost"),
        "items[3].statement.net_cost", ("'disc'", "'net_cost'", "required")),
    Bad("regional_value without amount", drop("items[4].statement.amount"),
        "items[4].statement.amount", ("'bolt'", "'amount'", "required", "regional_value")),
    Bad("vnm statement without vnm", drop("items[5].statement.vnm"),
        "items[5].statement.vnm", ("'grease'", "'vnm'", "required")),
    Bad("statement without type", drop("items[5].statement.type"),
        "items[5].statement.type", ("'grease'", "'type'")),
    Bad("regional_value amount above unit_value", set_("items[4].statement.amount", "0.41"),
        "items[4].statement.amount", ("'bolt'", "'amount'", "0.41", "0.40")),
    Bad("statement vnm above its net_cost", set_("items[3].statement.vnm", "18.01"),
        "items[3].statement.vnm", ("'disc'", "'vnm'", "18.01", "18.00")),
    Bad("international_shipping without transaction_value",
        drop("items[0].transaction_value"), "items[0].international_shipping",
        ("'brake'", "'international_shipping'", "transaction_value")),
    Bad("international_shipping above transaction_value",
        set_("items[0].international_shipping", "150.01"), "items[0].international_shipping",
        ("'brake'", "150.01", "150.00")),
)
def test_amounts_that_contradict_each_other(case: Bad) -> None:
    run(case)


@cases(
    Bad("empty rule", set_("items[0].rule", {}), "items[0].rule",
        ("'brake'", "'rule'", "neither a tariff_shift nor an rvc")),
    Bad("rule with only combine", set_("items[0].rule", {"combine": "any"}), "items[0].rule",
        ("'brake'", "'rule'")),
    Bad("rule with an empty rvc list", set_("items[0].rule", {"rvc": []}), "items[0].rule",
        ("'brake'", "'rule'")),
    Bad("rvc min above 100", set_("items[0].rule.rvc[0].min", "100.01"),
        "items[0].rule.rvc[0].min", ("'brake'", "'min'", "100")),
    Bad("rvc method twice", set_("items[0].rule.rvc[1].method", "net_cost"),
        "items[0].rule.rvc[1].method", ("'brake'", "'rvc[1]'", "'net_cost'", "twice")),
    Bad("rvc entry without min", drop("items[0].rule.rvc[0].min"), "items[0].rule.rvc[0].min",
        ("'brake'", "'min'")),
    Bad("rvc not an array", set_("items[0].rule.rvc", {"net_cost": "50"}), "items[0].rule.rvc",
        ("'brake'", "'rvc'", "array")),
    Bad("except not a prefix", set_("items[0].rule.except", ["87a"]), "items[0].rule.except[0]",
        ("'brake'", '"87a"')),
    Bad("except without tariff_shift", drop("items[0].rule.tariff_shift"),
        "items[0].rule.except", ("'brake'", "'except'", "tariff_shift")),
    Bad("rule not an object", set_("items[0].rule", "CTH"), "items[0].rule",
        ("'brake'", "'rule'", "object")),
)
def test_explicit_rules(case: Bad) -> None:
    run(case)


@cases(
    Bad("producer not an object", set_("producer", "Frenos"), "producer",
        ("'producer'", "object")),
    Bad("producer without name", drop("producer.name"), "producer.name",
        ("'producer'", "'name'")),
)
def test_producer_block(case: Bad) -> None:
    run(case)


VEHICLE = {
    "category": "passenger_vehicle",
    "labor_value_content": {"high_wage_material_and_manufacturing": "30",
                            "high_wage_technology": "10", "high_wage_assembly": "5"},
    "steel_aluminum": {"steel": {"originating": "700", "total": "1000"},
                       "aluminum": {"originating": "80", "total": "100"}},
}


def with_vehicle(*edits: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return both(set_("vehicle", VEHICLE), *edits)


@cases(
    Bad("vehicle not an object", set_("vehicle", "sedan"), "vehicle", ("'vehicle'", "object")),
    Bad("category not a string", with_vehicle(set_("vehicle.category", 1)), "vehicle.category",
        ("'vehicle'", "'category'")),
    Bad("lvc without high_wage_material_and_manufacturing",
        with_vehicle(drop("vehicle.labor_value_content.high_wage_material_and_manufacturing")),
        "vehicle.labor_value_content.high_wage_material_and_manufacturing",
        ("'labor_value_content'", "required")),
    Bad("lvc as a JSON number",
        with_vehicle(set_("vehicle.labor_value_content.high_wage_technology", 10)),
        "vehicle.labor_value_content.high_wage_technology", ("decimal string",)),
    Bad("steel_aluminum without steel", with_vehicle(drop("vehicle.steel_aluminum.steel")),
        "vehicle.steel_aluminum.steel", ("'steel_aluminum'", "'steel'", "required")),
    Bad("steel without total", with_vehicle(drop("vehicle.steel_aluminum.steel.total")),
        "vehicle.steel_aluminum.steel.total", ("'steel'", "'total'", "required")),
    Bad("originating steel above total",
        with_vehicle(set_("vehicle.steel_aluminum.steel.originating", "1000.01")),
        "vehicle.steel_aluminum.steel.originating", ("'originating'", "1000.01", "1000")),
    Bad("aluminum total zero",
        both(with_vehicle(set_("vehicle.steel_aluminum.aluminum.total", "0")),
             set_("vehicle.steel_aluminum.aluminum.originating", "0")),
        "vehicle.steel_aluminum.aluminum.total", ("'aluminum'", "'total'", "greater than zero")),
    Bad("negative steel",
        with_vehicle(set_("vehicle.steel_aluminum.steel.originating", "-1")),
        "vehicle.steel_aluminum.steel.originating", ("negative",)),
)
def test_vehicle_block(case: Bad) -> None:
    run(case)


def test_a_complete_vehicle_block_is_read() -> None:
    document = valid_document()
    set_("vehicle", VEHICLE)(document)
    vehicle = parse(document).vehicle
    assert vehicle is not None
    assert vehicle.category == "passenger_vehicle"
    assert vehicle.labor_value_content is not None
    assert vehicle.labor_value_content.high_wage_material_and_manufacturing == Decimal(30)
    assert vehicle.steel_aluminum is not None
    assert (vehicle.steel_aluminum.steel_originating, vehicle.steel_aluminum.steel_total) == (
        Decimal(700), Decimal(1000))
    assert vehicle.steel_aluminum.aluminum_total == Decimal(100)


# ---------------------------------------------------------------------------------------
# JSON text: syntax, encoding, constants, duplicate keys

def valid_text() -> str:
    return json.dumps(valid_document(), indent=1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(valid_text().replace('"unit_value": "8.00"', '"unit_value": NaN'),
                     "NaN", id="bare NaN"),
        pytest.param(valid_text().replace('"qty": "2"', '"qty": Infinity', 1),
                     "Infinity", id="bare Infinity"),
        pytest.param(valid_text().replace('"period": "10.00"', '"period": -Infinity'),
                     "-Infinity", id="bare -Infinity"),
    ],
)
def test_bare_nan_and_infinity_constants_are_refused(text: str, says: str) -> None:
    with pytest.raises(BomError) as caught:
        parse_both_ways(text)
    assert f"contains {says}" in str(caught.value)
    assert "decimal strings" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param(valid_text().replace('"good": "brake"', '"good": "brake", "good": "pad"'),
                     "good", id="top level"),
        pytest.param(valid_text().replace('"unit_value": "8.00"',
                                          '"unit_value": "8.00", "unit_value": "0.01"'),
                     "unit_value", id="inside an item"),
        pytest.param(valid_text().replace('"freight": "0.50"', '"freight": "0.50", "freight": "1"'),
                     "freight", id="nested object"),
    ],
)
def test_duplicate_json_keys_are_refused(text: str, key: str) -> None:
    with pytest.raises(BomError) as caught:
        parse_both_ways(text)
    assert f"repeats the key {key!r}" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["", "{", '{"format": "tmec-bom/1",}', "{'format': 'tmec-bom/1'}", "tmec-bom/1",
     valid_text()[:-1], "\ufeff" + valid_text()],
    ids=["empty", "unclosed", "trailing comma", "single quotes", "bare word", "truncated",
         "str with a byte-order mark"],
)
def test_invalid_json_is_refused_with_its_position(text: str) -> None:
    with pytest.raises(BomError, match=r"not valid JSON: .* at line \d+ column \d+"):
        parse_both_ways(text)


@pytest.mark.parametrize(
    "data",
    [valid_text().replace("brake pad", "pastilla de freno é").encode("latin-1"),
     b'{"format": "tmec-bom/1", "good": "\xff"}', b"\xc3\x28"],
    ids=["latin-1", "invalid byte", "truncated sequence"],
)
def test_bytes_that_are_not_utf8_are_refused(data: bytes) -> None:
    with pytest.raises(BomError, match="not UTF-8"):
        parse_both_ways(data)


def test_utf8_bytes_with_or_without_a_byte_order_mark_are_read() -> None:
    text = valid_text().replace("brake pad", "pastilla de freno ñ")
    assert parse_both_ways(text.encode()).items["pad"].description == "pastilla de freno ñ"
    assert parse_both_ways(b"\xef\xbb\xbf" + text.encode()).items["pad"].description == (
        "pastilla de freno ñ")


@pytest.mark.parametrize(
    ("text", "shown"),
    [("[]", "JSON array"), ('"tmec-bom/1"', '"tmec-bom/1"'), ("null", "null"),
     ("42", "number 42"), ("true", "boolean true")],
)
def test_the_top_level_must_be_an_object(text: str, shown: str) -> None:
    with pytest.raises(BomError) as caught:
        parse_both_ways(text)
    assert "must be a JSON object" in str(caught.value)
    assert shown in str(caught.value)


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(BomError, match="nested too deeply"):
        parse_both_ways("[" * 100_000 + "]" * 100_000)


def test_a_huge_json_integer_is_refused_as_a_bom_error() -> None:
    # Python refuses to convert integers of more than 4300 digits (ValueError); the reader
    # must report that as a malformed document, not let the ValueError escape.
    text = valid_text().replace('"qty": "2"', '"qty": ' + "9" * 5000, 1)
    with pytest.raises(BomError) as caught:
        parse_both_ways(text)
    assert type(caught.value) is BomError


def test_bom_from_dict_validates_like_parse_both_ways() -> None:
    document = valid_document()
    set_("items[2].unit_value", 8.0)(document)
    with pytest.raises(BomError) as from_dict:
        bom_from_dict(document)
    with pytest.raises(BomError) as from_json:
        parse(document)
    assert (str(from_dict.value), from_dict.value.path) == (
        str(from_json.value), from_json.value.path)


@pytest.mark.parametrize("not_a_document", [None, [], "tmec-bom/1", 3])
def test_bom_from_dict_refuses_what_is_not_a_mapping(not_a_document: Any) -> None:
    with pytest.raises(BomError, match="must be a JSON object"):
        bom_from_dict(not_a_document)


# ---------------------------------------------------------------------------------------
# What a valid document becomes

def test_the_document_is_read_field_by_field() -> None:
    bom = parse(valid_document())
    assert FORMAT_TAG == "tmec-bom/1"
    assert (bom.good, bom.as_of.isoformat(), bom.currency) == ("brake", "2023-07-15", "USD")
    assert bom.end_use is not None
    assert bom.end_use.value == "passenger_vehicle"
    assert bom.method is Method.NET_COST
    assert bom.producer is not None
    assert (bom.producer.name, bom.producer.country, bom.producer.tax_id) == (
        "Frenos del Norte", "MX", "FNO010101AB1")
    assert bom.automotive_table == "B"
    assert bom.root is bom.items["brake"]

    brake = bom.items["brake"]
    assert brake.kind is ItemKind.MADE
    assert brake.costs is not None
    assert (brake.costs.other_product, brake.costs.period, brake.costs.other) == (
        Decimal("20.00"), Decimal("10.00"), Decimal("1.50"))
    assert brake.costs.excluded.total == Decimal("1.75")
    assert (brake.transaction_value, brake.international_shipping) == (
        Decimal("150.00"), Decimal("5.00"))
    assert brake.rule is not None
    assert brake.rule.tariff_shift is TariffShift.CTH
    assert brake.rule.except_ == ("8708",)
    assert [(r.method, r.min) for r in brake.rule.rvc] == [
        (Method.NET_COST, Decimal(50)), (Method.TRANSACTION_VALUE, Decimal(60))]
    assert brake.rule.combine == "all"
    assert bom.items["caliper"].intermediate is True

    pad = bom.items["pad"]
    assert (pad.kind, pad.unit_value, pad.origin, pad.country) == (
        ItemKind.BOUGHT, Decimal("8.00"), Origin.NON_ORIGINATING, "CN")
    assert pad.deductions is not None
    assert pad.deductions.total == Decimal("0.80")
    disc = bom.items["disc"]
    assert disc.evidence is not None
    assert disc.evidence.token == "sha256:9f2c4e1a"
    assert disc.statement is not None
    assert (disc.statement.type, disc.statement.net_cost, disc.statement.vnm) == (
        StatementType.NET_COST_AND_VNM, Decimal("18.00"), Decimal("4.00"))
    assert bom.items["bolt"].origin is Origin.UNKNOWN
    assert bom.items["grease"].indirect is True
    assert bom.items["crate"].packing is True
    assert bom.items["crate"].evidence is not None
    assert bom.items["crate"].evidence.certificate == "CERT-2023-0001"


def test_unknown_top_level_fields_are_kept_in_extensions() -> None:
    document = valid_document()
    document["x-erp"] = {"system": "SAP", "plant": "MTY1"}
    document["comment"] = "quarterly review"
    bom = parse(document)
    assert bom.extensions == {"x-erp": {"system": "SAP", "plant": "MTY1"},
                              "comment": "quarterly review"}


def test_a_document_without_unknown_fields_has_no_extensions() -> None:
    assert parse(valid_document()).extensions == {}


def test_unknown_item_and_line_fields_are_ignored() -> None:
    document = valid_document()
    document["items"][2]["x-color"] = "red"
    document["items"][2]["supplier_part_no"] = 42
    document["lines"][1]["x-note"] = "two per caliper"
    bom = parse(document)
    assert bom.items["pad"] == parse(valid_document()).items["pad"]
    assert not hasattr(bom.items["pad"], "supplier_part_no")


def test_optional_top_level_fields_may_be_omitted_or_null() -> None:
    document = valid_document()
    for name in ("end_use", "method", "producer", "automotive_table"):
        del document[name]
    document["vehicle"] = None
    bom = parse(document)
    assert (bom.end_use, bom.method, bom.producer, bom.automotive_table, bom.vehicle) == (
        None, None, None, None, None)


def test_lines_repeating_a_parent_child_pair_are_summed() -> None:
    document = valid_document()
    add_line("caliper", "pad", "1.5")(document)
    add_line("caliper", "pad", "0.5")(document)
    bom = parse(document)
    # the document's lines are all kept, in order
    assert [(ln.parent, ln.child, ln.qty) for ln in bom.lines if ln.child == "pad"] == [
        ("caliper", "pad", Decimal(2)), ("caliper", "pad", Decimal("1.5")),
        ("caliper", "pad", Decimal("0.5"))]
    # the graph and the index carry their sum
    assert bom.graph.edges["caliper", "pad"]["qty"] == Decimal(4)
    index = bom.index
    caliper_children = dict(index.children[index.position["caliper"]])
    assert caliper_children[index.position["pad"]] == Decimal(4)
    assert bom.graph.number_of_edges() == len(valid_document()["lines"])


def test_the_graph_is_a_networkx_dag_of_the_document() -> None:
    document = valid_document()
    bom = parse(document)
    graph = bom.graph
    assert isinstance(graph, nx.DiGraph)
    assert nx.is_directed_acyclic_graph(graph)
    assert set(graph.nodes) == set(ITEM)
    assert all(graph.nodes[i]["item"] is bom.items[i] for i in ITEM)
    assert {(u, v): q for u, v, q in graph.edges(data="qty")} == {
        (line["parent"], line["child"]): Decimal(line["qty"]) for line in document["lines"]}
    assert graph.graph["good"] == "brake"
    assert graph.in_degree("brake") == 0
    assert nx.descendants(graph, "brake") == set(ITEM) - {"brake"}


def test_a_child_may_be_used_by_several_parents() -> None:
    document = valid_document()
    add_line("brake", "bolt", "6")(document)
    bom = parse(document)
    assert set(bom.graph.predecessors("bolt")) == {"caliper", "brake"}


def test_item_and_line_order_is_the_document_order() -> None:
    document = valid_document()
    document["items"].reverse()
    document["lines"].reverse()
    bom = parse(document)
    assert list(bom.items) == [item["id"] for item in document["items"]]
    assert [(ln.parent, ln.child) for ln in bom.lines] == [
        (line["parent"], line["child"]) for line in document["lines"]]
    assert [ln.position for ln in bom.lines] == list(range(len(document["lines"])))
    assert bom.index.ids == tuple(item["id"] for item in document["items"])
    order = bom.index.order
    assert order.index(bom.index.position["brake"]) < order.index(bom.index.position["pad"])


def test_parsing_does_not_change_the_document() -> None:
    document = valid_document()
    bom_from_dict(document)
    assert document == valid_document()
