"""Canonical JSON (RFC 8785): our fast path must produce exactly the `rfc8785` bytes."""

from __future__ import annotations

from decimal import Decimal

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import (
    MAX_DECIMAL_DIGITS,
    canonicalize,
    canonicalize_decimals,
    parse_json,
    split_canonical,
)
from ledger.errors import EncodingError

SAFE = 2**53 - 1
scalars = (st.none() | st.booleans() | st.integers(-SAFE, SAFE)
           | st.text(st.characters(exclude_categories=("Cs",))))
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
                      children, max_size=5),
    max_leaves=30,
)


@given(values)
def test_fast_path_matches_rfc8785_byte_for_byte(value) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("keys", [
    ["\U0001f600", "\ufb01"],  # astral vs high BMP: UTF-16 order differs from code points
    ["a", "\ue000", "\U00010000"],
    ["\u00e9", "e", "E"],
])
def test_key_order_follows_utf16_code_units(keys) -> None:
    value = {k: n for n, k in enumerate(keys)}
    assert canonicalize(value) == rfc8785.dumps(value)


_KEYS = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)


@given(st.dictionaries(_KEYS, values, max_size=6), st.sampled_from(["proof", "a", "", "~"]),
       values)
def test_an_object_split_around_a_member_joins_to_its_rfc8785_bytes(obj, name, value) -> None:
    """`split_canonical` (what the verifier uses for a token with and without its proof)
    gives the object's RFC 8785 form and that of the object without the member, whatever
    the other names (astral ones included) and whether the member is there."""
    for whole in (obj, {**obj, name: value}):
        split = split_canonical(whole, name)
        assert split.whole() == rfc8785.dumps(whole)
        assert split.without() == rfc8785.dumps({k: v for k, v in whole.items() if k != name})
        assert (split.member is None) == (name not in whole)


def test_rfc8785_known_answer() -> None:
    # RFC 8785 s.3.2.3 sorting example (restricted to strings and integers).
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
    keys = list(parse_json(canonicalize(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize("value", [1.5, {"a": [1, 2.0]}, 2**53, -(2**53), {1: "x"}, {"a": {1}},
                                   "\ud800"])
def test_refused(value) -> None:
    with pytest.raises(EncodingError):
        canonicalize(value)


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"a":1.5}', "NaN", '{"a":', b"\xff"])
def test_strict_parsing(text) -> None:
    with pytest.raises(EncodingError):
        parse_json(text)


# ---------------------------------------------------------------------------------------
# Decimals as exact JSON numbers (the UNTP view's Measure.value)

_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=6,
                        min_value=Decimal("-999999999"), max_value=Decimal("999999999"))


@settings(max_examples=500)
@given(_DECIMALS)
def test_a_decimal_is_written_as_jcs_writes_its_double_and_reads_back_exactly(
        value: Decimal) -> None:
    if value != 0 and abs(value) < Decimal("1e-6"):
        return
    data = canonicalize_decimals({"v": value, "w": [value]})
    assert data == rfc8785.dumps({"v": float(value), "w": [float(value)]})
    back = parse_json(data, decimals=True)
    assert Decimal(back["v"]) == value  # the same number, not a rounding of it


def test_decimals_are_refused_where_a_double_would_round_them() -> None:
    assert canonicalize_decimals({"a": Decimal("73.509453"), "b": Decimal("70.000")}) == \
        b'{"a":73.509453,"b":70}'
    for bad in (Decimal("0." + "1" * (MAX_DECIMAL_DIGITS + 1)), Decimal("1e-7"),
                Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(EncodingError):
            canonicalize_decimals({"v": bad})
    with pytest.raises(EncodingError, match="floats"):
        canonicalize_decimals({"v": 0.5})
    assert canonicalize_decimals({"n": 5, "s": "x"}) == canonicalize({"n": 5, "s": "x"})
    with pytest.raises(EncodingError, match="not an integer"):
        parse_json(b'{"v": 1.5}')
