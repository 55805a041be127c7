"""Origin tokens: W3C eddsa-jcs-2022 known answers, Annex 5-A rules, disclosure, tampering.

The known-answer vectors are W3C vc-di-eddsa Appendix B.3 (tests/assets/vc-di-eddsa,
README there): Ed25519 is deterministic, so our signer must reproduce the published
``proofValue`` exactly, and our verifier must accept the published signed credential.
Everything else runs on fixed seeds, salts and times (no clock).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import date
from typing import Any

import nacl.signing
import pytest
import rfc8785

from ledger import merkle
from ledger.canonical import canonicalize
from ledger.crypto import SigningKey, sha256
from ledger.errors import (
    EncodingError,
    OutOfRangeError,
    ProofError,
    SignatureError,
    TokenError,
    UnknownKeyError,
)
from ledger.multikey import (
    decode_secret_key,
    did_key,
    encode_multibase,
    verification_method_id,
)
from ledger.token import (
    CERTIFICATION_STATEMENT,
    IMPORTER_VARIOUS,
    PRODUCER_AVAILABLE_UPON_REQUEST,
    PRODUCER_VARIOUS,
    SALT_SIZE,
    TOKEN_CONTEXT,
    VC_CONTEXT_V2,
    BlanketPeriod,
    Certification,
    Certifier,
    CertifierRole,
    Party,
    build_origin_token,
    commit_parts,
    disclose,
    document_from_records,
    line_records,
    parse_token,
    sign_credential,
    supplier_token_digests,
    token_digest,
    verify_credential,
    verify_disclosure,
    verify_token,
)
from origin_rules import BillOfMaterials, bom_from_dict, determine_origin
from tests.conftest import asset

TAMPER_ERRORS = (SignatureError, TokenError, UnknownKeyError)


def w3c(name: str) -> Any:
    path = asset("vc-di-eddsa", name)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


W3C_KEY = SigningKey(decode_secret_key(w3c("keyPair.json")["secretKeyMultibase"]))
W3C_VM = w3c("proofOptions.json")["verificationMethod"]
W3C_CREATED = w3c("proofOptions.json")["created"]


# --- mutation helpers --------------------------------------------------------------------


def leaf_paths(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in leaf_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in leaf_paths(item, (*path, n))]
    return [path]


def mutations(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1]
    if value is None:
        return ["x"]
    last = value[-1:] or "x"
    return [value + "x", value[:-1] + ("2" if last == "1" else "1")]


def with_value(document: dict, path: tuple, value: Any) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def assert_rejected(verify, document: dict, path: tuple) -> None:
    try:
        verify(document)
    except TAMPER_ERRORS:
        return
    pytest.fail(f"a change at {'/'.join(map(str, path))} still verifies")


def tampered_variants(document: dict):
    for path in leaf_paths(document):
        original = document
        for step in path:
            original = original[step]
        for value in mutations(original):
            yield path, with_value(document, path, value)


# --- W3C vc-di-eddsa Appendix B.3 (eddsa-jcs-2022) ---------------------------------------


def test_w3c_key_pair():
    assert verification_method_id(W3C_KEY.public_key) == W3C_VM


def test_w3c_canonical_forms_and_hashes():
    unsigned = w3c("unsigned.json")
    options = w3c("proofOptions.json")
    assert canonicalize(unsigned) == w3c("canonDocJCS.txt").encode()
    assert sha256(canonicalize(unsigned)).hex() == w3c("docHashJCS.txt")
    assert canonicalize(options) == w3c("proofCanonJCS.txt").encode()
    assert sha256(canonicalize(options)).hex() == w3c("proofHashJCS.txt")
    combined = sha256(canonicalize(options)) + sha256(canonicalize(unsigned))
    assert combined.hex() == w3c("combinedHashJCS.txt")
    signature = W3C_KEY.sign(combined)
    assert signature.hex() == w3c("sigHexJCS.txt")
    assert encode_multibase(signature) == w3c("sigBTC58JCS.txt")


def test_w3c_signer_reproduces_the_signed_credential():
    unsigned = w3c("unsigned.json")
    signed = sign_credential(unsigned, W3C_KEY, W3C_VM, W3C_CREATED)
    assert signed["proof"]["proofValue"] == w3c("sigBTC58JCS.txt")
    assert signed == w3c("signedJCS.json")
    assert unsigned == w3c("unsigned.json")  # the input is not modified


def test_w3c_signed_credential_verifies():
    signed = w3c("signedJCS.json")
    verify_credential(signed)  # did:key resolved offline
    verify_credential(signed, W3C_KEY.public_key)
    other = SigningKey(bytes(32)).public_key
    with pytest.raises(SignatureError, match="names key"):
        verify_credential(signed, other)


def test_w3c_vector_with_an_https_verification_method():
    signed = w3c("signedJCS-https-vm.json")
    with pytest.raises(UnknownKeyError, match="cannot be resolved offline"):
        verify_credential(signed)
    verify_credential(signed, W3C_KEY.public_key)
    with pytest.raises(SignatureError):
        verify_credential(signed, SigningKey(bytes(32)).public_key)
    resigned = sign_credential(w3c("unsigned.json"), W3C_KEY,
                               signed["proof"]["verificationMethod"], W3C_CREATED)
    assert resigned == signed


def test_w3c_signed_credential_fails_on_any_changed_value():
    signed = w3c("signedJCS.json")
    count = 0
    for path, changed in tampered_variants(signed):
        assert_rejected(verify_credential, changed, path)
        count += 1
    assert count > 30


def test_w3c_signed_credential_fails_on_added_or_removed_members():
    signed = w3c("signedJCS.json")
    added = with_value(signed, ("credentialSubject", "extra"), "x")
    with pytest.raises(SignatureError):
        verify_credential(added)
    removed = copy.deepcopy(signed)
    del removed["name"]
    with pytest.raises(SignatureError):
        verify_credential(removed)
    no_context = copy.deepcopy(signed)
    del no_context["proof"]["@context"]
    with pytest.raises(SignatureError):
        verify_credential(no_context)


# --- sign_credential / verify_credential edges ---------------------------------------------


def test_sign_refuses_bad_input():
    unsigned = w3c("unsigned.json")
    with pytest.raises(TokenError, match="already has a proof"):
        sign_credential(w3c("signedJCS.json"), W3C_KEY, W3C_VM, W3C_CREATED)
    with pytest.raises(TokenError, match="time zone"):
        sign_credential(unsigned, W3C_KEY, W3C_VM, "2023-02-24T23:36:38")
    with pytest.raises(TokenError, match="calendar"):
        sign_credential(unsigned, W3C_KEY, W3C_VM, "2023-02-30T23:36:38Z")
    other = SigningKey(bytes(32))
    with pytest.raises(TokenError, match="signing key is"):
        sign_credential(unsigned, other, W3C_VM, W3C_CREATED)
    with pytest.raises(EncodingError, match="floats"):
        sign_credential({**unsigned, "n": 1.5}, W3C_KEY, W3C_VM, W3C_CREATED)


def test_sign_without_context_puts_none_in_the_proof():
    unsigned = {"type": ["VerifiableCredential"], "issuer": did_key(W3C_KEY.public_key)}
    signed = sign_credential(unsigned, W3C_KEY, W3C_VM, W3C_CREATED)
    assert "@context" not in signed["proof"]
    verify_credential(signed)


@pytest.mark.parametrize(("change", "error", "message"), [
    (lambda c: c.pop("proof"), TokenError, "proof: missing"),
    (lambda c: c.update(proof=[c["proof"]]), TokenError, "proof sets"),
    (lambda c: c.update(proof="x"), TokenError, "expected an object"),
    (lambda c: c["proof"].update(type="Ed25519Signature2020"), TokenError, "proof.type"),
    (lambda c: c["proof"].update(cryptosuite="eddsa-rdfc-2022"), TokenError, "cryptosuite"),
    (lambda c: c["proof"].update(proofPurpose="authentication"), TokenError, "proofPurpose"),
    (lambda c: c["proof"].update(created="yesterday"), TokenError, "proof.created"),
    (lambda c: c["proof"].pop("verificationMethod"), TokenError, "verificationMethod"),
    (lambda c: c["proof"].pop("proofValue"), TokenError, "proofValue"),
    (lambda c: c["proof"].update(proofValue="u" + "A" * 86), SignatureError, "header"),
    (lambda c: c["proof"].update(proofValue="z1111"), SignatureError, "holds 4 bytes"),
    (lambda c: c["proof"].update(proofValue=encode_multibase(bytes(64))), SignatureError,
     "does not verify"),
    (lambda c: c.update({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
     SignatureError, "does not start with"),
    (lambda c: c["proof"].update({"@context": 5}), TokenError, "@context must be"),
])
def test_verify_credential_refusals(change, error, message):
    signed = w3c("signedJCS.json")
    change(signed)
    with pytest.raises(error, match=message):
        verify_credential(signed)


def test_verify_credential_accepts_a_longer_document_context():
    """vc-di-eddsa s.3.3.2 step 4: the document's @context need only start with the proof's."""
    unsigned = {"@context": [VC_CONTEXT_V2], "type": ["VerifiableCredential"]}
    signed = sign_credential(unsigned, W3C_KEY, W3C_VM, W3C_CREATED)
    signed["@context"] = [VC_CONTEXT_V2, "https://example.org/extra/v1"]
    verify_credential(signed)


# --- fixtures for origin tokens -------------------------------------------------------------

SUPPLIER_A = "aa" * 32
SUPPLIER_B = "bb" * 32
CREATED = "2023-07-15T12:00:00Z"
KEY = SigningKey(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
SALTS = [bytes([n]) * SALT_SIZE for n in range(4)]  # three lines and the good


def bom_document(rvc_min: str = "50") -> dict:
    return {
        "format": "tmec-bom/1", "good": "frame", "as_of": "2023-07-15", "currency": "USD",
        "items": [
            {"id": "frame", "hs": "8714.10", "description": "bicycle frame", "kind": "made",
             "costs": {"other_product": "20.00", "period": "10.00", "other": "0.00",
                       "excluded": {"sales_promotion": "5.00", "royalties": "2.50",
                                    "shipping_packing": "3.00",
                                    "non_allowable_interest": "1.50"}},
             "rule": {"rvc": [{"method": "net_cost", "min": rvc_min}]}},
            {"id": "tube", "hs": "7306.30", "description": "steel tube", "kind": "bought",
             "unit_value": "30.00", "origin": "originating", "country": "US",
             "evidence": {"token": SUPPLIER_A}},
            {"id": "fork", "hs": "8714.91", "description": "fork", "kind": "bought",
             "unit_value": "40.00", "origin": "non_originating", "country": "CN",
             "deductions": {"freight": "2.00"}},
            {"id": "bolt", "hs": "7318.15", "description": "bolt", "kind": "bought",
             "unit_value": "0.25", "origin": "originating", "country": "MX",
             "evidence": {"token": SUPPLIER_B}},
        ],
        "lines": [{"parent": "frame", "child": "tube", "qty": "1"},
                  {"parent": "frame", "child": "fork", "qty": "1"},
                  {"parent": "frame", "child": "bolt", "qty": "4"}],
    }


@pytest.fixture(scope="module")
def bom() -> BillOfMaterials:
    return bom_from_dict(bom_document())


@pytest.fixture(scope="module")
def determination(bom):
    return determine_origin(bom)


CERTIFIER = Certifier(name="Ana Núñez", title="Directora de Cumplimiento",
                      address="Av. Constitución 100, Monterrey, N.L.", country="MX",
                      phone="+52 81 5555 0100", email="ana.nunez@cuadros.example")
EXPORTER = Party(name="Cuadros del Norte SA de CV",
                 address="Av. Constitución 100, Monterrey, N.L.", country="MX",
                 email="export@cuadros.example", phone="+52 81 5555 0101", tax_id="CNO010101AAA")
IMPORTER = Party(name="Trail Bikes Inc.", address="1 Main St, Detroit, MI", country="US")


def certification(**changes: Any) -> Certification:
    fields: dict[str, Any] = {
        "role": CertifierRole.EXPORTER, "certifier": CERTIFIER, "producer": None,
        "signature_date": date(2023, 7, 15), "exporter": EXPORTER, "importer": IMPORTER,
    }
    fields.update(changes)
    return Certification(**fields)


def issue(bom, determination, **changes: Any):
    return build_origin_token(bom, determination, certification(**changes),
                              shipment_id="SHP-2023-0042", key=KEY, created=CREATED,
                              salts=SALTS)


@pytest.fixture(scope="module")
def issued(bom, determination):
    return issue(bom, determination)


# --- the token -------------------------------------------------------------------------------


def test_token_document(issued):
    token = issued.token
    assert token["@context"] == [VC_CONTEXT_V2, TOKEN_CONTEXT]
    assert token["type"] == ["VerifiableCredential", "UsmcaOriginToken"]
    assert token["issuer"] == did_key(KEY.public_key)
    assert token["validFrom"] == CREATED
    assert "validUntil" not in token
    subject = token["credentialSubject"]
    assert subject["shipmentId"] == "SHP-2023-0042"
    assert subject["certifierRole"] == "exporter"
    assert subject["certifier"] == {
        "name": "Ana Núñez", "title": "Directora de Cumplimiento",
        "address": "Av. Constitución 100, Monterrey, N.L.", "country": "MX",
        "phone": "+52 81 5555 0100", "email": "ana.nunez@cuadros.example"}
    assert subject["exporter"]["taxId"] == "CNO010101AAA"
    assert subject["importer"] == {"name": "Trail Bikes Inc.",
                                   "address": "1 Main St, Detroit, MI", "country": "US"}
    assert "producer" not in subject
    assert subject["good"] == {"description": "bicycle frame", "hsCode": "871410"}
    assert subject["originCriterion"] == "B"
    assert subject["authorizedSignature"] == {"date": "2023-07-15",
                                              "statement": CERTIFICATION_STATEMENT}
    assert subject["determination"] == {
        "originating": True, "criterion": "B", "ruleSet": "usmca/2020-07-01",
        "asOf": "2023-07-15", "currency": "USD",
        "rule": {"title": subject["determination"]["rule"]["title"],
                 "reference": subject["determination"]["rule"]["reference"]},
        "results": [{"method": "net_cost", "base": "89.00", "vnm": "38.00",
                     "rvc": "57.303370", "threshold": "50", "pass": True}],
    }
    assert subject["partsCount"] == 4
    assert subject["partsRoot"] == issued.commitment.root_hex
    assert token["relatedResource"] == [
        {"id": f"urn:tmec:token:{SUPPLIER_A}",
         "digestMultibase": "u" + base64.urlsafe_b64encode(
             b"\x12\x20" + bytes.fromhex(SUPPLIER_A)).decode().rstrip("=")},
        {"id": f"urn:tmec:token:{SUPPLIER_B}",
         "digestMultibase": "u" + base64.urlsafe_b64encode(
             b"\x12\x20" + bytes.fromhex(SUPPLIER_B)).decode().rstrip("=")},
    ]
    assert supplier_token_digests(token) == [SUPPLIER_A, SUPPLIER_B]
    proof = token["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == CREATED
    assert proof["verificationMethod"] == verification_method_id(KEY.public_key)
    assert proof["@context"] == token["@context"]


def test_prices_stay_inside_the_commitments(issued):
    text = json.dumps(issued.token)
    for price in ("30.00", "40.00", "0.25", "2.00"):
        assert price not in text
    assert "unit_value" not in text
    assert "top_vnm" not in text
    assert "headroom" not in text


def test_token_verifies_and_round_trips(issued):
    verify_token(issued.token)
    verify_token(issued.token, KEY.public_key)
    verify_token(json.dumps(issued.token))
    verify_token(json.dumps(issued.token).encode())
    assert parse_token(json.dumps(issued.token)) == issued.token
    verify_credential(issued.token)


def test_token_proof_follows_the_spec_recipe(issued):
    """Recompute the eddsa-jcs-2022 hash data with rfc8785, hashlib and PyNaCl directly."""
    token = copy.deepcopy(issued.token)
    proof = token.pop("proof")
    proof_value = proof.pop("proofValue")
    hash_data = (hashlib.sha256(rfc8785.dumps(proof)).digest()
                 + hashlib.sha256(rfc8785.dumps(token)).digest())
    signature = KEY.sign(hash_data)
    assert encode_multibase(signature) == proof_value
    nacl.signing.VerifyKey(KEY.public_key).verify(hash_data, signature)


def test_issuance_is_deterministic(bom, determination, issued):
    again = issue(bom, determination)
    assert again.token == issued.token
    assert again.digest == issued.digest


def test_token_digest(issued):
    assert issued.digest == hashlib.sha256(rfc8785.dumps(issued.token)).hexdigest()
    assert token_digest(issued.token) == issued.digest
    assert len(issued.digest) == 64
    assert issued.digest == issued.digest.lower()
    other = copy.deepcopy(issued.token)
    other["proof"]["created"] = "2023-07-15T12:00:01Z"
    assert token_digest(other) != issued.digest
    unsigned = {k: v for k, v in issued.token.items() if k != "proof"}
    with pytest.raises(TokenError, match="has none"):
        token_digest(unsigned)


def test_default_salts_are_random(bom, determination):
    first = build_origin_token(bom, determination, certification(), shipment_id="S",
                               key=KEY, created=CREATED)
    second = build_origin_token(bom, determination, certification(), shipment_id="S",
                                key=KEY, created=CREATED)
    assert first.commitment.root != second.commitment.root
    assert all(len(salt) == SALT_SIZE for salt in first.commitment.salts)
    verify_token(first.token)


# --- tampering -------------------------------------------------------------------------------


def test_every_changed_value_fails_verification(issued):
    count = 0
    for path, changed in tampered_variants(issued.token):
        assert_rejected(verify_token, changed, path)
        count += 1
    assert count > 100


def test_added_and_removed_members_fail(issued):
    for where in ((), ("credentialSubject",), ("credentialSubject", "determination"),
                  ("credentialSubject", "good"), ("proof",)):
        changed = with_value(issued.token, (*where, "note"), "x")
        with pytest.raises(TAMPER_ERRORS):
            verify_token(changed)
    for path in (("credentialSubject", "exporter", "email"), ("relatedResource",),
                 ("credentialSubject", "importer")):
        changed = copy.deepcopy(issued.token)
        target = changed
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
        with pytest.raises(TAMPER_ERRORS):
            verify_token(changed)


def test_a_valid_signature_by_another_key_is_not_the_issuers(issued):
    impostor = SigningKey(bytes(32))
    unsigned = {k: v for k, v in issued.token.items() if k != "proof"}
    forged = sign_credential(unsigned, impostor, verification_method_id(impostor.public_key),
                             CREATED)
    verify_credential(forged)  # a sound signature ...
    with pytest.raises(SignatureError, match="issuer"):
        verify_token(forged)  # ... but not by the issuer it names
    with pytest.raises(SignatureError):
        verify_token(issued.token, impostor.public_key)


# --- Annex 5-A rules -------------------------------------------------------------------------


def test_non_originating_goods_get_no_token():
    bom = bom_from_dict(bom_document(rvc_min="70"))
    determination = determine_origin(bom)
    assert not determination.originating
    with pytest.raises(TokenError, match="not originating"):
        issue(bom, determination)


def test_determination_must_belong_to_the_bom(bom):
    other = bom_from_dict({**bom_document(), "as_of": "2023-08-01"})
    with pytest.raises(TokenError, match="the determination is for"):
        issue(bom, determine_origin(other))


def test_blanket_period_sets_validity(bom, determination):
    issued = issue(bom, determination,
                   blanket_period=BlanketPeriod(date(2024, 1, 1), date(2024, 12, 31)))
    token = issued.token
    assert token["validFrom"] == "2024-01-01T00:00:00Z"
    assert token["validUntil"] == "2024-12-31T23:59:59Z"
    assert token["credentialSubject"]["blanketPeriod"] == {"start": "2024-01-01",
                                                           "end": "2024-12-31"}
    verify_token(token)


@pytest.mark.parametrize(("start", "end"), [
    (date(2024, 1, 1), date(2024, 12, 31)),
    (date(2024, 1, 1), date(2024, 1, 1)),
    (date(2024, 2, 29), date(2025, 2, 28)),
    (date(2023, 3, 1), date(2024, 2, 29)),
])
def test_blanket_periods_of_up_to_12_months(bom, determination, start, end):
    verify_token(issue(bom, determination, blanket_period=BlanketPeriod(start, end)).token)


@pytest.mark.parametrize(("start", "end", "message"), [
    (date(2024, 1, 1), date(2025, 1, 1), "longer than 12 months"),
    (date(2024, 1, 1), date(2026, 1, 1), "longer than 12 months"),
    (date(2024, 2, 29), date(2025, 3, 1), "longer than 12 months"),
    (date(2024, 6, 1), date(2024, 5, 31), "before it starts"),
])
def test_blanket_periods_over_12_months_are_refused(bom, determination, start, end, message):
    with pytest.raises(TokenError, match=message):
        issue(bom, determination, blanket_period=BlanketPeriod(start, end))


def test_exporter_may_be_omitted_only_by_a_producer(bom, determination):
    with pytest.raises(TokenError, match="exporter: required"):
        issue(bom, determination, exporter=None)
    issued = issue(bom, determination, role=CertifierRole.PRODUCER, exporter=None)
    assert "exporter" not in issued.token["credentialSubject"]
    verify_token(issued.token)


@pytest.mark.parametrize("producer", [PRODUCER_VARIOUS, PRODUCER_AVAILABLE_UPON_REQUEST])
def test_producer_alternatives(bom, determination, producer):
    issued = issue(bom, determination, producer=producer, importer=IMPORTER_VARIOUS)
    assert issued.token["credentialSubject"]["producer"] == producer
    assert issued.token["credentialSubject"]["importer"] == IMPORTER_VARIOUS
    verify_token(issued.token)


@pytest.mark.parametrize(("changes", "message"), [
    ({"producer": "Somebody"}, "producer: a name stands in a Party"),
    ({"importer": "Unknown"}, "importer: a name stands in a Party"),
    ({"exporter": Party("X", "Shanghai", "CN")}, "not in the territory of a USMCA Party"),
    ({"importer": Party("X", "Berlin", "DE")}, "not in the territory"),
    ({"exporter": Party("X", "Somewhere", "mx")}, "ISO 3166-1"),
    ({"exporter": Party("", "Somewhere", "MX")}, "exporter.name"),
    ({"certifier": Certifier("A", "B", "C", "MX", "", "e@x")}, "certifier.phone"),
    ({"role": "broker"}, "role"),
    ({"description": " "}, "description"),
    ({"invoice_number": "INV-1",
      "blanket_period": BlanketPeriod(date(2024, 1, 1), date(2024, 6, 30))}, "single shipment"),
])
def test_invalid_annex_5a_elements_are_refused(bom, determination, changes, message):
    with pytest.raises(TokenError, match=message):
        issue(bom, determination, **changes)


def test_description_and_invoice_number(bom, determination):
    issued = issue(bom, determination, description="Aluminium bicycle frame, 54 cm",
                   invoice_number="INV-7")
    assert issued.token["credentialSubject"]["good"] == {
        "description": "Aluminium bicycle frame, 54 cm", "hsCode": "871410",
        "invoiceNumber": "INV-7"}


def test_build_refuses_bad_arguments(bom, determination):
    with pytest.raises(TokenError, match="shipment_id"):
        build_origin_token(bom, determination, certification(), shipment_id="", key=KEY,
                           created=CREATED, salts=SALTS)
    with pytest.raises(TokenError, match="created"):
        build_origin_token(bom, determination, certification(), shipment_id="S", key=KEY,
                           created="2023-07-15", salts=SALTS)
    with pytest.raises(TokenError, match="4 records but 3 salts"):
        build_origin_token(bom, determination, certification(), shipment_id="S", key=KEY,
                           created=CREATED, salts=SALTS[:3])


def test_malformed_supplier_digest_is_refused():
    document = bom_document()
    document["items"][1]["evidence"] = {"token": "AA" * 32}
    bom = bom_from_dict(document)
    with pytest.raises(TokenError, match=r"tube.*not a token digest"):
        issue(bom, determine_origin(bom))


# --- line commitments and disclosure -----------------------------------------------------------


def test_line_records(bom):
    assert line_records(bom) == [
        {"parent": "frame", "child": "tube", "qty": "1", "hs": "7306.30",
         "description": "steel tube", "kind": "bought", "origin": "originating",
         "unit_value": "30.00", "country": "US", "evidence": {"token": SUPPLIER_A}},
        {"parent": "frame", "child": "fork", "qty": "1", "hs": "8714.91",
         "description": "fork", "kind": "bought", "origin": "non_originating",
         "unit_value": "40.00", "country": "CN", "deductions": {"freight": "2.00"}},
        {"parent": "frame", "child": "bolt", "qty": "4", "hs": "7318.15",
         "description": "bolt", "kind": "bought", "origin": "originating",
         "unit_value": "0.25", "country": "MX", "evidence": {"token": SUPPLIER_B}},
        {"good": "frame", "document": {"as_of": "2023-07-15", "currency": "USD"},
         "hs": "8714.10", "description": "bicycle frame", "kind": "made",
         "costs": {"other_product": "20.00", "period": "10.00",
                   "excluded": {"sales_promotion": "5.00", "royalties": "2.50",
                                "shipping_packing": "3.00", "non_allowable_interest": "1.50"}},
         "rule": {"rvc": [{"method": "net_cost", "min": "50"}], "combine": "all"}},
    ]


def test_full_disclosure_rebuilds_the_document(bom, issued):
    records = [disclose(issued.commitment, i)["record"] for i in range(4)]
    rebuilt = bom_from_dict(document_from_records(records))
    assert (rebuilt.items, rebuilt.lines, rebuilt.as_of) == (bom.items, bom.lines, bom.as_of)
    with pytest.raises(TokenError, match="ends with the good"):
        document_from_records(records[:-1])


def test_commitment_leaves_follow_the_design(bom, issued):
    records = line_records(bom)
    for index, (record, salt) in enumerate(zip(records, SALTS, strict=True)):
        salt_text = base64.urlsafe_b64encode(salt).decode().rstrip("=")
        body = rfc8785.dumps({"salt": salt_text, "line": index, **record})
        assert issued.commitment.leaves[index] == hashlib.sha256(b"\x00" + body).digest()
    assert issued.commitment.root == merkle.root(list(issued.commitment.leaves))
    assert issued.commitment.count == 4


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_disclosures_verify(issued, index):
    subject = issued.token["credentialSubject"]
    disclosure = disclose(issued.commitment, index)
    assert disclosure["line"] == index
    assert disclosure["record"] == line_records(bom_from_dict(bom_document()))[index]
    verify_disclosure(subject["partsRoot"], subject["partsCount"], disclosure)
    verify_disclosure(issued.commitment.root, 4, json.loads(json.dumps(disclosure)))


def test_changed_disclosures_fail(issued):
    root, count = issued.commitment.root_hex, issued.commitment.count
    good = disclose(issued.commitment, 1)
    other_salt = base64.urlsafe_b64encode(bytes(SALT_SIZE)).decode().rstrip("=")
    cases = [
        {**good, "salt": other_salt},
        {**good, "record": {**good["record"], "unit_value": "4.00"}},
        {**good, "record": {**good["record"], "origin": "originating"}},
        {**good, "record": {**good["record"], "note": "x"}},
        {**good, "line": 0},
        {**good, "line": 2},
        {**good, "proof": [*good["proof"][:-1], "00" * 32]},
        {**good, "proof": good["proof"][:-1]},
    ]
    for changed in cases:
        with pytest.raises(ProofError):
            verify_disclosure(root, count, changed)
    # A wrong size fails when it changes the audit path's shape (for line 1, sizes 3 and 4
    # have the same shape: partsCount is protected by the token's signature, not the path).
    for wrong_count in (2, 5):
        with pytest.raises(ProofError):
            verify_disclosure(root, wrong_count, good)
    with pytest.raises(ProofError):
        verify_disclosure("00" * 32, count, good)
    with pytest.raises(OutOfRangeError):
        verify_disclosure(root, count, {**good, "line": 4})


@pytest.mark.parametrize(("change", "message"), [
    ({"salt": None}, "disclosure.salt"),
    ({"salt": "AQEBAQEBAQEBAQEBAQEBAQ=="}, "disclosure.salt"),
    ({"salt": "AQEBAQEBAQEBAQEBAQEBAR"}, "canonical"),
    ({"salt": "AQEB"}, "expected 16 bytes"),
    ({"line": "1"}, "disclosure.line"),
    ({"line": True}, "disclosure.line"),
    ({"record": []}, "disclosure.record"),
    ({"record": {"salt": "x"}}, "reserved"),
    ({"proof": "ab"}, "disclosure.proof"),
    ({"proof": ["AB" * 32]}, r"disclosure.proof\[0\]"),
])
def test_malformed_disclosures_are_refused(issued, change, message):
    good = disclose(issued.commitment, 1)
    with pytest.raises(TokenError, match=message):
        verify_disclosure(issued.commitment.root_hex, 3, {**good, **change})
    with pytest.raises(TokenError, match="partsRoot"):
        verify_disclosure("xyz", 3, good)


def test_commit_parts_refusals():
    record = {"a": "1"}
    with pytest.raises(TokenError, match="1 records but 0 salts"):
        commit_parts([record], [])
    with pytest.raises(TokenError, match="expected 16 bytes"):
        commit_parts([record], [bytes(15)])
    with pytest.raises(TokenError, match="reserved"):
        commit_parts([{"line": 0}], [bytes(16)])
    with pytest.raises(TokenError, match="expected an object"):
        commit_parts(["x"], [bytes(16)])  # type: ignore[list-item]
    with pytest.raises(OutOfRangeError):
        disclose(commit_parts([record], [bytes(16)]), 1)


def test_commitment_is_independent_of_later_changes():
    record = {"a": "1"}
    commitment = commit_parts([record], [bytes(16)])
    record["a"] = "2"
    verify_disclosure(commitment.root_hex, 1, disclose(commitment, 0))
    assert commitment.records[0] == {"a": "1"}


def test_empty_commitment():
    commitment = commit_parts([], [])
    assert commitment.root == merkle.EMPTY_ROOT
    assert commitment.count == 0


# --- parse_token -------------------------------------------------------------------------------


def without(document: dict, path: tuple) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return changed


@pytest.mark.parametrize("path", [
    ("@context",), ("type",), ("issuer",), ("validFrom",), ("credentialSubject",),
    ("proof",), ("credentialSubject", "shipmentId"), ("credentialSubject", "partsRoot"),
    ("credentialSubject", "partsCount"), ("credentialSubject", "certifier", "email"),
    ("credentialSubject", "good", "hsCode"), ("credentialSubject", "determination"),
    ("credentialSubject", "determination", "results", 0, "rvc"),
    ("credentialSubject", "authorizedSignature", "date"), ("proof", "proofValue"),
    ("relatedResource", 0, "digestMultibase"),
])
def test_parse_token_names_the_missing_member(issued, path):
    with pytest.raises(TokenError, match=f"{path[-1]}: missing"):
        parse_token(without(issued.token, path))


@pytest.mark.parametrize(("path", "value", "message"), [
    (("credentialSubject", "partsCount"), "3", "partsCount: expected an integer, got a string"),
    (("credentialSubject", "partsCount"), True, "partsCount: expected an integer"),
    (("credentialSubject", "partsCount"), -1, "must not be negative"),
    (("credentialSubject", "partsRoot"), "AB" * 32, "partsRoot"),
    (("credentialSubject", "good", "hsCode"), "8714.10", "6 digits"),
    (("credentialSubject", "certifierRole"), "broker", "certifierRole"),
    (("credentialSubject", "determination", "originating"), False, "only issued for"),
    (("credentialSubject", "determination", "results", 0, "rvc"), "57.7%", "decimal"),
    (("credentialSubject", "exporter"), "Various", "exporter: expected an object"),
    (("credentialSubject", "authorizedSignature", "date"), "2023-02-30", "calendar"),
    (("@context",), [TOKEN_CONTEXT, VC_CONTEXT_V2], "must start with"),
    (("@context",), [VC_CONTEXT_V2], "must include"),
    (("type",), ["VerifiableCredential"], "UsmcaOriginToken"),
    (("issuer",), "https://example.com/issuer", r"\$\.issuer"),
    (("validFrom",), "2023-07-15T12:00:00", "time zone"),
    (("validUntil",), "2023-07-14T00:00:00Z", "earlier than validFrom"),
    (("relatedResource", 0, "id"), "urn:other:" + SUPPLIER_A, "relatedResource"),
    (("relatedResource", 0, "digestMultibase"), "uEiA", "does not match"),
    (("relatedResource",), "x", "expected an array"),
    (("proof", "created"), 5, "proof.created"),
])
def test_parse_token_names_the_invalid_member(issued, path, value, message):
    with pytest.raises(TokenError, match=message):
        parse_token(with_value(issued.token, path, value))


@pytest.mark.parametrize(("data", "message"), [
    (b"{", "strict JSON"),
    (b'{"a": 1.5}', "strict JSON"),
    (b'{"a": 1, "a": 2}', "strict JSON"),
    (b"[]", "a token is a JSON object"),
    ("not json", "strict JSON"),
])
def test_parse_token_refuses_non_tokens(data, message):
    with pytest.raises(TokenError, match=message):
        parse_token(data)


def test_parse_token_does_not_alias_its_input(issued):
    parsed = parse_token(issued.token)
    parsed["credentialSubject"]["shipmentId"] = "changed"
    assert issued.token["credentialSubject"]["shipmentId"] == "SHP-2023-0042"


def test_an_operators_context_host_is_our_context() -> None:
    from ledger.token import is_token_context

    assert is_token_context(TOKEN_CONTEXT)
    assert is_token_context("https://ledger.aduana.example/ns/origin-token/v1")
    assert is_token_context("http://127.0.0.1:8000/ns/origin-token/v1")
    for other in ("https://evil.example/ns/origin-token/v2", "ftp://x/ns/origin-token/v1",
                  "https:///ns/origin-token/v1", "https://a b/ns/origin-token/v1", 7, None):
        assert not is_token_context(other)
