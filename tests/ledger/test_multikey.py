"""base58btc, multibase, Multikey and did:key: published vectors, round trips, refusals.

Vectors: multiformats/multibase test CSVs (tests/assets/multibase), the did:key Method's
Ed25519 vectors (tests/assets/did-key) and the Multikey pairs of W3C vc-di-eddsa
Appendix B.3 and B.5 (tests/assets/vc-di-eddsa); each folder's README names its source.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.crypto import SigningKey
from ledger.errors import EncodingError
from ledger.multikey import (
    ED25519_PRIV_HEADER,
    ED25519_PUB_HEADER,
    MAX_BASE58_LENGTH,
    decode_base58btc,
    decode_did_key,
    decode_multibase,
    decode_public_key,
    decode_secret_key,
    decode_verification_method,
    did_key,
    encode_base58btc,
    encode_multibase,
    encode_public_key,
    encode_secret_key,
    uvarint,
    verification_method_id,
)
from tests.conftest import asset

MULTIBASE_VECTORS = json.loads(asset("multibase", "base58btc.json").read_text())
DID_KEY_VECTORS = json.loads(asset("did-key", "ed25519.json").read_text())
W3C_KEY_PAIR = json.loads(asset("vc-di-eddsa", "keyPair.json").read_text())
W3C_KEY_PAIRS = json.loads(asset("vc-di-eddsa", "multiKeyPairs.json").read_text())

W3C_PUBLIC = W3C_KEY_PAIR["publicKeyMultibase"]
W3C_SECRET = W3C_KEY_PAIR["secretKeyMultibase"]


# --- base58btc and multibase -----------------------------------------------------------


@pytest.mark.parametrize("vector", MULTIBASE_VECTORS, ids=lambda v: v["source"])
def test_multibase_vectors(vector):
    data = bytes.fromhex(vector["hex"])
    assert encode_multibase(data) == vector["multibase"]
    assert decode_multibase(vector["multibase"]) == data


@pytest.mark.parametrize(("data", "text"), [
    (b"", ""),
    (b"\x00", "1"),
    (b"\x00\x00\x00", "111"),
    (b"\x00\x01", "12"),
    (b"\x39", "z"),
    (b"\x3a", "21"),
])
def test_base58btc_edges(data, text):
    assert encode_base58btc(data) == text
    assert decode_base58btc(text) == data


@given(st.binary(max_size=200))
def test_base58btc_round_trip(data):
    assert decode_base58btc(encode_base58btc(data)) == data
    assert decode_multibase(encode_multibase(data)) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc def", "z+", "é", "3u2\n"])
def test_base58btc_refuses_characters_outside_the_alphabet(text):
    with pytest.raises(EncodingError, match="not a base58btc character"):
        decode_base58btc(text)


def test_base58btc_refuses_overlong_text():
    decode_base58btc("2" * MAX_BASE58_LENGTH)
    with pytest.raises(EncodingError, match="longer than"):
        decode_base58btc("2" * (MAX_BASE58_LENGTH + 1))


@pytest.mark.parametrize("text", ["", "f796573", "u6Mk", "Z7Pznk19XTTzBtx", "7paNL19xttacUY"])
def test_multibase_accepts_only_the_base58btc_header(text):
    with pytest.raises(EncodingError, match="header must be 'z'"):
        decode_multibase(text)


def test_multibase_refuses_non_strings():
    with pytest.raises(EncodingError):
        decode_multibase(b"z6Mk")  # type: ignore[arg-type]


# --- multicodec varints ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "encoded"), [
    (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (0xED, "ed01"),
    (0x1300, "8026"), (16384, "808001"),
])
def test_uvarint(value, encoded):
    assert uvarint(value).hex() == encoded


def test_key_headers_are_the_multicodec_varints():
    assert ED25519_PUB_HEADER == b"\xed\x01"
    assert ED25519_PRIV_HEADER == b"\x80\x26"
    with pytest.raises(EncodingError):
        uvarint(-1)


# --- Multikey (W3C vc-di-eddsa vectors) -------------------------------------------------


def test_w3c_key_pair_multikey_forms():
    seed = decode_secret_key(W3C_SECRET)
    key = SigningKey(seed)
    assert encode_public_key(key.public_key) == W3C_PUBLIC
    assert decode_public_key(W3C_PUBLIC) == key.public_key
    assert encode_secret_key(seed) == W3C_SECRET
    assert W3C_PUBLIC.startswith("z6Mk")
    assert W3C_SECRET.startswith("z3u2")


@pytest.mark.parametrize("name", sorted(W3C_KEY_PAIRS))
def test_w3c_proof_set_key_pairs(name):
    pair = W3C_KEY_PAIRS[name]
    key = SigningKey(decode_secret_key(pair["privateKeyMultibase"]))
    assert encode_public_key(key.public_key) == pair["publicKeyMultibase"]
    assert encode_secret_key(key.seed) == pair["privateKeyMultibase"]


def test_public_decoder_refuses_a_secret_key_and_vice_versa():
    with pytest.raises(EncodingError, match="header ed01"):
        decode_public_key(W3C_SECRET)
    with pytest.raises(EncodingError, match="header 8026"):
        decode_secret_key(W3C_PUBLIC)


@pytest.mark.parametrize("raw", [
    ED25519_PUB_HEADER + bytes(31),
    ED25519_PUB_HEADER + bytes(33),
    ED25519_PUB_HEADER,
    b"",
    b"\xe7\x01" + bytes(32),  # secp256k1-pub
    b"\xec\x01" + bytes(32),  # x25519-pub
    b"\xed" + bytes(32),  # truncated varint
])
def test_public_decoder_refuses_wrong_headers_and_lengths(raw):
    with pytest.raises(EncodingError):
        decode_public_key(encode_multibase(raw))


def test_truncated_and_corrupted_multikeys_are_refused():
    with pytest.raises(EncodingError):  # one character less shifts every byte
        decode_public_key(W3C_PUBLIC[:-1])
    with pytest.raises(EncodingError, match="holds 31 key bytes"):
        decode_public_key(encode_multibase(decode_multibase(W3C_PUBLIC)[:-1]))
    with pytest.raises(EncodingError, match="not a base58btc character"):
        decode_public_key(W3C_PUBLIC[:-1] + "0")
    with pytest.raises(EncodingError, match="header must be 'z'"):
        decode_public_key(W3C_PUBLIC[1:])


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_encoders_refuse_wrong_key_sizes(size):
    with pytest.raises(EncodingError, match="32 bytes"):
        encode_public_key(bytes(size))
    with pytest.raises(EncodingError, match="32 bytes"):
        encode_secret_key(bytes(size))
    with pytest.raises(EncodingError):
        did_key(bytes(size))


@given(st.binary(min_size=32, max_size=32))
def test_multikey_round_trip(key):
    assert decode_public_key(encode_public_key(key)) == key
    assert decode_secret_key(encode_secret_key(key)) == key
    assert encode_public_key(key).startswith("z6Mk")
    assert decode_verification_method(verification_method_id(key)) == key


# --- did:key (did:key Method test vectors) ----------------------------------------------


@pytest.mark.parametrize("did", sorted(DID_KEY_VECTORS))
def test_did_key_vectors(did):
    vector = DID_KEY_VECTORS[did]
    key = SigningKey(bytes.fromhex(vector["seed"]))
    assert key.public_key == decode_base58btc(vector["publicKeyBase58"])
    assert did_key(key.public_key) == did
    assert verification_method_id(key.public_key) == vector["verificationMethod"]
    assert decode_did_key(did) == key.public_key
    assert decode_verification_method(vector["verificationMethod"]) == key.public_key


def test_w3c_verification_method_resolves_offline():
    vm = ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
          "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
    assert decode_verification_method(vm) == decode_public_key(W3C_PUBLIC)


OTHER = next(iter(DID_KEY_VECTORS))


@pytest.mark.parametrize("did", [
    "",
    "did:key:",
    "did:web:example.com",
    "did:key:" + W3C_SECRET,
    "did:key:" + W3C_PUBLIC + "#" + W3C_PUBLIC,
    "did:key:" + W3C_PUBLIC + "/path",
    "did:key:" + W3C_PUBLIC + "?query",
    "did:key:" + W3C_PUBLIC[1:],
    "DID:KEY:" + W3C_PUBLIC,
    "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1 did:key
])
def test_decode_did_key_refuses_malformed_identifiers(did):
    with pytest.raises(EncodingError):
        decode_did_key(did)


@pytest.mark.parametrize("vm", [
    "did:key:" + W3C_PUBLIC,
    "did:key:" + W3C_PUBLIC + "#",
    "did:key:" + W3C_PUBLIC + "#key-1",
    "did:key:" + W3C_PUBLIC + "#" + OTHER.removeprefix("did:key:"),
    OTHER + "#" + W3C_PUBLIC,
    "https://vc.example/issuers/5678#" + W3C_PUBLIC,
])
def test_decode_verification_method_refuses_mismatches(vm):
    with pytest.raises(EncodingError):
        decode_verification_method(vm)


def test_decoders_refuse_non_strings():
    with pytest.raises(EncodingError):
        decode_did_key(None)  # type: ignore[arg-type]
    with pytest.raises(EncodingError):
        decode_verification_method(42)  # type: ignore[arg-type]
