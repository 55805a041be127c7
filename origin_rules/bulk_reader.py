r"""The fast path for reading large, plain `tmec-bom/1` JSON documents.

Why it exists: at a million items the exact reader (`reader.bom_from_dict`) spends most of
its time in Python — decoding JSON into dictionaries with a duplicate-key hook called for
every object, then checking every value with Python code, item by item. Here msgspec
decodes items and lines straight into typed structs in C, and the checks that remain run
over whole columns at once (distinct HS codes, distinct quantities, every money string)
wherever the rule allows it.

The contract, which keeps one validator of the format: `read_plain_json` returns exactly
the `BillOfMaterials` the exact reader would build, or None. None means "not plain" (an
item field outside the spec, an explicit ``null``, a number where the spec wants a
decimal string…) or "not valid" — this path never words an error. `parse_bom_json` then
runs the exact reader, which accepts what it accepts and names the first problem. So a
document this path accepts must be one the exact reader accepts too, with the same result;
`tests/origin_rules/test_bulk_reader.py` checks that on generated valid and broken
documents.

Repeated keys: the exact reader refuses a JSON object that repeats a key (the same document
would read differently in tools that keep the first or the last value). msgspec keeps the
last one silently (msgspec issue #648), so this path proves there are none by counting:
every key/value pair of a JSON object is written with exactly one ``:`` outside strings, so
the colons of the text are at least the pairs that survived decoding, with equality only if
no pair was lost to a repeated key and no string holds a colon. When strings do hold colons
(``"Bolt: M8"``), their colons are counted from the decoded strings — allowed only when the
text has no ``\u003a`` escape, which would decode to a colon that the text does not show.

Limits (`origin_rules.limits.ReadLimits`) are the exact reader's: more items or lines than
`max_rows` raise the same `LimitError` here (reading a document twice only to refuse its
size would double the cost of the refusal); a string longer than `max_string_bytes`, a
value nested deeper than `max_json_depth` or a decimal string beyond the format's bounds
makes the document "not plain", and the exact reader words the error. msgspec refuses lone
surrogates in the items and lines it decodes; the small top-level values are decoded and
checked by the exact reader's own functions.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType
from msgspec.structs import astuple

# The exact reader's helpers are shared, not copied: one wording, one set of rules.
from origin_rules import reader as _exact
from origin_rules.bom import (
    BillOfMaterials,
    BomIndex,
    Costs,
    Deductions,
    Evidence,
    ExcludedCosts,
    Item,
    ItemKind,
    Line,
    Origin,
)
from origin_rules.errors import BomError, LimitError
from origin_rules.limits import DEFAULT_LIMITS, ReadLimits
from origin_rules.values import (
    HS_PATTERN,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    decimal_bound_problem,
)

__all__ = ["read_plain_json"]


class _NotPlainError(Exception):
    """Raised inside this module when the document must go to the exact reader."""


class _Excluded(msgspec.Struct, forbid_unknown_fields=True):
    sales_promotion: str | UnsetType = UNSET
    royalties: str | UnsetType = UNSET
    shipping_packing: str | UnsetType = UNSET
    non_allowable_interest: str | UnsetType = UNSET


class _Costs(msgspec.Struct, forbid_unknown_fields=True):
    other_product: str | UnsetType = UNSET
    period: str | UnsetType = UNSET
    other: str | UnsetType = UNSET
    excluded: _Excluded | UnsetType = UNSET


class _Deductions(msgspec.Struct, forbid_unknown_fields=True):
    freight: str | UnsetType = UNSET
    duties: str | UnsetType = UNSET
    brokerage: str | UnsetType = UNSET
    waste: str | UnsetType = UNSET


#: Characters a text the BOM keeps may have on this path: a quarter of the default
#: `max_string_bytes`, so that any such text is within the default in UTF-8 (4 bytes a
#: character at most) and msgspec checks the bound while it decodes. A longer text, rare
#: and maybe still allowed, makes the document not plain.
_TEXT_CHARS = DEFAULT_LIMITS.max_string_bytes // 4
_Text = Annotated[str, msgspec.Meta(max_length=_TEXT_CHARS)]


class _Evidence(msgspec.Struct, forbid_unknown_fields=True):
    token: _Text | UnsetType = UNSET
    certificate: _Text | UnsetType = UNSET


class _Item(msgspec.Struct, forbid_unknown_fields=True):
    """An item as the spec lists its fields; anything else makes the document not plain."""

    id: _Text
    hs: str
    description: _Text
    kind: str
    unit_value: str | UnsetType = UNSET
    origin: str | UnsetType = UNSET
    country: _Text | UnsetType = UNSET
    evidence: _Evidence | UnsetType = UNSET
    deductions: _Deductions | UnsetType = UNSET
    statement: Any = UNSET
    indirect: bool | UnsetType = UNSET
    packing: bool | UnsetType = UNSET
    retail_packaging: bool | UnsetType = UNSET
    costs: _Costs | UnsetType = UNSET
    transaction_value: str | UnsetType = UNSET
    international_shipping: str | UnsetType = UNSET
    intermediate: bool | UnsetType = UNSET
    rule: Any = UNSET
    tariff_shift_as: Any = UNSET


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    parent: str
    child: str
    qty: str


_ITEMS_DECODER = msgspec.json.Decoder(list[_Item])
_LINES_DECODER = msgspec.json.Decoder(list[_Line])
_TOP_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])
_NON_NEGATIVE = _exact._NON_NEGATIVE
_HS = HS_PATTERN.match
_COLON_ESCAPE = re.compile(rb"\\u003[aA]").search
#: A money text beyond the format's bounds (15 integer digits, 12 decimals), searched for in
#: the money texts joined by commas, which were checked to hold only digits and points.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_WHOLE = b"0" * (MAX_INTEGER_DIGITS + 1)
_LONG_FRACTION = b"." + b"0" * (MAX_FRACTION_DIGITS + 1)
#: The deepest a plain document's items nest (document, items, item, costs, excluded):
#: below a limit this low the fast path does not decide, the exact reader does.
_STRUCT_DEPTH = 5
_ORIGINS = {o.value: o for o in Origin}
_ZERO, _NO_COSTS, _NO_EXCLUDED, _NO_DEDUCTIONS = (
    _exact._ZERO, _exact._NO_COSTS, _exact._NO_EXCLUDED, _exact._NO_DEDUCTIONS)
_BOUGHT, _MADE = ItemKind.BOUGHT, ItemKind.MADE
_new_item: Callable[[Iterable[Any]], Item] = partial(tuple.__new__, Item)
_new_line: Callable[[Iterable[Any]], Line] = partial(tuple.__new__, Line)
_new_costs: Callable[[Iterable[Any]], Costs] = partial(tuple.__new__, Costs)
_new_excluded: Callable[[Iterable[Any]], ExcludedCosts] = partial(
    tuple.__new__, ExcludedCosts)
_new_deductions: Callable[[Iterable[Any]], Deductions] = partial(
    tuple.__new__, Deductions)


def read_plain_json(data: bytes, *, limits: ReadLimits = DEFAULT_LIMITS) -> (
    BillOfMaterials | None
):
    """The document's `BillOfMaterials` when it is plain and valid, else None (see module).

    Raises `LimitError` for more items or lines than `limits.max_rows`, as the exact reader
    would; every other doubt is None.
    """
    try:
        return _read(data, limits)
    except LimitError:
        raise
    except (_NotPlainError, msgspec.MsgspecError, BomError, InvalidOperation, KeyError, ValueError,
            RecursionError):
        return None


def _read(data: bytes, limits: ReadLimits) -> BillOfMaterials:
    if limits.max_json_depth < _STRUCT_DEPTH + 3:
        raise _NotPlainError
    top = _TOP_DECODER.decode(data)
    raw_items, raw_lines = top.get("items"), top.get("lines")
    if raw_items is None or raw_lines is None:
        raise _NotPlainError
    colons = len(top)  # one per top-level pair
    small: dict[str, Any] = {}
    for name, raw in top.items():
        if name in ("items", "lines"):
            continue
        text = bytes(raw)
        colons += text.count(b":")
        value = _exact.decode_json(text)
        if _exact.nests_deeper(value, 2, limits.max_json_depth):
            raise _NotPlainError
        small[name] = value
    header = _exact._read_header(small, limits)
    structs = _ITEMS_DECODER.decode(raw_items)
    del raw_items
    _exact.check_rows(len(structs), "items", limits.max_rows)
    items, pairs, delegated = _items(structs, limits)
    del structs
    colons += pairs
    line_structs = _LINES_DECODER.decode(raw_lines)
    del raw_lines, top
    _exact.check_rows(len(line_structs), "lines", limits.max_rows)
    colons += 3 * len(line_structs)
    total = data.count(b":")
    if total != colons:
        # Strings may hold colons; count them, unless an escape could hide one.
        if total < colons or _COLON_ESCAPE(data) is not None:
            raise _NotPlainError
        colons += _string_colons(small, items, delegated, line_structs)
        if total != colons:
            raise _NotPlainError
    _exact._check_good(header.good, items)
    lines, index, sources = _lines(line_structs, items)
    return _exact._assemble(header, items, lines, index, sources)


class _ExactRulesError(Exception):
    """Raised while building one item that the exact item rules must read instead."""


def _amounts(texts: tuple[str | UnsetType, ...], money: list[str]) -> list[Decimal]:
    """Optional non-negative amounts (absent = 0); their texts are checked with all others."""
    out = []
    for text in texts:
        if text is UNSET:
            out.append(_ZERO)
        else:
            money.append(text)
            out.append(Decimal(text))
    return out


def _items(structs: list[_Item], limits: ReadLimits) -> tuple[
    dict[str, Item], int, list[dict[str, Any]]
]:
    """Items by id, the number of JSON pairs they were written with, and delegated items.

    Items of the common shapes are built here. An item with a field this path leaves to
    the exact rules — a supplier statement, an explicit rule — or a value it doubts is
    read by `reader._parse_item` itself from its decoded form, so those rules live in one
    place (and when it refuses the item, the whole document goes to the exact reader).
    """
    items: dict[str, Item] = {}
    money: list[str] = []
    hs_codes: set[str] = set()
    countries: set[str] = set()
    evidence_texts: list[str] = []
    delegated: list[dict[str, Any]] = []
    pairs = 0
    max_string, max_depth = limits.max_string_bytes, limits.max_json_depth
    for n, struct in enumerate(structs):
        structs[n] = None  # type: ignore[call-overload]  # release as we go (peak memory)
        try:
            item, item_pairs = _plain_item(struct, money, hs_codes, countries, evidence_texts)
        except _ExactRulesError:
            raw = msgspec.to_builtins(struct)
            if _exact.nests_deeper(raw, 3, max_depth):
                raise _NotPlainError from None
            item_pairs = _pairs(raw)
            item = _exact._parse_item(raw, _exact._ItemWhere(n, "items[{}]".format,
                                                             max_string))
            delegated.append(raw)
        pairs += item_pairs
        items[item.id] = item
    if len(items) != len(structs):
        raise _NotPlainError  # a repeated item id
    # The checks the exact reader makes value by value, made here once per column.
    # Decimal() has refused empty texts, lone dots and repeated dots already; what it
    # accepts beyond the spec's plain decimals (signs, exponents, spaces, underscores, NaN,
    # other scripts' digits) all leave a character other than ASCII digits and the dot.
    joined = "".join(money).encode("ascii")
    if joined.translate(None, b"0123456789.") or not all(map(_HS, hs_codes)):
        raise _NotPlainError
    # The format's bounds (15 digits before the point, 12 after): a run of 16 digits or a
    # point and 13 digits in the joined texts. Two texts run together can also make one
    # (``"12345678" "12345678"``); only then is each text measured.
    shape = joined.translate(_DIGITS_AS_ZERO)
    if (_LONG_WHOLE in shape or _LONG_FRACTION in shape) and any(
            decimal_bound_problem(text) for text in money if len(text) > 13):
        raise _NotPlainError
    if any(not country or country.isspace() for country in countries):
        raise _NotPlainError
    # Texts the BOM keeps, within max_string_bytes (msgspec has refused lone surrogates):
    # the decoder bounded them to `_TEXT_CHARS`, enough for the default limit and above;
    # a lower limit is checked column by column, measuring only texts that may exceed it.
    if max_string < 4 * _TEXT_CHARS:
        descriptions = operator.attrgetter("description")
        columns: tuple[Callable[[], Iterable[str]], ...] = (
            lambda: items, lambda: map(descriptions, items.values()), lambda: countries,
            lambda: evidence_texts)
        for column in columns:
            if max(map(len, column()), default=0) * 4 > max_string and not all(
                    _exact._text_ok(text, max_string) for text in column()):
                raise _NotPlainError
    return items, pairs, delegated


def _plain_item(struct: _Item, money: list[str], hs_codes: set[str], countries: set[str],
                evidence_texts: list[str]) -> tuple[Item, int]:
    """One item of a common shape and its JSON pair count (spec: Items).

    Money texts go to `money`, HS codes to `hs_codes`, countries to `countries` and the
    texts of evidence to `evidence_texts`, to be checked column by column by the caller.
    """
    (item_id, hs, description, kind, unit_value, origin, country, evidence, deductions,
     statement, indirect, packing, retail, costs, transaction_value, shipping, intermediate,
     rule, view) = astuple(struct)
    if not item_id or statement is not UNSET or rule is not UNSET or view is not UNSET:
        raise _ExactRulesError
    hs_codes.add(hs)
    if kind == "bought":
        if not (costs is transaction_value is shipping is intermediate is UNSET):
            raise _ExactRulesError
        origin_value = _ORIGINS.get(origin)
        if unit_value is UNSET or origin_value is None:
            raise _ExactRulesError
        money.append(unit_value)
        value = Decimal(unit_value)
        pairs = 6
        country_value = None
        if country is not UNSET:
            countries.add(country)
            country_value = country
            pairs += 1
        evidence_value = None
        if evidence is not UNSET:
            token, certificate = astuple(evidence)
            if token is not UNSET:
                evidence_texts.append(token)
            if certificate is not UNSET:
                evidence_texts.append(certificate)
            if token is UNSET:
                if certificate is UNSET or not certificate.strip():
                    raise _ExactRulesError
                evidence_value, pairs = Evidence(None, certificate), pairs + 2
            elif not token.strip():
                raise _ExactRulesError
            elif certificate is UNSET:
                evidence_value, pairs = Evidence(token, None), pairs + 2
            elif not certificate.strip():
                raise _ExactRulesError
            else:
                evidence_value, pairs = Evidence(token, certificate), pairs + 3
        deductions_value = _NO_DEDUCTIONS
        if deductions is not UNSET:
            amounts = astuple(deductions)
            pairs += 5 - amounts.count(UNSET)
            deductions_value = _new_deductions(_amounts(amounts, money))
            if deductions_value.total > value:
                raise _ExactRulesError
        flags = 0
        if indirect is not UNSET or packing is not UNSET or retail is not UNSET:
            pairs += (indirect is not UNSET) + (packing is not UNSET) + (retail is not UNSET)
            flags = (indirect is True) + (packing is True) + (retail is True)
            if flags > 1:
                raise _ExactRulesError
        return _new_item((item_id, hs, description, _BOUGHT, value, origin_value,
                          country_value, evidence_value, deductions_value, None,
                          indirect is True, packing is True, retail is True, None, None,
                          None, False, None, None)), pairs
    if kind == "made":
        if not (unit_value is origin is country is evidence is deductions is indirect
                is packing is retail is UNSET):
            raise _ExactRulesError
        pairs = 4
        costs_value = _NO_COSTS
        if costs is not UNSET:
            other_product, period, other, excluded = astuple(costs)
            excluded_value = _NO_EXCLUDED
            if excluded is not UNSET:
                amounts = astuple(excluded)
                pairs += 5 - amounts.count(UNSET)
                excluded_value = _new_excluded(_amounts(amounts, money))
            own = (other_product, period, other)
            pairs += 4 - own.count(UNSET)  # "costs" and its own amounts
            costs_value = _new_costs((*_amounts(own, money), excluded_value))
        tv_value = None
        if transaction_value is not UNSET:
            money.append(transaction_value)
            tv_value = Decimal(transaction_value)
            pairs += 1
        shipping_value = None
        if shipping is not UNSET:
            if tv_value is None:
                raise _ExactRulesError
            money.append(shipping)
            shipping_value = Decimal(shipping)
            pairs += 1
            if shipping_value > tv_value:
                raise _ExactRulesError
        if intermediate is not UNSET:
            pairs += 1
        return _new_item((item_id, hs, description, _MADE, None, None, None, None, None,
                          None, False, False, False, costs_value, tv_value, shipping_value,
                          intermediate is True, None, None)), pairs
    raise _ExactRulesError


def _pairs(value: Any) -> int:
    """The JSON pairs in a decoded value (objects at any depth).

    A JSON number inside a delegated item goes to the exact reader: the two decoders
    disagree on some numbers (Python's refuses integers of more than 4,300 digits), and no
    field of a valid item is a number anyway.
    """
    if isinstance(value, dict):
        return len(value) + sum(_pairs(v) for v in value.values())
    if isinstance(value, list):
        return sum(_pairs(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _NotPlainError
    return 0


def _colons(value: Any) -> int:
    """Colons in the strings of a decoded value, object keys included."""
    if isinstance(value, str):
        return value.count(":")
    if isinstance(value, dict):
        return sum(k.count(":") + _colons(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_colons(v) for v in value)
    return 0


def _string_colons(small: dict[str, Any], items: dict[str, Item],
                   delegated: list[dict[str, Any]], lines: list[_Line]) -> int:
    """Colons inside the strings that pairs of the items and lines were decoded from.

    The small top-level values were counted from their text already; here come the
    top-level keys and every string of items and lines (delegated items counted whole from
    their decoded form, so their item-level strings are not counted twice).
    """
    count = sum(name.count(":") for name in small)  # "items" and "lines" have none
    delegated_ids = {raw["id"] for raw in delegated}
    for item in items.values():
        if item.id in delegated_ids:
            continue
        count += item.id.count(":") + item.description.count(":")
        if item.country is not None:
            count += item.country.count(":")
        if item.evidence is not None:
            count += sum(text.count(":") for text in item.evidence if text is not None)
    count += sum(_colons(raw) for raw in delegated)
    count += sum(line.parent.count(":") + line.child.count(":") for line in lines)
    return count


def _lines(structs: list[_Line], items: dict[str, Item]
           ) -> tuple[tuple[Line, ...], BomIndex, list[int]]:
    """Lines and the engine's index, column by column (the rules of `reader._parse_lines`)."""
    ids = tuple(items)
    size = len(ids)
    position = dict(zip(ids, range(size), strict=True))
    parents = list(map(operator.attrgetter("parent"), structs))
    children_ids = list(map(operator.attrgetter("child"), structs))
    quantity_texts = list(map(operator.attrgetter("qty"), structs))
    structs.clear()
    parent_at = list(map(position.__getitem__, parents))  # KeyError: not an item id
    child_at = list(map(position.__getitem__, children_ids))
    made = bytes(item.kind is _MADE for item in items.values())
    if not all(map(made.__getitem__, parent_at)) or any(map(operator.eq, parent_at, child_at)):
        raise _NotPlainError
    quantities: dict[str, Decimal] = {}
    for text in set(quantity_texts):
        if _NON_NEGATIVE(text) is None:
            raise _NotPlainError
        value = Decimal(text)
        if value <= 0:
            raise _NotPlainError
        quantities[text] = value
    qtys = list(map(quantities.__getitem__, quantity_texts))
    del quantity_texts
    lines = tuple(map(_new_line, zip(parents, children_ids, qtys, range(len(qtys)), strict=True)))
    del parents, children_ids
    children: list[list[tuple[int, Decimal]]] = [[] for _ in range(size)]
    indegree = [0] * size
    for p, c, value in zip(parent_at, child_at, qtys, strict=True):
        children[p].append((c, value))
        indegree[c] += 1
    return (lines, *_exact._index(ids, position, children, indegree))
