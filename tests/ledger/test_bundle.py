"""`ledger.bundle`: the typed bundle and the one definition of its shape (ledger design s.7).

* Every real bundle the ledger writes (plain, with disclosures, with nested supplier
  bundles, the strict case with everything) reads into a `Bundle` whose ``to_dict`` is
  the same JSON, key order included; `verify` gives the same answer for both.
* The shape is strict and names the field, at any depth (``suppliers[0].log.key.proof``);
  `verify` reports the same words in its ``bundle.format`` check, because it uses the
  same rules level by level.
* Properties: a generated well-formed bundle round-trips; arbitrary JSON is either a
  bundle or a `BundleError`, never another exception.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.bundle import (
    BUNDLE_FORMAT,
    MAX_SUPPLIER_DEPTH,
    Bundle,
    LoggedStatement,
    check_bundle_shape,
)
from ledger.errors import BundleError, EncodingError
from ledger.verify import Decision, Outcome
from tests.ledger.test_verify import Scenario, build_scenario, json_values, run, strict_case


@pytest.fixture
def scenario() -> Scenario:
    return build_scenario()


def real_bundles(scenario: Scenario) -> dict[str, dict[str, Any]]:
    strict, _ = strict_case()
    return {"plain": scenario.plain(), "supplier": scenario.supplier_bundle(),
            "two lines": scenario.disclosed([0, 2]), "all lines": scenario.disclosed(),
            "nested": scenario.nested(), "nested, disclosed": scenario.nested(disclose=True),
            "strict": strict}


# ---------------------------------------------------------------------------------------
# The round trip on real bundles


def test_every_real_bundle_reads_and_writes_back_the_same_json(scenario: Scenario) -> None:
    for name, data in real_bundles(scenario).items():
        bundle = Bundle.from_dict(data)
        assert bundle.to_dict() == data, name
        # Same text, key order included: what `tmec token bundle` writes.
        assert json.dumps(bundle.to_dict()) == json.dumps(data), name
        assert Bundle.from_dict(json.loads(json.dumps(data))) == bundle, name


def test_a_bundle_reads_into_typed_parts(scenario: Scenario) -> None:
    data = scenario.nested(disclose=True)
    bundle = Bundle.from_dict(data)

    assert bundle.token is data["token"]
    assert bundle.checkpoint == data["log"]["checkpoint"]
    assert bundle.token_entry == LoggedStatement(
        data["log"]["token"]["index"], data["log"]["token"]["statement"],
        tuple(data["log"]["token"]["proof"]))
    assert list(bundle.entries) == ["token", "key", "status"]
    assert bundle.entries["status"].statement["type"] == "status"
    assert bundle.disclosures is not None
    assert len(bundle.disclosures) == scenario.head.commitment.count
    assert bundle.suppliers is not None
    (supplier,) = bundle.suppliers
    assert supplier.token == data["suppliers"][0]["token"]
    assert supplier.suppliers is None
    assert supplier.disclosures is not None
    assert len(supplier.disclosures) == scenario.supplier.commitment.count
    for entry in bundle.entries.values():
        assert [base64.b64encode(h).decode() for h in entry.hashes()] == list(entry.proof)


def test_a_plain_bundle_carries_neither_disclosures_nor_suppliers(scenario: Scenario) -> None:
    bundle = Bundle.from_dict(scenario.plain())
    assert bundle.disclosures is None
    assert bundle.suppliers is None
    assert set(bundle.to_dict()) == {"format", "token", "log"}


def test_empty_lists_are_well_formed_and_kept(scenario: Scenario) -> None:
    # The ledger never writes them, but they carry nothing: `verify` accepts them (as
    # "nothing disclosed"), so the shape does too, and the round trip keeps them.
    data = {**scenario.plain(), "disclosures": [], "suppliers": []}
    assert Bundle.from_dict(data).to_dict() == data
    assert run(data, scenario.trust).decision is Decision.CLEAR


def test_verify_takes_a_bundle_and_answers_as_for_its_json(scenario: Scenario) -> None:
    data = scenario.nested(disclose=True)
    expected = run(data, scenario.trust)
    assert expected.decision is Decision.CLEAR
    assert run(Bundle.from_dict(data), scenario.trust) == expected
    assert run(json.dumps(data), scenario.trust) == expected


# ---------------------------------------------------------------------------------------
# Strict shape, naming the field


def edited(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()
GOOD_HASH = base64.b64encode(bytes(32)).decode()

SHAPE_CASES = [
    (("format",), "tmec-bundle/2", "format must be 'tmec-bundle/1', got 'tmec-bundle/2'"),
    (("format",), DELETE, "format must be 'tmec-bundle/1', got None"),
    (("note",), "x", "a bundle has exactly the fields ['format', 'log', 'token'] and "
                     "optionally ['disclosures', 'suppliers']; got"),
    (("token",), DELETE, "a bundle has exactly the fields"),
    (("token",), "x", "token must be an object"),
    (("log",), [], "log must have exactly ['checkpoint', 'key', 'status', 'token']"),
    (("log", "note"), 1, "log must have exactly"),
    (("log", "checkpoint"), 1, "log.checkpoint must be the signed checkpoint text"),
    (("log", "token", "note"), 1,
     "log.token must have exactly ['index', 'proof', 'statement']"),
    (("log", "key"), DELETE, "log must have exactly"),
    (("log", "key", "index"), -1, "log.key.index must be a log index"),
    (("log", "key", "index"), True, "log.key.index must be a log index"),
    (("log", "status", "index"), "3", "log.status.index must be a log index"),
    (("log", "status", "statement"), [], "log.status.statement must be an object"),
    (("log", "token", "proof"), "x", "log.token.proof must be a list of base64 SHA-256 "
                                     "hashes"),
    (("log", "token", "proof"), [GOOD_HASH[:-2]], "log.token.proof must be a list"),
    (("log", "token", "proof"), [GOOD_HASH] * 65, "log.token.proof must be a list"),
    (("disclosures",), {}, "disclosures must be a list"),
    (("suppliers",), "x", "suppliers must be a list"),
]


@pytest.mark.parametrize(("path", "value", "message"), SHAPE_CASES)
def test_the_shape_is_exact_and_the_error_names_the_field(
        scenario: Scenario, path: tuple[str | int, ...], value: Any, message: str) -> None:
    data = edited(scenario.plain(), path, value)
    with pytest.raises(BundleError) as caught:
        Bundle.from_dict(data)
    assert str(caught.value).startswith(message)
    # verify reports the same words: one definition of the shape.
    result = run(data, scenario.trust)
    assert [(c.name, c.outcome) for c in result.checks] == [("bundle.format", Outcome.FAIL)]
    assert result.checks[0].detail == str(caught.value)


@pytest.mark.parametrize(("path", "value", "message"), SHAPE_CASES)
def test_the_error_names_the_field_in_a_nested_bundle(
        scenario: Scenario, path: tuple[str | int, ...], value: Any, message: str) -> None:
    data = edited(scenario.nested(), ("suppliers", 0, *path), value)
    with pytest.raises(BundleError) as caught:
        Bundle.from_dict(data)
    names_a_field = message.split(" ")[0].split(".")[0] in FIELDS
    expected = f"suppliers[0].{message}" if names_a_field else f"suppliers[0]: {message}"
    assert str(caught.value).startswith(expected)
    # verify checks a nested bundle as a check of its own: it fails there, and only there
    # (named by the digest of its token, or "unknown" when it has none to name it by).
    result = run(data, scenario.trust)
    name = "unknown" if path[0] == "token" else scenario.supplier.digest[:16]
    assert result.decision is Decision.REJECT
    assert [c.name for c in result.checks if c.outcome is Outcome.FAIL] == [f"supplier.{name}"]


FIELDS = {"format", "token", "log", "disclosures", "suppliers"}


def test_a_disclosure_has_exactly_its_four_fields(scenario: Scenario) -> None:
    data = scenario.disclosed([0, 2])
    for value, message in ((7, "disclosures[1]: a disclosure is an object"),
                           ({**data["disclosures"][1], "note": 1},
                            "disclosures[1]: a disclosure has exactly the fields ['line', "
                            "'proof', 'record', 'salt']; got")):
        broken = edited(data, ("disclosures", 1), value)
        with pytest.raises(BundleError) as caught:
            Bundle.from_dict(broken)
        assert str(caught.value).startswith(message)
        # verify: the same rule fails its disclosure check (without the path).
        result = run(broken, scenario.trust)
        (check,) = [c for c in result.checks if c.name == "disclosure.lines"]
        assert check.outcome is Outcome.FAIL
        assert str(caught.value) == f"disclosures[1]: {check.detail}"


def test_supplier_bundles_nest_at_most_the_verifier_s_depth(scenario: Scenario) -> None:
    # Well formed, not authentic: the supplier's bundle nested in itself, level by level.
    data = scenario.nested()
    supplier = copy.deepcopy(data["suppliers"][0])
    deepest = data["suppliers"][0]
    for _ in range(MAX_SUPPLIER_DEPTH - 1):
        deepest["suppliers"] = [copy.deepcopy(supplier)]
        deepest = deepest["suppliers"][0]
    assert Bundle.from_dict(data).to_dict() == data  # the deepest is 8 levels down
    deepest["suppliers"] = [copy.deepcopy(supplier)]
    with pytest.raises(BundleError) as caught:
        Bundle.from_dict(data)
    where = ".".join(["suppliers[0]"] * MAX_SUPPLIER_DEPTH + ["suppliers"])
    assert str(caught.value) == f"{where}: supplier bundles nested more than 8 levels deep"


def test_a_proof_hash_in_a_non_canonical_spelling_is_well_formed_but_does_not_decode(
        scenario: Scenario) -> None:
    # 43 base64 characters carry 258 bits, 32 bytes use 256: the last character's two low
    # bits must be zero. Setting one spells the same bytes in a second way.
    data = scenario.plain()
    proof = data["log"]["token"]["proof"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(proof[0][42])
    assert last % 4 == 0
    proof[0] = proof[0][:42] + alphabet[last | 1] + "="

    entry = Bundle.from_dict(data).token_entry
    assert base64.b64decode(entry.proof[0]) == base64.b64decode(
        scenario.plain()["log"]["token"]["proof"][0])
    with pytest.raises(EncodingError, match="canonical base64"):
        entry.hashes()
    # verify rejects it at the inclusion of that entry.
    result = run(data, scenario.trust)
    assert [c.name for c in result.checks if c.outcome is Outcome.FAIL] == [
        "log.token.inclusion"]


def test_a_logged_statement_reads_alone_naming_its_place() -> None:
    entry = {"index": 3, "statement": {"type": "key"}, "proof": [GOOD_HASH]}
    assert LoggedStatement.from_dict(entry).to_dict() == entry
    with pytest.raises(BundleError, match=r"log\.key\.index must be a log index"):
        LoggedStatement.from_dict({**entry, "index": None}, "log.key")
    with pytest.raises(BundleError, match="entry must have exactly"):
        LoggedStatement.from_dict([])


@pytest.mark.parametrize("value", [None, [], "x", 3])
def test_what_is_not_an_object_is_not_a_bundle(value: Any) -> None:
    with pytest.raises(BundleError, match="a bundle is a JSON object"):
        Bundle.from_dict(value)
    with pytest.raises(BundleError, match="a bundle is a JSON object"):
        check_bundle_shape(value)


# ---------------------------------------------------------------------------------------
# Properties


hashes = st.binary(min_size=32, max_size=32).map(lambda h: base64.b64encode(h).decode())
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
entries = st.fixed_dictionaries({"index": st.integers(0, 2**40), "statement": objects,
                                 "proof": st.lists(hashes, max_size=4)})
disclosures = st.fixed_dictionaries({"line": json_values, "salt": json_values,
                                     "record": json_values, "proof": json_values})


def bundles(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed bundles (of no authenticity: the shape is all that is drawn)."""
    optional: dict[str, st.SearchStrategy[Any]] = {
        "disclosures": st.lists(disclosures, max_size=2)}
    if depth:
        optional["suppliers"] = st.lists(st.deferred(lambda: bundles(depth - 1)), max_size=2)
    return st.fixed_dictionaries(
        {"format": st.just(BUNDLE_FORMAT), "token": objects,
         "log": st.fixed_dictionaries({"checkpoint": st.text(max_size=20), "token": entries,
                                       "key": entries, "status": entries})},
        optional=optional)


@given(bundles())
def test_a_well_formed_bundle_round_trips(data: dict[str, Any]) -> None:
    assert Bundle.from_dict(data).to_dict() == data


@pytest.mark.fuzz
@given(st.data())
def test_any_json_in_any_place_is_a_bundle_or_a_bundle_error(data: st.DataObject) -> None:
    bundle, _ = strict_case()
    paths = list(_paths(bundle))
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(json_values, label="value")
    target: Any = bundle
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    try:
        read = Bundle.from_dict(bundle)
    except BundleError:
        return
    assert read.to_dict() == bundle


#: Values the shape does not look into (the signature, the log and the disclosure check
#: do): any JSON object is well formed there.
OPAQUE = {"token", "statement", "record"}


def _paths(value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Every place in a bundle where the shape decides what may stand."""
    if path:
        yield path
    if path and path[-1] in OPAQUE:
        return
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for step, item in items:
        yield from _paths(item, (*path, step))
