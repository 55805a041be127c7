"""Property-based fuzzing of what the ledger reads from others: bundles, trust files, log
statements (hypothesis).

The property is the same everywhere: any input gives a result or a clean error of the
ledger's tree (`LedgerError`), never another exception, and never a half-written log.
Bundles: random bytes and JSON are in test_verify; here the real bundle's *text* is cut,
spliced and bit-flipped, which reaches the JSON and canonicalisation layers with inputs
no structured strategy produces (lone surrogate escapes, huge integers, deep nesting).
Trust files: random and mutated JSON and policy text. Statements: mutated real statements
appended to a live ledger, which must refuse them whole or log them.

Marked ``fuzz``: ``make test`` runs them with the CI profile's examples, ``make fuzz``
with the ``fuzz`` profile's many more.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import canonicalize, parse_json
from ledger.errors import LedgerError
from ledger.policy import Policy
from ledger.service import Ledger
from ledger.statements import parse_statement
from ledger.store import MemoryStore
from ledger.verify import Decision, TrustFile, Verification, verify
from tests.ledger.test_verify import AT, leaves, strict_case
from tests.ledger.world import FRENOS, FRENOS_KEY, LOG_KEY, ORIGIN, issue, now

pytestmark = pytest.mark.fuzz

json_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=20)
                | st.sampled_from(["", "\\ud800", "0" * 40, "tmec-bundle/1", "active",
                                   "revoked", "did:key:z6Mk", "ab" * 32]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15)


def replace_a_leaf(data: st.DataObject, document: Any) -> None:
    """Replace one leaf of `document`, drawn by `data`, by any JSON value (in place)."""
    path = data.draw(st.sampled_from(sorted({path for path, _ in leaves(document)})))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = data.draw(json_values)


@functools.cache
def _bundle_text() -> str:
    bundle, _ = strict_case()
    return json.dumps(bundle)


def _verified(data: bytes | str) -> Verification:
    _, trust = strict_case()
    result = verify(data, trust, now=AT)  # must not raise, whatever the bytes
    assert isinstance(result.decision, Decision)
    return result


# ---------------------------------------------------------------------------------------
# Bundles as text


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """The clear bundle's JSON text with a few splices: cut, insert, replace, repeat."""
    text = _bundle_text()
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 64)))
        action = draw(st.sampled_from(["cut", "insert", "replace", "repeat"]))
        piece = draw(st.sampled_from(['"', "\\", "{", "}", "[", "]", ",", ":", "1e5",
                                      "\\ud800", "9" * 30, "null", "\x1b[2J", "\u202e",
                                      '"x":1,', "[" * 50]) | st.text(max_size=8))
        if action == "cut":
            text = text[:start] + text[end:]
        elif action == "insert":
            text = text[:start] + piece + text[start:]
        elif action == "replace":
            text = text[:start] + piece + text[end:]
        else:
            text = text[:start] + text[start:end] * 2 + text[end:]
    return text


@given(mutated_text())
def test_a_spliced_bundle_text_verifies_without_raising(text: str) -> None:
    result = _verified(text)
    try:
        same = parse_json(text) == parse_json(_bundle_text())
    except LedgerError:
        same = False
    if not same:
        # A changed bundle may lose optional evidence (review) but never gains clearance
        # from something no signature covers: it is never clearer than the original.
        assert result.decision is not Decision.CLEAR or _only_evidence_removed(text)


def _only_evidence_removed(text: str) -> bool:
    """True when the text parses to the original minus disclosures or supplier bundles."""
    try:
        changed = parse_json(text)
    except LedgerError:
        return False
    original = parse_json(_bundle_text())
    for name in ("disclosures", "suppliers"):
        if isinstance(changed, dict) and name in changed:
            continue
        original.pop(name, None)
    return bool(changed == original)


