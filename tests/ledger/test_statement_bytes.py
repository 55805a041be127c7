"""The audit's shortcuts to a logged statement's bytes give exactly the long way's bytes.

`logged_signing_bytes` cuts the signature member out of the canonical body instead of
re-encoding the statement; `parse_json` uses prebuilt decoders instead of `json.loads`.
Both must agree with the reference on any input, tricky ones included: a nested object
with a ``signature`` member equal to the real one, strings that spell a signature member,
a ``possession`` member, non-ASCII text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import canonicalize, canonicalize_parsed, parse_json
from ledger.crypto import SigningKey
from ledger.errors import EncodingError
from ledger.multikey import verification_method_id
from ledger.statements import (
    logged_signing_bytes,
    parse_statement,
    sign_statement,
    signing_bytes,
)

KEY = SigningKey(bytes([3]) * 32)
KID = verification_method_id(KEY.public_key)
text = st.text(alphabet=st.sampled_from('ab"\\,:{}é\U0001f600 signature'), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8)


def _statement(extra: dict[str, Any], *, nested_copy: bool, possession: bool,
               kid: str = KID) -> bytes:
    statement: dict[str, Any] = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                                 **extra}
    signed = sign_statement(statement, KEY, kid, possession=KEY if possession else None)
    if nested_copy:  # the same member one level down: the cut must not take that one
        signed["extra"] = {"signature": dict(signed["signature"])}
    return canonicalize(signed)


@settings(max_examples=300, deadline=None)
@given(extra=st.dictionaries(text, json_values, max_size=4), nested_copy=st.booleans(),
       possession=st.booleans(), kid=st.just(KID) | text)
def test_the_cut_body_is_the_signed_bytes(extra: dict[str, Any], nested_copy: bool,
                                          possession: bool, kid: str) -> None:
    """Whatever the key id spells (quotes, backslashes, non-ASCII, a member's text)."""
    extra.pop("signature", None)
    extra.pop("possession", None)
    body = _statement(extra, nested_copy=nested_copy, possession=possession, kid=kid)
    data = parse_json(body)
    assert logged_signing_bytes(data, body) == signing_bytes(data)
    assert canonicalize_parsed(data) == body


def test_a_logged_statement_verifies_through_the_cut() -> None:
    body = _statement({"note": ',"signature":{"kid":"x","value":"y"}'}, nested_copy=True,
                      possession=False)
    data = parse_json(body)
    assert logged_signing_bytes(data, body) == signing_bytes(data)
    assert b'"extra"' in signing_bytes(data)  # the nested copy stays in the signed bytes


@given(json_values)
def test_parse_json_reads_what_json_reads(value: Any) -> None:
    if isinstance(value, float):
        return
    encoded = json.dumps(value, ensure_ascii=False)
    assert parse_json(encoded) == json.loads(encoded)
    for codec in ("utf-8", "utf-16", "utf-32-le"):
        assert parse_json(encoded.encode(codec)) == json.loads(encoded.encode(codec))


@pytest.mark.parametrize("data", ['\ufeff{"a":1}', '{"a":1} x', b'{"a":1,"a":2}', b"\xff{}"])
def test_parse_json_refuses_what_it_refused(data: str | bytes) -> None:
    with pytest.raises(EncodingError):
        parse_json(data)


def test_parse_statement_still_refuses_non_canonical_bytes() -> None:
    body = _statement({"note": "x"}, nested_copy=False, possession=False)
    with pytest.raises(EncodingError, match="canonical"):
        parse_statement(body.replace(b'"note":"x"', b'"note": "x"'))
