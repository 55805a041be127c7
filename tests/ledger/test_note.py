"""C2SP signed notes: Go sumdb/note and spec known answers, round trips, every refusal.

Vectors: tests/assets/c2sp/signed_note.json (each group names its source).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import (
    EncodingError,
    InputError,
    LedgerError,
    SignatureError,
    UnknownKeyError,
)
from ledger.note import (
    EM_DASH,
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    Signature,
    Signer,
    Verifier,
    cosignature_message,
    decode_base64,
    key_id,
    open_note,
    sign_note,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "assets" / "c2sp" / "signed_note.json").read_text())
GO = VECTORS["go_sumdb_note"]
SPEC = VECTORS["spec_example"]
COSIG = VECTORS["cosignature_vkeys"]
PETER = Verifier.from_vkey(GO["vkey"])
ENOCH = Verifier.from_vkey(GO["enoch_vkey"])
TEXT: str = GO["text"]
PETER_SIG: str = GO["signature_line"]
ENOCH_SIG: str = GO["enoch_signature_line"]
SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))


def test_vectors_cite_their_source() -> None:
    for group in VECTORS.values():
        assert group["source"]


# -- known answers -----------------------------------------------------------------------


def test_go_signer_reproduces_the_reference_note_byte_for_byte() -> None:
    signer = Signer.from_skey(GO["skey"])
    assert signer.verifier == PETER
    assert signer.skey == GO["skey"]
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG


def test_go_verifier_key_round_trips() -> None:
    assert PETER.name == "PeterNeumann"
    assert PETER.key_id.hex() == "c74f20a3"
    assert PETER.sig_type == SIG_ED25519
    assert PETER.vkey == GO["vkey"]


def test_spec_example_opens() -> None:
    verifier = Verifier.from_vkey(SPEC["vkey"])
    assert verifier.public_key.hex() == SPEC["public_key_hex"]
    assert verifier.key_id == bytes.fromhex("530d903a") == key_id(
        "example.com/foo", SIG_ED25519, verifier.public_key)
    opened = open_note(SPEC["note"], [verifier])
    assert opened.text == SPEC["text"]
    assert Note.parse(SPEC["note"]).format() == SPEC["note"]


def test_vkeys_with_plus_in_their_base64() -> None:
    for vkey in (VECTORS["sumdb_vkey"]["vkey"], COSIG["ed25519_vkey"]):
        assert "+" in vkey.split("+", 2)[2]
        assert Verifier.from_vkey(vkey).vkey == vkey


def test_cosignature_vkey_known_answer() -> None:
    witness = Verifier.from_vkey(COSIG["cosignature_vkey"])
    assert witness.sig_type == SIG_COSIGNATURE_V1
    assert witness.vkey == COSIG["cosignature_vkey"]


def test_cosignature_timestamp_known_answer() -> None:
    raw = base64.b64decode(COSIG["timestamped_signature_base64"])
    assert Signature("w", raw[:4], raw[4:]).timestamp() == COSIG["timestamp"]
    raw = base64.b64decode(COSIG["not_a_cosignature_base64"])
    with pytest.raises(EncodingError):
        Signature("w", raw[:4], raw[4:]).timestamp()


@pytest.mark.parametrize("vkey", [*GO["bad_vkeys"], *COSIG["bad_vkeys"]])
def test_published_bad_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(EncodingError):
        Verifier.from_vkey(vkey)


def manglings(text: str) -> list[str]:
    """Go's TestNewVerifier / TestNewSigner: every proper substring, every byte + 1."""
    out = {text[i:j] for i in range(len(text) + 1) for j in range(i + 1, len(text) + 1)}
    out |= {text[:i] + chr(ord(text[i]) + 1) + text[i + 1:] for i in range(len(text))}
    out.discard(text)
    return sorted(out)


def test_every_mangled_vkey_is_refused() -> None:
    for bad in manglings(GO["vkey"]):
        with pytest.raises(EncodingError):
            Verifier.from_vkey(bad)


def test_every_mangled_signer_key_is_refused() -> None:
    for bad in manglings(GO["skey"]):
        with pytest.raises(EncodingError):
            Signer.from_skey(bad)


# -- opening (Go TestOpen) ---------------------------------------------------------------


def test_one_known_one_unknown_signature() -> None:
    opened = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER])
    assert opened.text == TEXT
    assert [item.signature.name for item in opened.verified] == ["PeterNeumann"]
    assert [sig.name for sig in opened.unverified] == ["EnochRoot"]
    assert opened.by(PETER) is not None
    assert opened.by(ENOCH) is None


def test_both_signatures_known() -> None:
    opened = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH])
    assert [item.verifier for item in opened.verified] == [PETER, ENOCH]
    assert opened.unverified == ()


