"""Canonical JSON (RFC 8785): our fast path must produce exactly the `rfc8785` bytes."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import canonicalize, parse_json
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