@given(st.binary(min_size=1, max_size=64), st.integers(0, 20_000))
def test_bytes_spliced_into_a_bundle_verify_without_raising(piece: bytes, where: int) -> None:
    data = _bundle_text().encode("utf-8")
    where = min(where, len(data))
    _verified(data[:where] + piece + data[where:])


@given(st.sampled_from(sorted({path for path, _ in leaves(strict_case()[0])})),
       json_values)
def test_a_leaf_replaced_by_any_json_never_clears(path: tuple[Any, ...], new: Any) -> None:
    bundle, _ = strict_case()
    target = bundle
    for step in path[:-1]:
        target = target[step]
    old = target[path[-1]]
    target[path[-1]] = new
    result = _verified(json.dumps(bundle))
    if json.dumps(new) != json.dumps(old):
        assert result.decision is Decision.REJECT


@given(st.lists(json_values, min_size=1, max_size=6))
def test_extra_supplier_bundles_of_any_shape_reject(extra: list[Any]) -> None:
    bundle, _ = strict_case()
    bundle["suppliers"] = [*bundle["suppliers"], *extra]
    assert _verified(json.dumps(bundle)).decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# Trust files


@functools.cache
def _trust_json() -> str:
    _, trust = strict_case()
    return json.dumps(trust.to_json())


def _trust_or_error(data: bytes | str | dict[str, Any]) -> None:
    with contextlib.suppress(LedgerError):
        TrustFile.from_json(data)


@given(st.binary(max_size=256) | st.text(max_size=256))
def test_random_trust_files_are_a_policy_error_at_worst(data: bytes | str) -> None:
    _trust_or_error(data)


@given(st.data())
def test_mutated_trust_files_are_a_policy_error_at_worst(data: st.DataObject) -> None:
    trust = json.loads(_trust_json())
    for _ in range(data.draw(st.integers(1, 3))):
        replace_a_leaf(data, trust)
    _trust_or_error(trust)
    _trust_or_error(json.dumps(trust))


@given(st.lists(st.sampled_from([
    "log", "witness", "group", "quorum", "customs", "cbp", "any", "all", "2", "0", "none",
    "# tmec: max-age-seconds 60", "# tmec: max-age-seconds -1", "#", "\t", " ", "\n",
    "tmec.example/ledger+12345678+AQ==", "cbp+1a2b3c4d+BA==",
]) | st.text(max_size=12), max_size=30))
def test_policy_text_parses_or_is_a_policy_error(words: list[str]) -> None:
    with contextlib.suppress(LedgerError):
        Policy.parse(" ".join(words))


# ---------------------------------------------------------------------------------------
# Statements


@functools.cache
def _world() -> tuple[bytes, ...]:
    """The canonical statements of a small real log: key, token, status."""
    ledger = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now)
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.status_statement(token.digest)
    ledger.revoke_token(token.digest, signer=FRENOS_KEY, reason="recall")
    return tuple(entry.body for entry in ledger.store.iter_entries())


@given(st.data())
def test_mutated_statements_parse_or_are_refused_cleanly(data: st.DataObject) -> None:
    statement = json.loads(data.draw(st.sampled_from(_world())))
    replace_a_leaf(data, statement)
    with contextlib.suppress(LedgerError):
        parse_statement(statement)
    with contextlib.suppress(LedgerError):
        parse_statement(canonicalize(statement))


@given(st.data())
def test_a_live_ledger_logs_or_refuses_whole_any_mutated_statement(
        data: st.DataObject) -> None:
    bodies = _world()
    ledger = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now)
    ledger.append([json.loads(bodies[0])])  # the key, so later statements can verify
    statement = json.loads(data.draw(st.sampled_from(bodies[1:])))
    if data.draw(st.booleans()):
        replace_a_leaf(data, statement)
    size = ledger.store.size()
    try:
        ledger.append([copy.deepcopy(statement)])
    except LedgerError:
        assert ledger.store.size() == size
    assert ledger.audit().ok
