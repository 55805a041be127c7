"""`ledger.status.TokenStatus`: the typed form of `Ledger.token_status`.

* The three enums hold exactly the values the ledger uses: token states of the status
  statement, `KeyRecord.status_at`'s answers, `EVIDENCE_STATES` in their order.
* Every status a real ledger gives (active, revoked, superseded, a compromised key,
  supplier evidence revoked or superseded) reads into a `TokenStatus` whose ``to_dict``
  is the same JSON, key order included.
* ``from_dict`` is strict (fields, types, and the fields' agreement with each other) and
  names the field; a hypothesis property checks the round trip of any consistent status.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InputError
from ledger.keys import KeyRecord
from ledger.service import Ledger
from ledger.statements import EVIDENCE_STATES
from ledger.status import EvidenceState, KeyState, TokenState, TokenStatus
from ledger.store import MemoryStore
from tests.ledger.world import (
    FRENOS,
    FRENOS_KEY,
    HURON,
    HURON_KEY,
    LAKESHORE,
    LAKESHORE_KEY,
    LOG_KEY,
    ORIGIN,
    issue,
    kid_of,
    now,
)

# ---------------------------------------------------------------------------------------
# The enums are the ledger's values


def test_the_evidence_states_are_the_statements_in_their_order() -> None:
    assert tuple(state.value for state in EvidenceState) == EVIDENCE_STATES


def test_the_key_states_are_what_a_key_record_answers() -> None:
    record = KeyRecord("did:key:z#z", bytes(32), {"id": "p"}, added_at=10, retired_at=20,
                       compromised_since=30)
    answers = {record.status_at(index) for index in (5, 10, 11, 20, 21, 30, 40)}
    assert answers == {state.value for state in KeyState}


def test_the_token_states_are_active_revoked_superseded() -> None:
    assert [state.value for state in TokenState] == ["active", "revoked", "superseded"]


# ---------------------------------------------------------------------------------------
# Real statuses round-trip


def real_statuses() -> dict[str, dict[str, Any]]:
    """What `Ledger.token_status` says in each situation a token can be in."""
    ledger = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now)
    frenos_kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    active = issue(ledger, FRENOS_KEY, FRENOS)
    revoked = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_token(revoked.digest, signer=FRENOS_KEY, reason="recall")
    old, new = issue(ledger, FRENOS_KEY, FRENOS), issue(ledger, FRENOS_KEY, FRENOS)
    ledger.supersede_token(old.digest, new.digest, signer=FRENOS_KEY, reason="corrected")

    recalled = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    corrected = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    correction = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    on_recalled = issue(ledger, HURON_KEY, HURON, name="cylinder-head-us",
                        cites=recalled.digest)
    on_corrected = issue(ledger, HURON_KEY, HURON, name="cylinder-head-us",
                         cites=corrected.digest)
    ledger.revoke_token(recalled.digest, signer=LAKESHORE_KEY, reason="recall")
    ledger.supersede_token(corrected.digest, correction.digest, signer=LAKESHORE_KEY,
                           reason="costs")

    stolen = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_key(frenos_kid, signer=None, reason="stolen",
                      compromised_since=stolen.index)
    return {name: ledger.token_status(result.digest) for name, result in (
        ("active", active), ("revoked", revoked), ("superseded", old),
        ("evidence revoked", on_recalled), ("evidence superseded", on_corrected),
        ("key compromised", stolen))}


@pytest.fixture(scope="module")
def statuses() -> dict[str, dict[str, Any]]:
    return real_statuses()


def test_every_real_status_reads_and_writes_back_the_same_json(
        statuses: dict[str, dict[str, Any]]) -> None:
    for name, data in statuses.items():
        status = TokenStatus.from_dict(data)
        assert status.to_dict() == data, name
        assert json.dumps(status.to_dict()) == json.dumps(data), name  # key order too


def test_real_statuses_read_into_typed_fields(statuses: dict[str, dict[str, Any]]) -> None:
    read = {name: TokenStatus.from_dict(data) for name, data in statuses.items()}

    assert read["active"] == TokenStatus(TokenState.ACTIVE, KeyState.VALID, kid_of(FRENOS_KEY),
                                         statuses["active"]["index"], EvidenceState.ACTIVE)
    assert read["revoked"].token is TokenState.REVOKED
    assert read["revoked"].revocation is not None
    assert read["revoked"].superseded_by is None
    assert read["superseded"].token is TokenState.SUPERSEDED
    assert read["superseded"].superseded_by == statuses["superseded"]["supersededBy"]
    assert read["key compromised"].key is KeyState.COMPROMISED
    assert read["evidence revoked"].evidence is EvidenceState.REVOKED
    assert read["evidence superseded"].evidence is EvidenceState.SUPERSEDED
    for name in ("evidence revoked", "evidence superseded"):
        assert read[name].evidence_affected == tuple(statuses[name]["evidenceAffected"])
        assert read[name].token is TokenState.ACTIVE


# ---------------------------------------------------------------------------------------
# Strict


D1, D2 = "1" * 64, "2" * 64
BASE = {"token": "superseded", "supersededBy": D1, "revocation": 9, "key": "valid",
        "kid": "did:key:z6Mk#z6Mk", "index": 4, "evidence": "revoked",
        "evidenceAffected": [D1, D2]}


def with_(**changes: Any) -> dict[str, Any]:
    data = dict(BASE)
    for name, value in changes.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    return data


def test_the_base_of_the_strictness_cases_reads() -> None:
    assert TokenStatus.from_dict(BASE).to_dict() == BASE


@pytest.mark.parametrize(("data", "message"), [
    ({**BASE, "note": 1}, "status: unknown field 'note'"),
    (with_(kid=None), "status: missing field 'kid'"),
    (with_(token="gone"), "status.token must be one of active, revoked, superseded; got "
                          "'gone'"),
    (with_(key="lost"), "status.key must be one of valid, revoked, compromised, unknown"),
    (with_(evidence=1), "status.evidence must be one of active, superseded, revoked; got 1"),
    (with_(kid=7), "status.kid must be a string, got 7"),
    (with_(kid=""), "status.kid must not be empty"),
    (with_(index=True), "status.index must be a non-negative integer, got true"),
    (with_(index=-1), "status.index must be a non-negative integer, got -1"),
    (with_(revocation="9"), "status.revocation must be a non-negative integer, got '9'"),
    (with_(revocation=4), "status.revocation (4) must come after the token's index (4)"),
    (with_(revocation=None), "status.revocation is given exactly when the token is not "
                             "active (it is superseded)"),
    (with_(token="active", supersededBy=None), "status.revocation is given exactly when"),
    (with_(supersededBy="X" * 64), "status.supersededBy must be a token digest"),
    (with_(supersededBy=None), "status.supersededBy is given exactly when the token is "
                               "superseded (it is superseded)"),
    (with_(token="revoked"), "status.supersededBy is given exactly when"),
    (with_(evidenceAffected="x"), "status.evidenceAffected must be a non-empty array"),
    (with_(evidenceAffected=[]), "status.evidenceAffected must be a non-empty array"),
    (with_(evidenceAffected=[D1, 3]), "status.evidenceAffected[1] must be a token digest "
                                      "(64 lowercase hex digits), got 3"),
    (with_(evidenceAffected=[D2, D1]), "status.evidenceAffected must list distinct digests "
                                       "in sorted order"),
    (with_(evidenceAffected=[D1, D1]), "status.evidenceAffected must list distinct"),
    (with_(evidenceAffected=None), "status.evidenceAffected lists the supplier tokens that "
                                   "are not active, exactly when evidence is not active"),
    (with_(evidence="active"), "status.evidenceAffected lists the supplier tokens"),
    ([BASE], "status must be a JSON object, got an array"),
])
def test_from_dict_refuses_anything_else_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        TokenStatus.from_dict(data)
    assert str(caught.value).startswith(message)


# ---------------------------------------------------------------------------------------
# Properties


hex_digests = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def statuses_drawn(draw: st.DrawFn) -> TokenStatus:
    """Any status the log could give: the fields agree as `from_dict` requires."""
    token = draw(st.sampled_from(TokenState))
    index = draw(st.integers(0, 2**40))
    evidence = draw(st.sampled_from(EvidenceState))
    affected = () if evidence is EvidenceState.ACTIVE else tuple(sorted(draw(
        st.sets(hex_digests, min_size=1, max_size=3))))
    return TokenStatus(
        token, draw(st.sampled_from(KeyState)), draw(st.text(min_size=1, max_size=60)), index,
        evidence,
        revocation=None if token is TokenState.ACTIVE else draw(st.integers(index + 1,
                                                                            2**41)),
        superseded_by=draw(hex_digests) if token is TokenState.SUPERSEDED else None,
        evidence_affected=affected)


@given(statuses_drawn())
def test_from_dict_reads_back_what_to_dict_writes(status: TokenStatus) -> None:
    assert TokenStatus.from_dict(json.loads(json.dumps(status.to_dict()))) == status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@pytest.mark.fuzz
@given(st.sampled_from(sorted(BASE)), json_values)
def test_from_dict_raises_only_input_errors(name: str, value: Any) -> None:
    data = {**BASE, name: value}
    try:
        read = TokenStatus.from_dict(data)
    except InputError:
        return
    assert read.to_dict() == data
