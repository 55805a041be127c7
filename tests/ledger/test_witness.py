"""tlog-witness add-checkpoint: cosign only consistent growth; refuse rollback, fork, conflict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint, verify_cosignature
from ledger.errors import (
    ConflictError,
    EncodingError,
    InconsistentCheckpointError,
    InputError,
    SignatureError,
    UnknownKeyError,
)
from ledger.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from ledger.note import SIG_COSIGNATURE_V1, Note, Signature, Signer
from ledger.witness import (
    MAX_PROOF_HASHES,
    AddCheckpointRequest,
    CosignedCheckpoint,
    Witness,
    WitnessState,
)

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "assets" / "c2sp" / "checkpoints.json").read_text()
)["spec_examples"]
ORIGIN = "ledger.example/usmca/2026"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
OTHER_LOG = Signer.from_seed("other.example/log", bytes(range(7, 39)))
CBP = Signer.from_seed("cbp.example/witness", bytes(range(1, 33)), SIG_COSIGNATURE_V1)
LEAVES = [leaf_hash(b"statement %d" % i) for i in range(40)]
TREE = MerkleTree(LEAVES)
T0 = 1_767_225_600


def signed(size: int, tree: MerkleTree = TREE, signer: Signer = LOG) -> str:
    return sign_checkpoint(Checkpoint(signer.name, size, tree.root(size)), signer)


def witness(state: WitnessState | None = None) -> Witness:
    return Witness(CBP, [LOG.verifier, OTHER_LOG.verifier], state)


def grown(*sizes: int) -> Witness:
    """A witness that has cosigned ORIGIN at each of `sizes` in turn."""
    w = witness()
    old = 0
    for n, size in enumerate(sizes):
        w.add_checkpoint(signed(size), old, TREE.consistency_proof(old, size), T0 + n)
        old = size
    return w


def test_first_checkpoint_then_growth() -> None:
    w = witness()
    assert w.latest_size(ORIGIN) == 0
    line = w.add_checkpoint(signed(5), 0, [], T0)
    cosignature = Signature.parse_line(line)
    assert cosignature.name == CBP.name
    checkpoint = Checkpoint(ORIGIN, 5, TREE.root(5))
    assert verify_cosignature(checkpoint, line, CBP.verifier) == T0
    assert w.state.latest(ORIGIN) == CosignedCheckpoint(5, TREE.root(5), T0)
    line = w.add_checkpoint(signed(23), 5, TREE.consistency_proof(5, 23), T0 + 10)
    assert verify_cosignature(Checkpoint(ORIGIN, 23, TREE.root(23)), line, CBP.verifier) == (
        T0 + 10)
    assert w.latest_size(ORIGIN) == 23


def test_the_cosignature_completes_the_checkpoint_note() -> None:
    w = witness()
    note = signed(9)
    line = w.add_checkpoint(note, 0, [], T0)
    opened = open_checkpoint(note + line, LOG.verifier, [CBP.verifier])
    assert opened.cosignature_timestamps() == {CBP.name: T0}


def test_same_checkpoint_is_cosigned_again_with_a_new_time() -> None:
    w = grown(12)
    line = w.add_checkpoint(signed(12), 12, [], T0 + 99)
    assert Signature.parse_line(line).timestamp() == T0 + 99
    assert w.state.latest(ORIGIN) == CosignedCheckpoint(12, TREE.root(12), T0 + 99)


def test_other_signatures_on_the_checkpoint_are_ignored() -> None:
    stranger = Signer.from_seed("stranger.example/w", bytes(range(9, 41)), SIG_COSIGNATURE_V1)
    note = signed(7)
    extra = Note.parse(note).with_signatures([stranger.sign(Note.parse(note).text,
                                                            timestamp=1)]).format()
    assert grown().add_checkpoint(extra, 0, [], T0)


def test_old_size_mismatch_is_a_conflict() -> None:
    w = grown(10)
    before = w.state
    with pytest.raises(ConflictError, match="10"):
        w.add_checkpoint(signed(20), 5, TREE.consistency_proof(5, 20), T0)
    with pytest.raises(ConflictError):
        w.add_checkpoint(signed(20), 0, [], T0)
    assert w.state is before
    assert w.latest_size(ORIGIN) == 10


def test_rollback_is_refused() -> None:
    w = grown(10, 20)
    with pytest.raises(InconsistentCheckpointError, match="rollback"):
        w.add_checkpoint(signed(15), 20, [], T0)
    assert w.latest_size(ORIGIN) == 20


def test_fork_is_refused() -> None:
    w = grown(10)
    forked_leaves = list(LEAVES)
    forked_leaves[3] = leaf_hash(b"rewritten history")
    fork = MerkleTree(forked_leaves)
    with pytest.raises(InconsistentCheckpointError):
        w.add_checkpoint(signed(20, fork), 10, fork.consistency_proof(10, 20), T0)
    with pytest.raises(InconsistentCheckpointError):  # the honest proof does not help
        w.add_checkpoint(signed(20, fork), 10, TREE.consistency_proof(10, 20), T0)
    with pytest.raises(InconsistentCheckpointError):  # same size, other root
        w.add_checkpoint(signed(10, fork), 10, [], T0)
    assert w.state.latest(ORIGIN) == CosignedCheckpoint(10, TREE.root(10), T0)


def test_bad_proofs_are_refused() -> None:
    w = grown(10)
    proof = TREE.consistency_proof(10, 20)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad in (flipped, proof[:-1], [*proof, proof[0]], []):
        with pytest.raises(InconsistentCheckpointError):
            w.add_checkpoint(signed(20), 10, bad, T0)
    with pytest.raises(InconsistentCheckpointError):
        witness().add_checkpoint(signed(20), 0, proof, T0)  # from 0 the proof is empty
    with pytest.raises(InputError):
        w.add_checkpoint(signed(20), 10, [b"\x00" * 32] * (MAX_PROOF_HASHES + 1), T0)


def test_empty_tree_checkpoints() -> None:
    empty = MerkleTree()
    assert witness().add_checkpoint(signed(0, empty), 0, [], T0)
    bogus = sign_checkpoint(Checkpoint(ORIGIN, 0, leaf_hash(b"x")), LOG)
    with pytest.raises(InconsistentCheckpointError):
        witness().add_checkpoint(bogus, 0, [], T0)


def test_unknown_origin_is_refused() -> None:
    stranger = Signer.from_seed("unknown.example/log", bytes(range(3, 35)))
    with pytest.raises(UnknownKeyError):
        witness().add_checkpoint(signed(3, signer=stranger), 0, [], T0)


def test_untrusted_or_bad_log_signature_is_refused() -> None:
    impostor = Signer.from_seed(ORIGIN, bytes(range(4, 36)))
    with pytest.raises(SignatureError):
        witness().add_checkpoint(signed(3, signer=impostor), 0, [], T0)
    tampered = signed(3).replace("\n3\n", "\n4\n")
    with pytest.raises(SignatureError):
        witness().add_checkpoint(tampered, 0, [], T0)
    with pytest.raises(EncodingError):
        witness().add_checkpoint("not a note", 0, [], T0)


def test_logs_are_tracked_separately() -> None:
    w = grown(10)
    other = MerkleTree(LEAVES[:4])
    w.add_checkpoint(signed(4, other, OTHER_LOG), 0, [], T0)
    assert (w.latest_size(ORIGIN), w.latest_size(OTHER_LOG.name)) == (10, 4)


def test_bad_arguments() -> None:
    w = witness()
    with pytest.raises(InputError):
        w.add_checkpoint(signed(3), -1, [], T0)
    with pytest.raises(InputError):
        w.add_checkpoint(signed(3), 0, [], -5)
    assert w.latest_size(ORIGIN) == 0
    with pytest.raises(InputError):
        Witness(LOG, [LOG.verifier])
    with pytest.raises(InputError):
        Witness(CBP, [CBP.verifier])


def test_state_round_trips_through_json_and_a_restart() -> None:
    w = grown(10, 20)
    saved = json.loads(json.dumps(w.state.to_json()))
    restored = witness(WitnessState.from_json(saved))
    assert restored.state == w.state
    restored.add_checkpoint(signed(30), 20, TREE.consistency_proof(20, 30), T0 + 50)
    assert restored.latest_size(ORIGIN) == 30
    with pytest.raises(ConflictError):  # the old witness's state was not shared
        w.add_checkpoint(signed(30), 30, [], T0)


@pytest.mark.parametrize("bad", [
    {}, {"logs": []}, {"logs": {"o": {"size": 1}}},
    {"logs": {"o": {"size": 1, "root": "AA==", "timestamp": 0}}},
    {"logs": {"o": {"size": -1, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                    "timestamp": 0}}},
    {"logs": {"o": {"size": 1, "root": 5, "timestamp": 0}}},
])
def test_malformed_state_is_refused(bad: Any) -> None:
    with pytest.raises(EncodingError):
        WitnessState.from_json(bad)


def test_state_is_immutable() -> None:
    state = grown(10).state
    with pytest.raises(TypeError):
        state.logs[ORIGIN] = CosignedCheckpoint(0, EMPTY_ROOT, 0)  # type: ignore[index]


def test_spec_request_body_parses() -> None:
    request = AddCheckpointRequest.parse(SPEC["witness_request"])
    assert request.old_size == 20852014
    assert len(request.proof) == 4
    assert request.signed_checkpoint.startswith(SPEC["body"] + "\n")
    assert request.format() == SPEC["witness_request"]


def test_request_round_trip_drives_a_witness() -> None:
    body = AddCheckpointRequest(10, tuple(TREE.consistency_proof(10, 20)), signed(20)).format()
    request = AddCheckpointRequest.parse(body)
    w = grown(10)
    assert w.add_checkpoint(request.signed_checkpoint, request.old_size, request.proof, T0)


@pytest.mark.parametrize("body", [
    "old 1\n" + signed(3),
    "old 01\n\n" + signed(3),
    "old -1\n\n" + signed(3),
    "new 1\n\n" + signed(3),
    "old 1\nnot base64\n\n" + signed(3),
    "old \n\n" + signed(3),
])
def test_malformed_requests_are_refused(body: str) -> None:
    with pytest.raises(InputError):
        AddCheckpointRequest.parse(body)
