"""Read `tmec-bom/1` documents from JSON text, CSV tables or an Excel workbook.

Every reader ends in `bom_from_dict`, the one validator of the format
(`docs/bom-format.md`), so JSON, CSV and Excel give the same `BillOfMaterials` and the
same errors. Plain JSON documents take a faster route to the same result
(`bulk_reader`), which leaves everything it is unsure of, and every error, to this module.
Nothing here opens files: callers pass text or bytes (the CLI and the API do the I/O),
which keeps `origin_rules` pure.

Rejected, each with a message naming the item, line or field: a wrong `format` tag,
missing fields, JSON numbers where decimal strings are required, decimal strings longer
than the format's bounds (15 digits before the point, 12 after), negative values,
NaN/Infinity, unknown enum values, bad dates or HS codes, strings with lone UTF-16
surrogates, duplicate ids or keys, dangling line ends, cycles, and items not reachable from
the good. Unknown extra fields are allowed (the format is extensible) and ignored, except
top-level ones, which are kept in `BillOfMaterials.extensions`.

Every reader takes ``limits`` (`origin_rules.limits.ReadLimits`) and refuses what exceeds
them with `LimitError` before it costs unbounded time or memory: the document's bytes, the
rows of each table, the cells of a CSV table or worksheet, the bytes of one string, the
nesting of JSON, and what an Excel workbook's zip archive unpacks to
(`docs/bom-format.md`, "Read limits"). Messages quote at most 60 characters of a user's
value, so that an error is one readable line whatever the document holds.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import struct
import zipfile
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
    ShiftView,
    Statement,
    StatementType,
    SteelAluminumPurchases,
    TariffShift,
    VehicleData,
    topological_order,
)
from origin_rules.errors import BomError, LimitError, OriginRulesError
from origin_rules.limits import DEFAULT_LIMITS, EXCEL_MAX_ROWS, ReadLimits, exceeded
from origin_rules.values import (
    HS_PATTERN,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    decimal_bound_problem,
    is_decimal_string,
    parse_iso_date,
)

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
#: Top-level strings that choose a product-specific rule (docs/bom-format.md, "Extensions
#: the engine reads"): kept in `extensions`, but checked here like every field of the format.
_RULE_CHOICES = ("psr_provision", "psr_goods")
_BOUGHT_ONLY = ("unit_value", "origin", "country", "evidence", "deductions", "statement",
                "indirect", "packing", "retail_packaging")
_MADE_ONLY = ("costs", "transaction_value", "international_shipping", "intermediate", "rule",
              "tariff_shift_as")
_BOUGHT_ONLY_SET = frozenset(_BOUGHT_ONLY)
_MADE_ONLY_SET = frozenset(_MADE_ONLY)
_FLAGS = frozenset({"indirect", "packing", "retail_packaging"})


#: Characters of a user's value quoted in a message; the rest is counted, not shown.
_SHOWN = 60


def _clip(text: str) -> tuple[str, str]:
    """At most `_SHOWN` characters of `text`, and the words that say what was cut."""
    if len(text) <= _SHOWN:
        return text, ""
    return text[:_SHOWN] + "…", f" ({len(text)} characters)"


def _printable(text: str) -> str:
    """`text` with lone surrogates written as escapes, so that a message always prints."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _quote(value: Any) -> str:
    """Render a user value in a message: strings quoted (and cut), others by kind."""
    if isinstance(value, str):
        shown, cut = _clip(value)
        return _printable(json.dumps(shown, ensure_ascii=False)) + cut
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int) and value.bit_length() > 3 * _SHOWN:  # repr may refuse it
        return f"a number of more than {_SHOWN} digits"
    if isinstance(value, int | float):
        shown, cut = _clip(repr(value))
        return f"the number {shown}{cut}"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"


def _name(text: str) -> str:
    """An id or name in a message: its repr (escapes and all), cut like `_quote`."""
    shown, cut = _clip(text)
    return repr(shown) + cut


def _bare(text: str) -> str:
    """An id in running text without quotes (``caliper -> pad``), cut like `_quote`."""
    shown, cut = _clip(text)
    return _printable(shown) + cut


class _Where:
    """Where a value sits in the document, in words and as a machine path.

    Label and path may be given as functions: they are only needed when something is
    wrong, and building the words for every one of a million valid items would cost
    seconds. `max_string` is the bound on one string (`ReadLimits.max_string_bytes`),
    carried along so that every check of a string knows it.
    """

    __slots__ = ("_label", "_path", "max_string")

    def __init__(self, label: str | Callable[[], str], path: str | Callable[[], str],
                 max_string: int = DEFAULT_LIMITS.max_string_bytes) -> None:
        self._label = label
        self._path = path
        self.max_string = max_string

    @property
    def label(self) -> str:
        label = self._label
        return label if isinstance(label, str) else label()

    @property
    def path(self) -> str:
        path = self._path
        return path if isinstance(path, str) else path()

    def _at(self, field: str | None) -> tuple[str, str]:
        path = ".".join(p for p in (self.path, field) if p)
        where = f"{self.label}, field {field!r}" if field else self.label
        return where, path

    def fail(self, field: str | None, problem: str) -> NoReturn:
        where, path = self._at(field)
        raise BomError(f"{where}: {problem}", path=path)

    def exceed(self, field: str | None, problem: str, limit: str, maximum: int) -> NoReturn:
        """Raise the `LimitError` for `problem` (``"has more than 65536 bytes"``) here."""
        where, path = self._at(field)
        raise exceeded(f"{where}: {problem}", limit, maximum, path=path)


class _ItemWhere(_Where):
    """Where an item is, built cheaply per item; its words only when something is wrong."""

    __slots__ = ("_labels", "_n", "item_id")

    def __init__(self, n: int, labels: Callable[[int], str],
                 max_string: int = DEFAULT_LIMITS.max_string_bytes) -> None:
        self._n = n
        self._labels = labels
        self.item_id: str | None = None
        self.max_string = max_string

    @property
    def label(self) -> str:
        base = self._labels(self._n)
        return base if self.item_id is None else f"item {_name(self.item_id)} ({base})"

    @property
    def path(self) -> str:
        return f"items[{self._n}]"


