"""Read `tmec-bom/1` documents from JSON text, CSV tables or an Excel workbook.

Every reader ends in `bom_from_dict`, the one validator of the format
(`spec/bom-format.md`), so JSON, CSV and Excel give the same `BillOfMaterials` and the
same errors. Plain JSON documents take a faster route to the same result
(`bulk_reader`), which leaves everything it is unsure of, and every error, to this module.
Nothing here opens files: callers pass text or bytes (the CLI and the API do the I/O),
which keeps `origin_rules` pure.

Rejected, each with a message naming the item, line or field: a wrong `format` tag,
missing fields, JSON numbers where decimal strings are required, negative values,
NaN/Infinity, unknown enum values, bad dates or HS codes, duplicate ids or keys, dangling
line ends, cycles, and items not reachable from the good. Unknown extra fields are allowed
(the format is extensible) and ignored, except top-level ones, which are kept in
`BillOfMaterials.extensions`.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple, NoReturn

from origin_rules.bom import (
    BillOfMaterials,
    BomIndex,
    Costs,
    Deductions,
    EndUse,
    Evidence,
    ExcludedCosts,
    Item,
    ItemKind,
    LaborValueContent,
    Line,
    Method,
    Origin,
    Producer,
    ProductRule,
    RvcRequirement,
    Statement,
    StatementType,
    SteelAluminumPurchases,
    TariffShift,
    VehicleData,
    topological_order,
)
from origin_rules.errors import BomError
from origin_rules.values import HS_PATTERN, is_decimal_string, parse_iso_date

__all__ = [
    "FORMAT_TAG",
    "bom_from_dict",
    "parse_bom_csv",
    "parse_bom_json",
    "parse_bom_xlsx",
    "read_json_exactly",
]

FORMAT_TAG = "tmec-bom/1"

_CURRENCY_RE = re.compile(r"[A-Z]{3}\Z")
_PARTY_COUNTRIES = ("MX", "US", "CA")
_AUTOMOTIVE_TABLES = ("A.1", "B", "C", "D", "E", "F", "none")
_ZERO = Decimal(0)
_BOUGHT = ItemKind.BOUGHT
_NO_DEDUCTIONS = Deductions()
_NO_COSTS = Costs()
_NO_EXCLUDED = ExcludedCosts()

_TOP_LEVEL = frozenset(
    {
        "format", "good", "as_of", "currency", "end_use", "method", "producer", "items",
        "lines", "automotive_table", "vehicle",
    }
)
_BOUGHT_ONLY = ("unit_value", "origin", "country", "evidence", "deductions", "statement",
                "indirect", "packing", "retail_packaging")
_MADE_ONLY = ("costs", "transaction_value", "international_shipping", "intermediate", "rule")
_BOUGHT_ONLY_SET = frozenset(_BOUGHT_ONLY)
_MADE_ONLY_SET = frozenset(_MADE_ONLY)
_FLAGS = frozenset({"indirect", "packing", "retail_packaging"})


def _quote(value: Any) -> str:
    """Render a user value in a message: strings quoted, others by kind."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"


class _Where:
    """Where a value sits in the document, in words and as a machine path.

    Label and path may be given as functions: they are only needed when something is
    wrong, and building the words for every one of a million valid items would cost
    seconds.
    """

    __slots__ = ("_label", "_path")

    def __init__(self, label: str | Callable[[], str], path: str | Callable[[], str]) -> None:
        self._label = label
        self._path = path

    @property
    def label(self) -> str:
        label = self._label
        return label if isinstance(label, str) else label()

    @property
    def path(self) -> str:
        path = self._path
        return path if isinstance(path, str) else path()

    def fail(self, field: str | None, problem: str) -> NoReturn:
        path = ".".join(p for p in (self.path, field) if p)
        where = f"{self.label}, field {field!r}" if field else self.label
        raise BomError(f"{where}: {problem}", path=path)


class _ItemWhere(_Where):
    """Where an item is, built cheaply per item; its words only when something is wrong."""

    __slots__ = ("_labels", "_n", "item_id")

    def __init__(self, n: int, labels: Callable[[int], str]) -> None:
        self._n = n
        self._labels = labels
        self.item_id: str | None = None

    @property
    def label(self) -> str:
        base = self._labels(self._n)
        return base if self.item_id is None else f"item {self.item_id!r} ({base})"

    @property
    def path(self) -> str:
        return f"items[{self._n}]"


def _decimal(where: _Where, field: str, raw: Any, *, positive: bool = False) -> Decimal:
    """A non-negative (or strictly positive) decimal from a decimal string."""
    if type(raw) is not str:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            where.fail(field, f"must be a decimal string such as \"12.50\", got {_quote(raw)} "
                              "(JSON numbers are not accepted for money, quantities or percents)")
        where.fail(field, f"must be a decimal string such as \"12.50\", got {_quote(raw)}")
    if not is_decimal_string(raw):
        where.fail(field, f"{_quote(raw)} is not a decimal number")
    value = Decimal(raw)
    if value < 0:
        where.fail(field, f"must not be negative, got {raw}")
    if positive and value == 0:
        where.fail(field, "must be greater than zero")
    return value


