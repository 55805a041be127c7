"""`ledger.jose` and `ledger.enveloped`: compact JWS with EdDSA, checked against RFC 8037's
known answer and against a second, independent JOSE implementation (PyJWT), and refusing
what must be refused (tampering, ``alg`` confusion, keys in headers, JWE, sloppy base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import SigningKey
from ledger.enveloped import (
    DATA_URL_PREFIX,
    envelope,
    enveloped_jws,
    read_vc_jwt,
    secure_credential,
    verify_vc_jwt,
)
from ledger.errors import EncodingError, JoseError, LedgerError, SignatureError
from ledger.jose import parse_compact, sign_compact, verify_compact
from ledger.multikey import verification_method_id


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# RFC 8037 Appendix A.1 (the Ed25519 key) and A.4 (its JWS of "Example of Ed25519 signing").
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPO"
               "t7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")

KEY = SigningKey(bytes(range(32)))
KID = verification_method_id(KEY.public_key)
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": KID.partition("#")[0],
    "validFrom": "2026-12-01T00:00:00Z",
    "credentialSubject": {"id": "urn:example:subject", "rvc": "73.5"},
}
PAYLOAD = json.dumps(CREDENTIAL, separators=(",", ":")).encode("utf-8")


def test_rfc_8037_known_answer_signs_and_verifies() -> None:
    key = SigningKey(unb64(RFC8037_D))
    assert key.public_key == unb64(RFC8037_X)
    assert sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", key) == RFC8037_JWS
    parsed = parse_compact(RFC8037_JWS)
    assert parsed.payload == b"Example of Ed25519 signing"
    verify_compact(parsed, unb64(RFC8037_X))


def test_a_vc_jwt_verifies_with_pyjwt_a_second_jose_library() -> None:
    token = secure_credential(PAYLOAD, KEY, KID)
    assert token == secure_credential(PAYLOAD, KEY, KID)  # Ed25519: deterministic
    public = Ed25519PublicKey.from_public_bytes(KEY.public_key)
    decoded = pyjwt.api_jws.PyJWS().decode_complete(token, key=public, algorithms=["EdDSA"])
    assert decoded["payload"] == PAYLOAD  # the credential itself is the payload
    assert decoded["header"] == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": KID}
    claims = pyjwt.decode(token, key=public, algorithms=["EdDSA"])
    assert claims == CREDENTIAL
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"),
                     key=public, algorithms=["EdDSA"])


def test_a_vc_jwt_made_by_pyjwt_verifies_here() -> None:
    private = Ed25519PrivateKey.from_private_bytes(KEY.seed)
    token = pyjwt.encode(CREDENTIAL, private, algorithm="EdDSA",
                         headers={"typ": "vc+jwt", "kid": KID})
    read = read_vc_jwt(token)
    assert read.credential == CREDENTIAL
    assert read.kid == KID
    verify_vc_jwt(read, KEY.public_key)
    with pytest.raises(SignatureError):
        verify_vc_jwt(read, SigningKey(bytes(32)).public_key)


def test_a_tampered_header_payload_or_signature_does_not_verify() -> None:
    token = secure_credential(PAYLOAD, KEY, KID)
    header, payload, signature = token.split(".")
    other_header = b64(json.dumps({"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc",
                                   "kid": KID + "x"}).encode())
    changed = dict(CREDENTIAL, validFrom="2030-01-01T00:00:00Z")
    other_payload = b64(json.dumps(changed, separators=(",", ":")).encode())
    flipped = bytearray(unb64(signature))
    flipped[10] ^= 1
    for forged in (f"{other_header}.{payload}.{signature}",
                   f"{header}.{other_payload}.{signature}",
                   f"{header}.{payload}.{b64(bytes(flipped))}"):
        read = read_vc_jwt(forged)  # well formed: only the signature can tell
        with pytest.raises(SignatureError, match="does not verify"):
            verify_vc_jwt(read, KEY.public_key)


def test_alg_none_is_refused_before_anything_else() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "vc+jwt", "kid": KID}).encode())
    unsecured = f"{header}.{b64(PAYLOAD)}."
    with pytest.raises(JoseError, match="alg 'none'"):
        read_vc_jwt(unsecured)
    bare = b64(b'{"alg":"none"}')
    with pytest.raises(JoseError, match="alg 'none'"):
        parse_compact(f"{bare}.{b64(PAYLOAD)}.{b64(bytes(64))}")


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    """The classic confusion: an HMAC whose secret is the (public) verification key."""
    header = b64(json.dumps({"alg": "HS256", "typ": "vc+jwt", "kid": KID}).encode())
    body = f"{header}.{b64(PAYLOAD)}"
    mac = hmac.digest(KEY.public_key, body.encode("ascii"), hashlib.sha256)
    forged = f"{body}.{b64(mac)}"
    with pytest.raises(JoseError, match="alg 'HS256' is not accepted"):
        read_vc_jwt(forged)
    # Even with its header rewritten to EdDSA the MAC is no signature (and is 32 bytes).
    as_eddsa = b64(json.dumps({"alg": "EdDSA", "typ": "vc+jwt", "kid": KID}).encode())
    with pytest.raises(EncodingError, match="64"):
        parse_compact(f"{as_eddsa}.{b64(PAYLOAD)}.{b64(mac)}")


@pytest.mark.parametrize(("header", "message"), [
    ({"alg": "RS256", "kid": KID}, "is not accepted"),
    ({"alg": "ES256", "kid": KID}, "is not accepted"),
    ({"typ": "vc+jwt", "kid": KID}, "no alg"),
    ({"alg": "EdDSA", "kid": KID, "crit": ["exp"]}, "crit"),
    ({"alg": "EdDSA", "kid": KID, "b64": False}, "b64"),
    ({"alg": "EdDSA", "kid": KID, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}},
     "a key is never taken"),
    ({"alg": "EdDSA", "kid": KID, "jku": "https://attacker.example/keys"},
     "a key is never taken"),
    ({"alg": "EdDSA", "kid": 7}, "kid"),
    ({"alg": "EdDSA"}, "no kid"),
    ({"alg": "EdDSA", "kid": KID, "typ": "JWT"}, "typ 'JWT'"),
    ({"alg": "EdDSA", "kid": KID, "typ": "vc+jwt", "cty": "vp"}, "cty 'vp'"),
])
def test_headers_that_are_refused(header: dict[str, object], message: str) -> None:
    text = f"{b64(json.dumps(header).encode())}.{b64(PAYLOAD)}.{b64(bytes(64))}"
    with pytest.raises(JoseError, match=message):
        read_vc_jwt(text)


@pytest.mark.parametrize(("text", "message"), [
    ("a.b", "three base64url parts"),
    ("a.b.c.d.e", "JWE"),
    (None, "is a string"),
    ("é.b.c", "ASCII"),
])
def test_malformed_compact_serializations(text: object, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        parse_compact(text)


def test_only_canonical_unpadded_base64url_is_read() -> None:
    token = secure_credential(PAYLOAD, KEY, KID)
    header, payload, signature = token.split(".")
    assert len(signature) % 4 == 2  # 64 bytes: the last character carries 4 unused bits
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(last) ^ 1]  # same 2 leading bits, another trailing bit
    for text, message in ((f"{header}.{payload}.{signature[:-1]}{sibling}", "canonical"),
                          (f"{header}=.{payload}.{signature}", "unpadded"),
                          (f"{header}.{payload}+.{signature}", "unpadded"),
                          (f"{header}..{signature}", "no payload")):
        with pytest.raises(EncodingError, match=message):
            parse_compact(text)


def test_payloads_are_credentials_without_vc_claims_and_numbers_stay_exact() -> None:
    with_claim = secure_credential(json.dumps({"vc": CREDENTIAL}).encode(), KEY, KID)
    with pytest.raises(JoseError, match="'vc'"):
        read_vc_jwt(with_claim)
    with pytest.raises(EncodingError, match="not a JSON object"):
        read_vc_jwt(secure_credential(b"[1, 2]", KEY, KID))
    read = read_vc_jwt(secure_credential(b'{"value": 73.509453}', KEY, KID))
    assert read.credential == {"value": Decimal("73.509453")}


def test_an_enveloped_credential_is_a_data_url() -> None:
    token = secure_credential(PAYLOAD, KEY, KID)
    wrapped = envelope(token)
    assert wrapped == {"@context": ["https://www.w3.org/ns/credentials/v2"],
                       "id": DATA_URL_PREFIX + token, "type": "EnvelopedVerifiableCredential"}
    assert enveloped_jws(wrapped) == token
    for member, value, message in (
            ("id", "data:application/vc+sd-jwt," + token, "vc\\+sd-jwt"),
            ("id", "https://example.com/vc", "data: URL"),
            ("id", "data:application/vc+jwt", "','"),
            ("@context", ["https://www.w3.org/2018/credentials/v1"], "@context")):
        with pytest.raises(EncodingError, match=message):
            enveloped_jws({**wrapped, member: value})


@pytest.mark.fuzz
@settings(deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    token = secure_credential(PAYLOAD, KEY, KID)
    position %= len(token)
    if token[position] == replacement:
        return
    changed = token[:position] + replacement + token[position + 1:]
    with pytest.raises((EncodingError, JoseError, SignatureError)):
        verify_vc_jwt(read_vc_jwt(changed), KEY.public_key)


_PIECES = st.sampled_from(["eyJhbGciOiJFZERTQSJ9", "eyJhbGciOiJub25lIn0", "e30", "W10",
                           "bnVsbA", "", ".", "=", "AAAA", "_-", "\u00e9", "eyJ"])


@pytest.mark.fuzz
@settings(deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_PIECES, max_size=8).map("".join),
                 st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_any_text_is_read_or_refused_with_a_ledger_error(text: str) -> None:
    """A reader of hostile input: a result or a clean error of our tree, nothing else."""
    try:
        read = read_vc_jwt(text)
    except LedgerError:
        return
    with pytest.raises(SignatureError):  # whatever it is, it was not signed by KEY
        verify_vc_jwt(read, KEY.public_key)