def _text(where: _Where, field: str | None, text: str) -> None:
    r"""Refuse a string the BOM would keep that has a lone surrogate or is too long.

    JSON can write a lone UTF-16 surrogate (``"\ud800"``), which decodes to a Python
    string that is not text: printing it or writing it as UTF-8 (canonical JSON, the
    ledger) fails later with a UnicodeEncodeError, far from the document. ASCII strings,
    nearly all of them, are checked in constant time.
    """
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            where.fail(field, f"{_quote(text)} contains a lone UTF-16 surrogate (an unpaired "
                              "\\ud800-\\udfff escape), which is not a character")
    if size > where.max_string:
        where.exceed(field, f"{_quote(text)} has more than {where.max_string} bytes",
                     "max_string_bytes", where.max_string)


def _text_ok(text: str, max_string: int) -> bool:
    """`_text` as a test, for the checks that only decide (the fast path, lines)."""
    if text.isascii():
        return len(text) <= max_string
    try:
        return len(text.encode("utf-8")) <= max_string
    except UnicodeEncodeError:
        return False


_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]+\Z").match


def _decimal(where: _Where, field: str, raw: Any, *, positive: bool = False) -> Decimal:
    """A non-negative (or strictly positive) decimal from a decimal string.

    The string must be within the format's bounds (`values.decimal_bound_problem`): at most
    15 digits before the point and 12 after, so that no document value is absurd and no
    arithmetic of the engine can leave its context.
    """
    if type(raw) is not str:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            where.fail(field, f"must be a decimal string such as \"12.50\", got {_quote(raw)} "
                              "(JSON numbers are not accepted for money, quantities or percents)")
        where.fail(field, f"must be a decimal string such as \"12.50\", got {_quote(raw)}")
    if not is_decimal_string(raw):
        hint = ("; write decimals with a point (12.50), not a comma"
                if _COMMA_DECIMAL(raw.strip()) is not None else "")
        where.fail(field, f"{_quote(raw)} is not a decimal number{hint}")
    problem = decimal_bound_problem(raw)
    if problem is not None:
        where.fail(field, f"{_quote(raw)} {problem}")
    value = Decimal(raw)
    if value < 0:
        where.fail(field, f"must not be negative, got {raw}")
    if positive and value == 0:
        where.fail(field, "must be greater than zero")
    return value


#: A non-negative decimal string within the format's bounds: the common, valid case that
#: readers turn into a Decimal without building any error context.
_NON_NEGATIVE = re.compile(
    rf"(?:[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{0,{MAX_FRACTION_DIGITS}}})?"
    rf"|\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})\Z").match


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
    _text(where, field, raw)
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
                  lambda: ".".join(p for p in (where.path, field) if p), where.max_string)


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
    except_raw = obj.get("except")
    if except_raw is None:  # absent or null, like every optional field
        except_raw = []
    if not isinstance(except_raw, list):
        inner.fail("except", f"must be an array of HS prefixes, got {_quote(except_raw)}")
    excepted: list[str] = []
    for n, prefix in enumerate(except_raw):
        text = _string(inner, f"except[{n}]", prefix).replace(".", "")
        # ASCII digits only: str.isdigit also takes other scripts' digits ("٨٧"), which
        # no HS code of a material has, so such an exception would never apply.
        if not (text.isascii() and text.isdigit()) or len(text) not in (2, 4, 6, 8, 10):
            inner.fail(f"except[{n}]", f"{_quote(prefix)} is not an HS chapter, heading or "
                                       "subheading prefix (e.g. \"87\", \"8708\", \"8708.30\")")
        excepted.append(text)
    if excepted and shift is None:
        inner.fail("except", "exceptions need a tariff_shift to apply to")
    rvc_raw = obj.get("rvc")
    if rvc_raw is None:
        rvc_raw = []
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
    combine_raw = obj.get("combine")
    combine = "all" if combine_raw is None else _choice(inner, "combine", combine_raw,
                                                          ["all", "any"])
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
    max_string = where.max_string
    if not item_id.isascii() or len(item_id) > max_string:
        _text(where, "id", item_id)
    where.item_id = item_id
    hs = get("hs")
    if type(hs) is not str or HS_PATTERN.match(hs) is None:
        hs = _hs(where, "hs", hs)
    description = get("description")
    if type(description) is not str:
        description = _string(where, "description", description, empty=True)
    elif not description.isascii() or len(description) > max_string:
        _text(where, "description", description)
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
                                    or country.isspace() or not country.isascii()
                                    or len(country) > max_string):
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
        view_raw = get("tariff_shift_as")
        view = None if view_raw is None else ShiftView(
            _choice(where, "tariff_shift_as", view_raw, [v.value for v in ShiftView]))
        return Item(
            item_id, hs, description, ItemKind.MADE, costs=costs,
            transaction_value=transaction_value, international_shipping=shipping,
            intermediate=_boolean(where, "intermediate", get("intermediate")), rule=rule,
            tariff_shift_as=view,
        )
    if kind_raw is None:
        where.fail("kind", "is required (made or bought)")
    where.fail("kind", f"{_quote(kind_raw)} is not one of 'made', 'bought'")


def _vehicle(raw: Any, max_string: int) -> VehicleData:
    where = _Where("document", "")
    obj = _object(where, "vehicle", raw)
    inner = _Where("field 'vehicle'", "vehicle", max_string)
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


