"""Trust policy (c2sp.org/tlog-policy): parsing, JSON form, quorum, freshness, fail-closed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, add_cosignatures, sign_checkpoint
from ledger.errors import LedgerError, PolicyError, SignatureError, UnknownKeyError
from ledger.merkle import MerkleTree, leaf_hash
from ledger.note import EM_DASH, SIG_COSIGNATURE_V1, Signer
from ledger.policy import (
    MAX_CLOCK_SKEW_SECONDS,
    Group,
    LogKey,
    Policy,
    StaleCheckpointError,
    WitnessKey,
    verify_checkpoint,
)
from ledger.witness import Witness

ORIGIN = "ledger.example/usmca/2026"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
CBP = Signer.from_seed("cbp.example/witness", bytes(range(1, 33)), SIG_COSIGNATURE_V1)
CBSA = Signer.from_seed("cbsa.example/witness", bytes(range(2, 34)), SIG_COSIGNATURE_V1)
ANAM = Signer.from_seed("anam.example/witness", bytes(range(3, 35)), SIG_COSIGNATURE_V1)
WITNESSES = {"cbp": CBP, "cbsa": CBSA, "anam": ANAM}
TREE = MerkleTree([leaf_hash(b"statement %d" % i) for i in range(25)])
CHECKPOINT = Checkpoint(ORIGIN, TREE.size, TREE.root())
T0 = 1_767_225_600
DAY = 86_400

CUSTOMS = f"""\
# ledger-anchors s.5.2: two of the three customs authorities
log       {LOG.verifier.vkey}
witness   cbp   {CBP.verifier.vkey}
witness   cbsa  {CBSA.verifier.vkey}
witness   anam  {ANAM.verifier.vkey}
group     customs 2 cbp cbsa anam
quorum    customs
"""


def cosigned(*names: str, at: int = T0, checkpoint: Checkpoint = CHECKPOINT) -> str:
    """The checkpoint signed by the log and cosigned (through real witnesses) by `names`."""
    note = sign_checkpoint(checkpoint, LOG)
    lines = []
    for n, name in enumerate(names):
        witness = Witness(WITNESSES[name], [LOG.verifier])
        lines.append(witness.add_checkpoint(note, 0, [], at + n))
    return add_cosignatures(note, lines)


# -- parsing and the two forms -----------------------------------------------------------


def test_design_policy_parses() -> None:
    policy = Policy.parse(CUSTOMS)
    assert [log.verifier for log in policy.logs] == [LOG.verifier]
    assert [w.name for w in policy.witnesses] == ["cbp", "cbsa", "anam"]
    assert policy.groups == (Group("customs", "2", ("cbp", "cbsa", "anam")),)
    assert policy.quorum == "customs"
    assert policy.max_age_seconds is None


def test_text_and_json_round_trip() -> None:
    policy = Policy.parse(CUSTOMS + f"# tmec: max-age-seconds {DAY}\n")
    assert policy.max_age_seconds == DAY
    assert Policy.parse(policy.to_text()) == policy
    assert Policy.from_json(policy.to_json()) == policy
    assert Policy.from_json(json.dumps(policy.to_json())) == policy
    assert Policy.parse(Policy.from_json(policy.to_json()).to_text()).to_json() == (
        policy.to_json())
    document = policy.to_json()
    assert document == {
        "log": LOG.verifier.vkey,
        "witnesses": {name: signer.verifier.vkey for name, signer in WITNESSES.items()},
        "groups": {"customs": {"threshold": 2, "members": ["cbp", "cbsa", "anam"]}},
        "quorum": "customs",
        "max_age_seconds": DAY,
    }


def test_spec_example_structure_with_urls_and_nested_groups() -> None:
    keys = [Signer.from_seed(f"w{i}.example", bytes([i]) * 32, SIG_COSIGNATURE_V1)
            for i in range(1, 7)]
    text = (f"log {LOG.verifier.vkey} https://ledger.example/\n\n"
            + "".join(f"witness X{i} {keys[i - 1].verifier.vkey}\n" for i in (1, 2, 3))
            + "group X-witnesses 2 X1 X2 X3\n\n"
            + "".join(f"\twitness Y{i}\t{keys[i + 2].verifier.vkey} https://y{i}.example/\n"
                      for i in (1, 2, 3))
            + "group Y-witnesses any Y1 Y2 Y3\n"
            + "  # a comment\n"
            + "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y   \n")
    policy = Policy.parse(text)
    assert policy.logs[0].url == "https://ledger.example/"
    assert Policy.parse(policy.to_text()) == policy
    assert Policy.from_json(policy.to_json()) == policy
    assert policy.quorum_met({"X1", "X3", "Y2"})
    assert not policy.quorum_met({"X1", "X2", "X3"})
    assert not policy.quorum_met({"X1", "Y1", "Y2", "Y3"})
    message = policy.explain({"X1", "Y1"})
    assert "group X-witnesses needs 2" in message
    assert "X2, X3" in message


def test_json_groups_in_any_order() -> None:
    document = Policy.parse(CUSTOMS).to_json()
    document["groups"] = {
        "top": {"threshold": "all", "members": ["customs", "cbp"]},
        "customs": {"threshold": 2, "members": ["cbp", "cbsa", "anam"]},
    }
    document["quorum"] = "top"
    policy = Policy.from_json(document)
    assert [group.name for group in policy.groups] == ["customs", "top"]
    assert policy.quorum_met({"cbp", "anam"})
    assert not policy.quorum_met({"cbsa", "anam"})
    assert Policy.parse(policy.to_text()) == policy


def test_several_logs_and_urls_in_json() -> None:
    next_log = Signer.from_seed(ORIGIN, bytes(range(9, 41)))
    policy = Policy((LogKey(LOG.verifier), LogKey(next_log.verifier, "https://l.example/")),
                    (WitnessKey("cbp", CBP.verifier, "https://cbp.example/"),), (), "cbp")
    document = policy.to_json()
    assert document["log"] == [LOG.verifier.vkey, {"vkey": next_log.verifier.vkey,
                                                   "url": "https://l.example/"}]
    assert document["witnesses"]["cbp"]["url"] == "https://cbp.example/"
    assert Policy.from_json(document) == policy
    assert Policy.parse(policy.to_text()) == policy


WITNESS = f"witness cbp {CBP.verifier.vkey}\n"


@pytest.mark.parametrize(("text", "problem"), [
    (CUSTOMS.replace("quorum    customs\n", ""), "no quorum"),
    (CUSTOMS + "quorum cbp\n", "line 8"),
    (CUSTOMS + "frobnicate x\n", "unknown keyword"),
    (CUSTOMS + WITNESS, "defined twice"),
    (CUSTOMS.replace("witness   anam", "witness   cbp"), "defined twice"),
    (CUSTOMS + f"witness cbp2 {CBP.verifier.vkey}\n", "same public key"),
    (CUSTOMS.replace("2 cbp cbsa anam", "2 cbp cbsa mex"), "earlier line"),
    (CUSTOMS.replace("2 cbp cbsa anam", "0 cbp cbsa anam"), "threshold"),
    (CUSTOMS.replace("2 cbp cbsa anam", "4 cbp cbsa anam"), "outside 1..3"),
    (CUSTOMS.replace("2 cbp cbsa anam", "02 cbp cbsa anam"), "threshold"),
    (CUSTOMS.replace("2 cbp cbsa anam", "some cbp cbsa anam"), "threshold"),
    (CUSTOMS.replace("2 cbp cbsa anam", "2 cbp cbsa cbp"), "twice"),
    (CUSTOMS.replace("2 cbp cbsa anam", "any"), "expected 'group"),
    (CUSTOMS.replace("quorum    customs", "quorum    mex"), "not defined"),
    (CUSTOMS.replace("quorum    customs", "quorum"), "expected 'quorum"),
    (CUSTOMS.replace("witness   anam", "witness   none"), "reserved"),
    (CUSTOMS.replace("group     customs", "group     none"), "reserved"),
    (CUSTOMS.replace("2 cbp cbsa anam", "2 cbp cbsa none"), "earlier line"),
    (CUSTOMS.replace(CBP.verifier.vkey, CBP.verifier.vkey[:-2] + "AA"), "bad vkey"),
    (CUSTOMS.replace(CBP.verifier.vkey, LOG.verifier.vkey), "type 0x04"),
    (CUSTOMS.replace(LOG.verifier.vkey, CBP.verifier.vkey), "type 0x01"),
    (CUSTOMS + f"log {LOG.verifier.vkey}\n", "same public key"),
    (CUSTOMS.replace("\n", "\r\n"), "line 1"),
    (CUSTOMS + "\x0c\n", "line 8"),
    (CUSTOMS + "log\n", "expected 'log"),
    (CUSTOMS + f"log {LOG.verifier.vkey} http://a b\n", "expected 'log"),
    (CUSTOMS + "# tmec: max-age 86400\n", "unknown directive"),
    (CUSTOMS + "# tmec: max-age-seconds 0\n", "unknown directive"),
    (CUSTOMS + "# tmec: max-age-seconds 1\n# tmec: max-age-seconds 2\n", "twice"),
    (f"log {LOG.verifier.vkey}\nquorum none\n# tmec: max-age-seconds 60\n", "quorum"),
])
def test_malformed_policies_are_refused(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        Policy.parse(text)


def test_policy_errors_name_the_line() -> None:
    with pytest.raises(PolicyError, match="policy line 6"):
        Policy.parse(CUSTOMS.replace("2 cbp cbsa anam", "2 cbp cbsa mex"))


def test_quorum_none_and_an_empty_log_set_parse() -> None:
    policy = Policy.parse("quorum none\n")
    assert policy.logs == ()
    assert policy.quorum_met(set())
    assert Policy.parse(b"quorum none\n") == policy
    with pytest.raises(PolicyError):
        Policy.parse(b"\xff quorum none\n")


@pytest.mark.parametrize("change", [
    {"extra": 1},
    {"log": 5},
    {"log": {"vkey": "x"}},
    {"witnesses": []},
    {"witnesses": {"cbp": {"vkey": CBP.verifier.vkey, "colour": "red"}}},
    {"groups": {"customs": {"threshold": 2}}},
    {"groups": {"customs": {"threshold": True, "members": ["cbp"]}}},
    {"groups": {"customs": {"threshold": 1.5, "members": ["cbp"]}}},
    {"groups": {"a": {"threshold": 1, "members": ["b"]},
                "b": {"threshold": 1, "members": ["a"]}}, "quorum": "a"},
    {"quorum": 3},
    {"max_age_seconds": "86400"},
    {"max_age_seconds": True},
    {"max_age_seconds": -1},
])
def test_malformed_json_is_refused(change: dict[str, Any]) -> None:
    document = {**Policy.parse(CUSTOMS).to_json(), **change}
    with pytest.raises(PolicyError):
        Policy.from_json(document)


def test_malformed_json_text_is_refused() -> None:
    for text in ('{"log": 1, "log": 2}', "[]", "{", '{"quorum": 1.5}'):
        with pytest.raises(PolicyError):
            Policy.from_json(text)
    document = Policy.parse(CUSTOMS).to_json()
    del document["quorum"]
    with pytest.raises(PolicyError, match="lacks"):
        Policy.from_json(document)


# -- verification ------------------------------------------------------------------------


def test_quorum_met_verifies() -> None:
    policy = Policy.parse(CUSTOMS)
    verified = verify_checkpoint(policy, cosigned("cbp", "anam"))
    assert verified.checkpoint == CHECKPOINT
    assert verified.log == LOG.verifier
    assert dict(verified.cosignatures) == {"cbp": T0, "anam": T0 + 1}
    assert verified.quorum_time == T0
    assert not verified.freshness_checked
    all_three = verify_checkpoint(policy, cosigned("cbp", "cbsa", "anam"))
    assert all_three.quorum_time == T0 + 1


def test_quorum_not_met_names_who_is_missing() -> None:
    policy = Policy.parse(CUSTOMS)
    with pytest.raises(PolicyError) as caught:
        verify_checkpoint(policy, cosigned("cbsa"))
    message = caught.value.message
    assert "needs 2 of [cbp, cbsa, anam] and has 1" in message
    assert "missing cosignatures from: cbp, anam" in message
    with pytest.raises(PolicyError, match="missing cosignatures from: cbp, cbsa, anam"):
        verify_checkpoint(policy, cosigned())


def test_empty_policy_fails_closed() -> None:
    with pytest.raises(PolicyError, match="no log"):
        verify_checkpoint(Policy.parse("quorum none\n"), cosigned("cbp", "cbsa", "anam"))


def test_quorum_none_needs_only_the_log() -> None:
    policy = Policy.parse(f"log {LOG.verifier.vkey}\nquorum none\n")
    verified = verify_checkpoint(policy, cosigned(), now=T0)
    assert verified.quorum_time is None
    assert dict(verified.cosignatures) == {}


def test_single_witness_quorum() -> None:
    policy = Policy.parse(CUSTOMS.replace("quorum    customs", "quorum    cbp"))
    assert verify_checkpoint(policy, cosigned("cbp")).checkpoint == CHECKPOINT
    with pytest.raises(PolicyError, match="missing cosignatures from: cbp"):
        verify_checkpoint(policy, cosigned("cbsa", "anam"))


def test_bad_cosignature_by_a_policy_witness_is_rejected() -> None:
    policy = Policy.parse(CUSTOMS)
    note = cosigned("cbp", "anam")
    other = Checkpoint(ORIGIN, 3, TREE.root(3))
    forged = Witness(CBSA, [LOG.verifier]).add_checkpoint(sign_checkpoint(other, LOG), 0, [],
                                                           T0)
    with pytest.raises(SignatureError):
        verify_checkpoint(policy, add_cosignatures(note, [forged]))


def test_unknown_signatures_only_and_missing_log_signature() -> None:
    policy = Policy.parse(CUSTOMS)
    stranger = Signer.from_seed(ORIGIN, bytes(range(5, 37)))
    with pytest.raises(UnknownKeyError):
        verify_checkpoint(policy, sign_checkpoint(CHECKPOINT, stranger))
    only_cosigned = cosigned("cbp", "cbsa")
    log_line = only_cosigned.split("\n\n")[1].split("\n")[0] + "\n"
    with pytest.raises(UnknownKeyError, match="log key"):
        verify_checkpoint(policy, only_cosigned.replace(log_line, ""))


def test_unknown_cosigners_are_reported_not_counted() -> None:
    stranger = Signer.from_seed("mex.example/w", bytes(range(6, 38)), SIG_COSIGNATURE_V1)
    note = cosigned("cbp", "cbsa")
    line = Witness(stranger, [LOG.verifier]).add_checkpoint(note, 0, [], T0)
    verified = verify_checkpoint(Policy.parse(CUSTOMS), add_cosignatures(note, [line]))
    assert [sig.name for sig in verified.unknown_signatures] == ["mex.example/w"]
    assert set(verified.cosignatures) == {"cbp", "cbsa"}


# -- freshness ---------------------------------------------------------------------------

FRESH_POLICY = Policy.parse(CUSTOMS + f"# tmec: max-age-seconds {DAY}\n")


def test_fresh_quorum_passes() -> None:
    verified = verify_checkpoint(FRESH_POLICY, cosigned("cbp", "cbsa"), now=T0 + 3600)
    assert verified.freshness_checked


def test_stale_quorum_is_reported_distinctly() -> None:
    note = cosigned("cbp", "cbsa")
    with pytest.raises(StaleCheckpointError) as caught:
        verify_checkpoint(FRESH_POLICY, note, now=T0 + DAY + 10)
    error = caught.value
    assert isinstance(error, PolicyError)
    assert error.code == "ledger.checkpoint_stale"
    assert error.verified.checkpoint == CHECKPOINT
    assert error.verified.quorum_time == T0
    assert "not fresh" in error.message
    unchecked = verify_checkpoint(FRESH_POLICY, note)  # no `now`: not checked, and says so
    assert not unchecked.freshness_checked


def test_one_fresh_cosignature_is_not_a_fresh_quorum() -> None:
    old = cosigned("cbp", "cbsa", at=T0)
    fresh = cosigned("anam", at=T0 + 2 * DAY)
    anam_line = fresh.split("\n\n")[1].split("\n")[1]
    note = add_cosignatures(old, [anam_line])
    with pytest.raises(StaleCheckpointError):
        verify_checkpoint(FRESH_POLICY, note, now=T0 + 2 * DAY + 1)
    renewed = add_cosignatures(note, [cosigned("cbp", at=T0 + 2 * DAY).split("\n")[-2]])
    assert verify_checkpoint(FRESH_POLICY, renewed, now=T0 + 2 * DAY + 1).quorum_time == (
        T0 + 2 * DAY)


def test_cosignatures_from_the_future_are_not_fresh() -> None:
    note = cosigned("cbp", "cbsa", at=T0 + MAX_CLOCK_SKEW_SECONDS + 100)
    with pytest.raises(StaleCheckpointError):
        verify_checkpoint(FRESH_POLICY, note, now=T0)
    assert verify_checkpoint(FRESH_POLICY, cosigned("cbp", "cbsa", at=T0 + 60),
                             now=T0).freshness_checked


def test_stale_checkpoint_with_unmet_quorum_is_a_plain_policy_error() -> None:
    with pytest.raises(PolicyError) as caught:
        verify_checkpoint(FRESH_POLICY, cosigned("cbp"), now=T0 + 10 * DAY)
    assert not isinstance(caught.value, StaleCheckpointError)


# -- end to end and tamper evidence ------------------------------------------------------


def test_witnesses_following_growth_produce_a_verifiable_checkpoint() -> None:
    witnesses = {name: Witness(signer, [LOG.verifier]) for name, signer in WITNESSES.items()}
    old = 0
    note = ""
    for size in (4, 11, 25):
        checkpoint = Checkpoint(ORIGIN, size, TREE.root(size))
        note = sign_checkpoint(checkpoint, LOG)
        proof = TREE.consistency_proof(old, size)
        lines = [w.add_checkpoint(note, old, proof, T0 + size) for w in witnesses.values()]
        note = add_cosignatures(note, lines)
        old = size
    verified = verify_checkpoint(FRESH_POLICY, note, now=T0 + 30)
    assert verified.checkpoint.size == 25
    assert set(verified.cosignatures) == {"cbp", "cbsa", "anam"}


ALL_POLICY = Policy.parse(CUSTOMS.replace("customs 2", "customs all"))
CHARS = st.sampled_from([*"azAZ09+/= \n.-", EM_DASH, "\u00e9"])


@settings(derandomize=True, database=None, deadline=None, max_examples=500)
@given(st.data())
def test_any_single_changed_character_fails(data: st.DataObject) -> None:
    """With every present cosignature required, no single edit may pass."""
    note = cosigned("cbp", "cbsa", "anam")
    position = data.draw(st.integers(0, len(note) - 1), label="position")
    char = data.draw(CHARS.filter(lambda c: c != note[position]), label="char")
    changed = note[:position] + char + note[position + 1:]
    with pytest.raises(LedgerError):
        verify_checkpoint(ALL_POLICY, changed, now=T0)


# -- a verifier remembers the checkpoints it opened ---------------------------------------


def test_the_same_signed_checkpoint_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bundle fetched between two checkpoints carries the same note: its four
    signatures are checked the first time only."""
    import ledger.note
    from ledger import policy as policy_module

    policy_module._opened_checkpoint.cache_clear()
    note = cosigned("cbp", "cbsa", "anam")  # the witnesses check the log's signature too
    checked: list[bytes] = []
    real = ledger.note.verify_signature

    def counting(public_key: bytes, message: bytes, signature: bytes) -> bool:
        checked.append(message)
        return real(public_key, message, signature)

    monkeypatch.setattr(ledger.note, "verify_signature", counting)
    policy = Policy.parse(CUSTOMS)
    first = verify_checkpoint(policy, note, now=T0)
    assert len(checked) == 4  # the log and three witnesses
    again = verify_checkpoint(policy, note.encode(), now=T0 + 10)
    assert len(checked) == 4
    assert again.checkpoint == first.checkpoint
    assert dict(again.cosignatures) == dict(first.cosignatures)


def test_a_remembered_checkpoint_does_not_vouch_for_an_altered_one() -> None:
    policy = Policy.parse(CUSTOMS)
    note = cosigned("cbp", "cbsa", "anam")
    verify_checkpoint(policy, note)
    altered = note.replace(str(TREE.size), str(TREE.size + 1), 1)
    with pytest.raises(LedgerError):
        verify_checkpoint(policy, altered)


def test_a_remembered_checkpoint_is_opened_again_under_other_keys() -> None:
    """The memory is per key set: a policy that does not name CBSA and ANAM does not count
    their cosignatures because another policy did."""
    note = cosigned("cbp", "cbsa", "anam")
    assert set(verify_checkpoint(Policy.parse(CUSTOMS), note).cosignatures) == {
        "cbp", "cbsa", "anam"}
    only_cbp = Policy.parse(f"log {LOG.verifier.vkey}\nwitness cbp {CBP.verifier.vkey}\n"
                            "quorum cbp\n")
    verified = verify_checkpoint(only_cbp, note)
    assert set(verified.cosignatures) == {"cbp"}
    assert {sig.name for sig in verified.unknown_signatures} == {
        "cbsa.example/witness", "anam.example/witness"}