_NON_NEGATIVE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z").match


def _optional_decimal(where: _Where, raw: Mapping[str, Any], field: str) -> Decimal | None:
    value = raw.get(field)
    if value is None:
        return None
    if type(value) is str and _NON_NEGATIVE(value) is not None:
        return Decimal(value)  # the common, valid case, without building error context
    return _decimal(where, field, value)


def _amounts(where: _Where, field: str, raw: Any, names: Sequence[str]) -> list[Decimal]:
    """Optional non-negative amounts of a sub-object (absent = 0), e.g. ``costs``."""
    obj = raw if type(raw) is dict else _object(where, field, raw)
    out = []
    for name in names:
        value = obj.get(name)
        if value is None:
            out.append(_ZERO)
        elif type(value) is str and _NON_NEGATIVE(value) is not None:
            out.append(Decimal(value))
        else:
            out.append(_decimal(_sub(where, field), name, value))
    return out


def _string(where: _Where, field: str, raw: Any, *, empty: bool = False) -> str:
    if type(raw) is not str:
        where.fail(field, f"must be a string, got {_quote(raw)}")
    if not empty and not raw.strip():
        where.fail(field, "must not be empty")
    return raw


def _boolean(where: _Where, field: str, raw: Any) -> bool:
    if raw is None:
        return False
    if type(raw) is not bool:
        where.fail(field, f"must be true or false, got {_quote(raw)}")
    return raw


def _choice(where: _Where, field: str, raw: Any, allowed: Sequence[str]) -> str:
    if type(raw) is not str or raw not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        where.fail(field, f"{_quote(raw)} is not one of {options}")
    return raw


