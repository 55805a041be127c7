"""Logged statements of the usual shapes are read without the general parser, to the same
statement.

`read_usual_statement` recognises a token or status statement spelled as RFC 8785 spells
it with plain ASCII strings, and returns the statement with its signed bytes and raw
signature. Whatever it accepts, the general checks (strict JSON, canonical bytes, the field
walk of `parse_statement`) must accept too and read the same; whatever they refuse it must
leave to them (None). Checked on statements built with every optional member and every
near miss, and on single-byte edits of logged bytes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import canonicalize, parse_json
from ledger.crypto import SigningKey, verify_signature
from ledger.errors import LedgerError
from ledger.multikey import verification_method_id
from ledger.statements import (
    Statement,
    parse_statement,
    read_usual_statement,
    registrar_kid,
    sign_statement,
    signature_bytes,
    signing_bytes,
)

KEY = SigningKey(bytes([5]) * 32)
KID = verification_method_id(KEY.public_key)
REGISTRAR = SigningKey(bytes([6]) * 32)
ORIGIN = "tmec.example/ledger"
DIGESTS = [bytes([0xa0 + n]).hex() * 32 for n in range(4)]


def general(body: bytes) -> Statement:
    """The long way: strict decode, canonical bytes, then the field checks."""
    raw = parse_json(body)
    if canonicalize(raw) != body:
        raise LedgerError("not canonical")
    return parse_statement(raw)


def token(**fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "v": 1, "type": "token", "time": "2026-12-03T10:00:00Z", "tokenDigest": DIGESTS[0],
        "issuer": KID.split("#")[0], "parents": [], "shipment": DIGESTS[1], **fields}
    return {name: value for name, value in statement.items() if value is not ...}


def status(**fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "v": 1, "type": "status", "time": "2026-12-03T10:00:00Z", "tokenDigest": DIGESTS[0],
        "coversSize": 41, "token": "active", "key": "valid", "evidence": "active", **fields}
    return {name: value for name, value in statement.items() if value is not ...}


def logged(statement: dict[str, Any], key: SigningKey = KEY, kid: str = KID) -> bytes:
    return canonicalize(sign_statement(statement, key, kid))


def registrar_logged(statement: dict[str, Any]) -> bytes:
    return logged(statement, REGISTRAR, registrar_kid(ORIGIN))


def assert_same_as_general(body: bytes) -> bool:
    """The property: the shortcut's answer is the general path's, or no answer."""
    usual = read_usual_statement(body)
    if usual is None:
        return False
    expected = general(body)  # raises if the shortcut accepted what the checks refuse
    assert usual.statement == expected
    assert list(usual.statement.data) == list(parse_json(body))  # members in logged order
    assert usual.signed == signing_bytes(expected.data)
    assert usual.signature == signature_bytes(expected.data)
    return True


USUAL = {
    "token": logged(token()),
    "blanket token": logged(token(blanket=True)),
    "token with parents": logged(token(parents=DIGESTS[2:])),
    "correction": logged(token(supersedes=DIGESTS[3], blanket=False)),
    "status": registrar_logged(status()),
    "status of weakened evidence": registrar_logged(status(
        evidence="revoked", evidenceAffected=[DIGESTS[2]], token="superseded",
        supersededBy=DIGESTS[3])),
    "status of a revoked key": registrar_logged(status(key="compromised", coversSize=0)),
}


@pytest.mark.parametrize("name", list(USUAL))
def test_the_usual_shapes_are_read_without_the_general_parser(name: str) -> None:
    body = USUAL[name]
    assert assert_same_as_general(body)
    usual = read_usual_statement(body)
    assert usual is not None
    public = REGISTRAR.public_key if "status" in name else KEY.public_key
    verify_signature(public, usual.signed, usual.signature)
    assert parse_statement(body) == usual.statement


NEAR_MISSES = {
    # Shapes the general checks accept, left to them.
    "non-ASCII issuer": logged(token(issuer="did:web:frenos-bajío.mx")),
    "escaped quote in the key id": logged(token(), kid='did:key:"x"'),
    "null blanket": logged(token(blanket=None)),
    "empty evidence list": registrar_logged(status(evidenceAffected=[])),
    "revocation member": registrar_logged(status(token="revoked",
                                                 revocation={"index": 3, "reason": "x"})),
    "a status not by the registrar": logged(status()),
    # Statements the general checks refuse, with their own message.
    "repeated parent": logged(token(parents=[DIGESTS[2], DIGESTS[2]])),
    "token superseding itself": logged(token(supersedes=DIGESTS[0])),
    "unknown member": logged(token(note="x")),
    "evidence weakened without a token named": registrar_logged(status(evidence="revoked")),
    "active evidence naming tokens": registrar_logged(status(evidenceAffected=[DIGESTS[2]])),
    "version 2": logged(token(v=2)),
    "uppercase digest": logged(token(tokenDigest=DIGESTS[1].upper())),
    "time without seconds": logged(token(time="2026-12-03T10:00Z")),
    "negative coversSize": registrar_logged(status(coversSize=-1)),
    "missing shipment": logged(token(shipment=...)),
}


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_near_misses_are_left_to_the_general_checks(name: str) -> None:
    body = NEAR_MISSES[name]
    assert read_usual_statement(body) is None
    try:
        expected = general(body)
    except LedgerError as refused:
        with pytest.raises(LedgerError, match=re.escape(str(refused))):
            parse_statement(body)
    else:
        assert parse_statement(body) == expected


def test_signatures_spelled_other_than_64_canonical_bytes_are_left_to_the_checks() -> None:
    body = USUAL["token"]
    value = parse_json(body)["signature"]["value"]
    for other in (value[:-1], value + "A", value[:-1] + "B"):  # short, long, stray bits
        edited = body.replace(value.encode(), other.encode())
        assert read_usual_statement(edited) is None
        assert parse_statement(edited).data["signature"]["value"] == other


hexes = st.sampled_from(DIGESTS)
plain_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                     max_size=12)
tricky_text = st.text(alphabet=st.sampled_from('aZ09:#/-_ "\\\xe9\x7f\x1f'), max_size=8)
absent = st.just(...)


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]
           ) -> st.SearchStrategy[Any]:
    """`usual` three times in four: most examples keep the usual shape, so the property
    compares both ways often (an edit elsewhere leaves the shape, one here breaks it)."""
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda keep: usual if keep else other)


USUAL_TIME = "2026-12-03T10:00:00Z"
tokens = st.builds(
    token,
    blanket=mostly(absent | st.booleans(), st.none()),
    issuer=mostly(plain_text, tricky_text),
    parents=mostly(st.lists(hexes, max_size=3, unique=True), st.lists(hexes, max_size=3)),
    supersedes=mostly(absent, hexes),
    tokenDigest=hexes,
    shipment=mostly(hexes, plain_text),
    time=mostly(st.just(USUAL_TIME), plain_text),
)
statuses = st.builds(
    status,
    coversSize=mostly(st.integers(0, 2**53 - 1), st.integers(-2, -1) | st.booleans()),
    evidence=mostly(st.just("active"), st.sampled_from(["revoked", "superseded", "lost"])),
    evidenceAffected=mostly(absent, st.lists(hexes, max_size=2)),
    key=mostly(st.sampled_from(["valid", "revoked", "compromised", "unknown"]),
               st.just("VALID")),
    supersededBy=absent | hexes,
    token=st.sampled_from(["active", "revoked", "superseded"]),
)
PARTY_SIGNS = (KEY, KID)
REGISTRAR_SIGNS = (REGISTRAR, registrar_kid(ORIGIN))
strangers = st.sampled_from([(KEY, 'kid with "quotes"'), (KEY, "registrar:\xe9"),
                             REGISTRAR_SIGNS, PARTY_SIGNS])
signed_statements = (st.tuples(tokens, mostly(st.just(PARTY_SIGNS), strangers))
                     | st.tuples(statuses, mostly(st.just(REGISTRAR_SIGNS), strangers)))


@settings(max_examples=400, deadline=None)
@given(signed=signed_statements)
def test_any_statement_reads_the_same_either_way(
        signed: tuple[dict[str, Any], tuple[SigningKey, str]]) -> None:
    statement, signer = signed
    body = logged(statement, *signer)
    if not assert_same_as_general(body):
        try:
            general(body)
        except LedgerError:
            pass  # refused the long way, as it must be through parse_statement too
        else:
            assert parse_statement(body) == general(body)


@settings(max_examples=600, deadline=None)
@given(name=st.sampled_from(list(USUAL)), at=st.integers(0, 10_000),
       byte=st.sampled_from(b' "\\,:{}[]0123456789abcdefAQgwtrue-_#\x00\xc3'),
       edit=st.sampled_from(["replace", "insert", "delete"]))
def test_an_edited_logged_statement_is_never_read_otherwise(name: str, at: int, byte: int,
                                                            edit: str) -> None:
    body = USUAL[name]
    at %= len(body)
    if edit == "replace":
        edited = body[:at] + bytes([byte]) + body[at + 1:]
    elif edit == "insert":
        edited = body[:at] + bytes([byte]) + body[at:]
    else:
        edited = body[:at] + body[at + 1:]
    assert_same_as_general(edited)


@pytest.mark.parametrize(("name", "spelled", "misspelled"), [
    ("status", b'"coversSize":41', b'"coversSize":041'),
    ("status", b'"coversSize":41', b'"coversSize": 41'),
    ("status", b'"coversSize":41', b'"coversSize":9007199254740993'),  # beyond I-JSON
    ("status of a revoked key", b'"coversSize":0', b'"coversSize":-0'),
    ("token", b'"parents":[]', b'"parents":[ ]'),
    ("token", b'"type":"token"', b'"type":"\\u0074oken"'),
    ("blanket token", b'"blanket":true', b'"blanket":1'),
    ("token with parents", b'],"shipment"', b',],"shipment"'),
])
def test_other_spellings_of_the_same_statement_are_left_to_the_checks(
        name: str, spelled: bytes, misspelled: bytes) -> None:
    """RFC 8785 has one spelling of a value; the general checks refuse any other."""
    body = USUAL[name]
    assert spelled in body
    edited = body.replace(spelled, misspelled)
    assert read_usual_statement(edited) is None
    with pytest.raises(LedgerError):
        parse_statement(edited)
