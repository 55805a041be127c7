"""Generic credentials (`ledger.credentials`) and the key derivation behind the issuer.

Known answers: RFC 5869's HKDF-SHA256 test case 3 (no salt, no info, as `derive_key` uses
it) and W3C vc-di-eddsa Appendix B.3. Properties: every credential the issuer signs
verifies, and changing any value of it makes it fail. The rest are the rules the VC-API
surface relies on (proof sets, chains, VCDM 1.1, validity, the issuer's key binding).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.credentials import (
    CRYPTOGRAPHIC_SECURITY_ERROR,
    MALFORMED_VALUE_ERROR,
    MAX_PROOFS,
    PROOF_VERIFICATION_ERROR,
    RANGE_ERROR,
    VC_CONTEXT_V1,
    StatusAnswer,
    issue_credential,
    verify_any_credential,
)
from ledger.crypto import SigningKey, derive_key
from ledger.errors import CredentialError, EncodingError
from ledger.multikey import decode_secret_key, did_key, verification_method_id
from ledger.token import VC_CONTEXT_V2, sign_credential
from tests.conftest import asset

KEY = SigningKey(bytes(range(32)))
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CREATED = "2026-12-01T14:00:00Z"


def _unsigned(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"@context": [VC_CONTEXT_V2], "type": ["VerifiableCredential"],
                                "credentialSubject": {"id": "did:example:1", "n": 1}}
    document.update(changes)
    return document


def test_hkdf_sha256_rfc5869_test_case_3() -> None:
    ikm = bytes.fromhex("0b" * 22)
    assert derive_key(ikm, b"", 42).hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    assert derive_key(ikm, b"a") != derive_key(ikm, b"b")
    for bad in ((b"", b"x", 32), (ikm, b"x", 0), (ikm, b"x", 255 * 32 + 1)):
        with pytest.raises(EncodingError):
            derive_key(*bad)


def test_the_spec_vector_verifies_with_a_warning_about_its_https_issuer() -> None:
    signed = json.loads(asset("vc-di-eddsa", "signedJCS.json").read_text("utf-8"))
    result = verify_any_credential(signed, now=NOW)
    assert result.verified
    assert not result.errors
    assert [w.type for w in result.warnings] == [PROOF_VERIFICATION_ERROR]
    # The same credential issued by the vector's key itself needs no warning.
    seed = decode_secret_key(json.loads(asset("vc-di-eddsa", "keyPair.json").read_text(
        "utf-8"))["secretKeyMultibase"])
    key = SigningKey(seed)
    unsigned = {k: v for k, v in signed.items() if k not in ("proof", "issuer")}
    own = issue_credential(unsigned, key, created=signed["proof"]["created"])
    assert own["proof"]["verificationMethod"] == signed["proof"]["verificationMethod"]
    assert verify_any_credential(own, now=NOW).warnings == ()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**53 + 1, 2**53 - 1)
                       | _TEXT, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=8)


@given(claims=st.dictionaries(_TEXT, _VALUES, min_size=1, max_size=5))
def test_every_issued_credential_verifies_and_any_changed_claim_fails(
        claims: dict[str, Any]) -> None:
    issued = issue_credential(_unsigned(credentialSubject=claims), KEY, created=CREATED)
    assert verify_any_credential(issued, now=NOW).verified
    name = sorted(claims)[0]
    changed = {**issued, "credentialSubject": {**claims, name: ["changed", claims[name]]}}
    result = verify_any_credential(changed, now=NOW)
    assert not result.verified
    assert [e.type for e in result.errors] == [CRYPTOGRAPHIC_SECURITY_ERROR]


def test_issue_sets_the_issuer_and_refuses_another() -> None:
    issued = issue_credential(_unsigned(), KEY, created=CREATED)
    assert issued["issuer"] == did_key(KEY.public_key)
    assert issued["proof"]["verificationMethod"] == verification_method_id(KEY.public_key)
    with pytest.raises(CredentialError, match=r"credential\.issuer"):
        issue_credential(_unsigned(issuer="https://elsewhere.example"), KEY, created=CREATED)
    with pytest.raises(CredentialError, match=r"proof\.created"):
        issue_credential(_unsigned(), KEY, created="yesterday")
    with pytest.raises(CredentialError, match=r"credential\.id"):
        issue_credential(_unsigned(id=5), KEY, created=CREATED)


def test_proof_sets_chains_and_their_bound() -> None:
    one = issue_credential(_unsigned(), KEY, created=CREATED)
    two = sign_credential({k: v for k, v in one.items() if k != "proof"}, KEY,
                          verification_method_id(KEY.public_key), "2026-12-01T14:30:00Z")
    both = {**one, "proof": [one["proof"], two["proof"]]}
    result = verify_any_credential(both, now=NOW)
    assert result.verified
    assert len(result.proofs) == 2
    chained = {**one, "proof": [one["proof"], {**two["proof"], "previousProof": "urn:x"}]}
    assert "previousProof" in verify_any_credential(chained, now=NOW).errors[0].detail
    many = {**one, "proof": [one["proof"]] * (MAX_PROOFS + 1)}
    assert f"at most {MAX_PROOFS}" in verify_any_credential(many, now=NOW).errors[0].detail
    assert not verify_any_credential({**one, "proof": []}, now=NOW).verified
    assert not verify_any_credential({**one, "proof": "z123"}, now=NOW).verified


def test_another_did_key_as_issuer_is_an_error() -> None:
    other = SigningKey(bytes(32))
    signed = sign_credential(_unsigned(issuer=did_key(other.public_key)), KEY,
                             verification_method_id(KEY.public_key), CREATED)
    result = verify_any_credential(signed, now=NOW)
    assert not result.verified
    assert result.errors[0].type == PROOF_VERIFICATION_ERROR
    assert "the proof was made by" in result.errors[0].detail


def test_a_vcdm_1_1_credential_verifies_and_needs_its_issuance_date() -> None:
    did = did_key(KEY.public_key)
    v1 = {"@context": [VC_CONTEXT_V1], "type": ["VerifiableCredential"], "issuer": did,
          "issuanceDate": "2026-01-01T00:00:00Z", "expirationDate": "2026-06-01T00:00:00Z",
          "credentialSubject": {"id": "did:example:1"}}
    signed = sign_credential(v1, KEY, verification_method_id(KEY.public_key), CREATED)
    result = verify_any_credential(signed, now=NOW)
    assert result.verified
    assert [w.type for w in result.warnings] == [RANGE_ERROR]  # expired in June
    assert result.results["validUntil"]["input"] == "2026-06-01T00:00:00Z"
    without = {k: v for k, v in v1.items() if k != "issuanceDate"}
    signed = sign_credential(without, KEY, verification_method_id(KEY.public_key), CREATED)
    assert verify_any_credential(signed, now=NOW).errors[0].type == MALFORMED_VALUE_ERROR


def test_validity_and_proof_expiry() -> None:
    later = issue_credential(_unsigned(validFrom="2027-01-01T00:00:00Z"), KEY,
                             created=CREATED)
    result = verify_any_credential(later, now=NOW)
    assert result.verified
    assert [w.type for w in result.warnings] == [RANGE_ERROR]
    assert "not valid before" in result.warnings[0].detail
    assert verify_any_credential(later, now=NOW, checks=frozenset({"proof"})).warnings == ()
    expiring = sign_credential(_unsigned(issuer=did_key(KEY.public_key)), KEY,
                               verification_method_id(KEY.public_key), CREATED)
    expiring["proof"]["expires"] = "2026-11-30T00:00:00Z"
    found = verify_any_credential(expiring, now=NOW)
    assert "expired" in found.errors[0].detail
    with pytest.raises(ValueError, match="timezone"):
        verify_any_credential(later, now=datetime(2026, 12, 1))


def test_status_answers_become_warnings() -> None:
    entry = {"id": "https://s.example/1#3", "type": "BitstringStatusListEntry",
             "statusPurpose": "revocation", "statusListIndex": "3",
             "statusListCredential": "https://s.example/1"}
    issued = issue_credential(_unsigned(credentialStatus=entry), KEY, created=CREATED)
    clear = verify_any_credential(issued, now=NOW, status=lambda e: StatusAnswer(0))
    assert clear.warnings == ()
    assert clear.results["credentialStatus"][0]["value"] == 0
    revoked = verify_any_credential(issued, now=NOW,
                                    status=lambda e: StatusAnswer(1, "revoked"))
    assert revoked.verified
    assert "revocation" in revoked.warnings[0].detail
    unknown = verify_any_credential(issued, now=NOW)
    assert "not checked" in unknown.warnings[0].detail
    skipped = verify_any_credential(issued, now=NOW, checks=frozenset({"proof"}))
    assert skipped.warnings == ()


def test_the_result_shape() -> None:
    issued = issue_credential(_unsigned(), KEY, created=CREATED)
    shape = verify_any_credential(issued, now=NOW).to_dict(with_results=True)
    assert set(shape) == {"verified", "checks", "warnings", "errors", "problemDetails",
                          "results"}
    assert shape["checks"] == ["proof", "credentialStatus", "validFrom", "validUntil"]
    assert shape["results"]["proof"] == [{"verified": True, "input": issued["proof"]}]
    broken = verify_any_credential([], now=NOW).to_dict()
    assert broken["verified"] is False
    assert broken["errors"][0]["title"] == "PARSING_ERROR"