def _object(where: _Where, field: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        where.fail(field, f"must be an object, got {_quote(raw)}")
    return raw


def _sub(where: _Where, field: str) -> _Where:
    return _Where(lambda: f"{where.label}, field {field!r}",
                  lambda: ".".join(p for p in (where.path, field) if p))


def _hs(where: _Where, field: str, raw: Any) -> str:
    text = _string(where, field, raw)
    if HS_PATTERN.match(text) is None:
        where.fail(field, f"{_quote(raw)} is not an HS code of the form NNNN.NN "
                          "(optionally followed by national digits, e.g. 8708.30.99)")
    return text


def _deductions(where: _Where, raw: Any) -> Deductions:
    return Deductions(*_amounts(where, "deductions", raw,
                                ("freight", "duties", "brokerage", "waste")))


def _statement(where: _Where, raw: Any, unit_value: Decimal) -> Statement:
    obj = _object(where, "statement", raw)
    inner = _sub(where, "statement")
    kind = StatementType(_choice(inner, "type", obj.get("type"), [t.value for t in StatementType]))

    def required(name: str) -> Decimal:
        if obj.get(name) is None:
            inner.fail(name, f"is required for a {kind.value!r} statement")
        return _decimal(inner, name, obj[name])

    if kind is StatementType.NET_COST_AND_VNM:
        net_cost, vnm = required("net_cost"), required("vnm")
        if vnm > net_cost:
            inner.fail("vnm", f"({vnm}) cannot exceed the supplier's net_cost ({net_cost})")
        return Statement(kind, net_cost=net_cost, vnm=vnm)
    if kind is StatementType.REGIONAL_VALUE:
        amount = required("amount")
        if amount > unit_value:
            inner.fail("amount", f"({amount}) cannot exceed the material's unit_value "
                                 f"({unit_value})")
        return Statement(kind, amount=amount)
    return Statement(kind, vnm=required("vnm"))


def _rule(where: _Where, raw: Any) -> ProductRule:
    obj = _object(where, "rule", raw)
    inner = _sub(where, "rule")
    shift_raw = obj.get("tariff_shift")
    shift = None
    if shift_raw is not None:
        shift = TariffShift(_choice(inner, "tariff_shift", shift_raw,
                                    [t.value for t in TariffShift]))
    except_raw = obj.get("except", [])
    if not isinstance(except_raw, list):
        inner.fail("except", f"must be an array of HS prefixes, got {_quote(except_raw)}")
    excepted: list[str] = []
    for n, prefix in enumerate(except_raw):
        text = _string(inner, f"except[{n}]", prefix).replace(".", "")
        if not text.isdigit() or len(text) not in (2, 4, 6, 8, 10):
            inner.fail(f"except[{n}]", f"{_quote(prefix)} is not an HS chapter, heading or "
                                       "subheading prefix (e.g. \"87\", \"8708\", \"8708.30\")")
        excepted.append(text)
    if excepted and shift is None:
        inner.fail("except", "exceptions need a tariff_shift to apply to")
    rvc_raw = obj.get("rvc", [])
    if not isinstance(rvc_raw, list):
        inner.fail("rvc", f"must be an array of {{method, min}} objects, got {_quote(rvc_raw)}")
    requirements: list[RvcRequirement] = []
    for n, entry in enumerate(rvc_raw):
        entry_obj = _object(inner, f"rvc[{n}]", entry)
        entry_where = _sub(inner, f"rvc[{n}]")
        method = Method(_choice(entry_where, "method", entry_obj.get("method"),
                                [m.value for m in Method]))
        minimum = _decimal(entry_where, "min", entry_obj.get("min"))
        if minimum > 100:
            entry_where.fail("min", f"is a percentage and cannot exceed 100, got {minimum}")
        if any(r.method is method for r in requirements):
            entry_where.fail("method", f"{method.value!r} appears twice")
        requirements.append(RvcRequirement(method, minimum))
    combine = _choice(inner, "combine", obj.get("combine", "all"), ["all", "any"])
    if shift is None and not requirements:
        inner.fail(None, "names neither a tariff_shift nor an rvc requirement; an empty rule "
                         "would make anything originating")
    return ProductRule(shift, tuple(excepted), tuple(requirements), combine)


def _parse_item(raw: Any, where: _ItemWhere) -> Item:
    """Validate one item of the item master (spec: Items)."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        where.fail(None, f"must be an object, got {_quote(raw)}")
    get = raw.get
    item_id = get("id")
    if type(item_id) is not str or not item_id:
        where.fail("id", f"must be a non-empty string, got {_quote(item_id)}")
    where.item_id = item_id
    hs = get("hs")
    if type(hs) is not str or HS_PATTERN.match(hs) is None:
        hs = _hs(where, "hs", hs)
    description = get("description")
    if type(description) is not str:
        description = _string(where, "description", description, empty=True)
    kind_raw = get("kind")
    if kind_raw == "bought":
        if not _MADE_ONLY_SET.isdisjoint(raw):
            for name in _MADE_ONLY:
                if get(name) is not None:
                    where.fail(name, "is a field of made items, but this item is bought")
        unit_value_raw = get("unit_value")
        if unit_value_raw is None:
            where.fail("unit_value", "is required for a bought item")
        if type(unit_value_raw) is str and _NON_NEGATIVE(unit_value_raw) is not None:
            unit_value = Decimal(unit_value_raw)
        else:
            unit_value = _decimal(where, "unit_value", unit_value_raw)
        origin_raw = get("origin")
        if origin_raw == "originating":
            origin = Origin.ORIGINATING
        elif origin_raw == "non_originating":
            origin = Origin.NON_ORIGINATING
        elif origin_raw == "unknown":
            origin = Origin.UNKNOWN
        elif origin_raw is None:
            where.fail("origin", "is required for a bought item (originating, non_originating "
                                 "or unknown)")
        else:
            origin = Origin(_choice(where, "origin", origin_raw, [o.value for o in Origin]))
        country = get("country")
        if country is not None and (type(country) is not str or not country
                                    or country.isspace()):
            country = _string(where, "country", country)
        evidence = None
        if get("evidence") is not None:
            evidence_obj = _object(where, "evidence", get("evidence"))
            ev_where = _sub(where, "evidence")
            token = evidence_obj.get("token")
            certificate = evidence_obj.get("certificate")
            if token is None and certificate is None:
                ev_where.fail(None, "needs a token digest or a certificate reference")
            evidence = Evidence(
                token=None if token is None else _string(ev_where, "token", token),
                certificate=None if certificate is None
                else _string(ev_where, "certificate", certificate),
            )
        deductions = _NO_DEDUCTIONS
        if get("deductions") is not None:
            deductions = _deductions(where, get("deductions"))
            if deductions.total > unit_value:
                where.fail("deductions", f"total {deductions.total} exceeds the unit_value "
                                         f"{unit_value} they are deducted from")
        statement = None
        if get("statement") is not None:
            statement = _statement(where, get("statement"), unit_value)
        indirect = packing = retail = False
        if not _FLAGS.isdisjoint(raw):
            indirect = _boolean(where, "indirect", get("indirect"))
            packing = _boolean(where, "packing", get("packing"))
            retail = _boolean(where, "retail_packaging", get("retail_packaging"))
        if indirect + packing + retail > 1:
            where.fail(None, "can be only one of indirect, packing and retail_packaging")
        # positional: a NamedTuple builds faster without keywords (field order of Item)
        return Item(item_id, hs, description, _BOUGHT, unit_value, origin, country, evidence,
                    deductions, statement, indirect, packing, retail, None, None, None,
                    False, None)
    if kind_raw == "made":
        if not _BOUGHT_ONLY_SET.isdisjoint(raw):
            for name in _BOUGHT_ONLY:
                if get(name) is not None:
                    where.fail(name, "is a field of bought items, but this item is made")
        costs = _NO_COSTS
        costs_raw = get("costs")
        if costs_raw is not None:
            costs_obj = costs_raw if type(costs_raw) is dict else _object(where, "costs",
                                                                         costs_raw)
            excluded = _NO_EXCLUDED
            if costs_obj.get("excluded") is not None:
                excluded = ExcludedCosts(*_amounts(
                    _sub(where, "costs"), "excluded", costs_obj["excluded"],
                    ("sales_promotion", "royalties", "shipping_packing",
                     "non_allowable_interest")))
            other_product, period, other = _amounts(where, "costs", costs_obj,
                                                    ("other_product", "period", "other"))
            costs = Costs(other_product, period, other, excluded)
        transaction_value = _optional_decimal(where, raw, "transaction_value")
        shipping = _optional_decimal(where, raw, "international_shipping")
        if shipping is not None:
            if transaction_value is None:
                where.fail("international_shipping", "is deducted from transaction_value, "
                                                     "which is missing")
            if shipping > transaction_value:
                where.fail("international_shipping", f"({shipping}) exceeds the "
                                                     f"transaction_value ({transaction_value})")
        rule = None if get("rule") is None else _rule(where, get("rule"))
        return Item(
            item_id, hs, description, ItemKind.MADE, costs=costs,
            transaction_value=transaction_value, international_shipping=shipping,
            intermediate=_boolean(where, "intermediate", get("intermediate")), rule=rule,
        )
    if kind_raw is None:
        where.fail("kind", "is required (made or bought)")
    where.fail("kind", f"{_quote(kind_raw)} is not one of 'made', 'bought'")


def _vehicle(raw: Any) -> VehicleData:
    where = _Where("document", "")
    obj = _object(where, "vehicle", raw)
    inner = _Where("field 'vehicle'", "vehicle")
    category = obj.get("category")
    if category is not None:
        category = _string(inner, "category", category)
    lvc = None
    if obj.get("labor_value_content") is not None:
        lvc_obj = _object(inner, "labor_value_content", obj["labor_value_content"])
        lvc_where = _sub(inner, "labor_value_content")
        if lvc_obj.get("high_wage_material_and_manufacturing") is None:
            lvc_where.fail("high_wage_material_and_manufacturing", "is required")
        lvc = LaborValueContent(
            high_wage_material_and_manufacturing=_decimal(
                lvc_where, "high_wage_material_and_manufacturing",
                lvc_obj["high_wage_material_and_manufacturing"]),
            high_wage_technology=_optional_decimal(lvc_where, lvc_obj, "high_wage_technology")
            or _ZERO,
            high_wage_assembly=_optional_decimal(lvc_where, lvc_obj, "high_wage_assembly")
            or _ZERO,
        )
    steel = None
    if obj.get("steel_aluminum") is not None:
        sa_obj = _object(inner, "steel_aluminum", obj["steel_aluminum"])
        sa_where = _sub(inner, "steel_aluminum")
        values: dict[str, Decimal | None] = {}
        for metal in ("steel", "aluminum"):
            metal_raw = sa_obj.get(metal)
            if metal_raw is None:
                values[f"{metal}_originating"] = values[f"{metal}_total"] = None
                continue
            metal_obj = _object(sa_where, metal, metal_raw)
            metal_where = _sub(sa_where, metal)
            for key in ("originating", "total"):
                if metal_obj.get(key) is None:
                    metal_where.fail(key, "is required")
            originating = _decimal(metal_where, "originating", metal_obj["originating"])
            total = _decimal(metal_where, "total", metal_obj["total"], positive=True)
            if originating > total:
                metal_where.fail("originating", f"({originating}) exceeds total ({total})")
            values[f"{metal}_originating"], values[f"{metal}_total"] = originating, total
        steel_originating, steel_total = values["steel_originating"], values["steel_total"]
        if steel_originating is None or steel_total is None:
            sa_where.fail("steel", "is required (originating and total Table S steel purchases)")
        steel = SteelAluminumPurchases(
            steel_originating, steel_total, values["aluminum_originating"],
            values["aluminum_total"],
        )
    return VehicleData(category, lvc, steel)


class _Header(NamedTuple):
    """The validated top-level fields of a document (everything but items and lines)."""

    good: str
    as_of: date
    currency: str
    end_use: EndUse | None
    method: Method | None
    producer: Producer | None
    automotive_table: str | None
    vehicle: VehicleData | None
    extensions: dict[str, Any]


def _read_header(document: Any) -> _Header:
    """Validate the top level of a document (spec: Top level), in the order a user fixes it."""
    doc = _Where("document", "")
    if not isinstance(document, Mapping):
        raise BomError(f"the document must be a JSON object, got {_quote(document)}")
    tag = document.get("format")
    if tag != FORMAT_TAG:
        raise BomError(f"field 'format' must be {FORMAT_TAG!r}, got {_quote(tag)}",
                       path="format")

    def top(name: str) -> Any:
        value = document.get(name)
        if value is None:
            raise BomError(f"field {name!r} is required", path=name)
        return value

    good = top("good")
    if type(good) is not str or not good:
        raise BomError(f"field 'good' must be an item id, got {_quote(good)}", path="good")
    as_of_raw = top("as_of")
    as_of = parse_iso_date(as_of_raw) if type(as_of_raw) is str else None
    if as_of is None:
        raise BomError(f"field 'as_of' must be a date YYYY-MM-DD, got {_quote(as_of_raw)}",
                       path="as_of")
    currency = top("currency")
    if type(currency) is not str or _CURRENCY_RE.match(currency) is None:
        raise BomError("field 'currency' must be an ISO 4217 code such as \"USD\" or \"MXN\", "
                       f"got {_quote(currency)}", path="currency")
    end_use = document.get("end_use")
    if end_use is not None:
        end_use = EndUse(_choice(_Where("document", ""), "end_use", end_use,
                                 [e.value for e in EndUse]))
    method = document.get("method")
    if method is not None:
        method = Method(_choice(doc, "method", method, [m.value for m in Method]))
    producer = None
    if document.get("producer") is not None:
        prod_obj = _object(doc, "producer", document["producer"])
        prod_where = _Where("field 'producer'", "producer")
        tax_id = prod_obj.get("tax_id")
        producer = Producer(
            name=_string(prod_where, "name", prod_obj.get("name")),
            country=_choice(prod_where, "country", prod_obj.get("country"), _PARTY_COUNTRIES),
            tax_id=None if tax_id is None else _string(prod_where, "tax_id", tax_id),
        )
    table = document.get("automotive_table")
    if table is not None:
        table = _choice(doc, "automotive_table", table, _AUTOMOTIVE_TABLES)
    vehicle = None if document.get("vehicle") is None else _vehicle(document["vehicle"])
    return _Header(good, as_of, currency, end_use, method, producer, table, vehicle,
                   {k: v for k, v in document.items() if k not in _TOP_LEVEL})


def bom_from_dict(
    document: Any,
    *,
    item_labels: Callable[[int], str] | None = None,
    line_labels: Callable[[int], str] | None = None,
    consume: bool = False,
) -> BillOfMaterials:
    """Validate a parsed `tmec-bom/1` document and build its `BillOfMaterials`.

    `consume` lets the reader release each raw item and line once validated (the caller
    owns the document and will not use it again): on a large BOM the freed memory is
    reused for the validated objects instead of growing the process.

    `item_labels` / `line_labels` turn an item or line position into the words used in
    messages (``items[3]`` by default; the CSV reader passes ``items.csv line 5``).
    Raises `BomError` naming the first problem found.
    """
    item_label = item_labels or (lambda n: f"items[{n}]")
    line_label = line_labels or (lambda n: f"lines[{n}]")
    header = _read_header(document)
    raw_items = document.get("items")
    if raw_items is None:
        raise BomError("field 'items' is required", path="items")
    if not isinstance(raw_items, list):
        raise BomError(f"field 'items' must be an array, got {_quote(raw_items)}", path="items")
    raw_lines = document.get("lines")
    if raw_lines is None:
        raise BomError("field 'lines' is required", path="lines")
    if not isinstance(raw_lines, list):
        raise BomError(f"field 'lines' must be an array, got {_quote(raw_lines)}", path="lines")

    items: dict[str, Item] = {}
    for n, raw in enumerate(raw_items):
        item = _parse_item(raw, _ItemWhere(n, item_label))
        if consume:
            raw_items[n] = None
        if item.id in items:
            first = next(i for i, other in enumerate(items) if other == item.id)
            raise BomError(f"{item_label(n)}: item id {item.id!r} is already used by "
                           f"{item_label(first)}", path=f"items[{n}].id")
        items[item.id] = item
    _check_good(header.good, items)
    lines, index, sources = _parse_lines(raw_lines, items, line_label, consume=consume)
    return _assemble(header, items, lines, index, sources)


def _check_good(good: str, items: Mapping[str, Item]) -> None:
    if good not in items:
        raise BomError(f"field 'good' names {good!r}, which is not an item id", path="good")
    if items[good].kind is not ItemKind.MADE:
        raise BomError(f"the good {good!r} must be a made item: origin is determined for what "
                       "this producer produces", path="good")


def _assemble(header: _Header, items: dict[str, Item], lines: tuple[Line, ...],
              index: BomIndex, sources: list[int]) -> BillOfMaterials:
    """The document's `BillOfMaterials`, once its graph is checked (see `_check_graph`)."""
    bom = BillOfMaterials(
        good=header.good, as_of=header.as_of, currency=header.currency, items=items,
        lines=lines, end_use=header.end_use, method=header.method, producer=header.producer,
        automotive_table=header.automotive_table, vehicle=header.vehicle,
        extensions=header.extensions,
    )
    bom.__dict__["index"] = index  # primes the cached property: built while reading lines
    _check_graph(bom, sources)
    return bom


def _line_problem(raw: Any, n: int, items: Mapping[str, Item],
                  line_label: Callable[[int], str]) -> NoReturn:
    """Name what is wrong with line `n` (the slow path, taken only for a bad line)."""
    where = _Where(line_label(n), f"lines[{n}]")
    if not isinstance(raw, Mapping):
        where.fail(None, f"must be an object, got {_quote(raw)}")
    parent, child = raw.get("parent"), raw.get("child")
    if type(parent) is not str or parent not in items:
        where.fail("parent", f"{_quote(parent)} is not an item id" if parent is not None
                   else "is required")
    if type(child) is not str or child not in items:
        where.fail("child", f"{_quote(child)} is not an item id" if child is not None
                   else "is required")
    where = _Where(f"{line_label(n)} ({parent} -> {child})", f"lines[{n}]")
    if items[parent].kind is not ItemKind.MADE:
        where.fail("parent", f"{parent!r} is a bought item and cannot have component lines")
    if parent == child:
        where.fail("child", f"an item cannot be a component of itself ({parent!r})")
    qty = raw.get("qty")
    if qty is None:
        where.fail("qty", "is required")
    _decimal(where, "qty", qty, positive=True)
    raise AssertionError(f"line {n} was refused but no problem was found")  # pragma: no cover


def _parse_lines(raw_lines: list[Any], items: Mapping[str, Item],
                 line_label: Callable[[int], str], *, consume: bool = False
                 ) -> tuple[tuple[Line, ...], BomIndex, list[int]]:
    """Validate the lines and build the engine's index of the graph in the same pass.

    The common case (a valid line) costs a few dictionary lookups; words for an error are
    built only when a line is wrong (`_line_problem`). Quantities repeat a lot (``"1"``,
    ``"2"``), so each distinct string is turned into a `Decimal` once.
    """
    ids = tuple(items)
    size = len(ids)
    position = {item_id: i for i, item_id in enumerate(ids)}
    made = [item.kind is ItemKind.MADE for item in items.values()]
    children: list[list[tuple[int, Decimal]]] = [[] for _ in range(size)]
    quantities: dict[str, Decimal] = {}
    lines: list[Line] = []
    indegree = [0] * size
    get_position = position.get
    for n, raw in enumerate(raw_lines):
        try:
            parent, child, qty = raw["parent"], raw["child"], raw["qty"]
            p, c = get_position(parent), get_position(child)
        except (TypeError, KeyError):
            _line_problem(raw, n, items, line_label)
        # Item ids are strings, so anything else is simply not found (p or c is None).
        if p is None or c is None or p == c or not made[p]:
            _line_problem(raw, n, items, line_label)
        value = quantities.get(qty) if type(qty) is str else None
        if value is None:
            if type(qty) is not str or not is_decimal_string(qty):
                _line_problem(raw, n, items, line_label)
            value = Decimal(qty)
            if value <= 0:
                _line_problem(raw, n, items, line_label)
            quantities[qty] = value
        lines.append(Line(parent, child, value, n))
        children[p].append((c, value))
        indegree[c] += 1
        if consume:
            raw_lines[n] = None
    return (tuple(lines), *_index(ids, position, children, indegree))


def _index(ids: tuple[str, ...], position: dict[str, int],
           children: list[list[tuple[int, Decimal]]], indegree: list[int]
           ) -> tuple[BomIndex, list[int]]:
    """The engine's index from validated lines, and the items that have no parent.

    Repeated parent/child pairs are summed into one edge; the order is Kahn's.
    """
    for p, kids in enumerate(children):  # a repeated parent/child pair: one summed edge
        if len(kids) > 1 and len(dict(kids)) != len(kids):
            merged: dict[int, Decimal] = {}
            for c, value in kids:
                if c in merged:
                    merged[c] += value
                    indegree[c] -= 1  # the repeated line is now part of one summed edge
                else:
                    merged[c] = value
            children[p] = list(merged.items())
    sources = [node for node, degree in enumerate(indegree) if degree == 0]
    return BomIndex(ids, position, children, topological_order(children, indegree, sources)), (
        sources)


def _check_graph(bom: BillOfMaterials, sources: list[int]) -> None:
    """The lines must form a DAG rooted at the good that reaches every item.

    Kahn's algorithm orders every item when there is no cycle; in a DAG every item is
    reachable from some item without a parent (a source), so when the good is the only
    source, everything is used in it and no separate walk is needed.
    """
    index = bom.index
    size = len(index.ids)
    if len(index.order) < size:
        raise BomError(f"the lines form a cycle: {' -> '.join(_find_cycle(bom))}", path="lines")
    root = index.position[bom.good]
    if sources != [root]:
        seen = bytearray(size)
        seen[root] = 1
        stack = [root]
        while stack:
            for child, _ in index.children[stack.pop()]:
                if not seen[child]:
                    seen[child] = 1
                    stack.append(child)
        missing = [index.ids[i] for i in range(size) if not seen[i]]
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise BomError(f"{len(missing)} item(s) are not used in the good {bom.good!r}: "
                       f"{shown}{more}", path="items")


def _find_cycle(bom: BillOfMaterials) -> list[str]:
    """One cycle among the items Kahn's algorithm could not order (error path only)."""
    index = bom.index
    ordered = set(index.order)
    remaining = [i for i in range(len(index.ids)) if i not in ordered]
    # Every remaining node lies on or after a cycle; walk children inside the remainder
    # until a node repeats.
    # Every item Kahn's algorithm could not order has a parent that it could not order
    # either (its in-degree never reached zero), so walking up parents inside the remainder
    # must come back to an item already seen: that loop is a cycle. (Walking down children
    # can dead-end on a material hanging below the cycle.)
    inside = set(remaining)
    parent_of: dict[int, int] = {}
    for parent in remaining:
        for child, _ in index.children[parent]:
            if child in inside:
                parent_of.setdefault(child, parent)
    node = remaining[0]
    path: list[int] = []
    where: dict[int, int] = {}
    while node not in where:
        where[node] = len(path)
        path.append(node)
        node = parent_of[node]
    cycle = [*path[where[node]:], node]
    cycle.reverse()
    return [index.ids[i] for i in cycle]


def _reject_constant(name: str) -> NoReturn:
    raise BomError(f"the JSON contains {name}, which is not a number; values are decimal "
                   "strings")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise BomError(f"the JSON repeats the key {duplicate!r} inside one object")
    return result


def parse_bom_json(text: str | bytes) -> BillOfMaterials:
    """Parse and validate a `tmec-bom/1` JSON document.

    Plain documents — the common case, and the large ones — are read by the fast path of
    `bulk_reader`; anything else, and every document with an error, by the exact reader
    below, which words the error. Both give the same `BillOfMaterials`.

    The cyclic garbage collector is paused while the document loads: a large BOM creates
    millions of containers and none of them can form a cycle, so collection passes would
    only cost time (about half the load time at a million items).
    """
    # Imported here: bulk_reader builds on this module.
    from origin_rules.bulk_reader import read_plain_json

    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            data = text.encode() if isinstance(text, str) else text
        except UnicodeEncodeError:  # lone surrogates: the exact reader decides
            data = None
        bom = None if data is None else read_plain_json(data)
        return bom if bom is not None else read_json_exactly(text)
    finally:
        if enabled:
            gc.enable()


def read_json_exactly(text: str | bytes) -> BillOfMaterials:
    """The exact reader of JSON documents: Python's decoder, then `bom_from_dict`.

    Refuses a repeated key in any object and the NaN / Infinity constants, and names the
    first problem of an invalid document. `parse_bom_json` is the entry point; this one is
    public for tests that compare the two paths.
    """
    try:
        document = json.loads(text, parse_constant=_reject_constant,
                              object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise BomError(f"the document is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise BomError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                       f"{exc.colno}") from exc
    except RecursionError as exc:
        raise BomError("the JSON is nested too deeply") from exc
    except BomError:
        raise
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise BomError(f"not valid JSON: {exc}") from exc
    return bom_from_dict(document, consume=True)


# ---------------------------------------------------------------------------------------
# Tables: CSV pair and Excel workbook (spec: CSV and Excel)

_BOOLEAN_COLUMNS = frozenset({"indirect", "packing", "retail_packaging", "intermediate"})
_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0"})


def _cell_text(value: Any, where: str, column: str) -> str | bool | None:
    """Normalise a table cell: blanks -> None, spreadsheet numbers -> decimal strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise BomError(f"{where}, column {column!r}: {value} has a time of day; a date "
                           "is expected")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BomError(f"{where}, column {column!r}: {value!r} is not a number")
        if column == "hs":
            # A spreadsheet turns 8708.30 into the number 8708.3; two decimals restore it.
            # Decide on the decimal the cell shows, never on float arithmetic.
            typed = Decimal(repr(value))
            if typed != typed.quantize(Decimal("0.01")) or not 1000 <= typed < 10000:
                raise BomError(f"{where}, column 'hs': HS code stored as the number {value!r}; "
                               "format the column as text so the code keeps its digits")
            return f"{typed:.2f}"
        # repr gives the shortest text that round-trips the cell's stored number, i.e. the
        # decimal the user typed; the value never takes part in arithmetic as a float.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    text = str(value).strip()
    return text or None


def _nest(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Turn ``costs.excluded.royalties`` style columns into nested objects."""
    nested: dict[str, Any] = {}
    rvc: list[dict[str, str]] = []
    for column, cell in row.items():
        if column is None:
            raise BomError(f"{where}: the row has more cells than the header has columns")
        name = column.strip()
        if not name:
            continue
        value: Any = _cell_text(cell, where, name)
        if value is None:
            continue
        if name in _BOOLEAN_COLUMNS:
            if isinstance(value, str):
                lowered = value.lower()
                if lowered in _TRUE:
                    value = True
                elif lowered in _FALSE:
                    value = False
                else:
                    raise BomError(f"{where}, column {name!r}: {value!r} is not true or false")
            if value is False:
                continue  # a table has every column on every row; "no" is as good as blank
        elif isinstance(value, bool):
            raise BomError(f"{where}, column {name!r}: expected text, got a boolean cell")
        if name == "rule.except":
            value = [p.strip() for p in re.split(r"[;,\s]+", str(value)) if p.strip()]
        if name.startswith("rule.rvc."):
            rvc.append({"method": name.removeprefix("rule.rvc."), "min": str(value)})
            continue
        target = nested
        *parents, leaf = name.split(".")
        for part in parents:
            existing = target.setdefault(part, {})
            if not isinstance(existing, dict):
                raise BomError(f"{where}: column {name!r} conflicts with column {part!r}")
            target = existing
        target[leaf] = value
    if rvc:
        nested.setdefault("rule", {})["rvc"] = rvc
    return nested


Rows = list[tuple[int, dict[str, Any]]]
"""Table rows with the row number a spreadsheet shows (header = row 1)."""


def _tables_to_bom(
    document_rows: Rows,
    item_rows: Rows,
    line_rows: Rows,
    overrides: Mapping[str, str | None],
    labels: tuple[str, str, str],
) -> BillOfMaterials:
    document_label, items_label, lines_label = labels
    document: dict[str, Any] = {"format": FORMAT_TAG}
    for number, row in document_rows:
        where = f"{document_label} row {number}"
        field = _cell_text(row.get("field"), where, "field")
        value = _cell_text(row.get("value"), where, "value")
        if field is None:
            continue
        if not isinstance(field, str):
            raise BomError(f"{where}: column 'field' must name a document field")
        if field in document and field != "format":
            raise BomError(f"{where}: field {field!r} is given twice")
        if field.startswith("producer."):
            document.setdefault("producer", {})[field.removeprefix("producer.")] = value
        else:
            document[field] = value
    for name, value in overrides.items():
        if value is not None:
            document[name] = value
    document["items"] = [_nest(row, f"{items_label} row {number}") for number, row in item_rows]
    document["lines"] = [_nest(row, f"{lines_label} row {number}") for number, row in line_rows]
    return bom_from_dict(
        document,
        item_labels=lambda n: f"{items_label} row {item_rows[n][0]}",
        line_labels=lambda n: f"{lines_label} row {line_rows[n][0]}",
    )


def _check_header(columns: Sequence[str | None], label: str) -> None:
    seen: set[str] = set()
    for column in columns:
        name = (column or "").strip()
        if name and name in seen:
            raise BomError(f"{label}: column {name!r} appears twice in the header")
        seen.add(name)


def _blank(row: Mapping[Any, Any]) -> bool:
    for value in row.values():
        values = value if isinstance(value, list) else [value]
        if any(v not in (None, "") and str(v).strip() for v in values):
            return False
    return True


def _csv_rows(text: str, label: str) -> Rows:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        if not reader.fieldnames:
            raise BomError(f"{label} is empty: it needs a header row")
        _check_header(reader.fieldnames, label)
        # Spreadsheets save blank rows as ",,,,": skip them like truly blank lines.
        return [(reader.line_num, row) for row in reader if not _blank(row)]
    except csv.Error as exc:
        raise BomError(f"{label}: not valid CSV ({exc})") from exc


def parse_bom_csv(
    items: str,
    lines: str,
    document: str | None = None,
    *,
    overrides: Mapping[str, str | None] | None = None,
    name: str = "bom",
) -> BillOfMaterials:
    """Parse a CSV pair (`NAME.items.csv`, `NAME.lines.csv`, optional `NAME.document.csv`).

    Columns are the JSON field names, nested ones flattened with dots (``costs.period``,
    ``statement.type``); ``rule.except`` lists prefixes separated by ``;`` and
    ``rule.rvc.net_cost`` / ``rule.rvc.transaction_value`` hold minimum percentages.
    `overrides` supplies or replaces top-level fields (command-line options). Row numbers
    in messages count the header as row 1, as a spreadsheet shows them.
    """
    return _tables_to_bom(
        _csv_rows(document, f"{name}.document.csv") if document is not None else [],
        _csv_rows(items, f"{name}.items.csv"),
        _csv_rows(lines, f"{name}.lines.csv"),
        overrides or {},
        (f"{name}.document.csv", f"{name}.items.csv", f"{name}.lines.csv"),
    )


def parse_bom_xlsx(data: bytes, *, overrides: Mapping[str, str | None] | None = None) -> (
    BillOfMaterials
):
    """Parse an Excel workbook with sheets `document` (optional), `items` and `lines`.

    Numeric cells are accepted and turned back into the decimal text the user typed; an HS
    code that the spreadsheet stored as a number (8708.3) is restored to two decimals.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise BomError(f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    try:
        sheets = {sheet.title.strip().lower(): sheet for sheet in workbook.worksheets}
        for required in ("items", "lines"):
            if required not in sheets:
                raise BomError(f"the workbook has no sheet named {required!r} (sheets: "
                               f"{', '.join(repr(s.title) for s in workbook.worksheets)})")

        def rows(title: str) -> Rows:
            values = sheets[title].iter_rows(values_only=True)
            header = next(values, None)
            if header is None:
                raise BomError(f"sheet {title!r} is empty: it needs a header row")
            columns = [None if h is None else str(h).strip() for h in header]
            _check_header(columns, f"sheet {title!r}")
            result: Rows = []
            for number, row in enumerate(values, start=2):
                if all(cell is None or cell == "" for cell in row):
                    continue
                record: dict[str, Any] = {}
                for position, cell in enumerate(row):
                    column = columns[position] if position < len(columns) else None
                    if column:
                        record[column] = cell
                    elif cell is not None and str(cell).strip():
                        raise BomError(f"sheet {title!r} row {number}: the row has more cells "
                                       "than the header has columns")
                result.append((number, record))
            return result

        return _tables_to_bom(
            rows("document") if "document" in sheets else [],
            rows("items"),
            rows("lines"),
            overrides or {},
            ("sheet 'document'", "sheet 'items'", "sheet 'lines'"),
        )
    finally:
        workbook.close()
