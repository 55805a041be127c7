"""C2SP checkpoints and cosignature/v1: spec and real-world vectors, strict parsing, refusals.

Vectors: tests/assets/c2sp/checkpoints.json (each group names its source), including a real
sum.golang.org tree head and a real CT-log checkpoint cosigned by a public witness.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    add_cosignatures,
    cosign,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from ledger.errors import (
    EncodingError,
    InputError,
    LedgerError,
    SignatureError,
    UnknownKeyError,
)
from ledger.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from ledger.note import (
    EM_DASH,
    SIG_COSIGNATURE_V1,
    Note,
    Signature,
    Signer,
    Verifier,
    cosignature_message,
    open_note,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "assets" / "c2sp" / "checkpoints.json").read_text())
SPEC = VECTORS["spec_examples"]
ORIGIN = "ledger.example/usmca/2026"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
CBP = Signer.from_seed("cbp.example/witness", bytes(range(1, 33)), SIG_COSIGNATURE_V1)
CBSA = Signer.from_seed("cbsa.example/witness", bytes(range(2, 34)), SIG_COSIGNATURE_V1)
TREE = MerkleTree([leaf_hash(b"statement %d" % i) for i in range(11)])
CHECKPOINT = Checkpoint(ORIGIN, TREE.size, TREE.root())
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a fixed time: the core never reads a clock


def test_vectors_cite_their_source() -> None:
    for group in VECTORS.values():
        assert group["source"]


# -- spec examples -----------------------------------------------------------------------


def test_spec_body_round_trips() -> None:
    checkpoint = Checkpoint(SPEC["origin"], SPEC["size"], base64.b64decode(SPEC["root_base64"]))
    assert checkpoint.body() == SPEC["body"]
    assert Checkpoint.parse(SPEC["body"]) == checkpoint


def test_spec_cosigned_message_and_timestamp() -> None:
    assert cosignature_message(SPEC["body"], SPEC["cosignature_timestamp"]).decode() == (
        SPEC["cosigned_message"])
    line = Signature.parse_line(SPEC["cosignature_line"])
    assert line.name == "witness.example.com/w1"
    assert line.timestamp() == SPEC["cosignature_timestamp"]


# -- real-world checkpoints --------------------------------------------------------------


def test_real_sumdb_tree_head_verifies() -> None:
    sumdb = VECTORS["sumdb"]
    log = Verifier.from_vkey(sumdb["vkey"])
    opened = open_checkpoint(sumdb["signed_note"], log, origin=sumdb["origin"])
    assert opened.checkpoint.size == sumdb["size"]
    assert opened.checkpoint.root_hash == base64.b64decode(sumdb["root_base64"])
    assert opened.cosignatures == ()
    with pytest.raises(UnknownKeyError, match="origin"):
        open_checkpoint(sumdb["signed_note"], log)  # the origin is not the key name
    tampered = sumdb["signed_note"].replace("31700353", "31700354")
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, log, origin=sumdb["origin"])


def test_real_witnessed_checkpoint_verifies() -> None:
    case = VECTORS["witnessed_ct_log"]
    log = Verifier.from_vkey(case["log_vkey"])
    witness = Verifier.from_vkey(case["witness_vkey"])
    opened = open_checkpoint(case["signed_note"], log, [witness])
    assert opened.checkpoint.size == case["size"]
    assert opened.cosignature_timestamps() == {
        "remora.n621.de": case["derived_witness_timestamp"]}
    assert len(opened.unknown_signatures) == 4  # 0x05 log sig and three other witnesses
    tampered = case["signed_note"].replace(str(case["size"]), str(case["size"] + 1))
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, log, [witness])


def test_tessera_parse_cases() -> None:
    cases = VECTORS["tessera_parse_cases"]
    for case in cases["valid"]:
        parsed = Checkpoint.parse(case["body"])
        assert (parsed.origin, parsed.size) == (case["origin"], case["size"])
        assert parsed.body() == case["body"]
    for body in cases["invalid"]:
        with pytest.raises(EncodingError):
            Checkpoint.parse(body)


# -- strict parsing ----------------------------------------------------------------------

ROOT = base64.b64encode(EMPTY_ROOT).decode()


@pytest.mark.parametrize(("body", "line"), [
    (f"o\n042\n{ROOT}\n", "line 2"),
    (f"o\n+42\n{ROOT}\n", "line 2"),
    (f"o\n 42\n{ROOT}\n", "line 2"),
    (f"o\n4_2\n{ROOT}\n", "line 2"),
    (f"o\n\u0664\u0662\n{ROOT}\n", "line 2"),
    (f"o\n0x10\n{ROOT}\n", "line 2"),
    (f"o\n{MAX_TREE_SIZE + 1}\n{ROOT}\n", "line 2"),
    ("o\n1\n" + base64.b64encode(b"\x00" * 31).decode() + "\n", "line 3"),
    ("o\n1\n" + ROOT[:-2] + "V=\n", "line 3"),  # non-canonical padding bits
    (f"o\n1\n{ROOT}\n\next\n", "line 4"),
    (f"\n1\n{ROOT}\n", "line 1"),
    (f"o\r\n1\n{ROOT}\n", "line 1"),
    (f"o\n1\n{ROOT}\next\tension\n", "line 4"),
    (f"o\n1\n{ROOT}", "newline"),
    (f"o\n1\n{ROOT}\n\n", "line 4"),
    ("o\n1\n", "at least 3"),
])
def test_malformed_bodies_name_the_line(body: str, line: str) -> None:
    with pytest.raises(EncodingError, match=line):
        Checkpoint.parse(body)


def test_non_canonical_root_would_decode_to_the_same_hash() -> None:
    """Why line 3 must be canonical: a lenient decoder maps both spellings to one root."""
    assert ROOT.endswith("U=")
    assert base64.b64decode(ROOT[:-2] + "V=") == EMPTY_ROOT


def test_extension_lines_round_trip_and_are_signed() -> None:
    checkpoint = Checkpoint(ORIGIN, 3, EMPTY_ROOT, ("ext one", "ext two"))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    signed = sign_checkpoint(checkpoint, LOG)
    assert open_checkpoint(signed, LOG.verifier).checkpoint.extensions == ("ext one",
                                                                           "ext two")
    with pytest.raises(SignatureError):
        open_checkpoint(signed.replace("ext two", "ext 2"), LOG.verifier)


def test_size_limits() -> None:
    assert Checkpoint.parse(f"o\n{MAX_TREE_SIZE}\n{ROOT}\n").size == MAX_TREE_SIZE
    assert Checkpoint.parse(f"o\n0\n{ROOT}\n").size == 0
    for bad in (-1, MAX_TREE_SIZE + 1, True):
        with pytest.raises(EncodingError):
            Checkpoint(ORIGIN, bad, EMPTY_ROOT)
    with pytest.raises(EncodingError):
        Checkpoint(ORIGIN, 1, b"\x00" * 31)
    with pytest.raises(EncodingError):
        Checkpoint("two\nlines", 1, EMPTY_ROOT)
    with pytest.raises(EncodingError):
        Checkpoint(ORIGIN, 1, EMPTY_ROOT, ("",))


# -- signing, cosigning, verifying -------------------------------------------------------


def test_sign_and_open_round_trip() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    assert signed.startswith(CHECKPOINT.body() + "\n" + EM_DASH + " " + ORIGIN + " ")
    opened = open_checkpoint(signed, LOG.verifier)
    assert opened.checkpoint == CHECKPOINT
    assert opened.log_signature.verifier == LOG.verifier
    assert open_checkpoint(signed.encode(), [LOG.verifier]).checkpoint == CHECKPOINT


def test_cosign_verify_and_add() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    cbp = cosign(CHECKPOINT, CBP, T0)
    cbsa = cosign(CHECKPOINT, CBSA, T0 + 5)
    assert verify_cosignature(CHECKPOINT, cbp.line(), CBP.verifier) == T0
    assert verify_cosignature(CHECKPOINT, cbsa, CBSA.verifier) == T0 + 5
    cosigned = add_cosignatures(signed, [cbp.line(), cbsa])
    opened = open_checkpoint(cosigned, LOG.verifier, [CBP.verifier, CBSA.verifier])
    assert opened.cosignature_timestamps() == {CBP.name: T0, CBSA.name: T0 + 5}
    renewed = add_cosignatures(cosigned, [cosign(CHECKPOINT, CBP, T0 + 60)])
    assert len(Note.parse(renewed).signatures) == 3
    opened = open_checkpoint(renewed, LOG.verifier, [CBP.verifier, CBSA.verifier])
    assert opened.cosignature_timestamps()[CBP.name] == T0 + 60


def test_cosignature_of_another_checkpoint_or_key_is_refused() -> None:
    cbp = cosign(CHECKPOINT, CBP, T0)
    other = Checkpoint(ORIGIN, TREE.size - 1, TREE.root(TREE.size - 1))
    with pytest.raises(SignatureError):
        verify_cosignature(other, cbp, CBP.verifier)
    with pytest.raises(SignatureError):
        verify_cosignature(CHECKPOINT, cbp, CBSA.verifier)
    with pytest.raises(InputError):
        verify_cosignature(CHECKPOINT, cbp, LOG.verifier)
    with pytest.raises(InputError):
        cosign(CHECKPOINT, LOG, T0)
    with pytest.raises(InputError):
        sign_checkpoint(CHECKPOINT, CBP)


def test_a_bad_cosignature_by_a_known_witness_fails() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    stale = cosign(Checkpoint(ORIGIN, 1, TREE.root(1)), CBP, T0)
    cosigned = add_cosignatures(signed, [stale])
    with pytest.raises(SignatureError):
        open_checkpoint(cosigned, LOG.verifier, [CBP.verifier])
    assert open_checkpoint(cosigned, LOG.verifier).unknown_signatures == (stale,)


def test_cosignatures_alone_do_not_replace_the_log_signature() -> None:
    note = Note(CHECKPOINT.body(), (cosign(CHECKPOINT, CBP, T0),)).format()
    with pytest.raises(UnknownKeyError, match="not signed by the log key"):
        open_checkpoint(note, LOG.verifier, [CBP.verifier])


def test_other_log_key_is_unknown() -> None:
    other = Signer.from_seed(ORIGIN, bytes(range(5, 37)))
    with pytest.raises(UnknownKeyError):
        open_checkpoint(sign_checkpoint(CHECKPOINT, other), LOG.verifier)


def test_log_signing_another_origin_is_refused() -> None:
    foreign = Checkpoint("other.example/log", 1, EMPTY_ROOT)
    with pytest.raises(UnknownKeyError, match="origin"):
        open_checkpoint(sign_checkpoint(foreign, LOG), LOG.verifier)
    opened = open_checkpoint(sign_checkpoint(foreign, LOG), LOG.verifier,
                             origin="other.example/log")
    assert opened.checkpoint == foreign


def test_wrong_key_types_are_refused() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    with pytest.raises(InputError):
        open_checkpoint(signed, CBP.verifier)
    with pytest.raises(InputError):
        open_checkpoint(signed, LOG.verifier, [LOG.verifier])
    with pytest.raises(InputError):
        open_checkpoint(signed, [])


def test_a_signed_note_that_is_not_a_checkpoint_is_refused() -> None:
    note = Note("just\ntwo lines\n", (LOG.sign("just\ntwo lines\n"),)).format()
    with pytest.raises(EncodingError):
        open_checkpoint(note, LOG.verifier)


CHARS = st.sampled_from([*"azAZ09+/= \n.-", EM_DASH, "\u00e9"])


@settings(derandomize=True, database=None, deadline=None, max_examples=500)
@given(st.data())
def test_any_single_changed_character_fails(data: st.DataObject) -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    position = data.draw(st.integers(0, len(signed) - 1), label="position")
    char = data.draw(CHARS.filter(lambda c: c != signed[position]), label="char")
    changed = signed[:position] + char + signed[position + 1:]
    with pytest.raises(LedgerError):
        open_checkpoint(changed, LOG.verifier)


@settings(derandomize=True, database=None, deadline=None, max_examples=200)
@given(st.data())
def test_any_single_changed_character_in_a_cosignature_fails(data: st.DataObject) -> None:
    """Within a cosignature line by a known witness; a renamed line becomes unknown."""
    signed = sign_checkpoint(CHECKPOINT, LOG)
    line = cosign(CHECKPOINT, CBP, T0).line()
    start = len(signed) + len(EM_DASH) + 1 + len(CBP.name) + 1
    position = data.draw(st.integers(start, start + len(line) - len(CBP.name) - 4),
                         label="position")
    cosigned = signed + line
    char = data.draw(CHARS.filter(lambda c: c != cosigned[position]), label="char")
    changed = cosigned[:position] + char + cosigned[position + 1:]
    with pytest.raises(LedgerError):
        open_with_cosignature(changed)


def open_with_cosignature(note: str) -> None:
    if not open_checkpoint(note, LOG.verifier, [CBP.verifier]).cosignatures:
        raise UnknownKeyError("the cosignature was dropped as unknown")


def test_open_note_agrees_with_open_checkpoint() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG)
    assert open_note(signed, [LOG.verifier]).text == CHECKPOINT.body()
