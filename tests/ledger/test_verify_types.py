"""The typed results of `ledger.verify`: `Decision`, `Outcome`, `Check`, `Verification`.

They are what the HTTP API will document and return, so: the enums are exactly the values
`verify` emits and compare equal to their strings (callers written against strings keep
working); ``to_dict`` is plain JSON in the order ``tmec verify --json`` has always printed;
``from_dict`` reads back exactly what ``to_dict`` writes (a hypothesis property and every
real verification of the scenario) and refuses anything else with an `InputError` that
names the field.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.terminal import printable_json
from ledger.errors import InputError
from ledger.verify import Check, Decision, Outcome, Verification
from tests.ledger.test_verify import AT, DAY, Scenario, build_scenario, run, strict_case

# ---------------------------------------------------------------------------------------
# The enums


def test_the_enums_hold_the_values_verify_has_always_emitted() -> None:
    assert [d.value for d in Decision] == ["clear", "review", "reject"]
    assert [o.value for o in Outcome] == ["pass", "warn", "fail", "skip"]


def test_the_enums_compare_hash_and_serialise_as_their_strings() -> None:
    # Callers written against strings keep working: equality, dict keys, JSON, f-strings.
    assert Decision.CLEAR == "clear"
    assert Outcome.FAIL == "fail"
    assert {"clear": 0, "reject": 1, "review": 5}[Decision.REVIEW] == 5
    assert "warn" in {Outcome.WARN}
    assert json.dumps({"d": Decision.REJECT}) == '{"d": "reject"}'
    assert f"{Decision.CLEAR} {Outcome.SKIP}" == "clear skip"


@pytest.mark.parametrize(("outcomes", "expected"), [
    ([], Decision.CLEAR),
    ([Outcome.PASS, Outcome.SKIP], Decision.CLEAR),
    ([Outcome.PASS, Outcome.WARN, Outcome.SKIP], Decision.REVIEW),
    ([Outcome.WARN, Outcome.FAIL], Decision.REJECT),
    ([Outcome.FAIL], Decision.REJECT),
])
def test_a_fail_rejects_a_warning_asks_for_review_anything_else_is_clear(
        outcomes: list[Outcome], expected: Decision) -> None:
    assert Decision.of(outcomes) is expected


def test_every_real_verification_decides_by_that_rule(scenario: Scenario) -> None:
    for result in _real_verifications(scenario):
        assert result.decision is Decision.of(c.outcome for c in result.checks)


# ---------------------------------------------------------------------------------------
# to_dict: the JSON of `tmec verify --json`, unchanged


def test_to_dict_is_plain_json_in_the_order_tmec_verify_prints(scenario: Scenario) -> None:
    for result in _real_verifications(scenario):
        data = result.to_dict()
        assert list(data) == ["decision", "tokenDigest", "shipmentId", "checks"]
        assert type(data["decision"]) is str
        for check, written in zip(result.checks, data["checks"], strict=True):
            assert list(written) == ["name", "outcome", "detail"]
            assert all(type(value) is str for value in written.values())
            assert written == {"name": check.name, "outcome": check.outcome.value,
                               "detail": check.detail}
        # What `tmec verify --json` prints is the same text as from the old string fields.
        old_style = {"decision": str(result.decision), "tokenDigest": result.token_digest,
                     "shipmentId": result.shipment_id,
                     "checks": [{"name": c.name, "outcome": str(c.outcome),
                                 "detail": c.detail} for c in result.checks]}
        assert printable_json(data) == printable_json(old_style)


def test_a_token_without_a_textual_shipment_id_is_reported_without_one(
        scenario: Scenario) -> None:
    bundle = scenario.plain()
    bundle["token"]["credentialSubject"]["shipmentId"] = 1145
    result = run(bundle, scenario.trust)
    assert result.decision is Decision.REJECT
    assert result.shipment_id is None
    assert result.token_digest is not None
    Verification.from_dict(result.to_dict())


# ---------------------------------------------------------------------------------------
# from_dict: the round trip


def test_every_real_verification_round_trips(scenario: Scenario) -> None:
    results = _real_verifications(scenario)
    assert {r.decision for r in results} == set(Decision)
    for result in results:
        data = result.to_dict()
        again = Verification.from_dict(json.loads(json.dumps(data)))
        assert again == result
        assert again.to_dict() == data
        assert all(isinstance(c.outcome, Outcome) for c in again.checks)


check_names = st.text(min_size=1, max_size=30)
checks = st.builds(Check, check_names, st.sampled_from(Outcome), st.text(max_size=80))
digests = st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def verifications(draw: st.DrawFn) -> Verification:
    listed = tuple(draw(st.lists(checks, max_size=8)))
    return Verification(Decision.of(c.outcome for c in listed), listed, draw(digests),
                        draw(st.none() | st.text(max_size=40)))


@given(verifications())
def test_from_dict_reads_back_what_to_dict_writes(result: Verification) -> None:
    data = result.to_dict()
    assert Verification.from_dict(json.loads(json.dumps(data))) == result


@given(checks)
def test_a_check_reads_back_what_it_writes(check: Check) -> None:
    assert Check.from_dict(check.to_dict()) == check


# ---------------------------------------------------------------------------------------
# from_dict: strict


def _base() -> dict[str, Any]:
    return {"decision": "review", "tokenDigest": "ab" * 32, "shipmentId": "HPC-1145",
            "checks": [{"name": "bundle.format", "outcome": "pass", "detail": "ok"},
                       {"name": "checkpoint.freshness", "outcome": "warn", "detail": "old"}]}


def _edited(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = _base()
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


def test_the_base_of_the_strictness_cases_reads() -> None:
    assert Verification.from_dict(_base()).decision is Decision.REVIEW


@pytest.mark.parametrize(("path", "value", "message"), [
    (("extra",), 1, "verification: unknown field 'extra'"),
    (("checks", 0, "extra"), 1, "verification.checks[0]: unknown field 'extra'"),
    (("decision",), _DELETE, "verification: missing field 'decision'"),
    (("tokenDigest",), _DELETE, "verification: missing field 'tokenDigest'"),
    (("checks", 1, "detail"), _DELETE, "verification.checks[1]: missing field 'detail'"),
    (("decision",), "CLEAR", "verification.decision must be one of clear, review, reject"),
    (("decision",), True, "verification.decision must be one of"),
    (("checks", 1, "outcome"), "ok", "verification.checks[1].outcome must be one of pass, "
                                     "warn, fail, skip; got 'ok'"),
    (("checks", 0, "outcome"), None, "verification.checks[0].outcome must be one of"),
    (("checks", 0, "name"), 7, "verification.checks[0].name must be a string, got 7"),
    (("checks", 0, "name"), "", "verification.checks[0].name must not be empty"),
    (("checks", 0, "detail"), ["x"], "verification.checks[0].detail must be a string, got "
                                     "an array"),
    (("checks",), {"a": 1}, "verification.checks must be an array"),
    (("checks", 0), "pass", "verification.checks[0] must be a JSON object"),
    (("tokenDigest",), "AB" * 32, "verification.tokenDigest must be a token digest"),
    (("tokenDigest",), 5, "verification.tokenDigest must be a token digest"),
    (("shipmentId",), 1145, "verification.shipmentId must be a string, got 1145"),
    (("decision",), "clear", "verification.decision is 'clear', but its checks call for "
                             "'review'"),
    (("checks", 1, "outcome"), "fail", "verification.decision is 'review', but its checks "
                                       "call for 'reject'"),
])
def test_from_dict_refuses_anything_else_naming_the_field(path: tuple[Any, ...], value: Any,
                                                          message: str) -> None:
    with pytest.raises(InputError) as caught:
        Verification.from_dict(_edited(path, value))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("value", [None, [], "clear", 3])
def test_from_dict_refuses_what_is_not_an_object(value: Any) -> None:
    with pytest.raises(InputError, match="verification must be a JSON object"):
        Verification.from_dict(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


@pytest.mark.fuzz
@given(st.data())
def test_from_dict_raises_only_input_errors(data: st.DataObject) -> None:
    document = _base()
    choice = data.draw(st.sampled_from(["decision", "tokenDigest", "shipmentId", "checks",
                                        "check", "outcome"]))
    value = data.draw(json_values)
    if choice == "check":
        document["checks"][0] = value
    elif choice == "outcome":
        document["checks"][1]["outcome"] = value
    else:
        document[choice] = value
    try:
        read = Verification.from_dict(document)
    except InputError:
        return
    assert read.to_dict() == document


# ---------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def scenario() -> Scenario:
    return build_scenario()


def _real_verifications(scenario: Scenario) -> list[Verification]:
    """Clear, review and reject results of real bundles, nested and with disclosures."""
    bundle, strict = strict_case()
    stale = run(scenario.plain(), scenario.trust, at=AT + 2 * DAY)
    tampered = copy.deepcopy(bundle)
    tampered["log"]["token"]["index"] += 1
    return [run(bundle, strict), run(scenario.nested(disclose=True), scenario.trust), stale,
            run(tampered, strict), run(b"not json", strict), run(scenario.plain(), strict)]