def test_no_known_signature_is_refused() -> None:
    with pytest.raises(UnknownKeyError) as caught:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert "PeterNeumann+c74f20a3" in caught.value.message


def test_duplicate_lines_are_counted_once() -> None:
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [PETER])
    assert len(opened.verified) == 1
    assert len(opened.unverified) == 2


def test_a_bad_signature_by_a_known_key_fails_the_note() -> None:
    with pytest.raises(SignatureError, match="PeterNeumann"):
        open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [PETER])
    tampered = "If you think" + TEXT[12:].replace("problem", "prob1em", 1)
    with pytest.raises(SignatureError):
        open_note(tampered + "\n" + PETER_SIG, [PETER])


def test_a_bad_duplicate_by_a_known_key_also_fails() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError):
        open_note(TEXT + "\n" + PETER_SIG + bad, [PETER])


def test_wrong_key_id_is_an_unknown_key() -> None:
    raw = bytearray(base64.b64decode(PETER_SIG.split(" ")[2]))
    raw[0] ^= 1
    line = f"{EM_DASH} PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(UnknownKeyError):
        open_note(TEXT + "\n" + line, [PETER])


def test_same_name_other_key_is_an_unknown_key() -> None:
    impostor = Signer.from_seed("PeterNeumann", SEED_A)
    with pytest.raises(UnknownKeyError):
        open_note(sign_note(TEXT, [impostor]), [PETER])


def test_ambiguous_verifiers_are_refused() -> None:
    twin = Verifier("PeterNeumann", SIG_ED25519, ENOCH.public_key)
    object.__setattr__(twin, "key_id", PETER.key_id)  # simulate a key-ID collision
    with pytest.raises(InputError, match="ambiguous"):
        open_note(TEXT + "\n" + PETER_SIG, [PETER, twin])
    assert open_note(TEXT + "\n" + PETER_SIG, [PETER, PETER]).verified


def test_too_many_signatures_are_refused() -> None:
    with pytest.raises(EncodingError):
        open_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), [PETER])
    assert open_note(TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, [PETER]).verified


@pytest.mark.parametrize("note", [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    TEXT + "\n" + f"{EM_DASH} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
    "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + PETER_SIG.replace(EM_DASH, "-"),
    TEXT + "\n" + PETER_SIG.replace(" x08", "  x08"),
    TEXT + "\n" + f"{EM_DASH} PeterNeumann\n",
    TEXT + "\n" + f"{EM_DASH} Peter+Neumann AAAAAAA=\n",
    TEXT + "\n" + f"{EM_DASH} PeterNeumann AAAA\n",
    TEXT + "\n" + PETER_SIG.replace("nAM=", "nAN="),
    TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
], ids=range(13))
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(EncodingError):
        open_note(note, [PETER])


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(EncodingError):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [PETER])
    assert open_note((TEXT + "\n" + PETER_SIG).encode(), [PETER]).verified


def test_non_canonical_base64_is_refused() -> None:
    assert decode_base64("AA==", "x") == b"\x00"
    assert base64.b64decode("AB==") == b"\x00"  # what a lenient decoder would accept
    for bad in ("AB==", "AA=", "A A=", "AA==\n", "_-==", "ÀA=="):
        with pytest.raises(EncodingError):
            decode_base64(bad, "x")


# -- signing, keys and cosignatures ------------------------------------------------------


def test_signer_keys_round_trip() -> None:
    for sig_type in (SIG_ED25519, SIG_COSIGNATURE_V1):
        signer = Signer.from_seed("example.org/key", SEED_A, sig_type)
        again = Signer.from_skey(signer.skey)
        assert again.verifier == signer.verifier
        assert Verifier.from_vkey(signer.verifier.vkey) == signer.verifier
        assert "PRIVATE" not in repr(signer)


def test_cosignature_key_ids_differ_from_note_key_ids() -> None:
    signer = Signer.from_seed("witness.example/w1", SEED_A)
    cosigner = signer.as_cosigner()
    assert cosigner.verifier.public_key == signer.verifier.public_key
    assert cosigner.verifier.key_id != signer.verifier.key_id
    assert cosigner.verifier == signer.verifier.as_cosigner()
    assert cosigner.verifier.key_id == key_id("witness.example/w1", 0x04,
                                              signer.verifier.public_key)