def nests_deeper(value: Any, level: int, maximum: int) -> bool:
    """True when `value`, an array or object at nesting `level`, nests deeper than `maximum`.

    Levels count containers from the document itself (1): a top-level field's array is at
    2, an item at 3. The measure of `nesting_exceeds`, on decoded values; iterative.
    """
    stack: list[tuple[Any, int]] = [(value, level)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > maximum:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _kept_as_is(name: str, value: Any, limits: ReadLimits) -> None:
    """Check a top-level extension, which the BOM keeps as it is: strings and nesting.

    Its strings (keys too) are refused like every string the BOM keeps (`_text`), and it
    may nest no deeper than `max_json_depth` counting the document itself as level 1.
    Iterative, so that a deep value given as a dict (not parsed JSON) cannot exhaust the
    stack before the limit says no.
    """
    where = _Where(f"field {_name(str(name))}", str(name), limits.max_string_bytes)
    if type(name) is str:
        _text(where, None, name)
    maximum = limits.max_json_depth
    stack: list[tuple[Any, int]] = [(value, 2)]
    while stack:
        node, level = stack.pop()
        if type(node) is str:
            if not node.isascii() or len(node) > where.max_string:
                _text(where, None, node)
        elif isinstance(node, Mapping | list):
            if level > maximum:
                where.exceed(None, f"nests more than {maximum} levels of arrays and objects "
                                   "deep (counting the document)", "max_json_depth", maximum)
            if isinstance(node, Mapping):
                for key, child in node.items():
                    if type(key) is str:
                        _text(where, None, key)
                    stack.append((child, level + 1))
            else:
                stack.extend((child, level + 1) for child in node)


def _read_header(document: Any, limits: ReadLimits = DEFAULT_LIMITS) -> _Header:
    """Validate the top level of a document (spec: Top level), in the order a user fixes it."""
    max_string = limits.max_string_bytes
    doc = _Where("document", "", max_string)
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
        prod_where = _Where("field 'producer'", "producer", max_string)
        tax_id = prod_obj.get("tax_id")
        producer = Producer(
            name=_string(prod_where, "name", prod_obj.get("name")),
            country=_choice(prod_where, "country", prod_obj.get("country"), _PARTY_COUNTRIES),
            tax_id=None if tax_id is None else _string(prod_where, "tax_id", tax_id),
        )
    table = document.get("automotive_table")
    if table is not None:
        table = _choice(doc, "automotive_table", table, _AUTOMOTIVE_TABLES)
    vehicle = (None if document.get("vehicle") is None
               else _vehicle(document["vehicle"], max_string))
    for choice in _RULE_CHOICES:  # kept among the extensions, read by the engine
        value = document.get(choice)
        if value is not None and (type(value) is not str or not value.strip()):
            raise BomError(f"field {choice!r} must be a non-empty string, got {_quote(value)}",
                           path=choice)
    extensions = {k: v for k, v in document.items() if k not in _TOP_LEVEL}
    for name, value in extensions.items():
        _kept_as_is(name, value, limits)
    return _Header(good, as_of, currency, end_use, method, producer, table, vehicle,
                   extensions)


def bom_from_dict(
    document: Any,
    *,
    item_labels: Callable[[int], str] | None = None,
    line_labels: Callable[[int], str] | None = None,
    consume: bool = False,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> BillOfMaterials:
    """Validate a parsed `tmec-bom/1` document and build its `BillOfMaterials`.

    `consume` lets the reader release each raw item and line once validated (the caller
    owns the document and will not use it again): on a large BOM the freed memory is
    reused for the validated objects instead of growing the process.

    `item_labels` / `line_labels` turn an item or line position into the words used in
    messages (``items[3]`` by default; the CSV reader passes ``items.csv row 5``).
    Raises `BomError` naming the first problem found, `LimitError` for more items or lines
    than `limits.max_rows`, or a string the BOM keeps longer than `limits.max_string_bytes`
    (the nesting of extensions is bounded by `limits.max_json_depth`).
    """
    item_label = item_labels or (lambda n: f"items[{n}]")
    line_label = line_labels or (lambda n: f"lines[{n}]")
    header = _read_header(document, limits)
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
    check_rows(len(raw_items), "items", limits.max_rows)
    check_rows(len(raw_lines), "lines", limits.max_rows)

    items: dict[str, Item] = {}
    max_string = limits.max_string_bytes
    for n, raw in enumerate(raw_items):
        item = _parse_item(raw, _ItemWhere(n, item_label, max_string))
        if consume:
            raw_items[n] = None
        if item.id in items:
            first = next(i for i, other in enumerate(items) if other == item.id)
            raise BomError(f"{item_label(n)}: item id {_name(item.id)} is already used by "
                           f"{item_label(first)}", path=f"items[{n}].id")
        items[item.id] = item
    _check_good(header.good, items)
    lines, index, sources = _parse_lines(raw_lines, items, line_label, consume=consume)
    return _assemble(header, items, lines, index, sources, item_label, line_label)


def check_rows(count: int, what: str, maximum: int) -> None:
    """Refuse more `what` (items, lines) than `ReadLimits.max_rows` allows."""
    if count > maximum:
        raise exceeded(f"the document has more than {maximum} {what}", "max_rows", maximum,
                       path=what)


def _check_good(good: str, items: Mapping[str, Item]) -> None:
    if good not in items:
        raise BomError(f"field 'good' names {_name(good)}, which is not an item id",
                       path="good")
    if items[good].kind is not ItemKind.MADE:
        raise BomError(f"the good {_name(good)} must be a made item: origin is determined for "
                       "what this producer produces", path="good")


def _assemble(header: _Header, items: dict[str, Item], lines: tuple[Line, ...],
              index: BomIndex, sources: list[int],
              item_label: Callable[[int], str] = "items[{}]".format,
              line_label: Callable[[int], str] = "lines[{}]".format) -> BillOfMaterials:
    """The document's `BillOfMaterials`, once its graph is checked (see `_check_graph`)."""
    bom = BillOfMaterials(
        good=header.good, as_of=header.as_of, currency=header.currency, items=items,
        lines=lines, end_use=header.end_use, method=header.method, producer=header.producer,
        automotive_table=header.automotive_table, vehicle=header.vehicle,
        extensions=header.extensions,
    )
    bom.__dict__["index"] = index  # primes the cached property: built while reading lines
    _check_graph(bom, sources, item_label, line_label)
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
    where = _Where(f"{line_label(n)} ({_bare(parent)} -> {_bare(child)})", f"lines[{n}]")
    if items[parent].kind is not ItemKind.MADE:
        where.fail("parent", f"{_name(parent)} is a bought item and cannot have component "
                             "lines")
    if parent == child:
        where.fail("child", f"an item cannot be a component of itself ({_name(parent)})")
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
            if type(qty) is not str or _NON_NEGATIVE(qty) is None:
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


def _check_graph(bom: BillOfMaterials, sources: list[int],
                 item_label: Callable[[int], str] = "items[{}]".format,
                 line_label: Callable[[int], str] = "lines[{}]".format) -> None:
    """The lines must form a DAG rooted at the good that reaches every item.

    Kahn's algorithm orders every item when there is no cycle; in a DAG every item is
    reachable from some item without a parent (a source), so when the good is the only
    source, everything is used in it and no separate walk is needed. The messages name the
    lines of a cycle and the items left out by their place in the document (a CSV row).
    """
    index = bom.index
    size = len(index.ids)
    if len(index.order) < size:
        cycle = _find_cycle(bom)
        first_line: dict[tuple[str, str], int] = {}
        for line in bom.lines:
            first_line.setdefault((line.parent, line.child), line.position)
        rows = [line_label(first_line[step]) for step in itertools.pairwise(cycle)]
        if len(cycle) > 11:  # a long cycle: its ends are enough to find it
            steps = (" -> ".join(_bare(i) for i in cycle[:5]) + f" -> … ({len(cycle) - 1} "
                     "items) … -> " + " -> ".join(_bare(i) for i in cycle[-5:]))
            rows = [*rows[:4], "…", *rows[-4:]]
        else:
            steps = " -> ".join(_bare(i) for i in cycle)
        raise BomError(f"{', '.join(rows)}: the lines form a cycle: {steps}", path="lines")
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
        missing = [i for i in range(size) if not seen[i]]
        shown = ", ".join(f"{_name(index.ids[i])} ({item_label(i)})" for i in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise BomError(f"{len(missing)} item(s) are not used in the good {_name(bom.good)}: "
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


#: Characters of a JSON number the exact reader converts. No field of the format is a
#: number, so a number only matters as an extension's value or as a mistake to name; a
#: longer one is refused in our words before Python's int() refuses it in its own (beyond
#: 4,300 digits, with advice about sys.set_int_max_str_digits that helps no user).
MAX_JSON_NUMBER_CHARS = 100


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        if len(text) > MAX_JSON_NUMBER_CHARS:
            raise BomError(f"the JSON has a number of {len(text)} characters (at most "
                           f"{MAX_JSON_NUMBER_CHARS}); money, quantities and percentages are "
                           "decimal strings such as \"12.50\"")
        return kind(text)

    return convert


_parse_int = _number(int)
_parse_float = _number(float)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise BomError(f"the JSON repeats the key {_name(duplicate)} inside one object")
    return result


def decode_json(text: str | bytes) -> Any:
    """Python's JSON decoder with the format's refusals, every failure a `BomError`.

    Refuses a repeated key in any object, the NaN / Infinity constants and numbers longer
    than `MAX_JSON_NUMBER_CHARS`. Shared by the exact reader and the fast path (for the
    small top-level values), so that both decode alike.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int,
                          parse_float=_parse_float, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise BomError(f"the document is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise BomError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                       f"{exc.colno}") from exc
    except RecursionError as exc:
        raise BomError("the JSON is nested too deeply for the decoder") from exc
    except BomError:
        raise
    except ValueError as exc:  # pragma: no cover - the hooks refuse what int() would
        raise BomError(f"not valid JSON: {_clip(str(exc))[0]}") from exc


# Bytes that matter to nesting: quotes (strings) and brackets; `translate` deletes the rest.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_CLOSE_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


def nesting_exceeds(data: bytes, maximum: int) -> bool:
    r"""True when the JSON text nests arrays and objects more than `maximum` levels deep.

    Decided on the text, before decoding, at the speed of bytes operations (about 0.15 s
    for a 100k-item document): escapes are dropped (``\\`` first, then ``\"``), every
    byte but quotes and brackets deleted, the now empty strings (``""``) removed, and then
    each round removes the innermost ``[]`` pairs (objects count like arrays) — a text
    nested no deeper than `maximum` is empty after `maximum` rounds. A string that holds
    brackets takes a slower split of the skeleton. Malformed JSON may give either answer;
    the decoder names its error.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = data.translate(None, _NOT_STRUCTURE)
    brackets = skeleton.replace(b'""', b"")
    if b'"' in brackets:  # some string holds a bracket: drop what lies between quotes
        brackets = b"".join(skeleton.split(b'"')[::2])
    brackets = brackets.translate(_CLOSE_AS_SQUARE)
    if b"[" * (maximum + 1) in brackets:
        return True
    for _ in range(maximum):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets


def parse_bom_json(text: str | bytes, *, limits: ReadLimits = DEFAULT_LIMITS) -> (
    BillOfMaterials
):
    """Parse and validate a `tmec-bom/1` JSON document.

    Plain documents — the common case, and the large ones — are read by the fast path of
    `bulk_reader`; anything else, and every document with an error, by the exact reader
    below, which words the error. Both give the same `BillOfMaterials` and apply the same
    `limits` (a document larger than `limits.max_document_bytes` is refused unread).

    The library leaves the cyclic garbage collector alone (no process-wide side effects):
    a large BOM creates millions of containers, none of which can form a cycle, so a
    caller loading one may pause the collector around the call, as the CLI does.
    """
    # Imported here: bulk_reader builds on this module.
    from origin_rules.bulk_reader import read_plain_json

    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # lone surrogates: the exact reader decides
        data = None
    _check_size(len(text) if data is None else len(data), limits)
    bom = None if data is None else read_plain_json(data, limits=limits)
    return bom if bom is not None else read_json_exactly(text, limits=limits)


def _check_size(size: int, limits: ReadLimits, what: str = "the document") -> None:
    maximum = limits.max_document_bytes
    if size > maximum:
        raise exceeded(f"{what} has more than {maximum} bytes", "max_document_bytes", maximum)


def read_json_exactly(text: str | bytes, *, limits: ReadLimits = DEFAULT_LIMITS) -> (
    BillOfMaterials
):
    """The exact reader of JSON documents: Python's decoder, then `bom_from_dict`.

    Refuses what `decode_json` refuses and a text nested deeper than
    `limits.max_json_depth` (`nesting_exceeds`, before decoding), and names the first
    problem of an invalid document. `parse_bom_json` is the entry point; this one is
    public for tests that compare the two paths.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    _check_size(len(data), limits)
    if nesting_exceeds(data, limits.max_json_depth):
        maximum = limits.max_json_depth
        raise exceeded(f"the JSON is nested too deeply: more than {maximum} levels of arrays "
                       "and objects", "max_json_depth", maximum)
    del data
    return bom_from_dict(decode_json(text), consume=True, limits=limits)


# ---------------------------------------------------------------------------------------
# Tables: CSV pair and Excel workbook (spec: CSV and Excel)

_BOOLEAN_COLUMNS = frozenset({"indirect", "packing", "retail_packaging", "intermediate"})
_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0"})
_REQUIRED_TOP = frozenset({"good", "as_of", "currency"})
#: Top-level objects whose fields the document table gives as dotted rows.
_NESTED_TOP = ("producer", "vehicle")


def _cell_text(value: Any, where: str, column: str, max_string: int) -> str | bool | None:
    """Normalise a table cell: blanks -> None, spreadsheet numbers -> decimal strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise BomError(f"{where}, column {_name(column)}: {value} has a time of day; a "
                           "date is expected")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        if value.bit_length() > 3 * _SHOWN:  # str() refuses beyond 4,300 digits
            raise BomError(f"{where}, column {_name(column)}: the cell holds a number of more "
                           f"than {_SHOWN} digits")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BomError(f"{where}, column {_name(column)}: {value!r} is not a number")
        if column == "hs":
            # A spreadsheet turns 8708.30 into the number 8708.3; two decimals restore it.
            # Decide on the decimal the cell shows, never on float arithmetic.
            typed = Decimal(repr(value))
            if not 1000 <= typed < 10000 or typed != typed.quantize(Decimal("0.01")):
                raise BomError(f"{where}, column 'hs': HS code stored as the number {value!r}; "
                               "format the column as text so the code keeps its digits")
            return f"{typed:.2f}"
        # repr gives the shortest text that round-trips the cell's stored number, i.e. the
        # decimal the user typed; the value never takes part in arithmetic as a float.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    text = str(value)
    if len(text) * 4 > max_string and len(text.encode("utf-8", "surrogatepass")) > max_string:
        raise exceeded(f"{where}, column {_name(column)}: the cell has more than {max_string} "
                       "bytes", "max_string_bytes", max_string)
    return text.strip() or None


def _nest(row: Mapping[str, Any], where: str, max_string: int) -> dict[str, Any]:
    """Turn ``costs.excluded.royalties`` style columns into nested objects."""
    nested: dict[str, Any] = {}
    rvc: list[dict[str, str]] = []
    for column, cell in row.items():
        name = column.strip()
        if not name:
            continue
        value: Any = _cell_text(cell, where, name, max_string)
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
                    raise BomError(f"{where}, column {name!r}: {_name(value)} is not true or "
                                   "false")
            if value is False:
                continue  # a table has every column on every row; "no" is as good as blank
        elif isinstance(value, bool):
            raise BomError(f"{where}, column {_name(name)}: expected text, got a boolean cell")
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
                raise BomError(f"{where}: column {_name(name)} conflicts with column "
                               f"{_name(part)}")
            target = existing
        target[leaf] = value
    if rvc:
        nested.setdefault("rule", {})["rvc"] = rvc
    return nested


Rows = list[tuple[int, dict[str, Any]]]
"""Table rows with the row number a spreadsheet shows (header = row 1)."""


def _override_words(name: str) -> str:
    return f"override {name!r}"


def _tables_to_bom(
    document_rows: Rows,
    item_rows: Rows,
    line_rows: Rows,
    overrides: Mapping[str, str | None],
    labels: tuple[str, str, str],
    limits: ReadLimits,
    override_label: Callable[[str], str],
) -> BillOfMaterials:
    """The document the three tables describe, validated by `bom_from_dict`.

    Where a top-level field came from (a row of the document table, an override) is kept,
    so that an error about it names that row or option, as errors about items and lines
    name their rows.
    """
    document_label, items_label, lines_label = labels
    max_string = limits.max_string_bytes
    document: dict[str, Any] = {"format": FORMAT_TAG}
    sources: dict[str, str] = {}
    for number, row in document_rows:
        where = f"{document_label} row {number}"
        field = _cell_text(row.get("field"), where, "field", max_string)
        value = _cell_text(row.get("value"), where, "value", max_string)
        if field is None:
            continue
        if not isinstance(field, str):
            raise BomError(f"{where}: column 'field' must name a document field")
        if field in document and field != "format":
            raise BomError(f"{where}: field {_name(field)} is given twice")
        if field in ("items", "lines"):
            raise BomError(f"{where}: {field} come from their own table, not from a field "
                           "of the document table")
        sources[field] = where
        head, dot, rest = field.partition(".")
        if dot and head in _NESTED_TOP:
            # producer.name, vehicle.steel_aluminum.steel.total: the objects of the format
            # as dotted rows (tools/bom_to_tables.py writes them so)
            target = document.setdefault(head, {})
            if not isinstance(target, dict):
                raise BomError(f"{where}: field {_name(field)} cannot be given with a field "
                               f"{head!r} ({sources[head]})")
            sources.setdefault(head, where)
            *parents, leaf = rest.split(".")
            for part in parents:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise BomError(f"{where}: field {_name(field)} conflicts with an earlier "
                                   "row of the document table")
            if leaf in target:
                raise BomError(f"{where}: field {_name(field)} is given twice")
            target[leaf] = value
        else:
            document[field] = value
    for name, value in overrides.items():
        if value is not None:
            document[name] = value
            sources[name] = override_label(name)
    document["items"] = [_nest(row, f"{items_label} row {number}", max_string)
                         for number, row in item_rows]
    document["lines"] = [_nest(row, f"{lines_label} row {number}", max_string)
                         for number, row in line_rows]
    try:
        return bom_from_dict(
            document,
            item_labels=lambda n: f"{items_label} row {item_rows[n][0]}",
            line_labels=lambda n: f"{lines_label} row {line_rows[n][0]}",
            limits=limits,
        )
    except BomError as exc:
        path = exc.path or ""
        field = path.split("[")[0]
        source = sources.get(field, sources.get(field.split(".")[0]))
        if source is not None:
            raise _reworded(exc, f"{source}: {exc.message}") from exc
        if field in _REQUIRED_TOP and exc.message.endswith("is required"):
            raise _reworded(exc, f"{exc.message}: give it in a row of {document_label} or as "
                                 f"{override_label(field)}") from exc
        raise


def _reworded(exc: BomError, message: str) -> BomError:
    """The same error (class, limit, path) with a message that says where it came from."""
    if isinstance(exc, LimitError):
        return LimitError(message, limit=exc.limit, maximum=exc.maximum, path=exc.path)
    return BomError(message, path=exc.path)


def _check_header(columns: Sequence[str], label: str) -> None:
    seen: set[str] = set()
    for column in columns:
        name = column.strip()
        if name and name in seen:
            raise BomError(f"{label}: column {_name(name)} appears twice in the header")
        seen.add(name)


class _TableCounter:
    """Rows and cells of one table, counted as they are read, against the limits.

    Blank rows count: they cost reading like any other (a sheet of 5 million empty rows
    was one of the attacks that showed the need).
    """

    __slots__ = ("cells", "label", "max_cells", "max_rows", "sheet_rows")

    def __init__(self, label: str, limits: ReadLimits, *, sheet: bool = False) -> None:
        self.label = label
        self.max_rows, self.max_cells = limits.max_rows, limits.max_cells
        self.sheet_rows = EXCEL_MAX_ROWS if sheet else None
        self.cells = 0

    def row(self, number: int, width: int) -> None:
        """Count row `number` (1 = header) of `width` cells."""
        if number > self.max_rows:
            raise exceeded(f"{self.label} has more than {self.max_rows} rows", "max_rows",
                           self.max_rows)
        if self.sheet_rows is not None and number > self.sheet_rows:
            raise BomError(f"{self.label} has more than {self.sheet_rows} rows, more than an "
                           "Excel sheet can hold; the workbook is damaged or not a BOM")
        self.cells += width
        if self.cells > self.max_cells:
            raise exceeded(f"{self.label} has more than {self.max_cells} cells", "max_cells",
                           self.max_cells)


def csv_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``.

    Spreadsheets in locales that write decimals with a comma (Spanish, French, German...)
    save "CSV" with semicolons; the header, made of field names only, tells which one a
    file uses (`docs/bom-format.md`, "CSV and Excel"). Decimals stay with a point.
    """
    end = text.find("\n")
    header = text if end < 0 else text[:end]
    return ";" if header.count(";") > header.count(",") else ","


def _csv_rows(text: str, label: str, limits: ReadLimits) -> Rows:
    """The non-blank records of a CSV table, numbered as a spreadsheet shows them.

    Records are counted, not lines: a quoted cell may hold a line break, and a spreadsheet
    shows that record as one row. Blank records (an empty line, or only separators, as a
    spreadsheet saves an empty row) are skipped but counted.
    """
    size = len(text) if len(text) * 4 <= limits.max_document_bytes else len(
        text.encode("utf-8", "surrogatepass"))
    _check_size(size, limits, label)
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text))
    counter = _TableCounter(label, limits)
    number = 1
    try:
        header = next(reader, None)
        if header is None:
            raise BomError(f"{label} is empty: it needs a header row")
        if not any(cell.strip() for cell in header):
            raise BomError(f"{label} row 1 is blank: the first row must be the header (the "
                           "column names)")
        counter.row(1, len(header))
        columns = [cell.strip() for cell in header]
        _check_header(columns, label)
        width = len(columns)
        rows: Rows = []
        for number, record in enumerate(reader, start=2):
            counter.row(number, len(record))
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                raise BomError(f"{label} row {number}: the row has more cells than the header "
                               "has columns")
            rows.append((number, dict(zip(columns, record, strict=False))))
        return rows
    except csv.Error as exc:
        raise BomError(f"{label}: not valid CSV (row {number}: {exc})") from exc


def parse_bom_csv(
    items: str,
    lines: str,
    document: str | None = None,
    *,
    overrides: Mapping[str, str | None] | None = None,
    name: str = "bom",
    limits: ReadLimits = DEFAULT_LIMITS,
    override_label: Callable[[str], str] = _override_words,
) -> BillOfMaterials:
    """Parse a CSV pair (`NAME.items.csv`, `NAME.lines.csv`, optional `NAME.document.csv`).

    Columns are the JSON field names, nested ones flattened with dots (``costs.period``,
    ``statement.type``); ``rule.except`` lists prefixes separated by ``;`` and
    ``rule.rvc.net_cost`` / ``rule.rvc.transaction_value`` hold minimum percentages. Each
    table is separated by commas or, when its header line says so, semicolons
    (`csv_delimiter`). `overrides` supplies or replaces top-level fields (command-line
    options; `override_label` words where one came from, ``option --good``). Row numbers in
    messages count the header as row 1, as a spreadsheet shows them. Each table is bounded
    by `limits` (bytes, rows, cells, bytes of a cell).
    """
    return _tables_to_bom(
        _csv_rows(document, f"{name}.document.csv", limits) if document is not None else [],
        _csv_rows(items, f"{name}.items.csv", limits),
        _csv_rows(lines, f"{name}.lines.csv", limits),
        overrides or {},
        (f"{name}.document.csv", f"{name}.items.csv", f"{name}.lines.csv"),
        limits,
        override_label,
    )


#: Parts above this size must not unpack more than `max_compression_ratio` times their
#: packed size; small parts (styles, relationships) may compress better without harm.
_RATIO_GRACE = 1024 * 1024
_EOCD, _EOCD64, _EOCD64_LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


def _zip_directory(data: bytes) -> tuple[int, int] | None:
    """Parts and central-directory bytes a zip archive declares (None: not a zip).

    Read from the end-of-central-directory record (and its zip64 form), before zipfile
    reads the directory itself: that costs time and memory for every part listed.
    """
    end = data.rfind(_EOCD, max(0, len(data) - 22 - 65_535))
    if end < 0 or end + 22 > len(data):
        return None
    parts, size = struct.unpack_from("<HI", data, end + 10)
    locator = end - 20
    if (parts == 0xFFFF or size == 0xFFFFFFFF) and locator >= 0 and data.startswith(
            _EOCD64_LOCATOR, locator):
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data.startswith(_EOCD64, offset):
            parts, size = struct.unpack_from("<QQ", data, offset + 32)
    return parts, size


def _check_archive(data: bytes, limits: ReadLimits) -> None:
    """Bound what openpyxl will inflate, from the zip's directory, before it opens the file.

    Refuses more parts than `max_zip_members`, a declared unpacked total above
    `max_unpacked_bytes`, and a part above 1 MiB that unpacks more than
    `max_compression_ratio` times its packed size. Python's zipfile inflates no part beyond
    the size its directory entry declares (it stops there and fails the CRC), so the
    declared sizes bound what is read. An archive zipfile cannot read at all is left to
    openpyxl, whose error is the one reported.
    """
    directory = _zip_directory(data)
    if directory is None:
        return
    parts, size = directory
    maximum = limits.max_zip_members
    # A directory entry takes at least 46 bytes plus its name: 1 KiB each is generous.
    if parts > maximum or size > maximum * 1024:
        raise exceeded(f"the workbook has more than {maximum} parts", "max_zip_members",
                       maximum)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception:  # zipfile raises many types for a damaged archive; openpyxl words it
        return
    if len(infos) > maximum:
        raise exceeded(f"the workbook has more than {maximum} parts", "max_zip_members",
                       maximum)
    total, unpacked, ratio = 0, limits.max_unpacked_bytes, limits.max_compression_ratio
    for info in infos:
        total += info.file_size
        if total > unpacked:
            raise exceeded(f"the workbook unpacks to more than {unpacked} bytes",
                           "max_unpacked_bytes", unpacked)
        if info.file_size > _RATIO_GRACE and info.file_size > ratio * max(info.compress_size, 1):
            times = info.file_size // max(info.compress_size, 1)
            raise exceeded(f"the workbook part {_name(info.filename)} unpacks to {times} times "
                           f"its packed size (a zip bomb?)", "max_compression_ratio", ratio)
    cells = strings = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in infos:
                part_cells, part_strings = _count_elements(archive, info, limits)
                cells, strings = cells + part_cells, strings + part_strings
    except OriginRulesError:
        raise
    except Exception as exc:  # zipfile and zlib raise many types for a damaged part
        raise BomError(f"not a readable Excel workbook ({type(exc).__name__}: "
                       f"{_clip(str(exc))[0]})") from exc
    # A writer stores a shared string for cells that show it (Excel and LibreOffice drop
    # unused ones): a table far larger than the cells is a bomb, whatever its ratio.
    if strings > cells + _SPARE_STRINGS:
        raise BomError(f"the workbook's shared-strings table has {strings} strings for "
                       f"{cells} cells; the workbook is damaged or not a BOM")


#: Shared strings a workbook may hold beyond one per cell (left over by some writers).
_SPARE_STRINGS = 10_000
#: The start tags of a row, a cell and a shared string, with any namespace prefix.
_COUNTED = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|si)[\s/>]")


def _count_elements(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                    limits: ReadLimits) -> tuple[int, int]:
    """Refuse a part with more rows, cells or shared strings than the limits allow.

    openpyxl reads a sheet without a ``<dimension>`` from end to end when it opens the
    workbook, keeping an element per row, and reads the whole shared-strings table into a
    list: a 12 MB file of 5 million numbered empty rows (which deflate only 7 times, below
    the ratio guard) took 10 s and 580 MB there before a single row was counted. Counting
    the start tags of the inflated XML (in 1 MiB chunks, at regex speed) refuses such a
    part first. Any part is scanned, whatever its name, since the workbook's own
    relationships say which part is a sheet; a part of at most 1 MiB is refused by the
    count of its sheet instead, which names the sheet. Returns the part's cells and shared
    strings.
    """
    rows_max = min(limits.max_rows, EXCEL_MAX_ROWS)
    rows = cells = strings = 0
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(1024 * 1024):
            data = tail + chunk
            # Every tag starts at a "<" and holds no other: the text before the last "<" has
            # only whole tags; the rest waits for the next chunk.
            end = data.rfind(b"<")
            found = _COUNTED.findall(data, 0, max(end, 0))
            tail = data[end:] if end >= 0 else b""
            rows += found.count(b"row")
            cells += found.count(b"c")
            strings += found.count(b"si")
            if rows > rows_max or cells > limits.max_cells or strings > limits.max_cells:
                break
    if info.file_size <= _RATIO_GRACE:
        return cells, strings  # cheap to read: the sheet's own count names the sheet
    name = _name(info.filename)
    if rows > limits.max_rows:
        raise exceeded(f"the workbook part {name} has more than {limits.max_rows} rows",
                       "max_rows", limits.max_rows)
    if rows > EXCEL_MAX_ROWS:
        raise BomError(f"the workbook part {name} has more than {EXCEL_MAX_ROWS} rows, more "
                       "than an Excel sheet can hold; the workbook is damaged or not a BOM")
    if cells > limits.max_cells or strings > limits.max_cells:
        what = "cells" if cells > limits.max_cells else "shared strings"
        raise exceeded(f"the workbook part {name} has more than {limits.max_cells} {what}",
                       "max_cells", limits.max_cells)
    return cells, strings


def _sheet_rows(sheet: Any, title: str, limits: ReadLimits) -> Rows:
    """The non-blank rows of a worksheet, numbered as Excel shows them (header = 1).

    The sheet's declared dimensions are ignored (`reset_dimensions`): a workbook can claim
    16,384 columns or a million rows it does not have, and openpyxl would pad every row to
    them. Rows the sheet skips still come (empty) and count. Anything openpyxl raises while
    it reads — truncated or malformed XML among them — is a `BomError` naming the sheet.
    """
    label = f"sheet {title!r}"
    counter = _TableCounter(label, limits, sheet=True)
    max_string = limits.max_string_bytes
    number = 0
    try:
        sheet.reset_dimensions()
        values = iter(sheet.iter_rows(values_only=True))
        header = next(values, None)
        if header is None:
            raise BomError(f"sheet {title!r} is empty: it needs a header row")
        number = 1
        counter.row(1, len(header))
        if all(cell is None or cell == "" for cell in header):
            raise BomError(f"{label} row 1 is blank: the first row must be the header (the "
                           "column names)")
        columns = [_cell_text(h, f"{label} row 1", "header", max_string) for h in header]
        names = ["" if c is None else c if isinstance(c, str) else str(c) for c in columns]
        _check_header(names, label)
        width = len(names)
        result: Rows = []
        for number, row in enumerate(values, start=2):
            counter.row(number, len(row))
            if not row or all(cell is None or cell == "" for cell in row):
                continue
            record: dict[str, Any] = {}
            for position, cell in enumerate(row):
                column = names[position] if position < width else ""
                if column:
                    record[column] = cell
                elif position >= width and cell is not None and str(cell).strip():
                    raise BomError(f"{label} row {number}: the row has more cells than the "
                                   "header has columns")
            result.append((number, record))
        return result
    except OriginRulesError:
        raise
    except Exception as exc:  # openpyxl and its XML parser raise many unrelated types
        raise BomError(f"{label} is not readable after row {number} "
                       f"({type(exc).__name__}: {_clip(str(exc))[0]})") from exc


def _unreadable_workbook(exc: BaseException) -> BomError:
    """The error for a workbook openpyxl cannot read, naming the cause.

    openpyxl wraps what its XML parser refused in a generic "Unable to read workbook";
    the reason is the exception it wraps. Entity declarations are refused whichever
    parser reads them: expat 2.4+ ("amplification") or defusedxml (`EntitiesForbidden`,
    used by openpyxl whenever it is installed), so an entity-expansion bomb never expands.
    """
    root: BaseException = exc
    inner = exc.__cause__ or exc.__context__
    if inner is not None and str(exc).startswith("Unable to read workbook"):
        root = inner  # openpyxl's wrapper: what it wraps says why
    if type(root).__name__ in ("EntitiesForbidden", "DTDForbidden"):
        return BomError("not a readable Excel workbook (its XML declares entities, which "
                        "are refused: an entity-expansion bomb?)")
    return BomError(f"not a readable Excel workbook ({type(root).__name__}: "
                    f"{_clip(str(root))[0]})")


def parse_bom_xlsx(data: bytes, *, overrides: Mapping[str, str | None] | None = None,
                   limits: ReadLimits = DEFAULT_LIMITS,
                   override_label: Callable[[str], str] = _override_words) -> BillOfMaterials:
    """Parse an Excel workbook with sheets `document` (optional), `items` and `lines`.

    Numeric cells are accepted and turned back into the decimal text the user typed; an HS
    code that the spreadsheet stored as a number (8708.3) is restored to two decimals.
    The zip archive is checked against `limits` before openpyxl opens it
    (`_check_archive`), and every sheet is bounded in rows and cells as it is read.
    """
    _check_size(len(data), limits, "the workbook")
    _check_archive(data, limits)
    try:  # here, not at the top: openpyxl is the optional `excel` extra
        from openpyxl import load_workbook
    except ImportError as missing:  # not installed, or installed broken
        raise OriginRulesError(
            f"reading Excel workbooks needs the 'excel' extra ({missing.name or 'openpyxl'} "
            "cannot be imported): pip install 'tmec-ledger[excel]', or give the BOM as JSON "
            "or a CSV pair") from None

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise _unreadable_workbook(exc) from exc
    try:
        try:
            sheets = {sheet.title.strip().lower(): sheet for sheet in workbook.worksheets}
        except Exception as exc:  # a sheet openpyxl cannot even size
            raise _unreadable_workbook(exc) from exc
        for required in ("items", "lines"):
            if required not in sheets:
                raise BomError(f"the workbook has no sheet named {required!r} (sheets: "
                               f"{', '.join(_name(s.title) for s in workbook.worksheets)})")
        return _tables_to_bom(
            _sheet_rows(sheets["document"], "document", limits) if "document" in sheets
            else [],
            _sheet_rows(sheets["items"], "items", limits),
            _sheet_rows(sheets["lines"], "lines", limits),
            overrides or {},
            ("sheet 'document'", "sheet 'items'", "sheet 'lines'"),
            limits,
            override_label,
        )
    finally:
        workbook.close()