def test_cosignature_round_trip_and_message() -> None:
    cosigner = Signer.from_seed("witness.example/w1", SEED_B, SIG_COSIGNATURE_V1)
    signature = cosigner.sign(TEXT, timestamp=1_700_000_000)
    assert signature.timestamp() == 1_700_000_000
    assert len(signature.data) == 72
    assert cosigner.verifier.verify(TEXT, signature) == 1_700_000_000
    assert cosignature_message(TEXT, 5) == b"cosignature/v1\ntime 5\n" + TEXT.encode()
    opened = open_note(Note(TEXT, (signature,)).format(), [cosigner.verifier])
    assert opened.verified[0].timestamp == 1_700_000_000


def test_cosignature_does_not_verify_as_a_plain_signature_or_at_another_time() -> None:
    signer = Signer.from_seed("w", SEED_B)
    cosignature = signer.as_cosigner().sign(TEXT, timestamp=10)
    with pytest.raises(SignatureError):
        signer.verifier.verify(TEXT, cosignature)
    forged = Signature(cosignature.name, cosignature.key_id,
                       (11).to_bytes(8, "big") + cosignature.data[8:])
    with pytest.raises(SignatureError):
        signer.as_cosigner().verifier.verify(TEXT, forged)
    short = Signature(cosignature.name, cosignature.key_id, cosignature.data[:70])
    with pytest.raises(SignatureError):
        signer.as_cosigner().verifier.verify(TEXT, short)


def test_timestamp_rules() -> None:
    cosigner = Signer.from_seed("w", SEED_B, SIG_COSIGNATURE_V1)
    with pytest.raises(InputError):
        cosigner.sign(TEXT)
    with pytest.raises(InputError):
        cosigner.sign(TEXT, timestamp=-1)
    with pytest.raises(InputError):
        cosigner.sign(TEXT, timestamp=2**63)
    with pytest.raises(InputError):
        Signer.from_seed("w", SEED_B).sign(TEXT, timestamp=1)
    huge = Signature(cosigner.name, cosigner.verifier.key_id, b"\xff" * 72)
    with pytest.raises(SignatureError, match="2\\^63"):
        cosigner.verifier.verify(TEXT, huge)


def test_verify_refuses_another_keys_signature() -> None:
    with pytest.raises(SignatureError):
        ENOCH.verify(TEXT, Signature.parse_line(PETER_SIG))


def test_signing_refuses_texts_without_final_newline() -> None:
    signer = Signer.from_seed("k", SEED_A)
    for bad in ("abc", "", "a\tb\n"):
        with pytest.raises(EncodingError):
            signer.sign(bad)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "tab\there", "nl\n"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(EncodingError):
        Signer.from_seed(name, SEED_A)


def test_unsupported_key_material_is_refused() -> None:
    with pytest.raises(EncodingError):
        Verifier("k", 0x02, b"\x00" * 32)
    with pytest.raises(EncodingError):
        Verifier("k", SIG_ED25519, b"\x00" * 31)


def test_repeated_cosignatures_keep_the_latest_time() -> None:
    signer = Signer.from_seed("w", SEED_B, SIG_COSIGNATURE_V1)
    lines = [signer.sign(TEXT, timestamp=stamp) for stamp in (5, 9, 7)]
    opened = open_note(Note(TEXT, tuple(lines)).format(), [signer.verifier])
    assert len(opened.verified) == 1
    assert opened.verified[0].timestamp == 9


def test_with_signatures_replaces_a_keys_older_line() -> None:
    signer = Signer.from_seed("w", SEED_B, SIG_COSIGNATURE_V1)
    note = Note.parse(TEXT + "\n" + PETER_SIG).with_signatures([signer.sign(TEXT, timestamp=1)])
    note = note.with_signatures([signer.sign(TEXT, timestamp=2)])
    assert len(note.signatures) == 2
    opened = open_note(note.format(), [PETER, signer.verifier])
    assert opened.verified[1].timestamp == 2


def test_sign_note_with_mixed_signers() -> None:
    log = Signer.from_seed("log.example/1", SEED_A)
    witness = Signer.from_seed("witness.example/1", SEED_B, SIG_COSIGNATURE_V1)
    signed = sign_note(TEXT, [log, witness], timestamp=42)
    opened = open_note(signed, [log.verifier, witness.verifier])
    assert [item.timestamp for item in opened.verified] == [None, 42]


CHARS = st.sampled_from([*"azAZ09+/= \n.-", EM_DASH, "é", "\t"])


@settings(derandomize=True, database=None, deadline=None, max_examples=400)
@given(st.data())
def test_any_single_changed_character_fails(data: st.DataObject) -> None:
    signed = TEXT + "\n" + PETER_SIG
    position = data.draw(st.integers(0, len(signed) - 1), label="position")
    char = data.draw(CHARS.filter(lambda c: c != signed[position]), label="char")
    changed = signed[:position] + char + signed[position + 1:]
    with pytest.raises(LedgerError):
        open_note(changed, [PETER])
