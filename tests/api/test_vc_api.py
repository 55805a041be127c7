"""The W3C VC-API surface: ``POST /credentials/issue`` and ``POST /credentials/verify``.

Through the real app over the demo ledger: a credential issued by the service verifies
(and with the core's own verifier), the DID in ``vc-api.json`` is the one the service
signs with, a tampered credential is a 400 carrying ``verified: false`` and the problem,
a credential from a foreign did:key verifies, the W3C vc-di-eddsa Appendix B.3 vector
verifies, malformed requests are 400 problem documents, an origin token issued over the
API is checked against the service's own status list. The W3C suite itself runs in
``make interop`` (tools/interop.sh), not here.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.api import ApiSettings, create_app
from ledger.credentials import (
    CRYPTOGRAPHIC_SECURITY_ERROR,
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
    RANGE_ERROR,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
)
from ledger.crypto import SigningKey
from ledger.multikey import decode_secret_key, did_key, verification_method_id
from ledger.token import sign_credential, verify_credential
from tests.api.conftest import World, problem
from tests.api.test_issue_api import SME, _issue
from tests.conftest import asset

REGISTRAR = "registrar.registrar"
UNKNOWN_OPTION = "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"
V2 = "https://www.w3.org/ns/credentials/v2"


def _credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:7a1c3d2e-8f4b-4c6d-9e0a-1b2c3d4e5f60",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "credentialSubject": {"id": "did:example:importer-77", "name": "Importación Ñandú",
                              "shipments": 3}}
    document.update(changes)
    return document


def _issue_vc(world: World, credential: Any, **extra: Any) -> Any:
    return world.client.post("/credentials/issue", headers=world.auth(REGISTRAR),
                             json={"credential": credential, **extra})


def _verify(world: World, credential: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"verifiableCredential": credential}
    if options:
        body["options"] = options
    return world.client.post("/credentials/verify", json=body)


def _failed(response: Any) -> dict[str, Any]:
    """A failed verification: 400 problem+json that is also a VC-API result."""
    body = problem(response, 400, "api.vc.not_verified")
    assert body["verified"] is False
    assert body["errors"], body
    assert body["problemDetails"][: len(body["errors"])] == body["errors"]
    for item in body["errors"] + body["warnings"]:
        assert set(item) == {"type", "title", "detail"}
        assert item["type"].endswith("#" + item["title"])
    return body


def test_issue_then_verify_round_trip(sqlite_world: World) -> None:
    world = sqlite_world
    named = json.loads((world.out / "vc-api.json").read_text("utf-8"))
    response = _issue_vc(world, _credential(), options={"credentialId": "urn:x:1"})
    assert response.status_code == 201, response.text
    issued = response.json()["verifiableCredential"]
    assert issued["issuer"] == named["issuer"]
    assert named["verify"].endswith("/credentials/verify")
    assert named["issue"].endswith("/credentials/issue")
    proof = issued["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == named["verificationMethod"]
    assert proof["@context"] == issued["@context"]
    assert {k: v for k, v in issued.items() if k not in ("issuer", "proof")} == _credential()
    verify_credential(issued)  # the core's eddsa-jcs-2022 verifier agrees
    verified = _verify(world, issued)
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["verified"] is True
    assert body["errors"] == []
    assert body["warnings"] == []
    assert body["problemDetails"] == []
    assert body["checks"][0] == "proof"
    assert "results" not in body
    assert "credential" not in body
    detailed = _verify(world, issued, returnResults=True, returnCredential=True,
                       returnProblemDetails=True, checks=["proof"]).json()
    assert detailed["checks"] == ["proof"]
    assert detailed["credential"] == issued
    assert detailed["results"]["proof"] == [{"verified": True, "input": proof}]


def test_the_issuer_may_be_named_but_only_as_the_service(sqlite_world: World) -> None:
    world = sqlite_world
    did = json.loads((world.out / "vc-api.json").read_text("utf-8"))["issuer"]
    as_object = _issue_vc(world, _credential(issuer={"id": did, "name": "T-MEC ledger"}))
    assert as_object.status_code == 201, as_object.text
    assert as_object.json()["verifiableCredential"]["issuer"]["name"] == "T-MEC ledger"
    assert _verify(world, as_object.json()["verifiableCredential"]).status_code == 200
    assert _issue_vc(world, _credential(issuer=did)).status_code == 201
    other = did_key(SigningKey.generate().public_key)
    found = problem(_issue_vc(world, _credential(issuer=other)), 400,
                    "ledger.credential_invalid")
    assert did in found["detail"]
    assert "credential.issuer" in found["detail"]


@pytest.mark.parametrize(("credential", "where"), [
    (_credential(proof={"type": "DataIntegrityProof"}), "credential.proof"),
    (_credential(**{"@context": ["https://www.w3.org/2018/credentials/v1"]}),
     "credential.@context"),
    ({k: v for k, v in _credential().items() if k != "credentialSubject"},
     "credential.credentialSubject"),
    (_credential(type=["ExampleCredential"]), "credential.type"),
    (_credential(validFrom="yesterday"), "credential.validFrom"),
    (_credential(validFrom="2026-01-02T00:00:00Z", validUntil="2026-01-01T00:00:00Z"),
     "credential.validUntil"),
    ("a string", "credential"),
])
def test_credentials_the_issuer_refuses(sqlite_world: World, credential: Any,
                                        where: str) -> None:
    found = problem(_issue_vc(sqlite_world, credential), 400, "ledger.credential_invalid")
    assert found["detail"].startswith(where), found["detail"]


def test_malformed_issue_requests(sqlite_world: World) -> None:
    world = sqlite_world
    auth = world.auth(REGISTRAR)
    post = world.client.post
    for body in (b"", b"{", b"[]", b'"x"', b"\xff", b'{"credential": 1.5}',
                 b'{"credential": {}, "credential": {}}', b"[" * 200 + b"]" * 200):
        found = problem(post("/credentials/issue", content=body, headers={
            **auth, "content-type": "application/json"}), 400, "api.vc.request_invalid")
        assert found["errors"][0]["type"] == PARSING_ERROR, body[:20]
    problem(post("/credentials/issue", headers=auth, json={}), 400, "api.vc.request_invalid")
    deep: Any = "leaf"
    for _ in range(70):
        deep = {"n": deep}
    found = problem(_issue_vc(world, _credential(credentialSubject=deep)), 400,
                    "api.vc.request_invalid")
    assert "deeper than 64" in found["detail"]
    problem(post("/credentials/issue", headers=auth, json={"credential": _credential(),
                                                            "extra": 1}),
            400, "api.vc.request_invalid")
    unknown = problem(_issue_vc(world, _credential(), options={"proofType": "Ed25519"}),
                      400, "api.vc.request_invalid")
    assert unknown["errors"][0]["type"] == UNKNOWN_OPTION
    problem(_issue_vc(world, _credential(), options={"mandatoryPointers": ["/issuer"]}),
            400, "api.vc.request_invalid")
    problem(_issue_vc(world, _credential(), options={"credentialId": 7}), 400,
            "api.vc.request_invalid")
    problem(_issue_vc(world, _credential(), options=[]), 400, "api.vc.request_invalid")
    problem(post("/credentials/issue", headers={**auth, "content-type": "text/plain"},
                 content=b"{}"), 415, "api.unsupported_media_type")
    big = json.dumps({"credential": _credential(note="x" * 300_000)}).encode()
    problem(post("/credentials/issue", headers={**auth, "content-type": "application/json"},
                 content=big), 413, "api.too_large")


def test_only_the_registrar_issues(sqlite_world: World) -> None:
    world = sqlite_world
    problem(world.client.post("/credentials/issue", json={"credential": _credential()}),
            401, "api.unauthenticated")
    for account in (SME, "cbp.customs", "laredo-brokers.broker", "norte-audit.auditor"):
        problem(world.client.post("/credentials/issue", headers=world.auth(account),
                                  json={"credential": _credential()}),
                403, "api.forbidden.role")


def test_without_a_key_encryption_key_nothing_is_issued_but_verify_works(
        sqlite_world: World) -> None:
    issued = _issue_vc(sqlite_world, _credential()).json()["verifiableCredential"]
    settings = ApiSettings(ledger=sqlite_world.service.settings.ledger)
    with TestClient(create_app(settings, checkpointer=False),
                    raise_server_exceptions=False) as client:
        found = problem(client.post("/credentials/issue", headers=sqlite_world.auth(REGISTRAR),
                                    json={"credential": _credential()}),
                        503, "ledger.not_configured")
        assert "TMEC_KEY_ENCRYPTION_KEY" in found["detail"]
        assert client.post("/credentials/verify",
                           json={"verifiableCredential": issued}).status_code == 200


def test_every_worker_signs_as_the_same_did(sqlite_world: World) -> None:
    """The key is derived from the settings' secret, not made per process."""
    settings = sqlite_world.service.settings
    did = json.loads((sqlite_world.out / "vc-api.json").read_text("utf-8"))["issuer"]
    with TestClient(create_app(settings, checkpointer=False)) as second:
        issued = second.post("/credentials/issue", headers=sqlite_world.auth(REGISTRAR),
                             json={"credential": _credential()})
        assert issued.json()["verifiableCredential"]["issuer"] == did


@pytest.mark.parametrize("how", ["claim", "added member", "issuer", "proofValue", "created",
                                 "cryptosuite", "proof context", "no proof"])
def test_a_tampered_credential_is_refused_with_the_problem(sqlite_world: World,
                                                           how: str) -> None:
    world = sqlite_world
    issued = _issue_vc(world, _credential()).json()["verifiableCredential"]
    changed = copy.deepcopy(issued)
    proof = changed["proof"]
    expected = CRYPTOGRAPHIC_SECURITY_ERROR
    if how == "claim":
        changed["credentialSubject"]["shipments"] = 4
    elif how == "added member":
        changed["validUntil"] = "2099-01-01T00:00:00Z"
    elif how == "issuer":
        changed["issuer"] = did_key(SigningKey.generate().public_key)
        expected = PROOF_VERIFICATION_ERROR
    elif how == "proofValue":
        proof["proofValue"] = proof["proofValue"][:-2] + (
            "11" if proof["proofValue"][-2:] != "11" else "22")
    elif how == "created":
        proof["created"] = "2020-01-01T00:00:00Z"
    elif how == "cryptosuite":
        proof["cryptosuite"] = "eddsa-rdfc-2022"
        expected = PROOF_VERIFICATION_ERROR
    elif how == "proof context":
        proof["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    elif how == "no proof":
        del changed["proof"]
        expected = PROOF_VERIFICATION_ERROR
    body = _failed(_verify(world, changed, returnResults=True))
    assert body["errors"][0]["type"] == expected, body
    if how != "no proof":
        assert body["results"]["proof"][0]["verified"] is False


def test_a_foreign_did_key_credential_verifies(sqlite_world: World) -> None:
    """Signed elsewhere with a key the service never saw: did:key resolves offline."""
    key = SigningKey.generate()
    unsigned = _credential(issuer=did_key(key.public_key),
                           validFrom="2026-01-01T00:00:00Z")
    signed = sign_credential(unsigned, key, verification_method_id(key.public_key),
                             "2026-01-01T00:00:00Z")
    body = _verify(sqlite_world, signed).json()
    assert body["verified"] is True, body
    assert body["warnings"] == []
    # A proof set: the same issuer's two proofs are each checked.
    again = sign_credential(unsigned, key, verification_method_id(key.public_key),
                            "2026-02-01T00:00:00Z")
    both = {**signed, "proof": [signed["proof"], again["proof"]]}
    assert _verify(sqlite_world, both, returnResults=True).json()["results"]["proof"][1][
        "verified"] is True
    both["proof"][1] = {**again["proof"], "created": "2026-03-01T00:00:00Z"}
    _failed(_verify(sqlite_world, both))


def test_a_key_that_does_not_resolve_offline_is_an_error(sqlite_world: World) -> None:
    key = SigningKey.generate()
    unsigned = _credential(issuer="did:web:issuer.example")
    signed = sign_credential(unsigned, key, "did:web:issuer.example#key-1",
                             "2026-01-01T00:00:00Z")
    body = _failed(_verify(sqlite_world, signed))
    assert body["errors"][0]["type"] == PROOF_VERIFICATION_ERROR
    assert "offline" in body["errors"][0]["detail"]


def test_the_w3c_vc_di_eddsa_vector_verifies(sqlite_world: World) -> None:
    """vc-di-eddsa Appendix B.3 Example 39 (tests/assets/vc-di-eddsa/README.md)."""
    signed = json.loads(asset("vc-di-eddsa", "signedJCS.json").read_text("utf-8"))
    response = _verify(sqlite_world, signed, returnResults=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["errors"] == []
    assert body["results"]["proof"][0]["verified"] is True
    # Its issuer is an https URL: who controls the did:key that signed is not known offline.
    assert [w["type"] for w in body["warnings"]] == [PROOF_VERIFICATION_ERROR]
    assert "https://vc.example/issuers/5678" in body["warnings"][0]["detail"]
    seed = decode_secret_key(json.loads(asset("vc-di-eddsa", "keyPair.json").read_text(
        "utf-8"))["secretKeyMultibase"])
    assert verification_method_id(SigningKey(seed).public_key) == signed["proof"][
        "verificationMethod"]
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert _failed(_verify(sqlite_world, tampered))["errors"][0]["type"] == (
        CRYPTOGRAPHIC_SECURITY_ERROR)
    # The earlier revision's https verification method cannot be resolved offline.
    https_vm = json.loads(asset("vc-di-eddsa", "signedJCS-https-vm.json").read_text("utf-8"))
    assert _failed(_verify(sqlite_world, https_vm))["errors"][0]["type"] == (
        PROOF_VERIFICATION_ERROR)


def test_validity_period_is_a_warning_as_vc_api_defines(sqlite_world: World) -> None:
    world = sqlite_world
    past = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    issued = _issue_vc(world, _credential(validFrom="2020-01-01T00:00:00Z",
                                          validUntil=past)).json()["verifiableCredential"]
    body = _verify(world, issued, returnResults=True).json()
    assert body["verified"] is True
    assert [w["type"] for w in body["warnings"]] == [RANGE_ERROR]
    assert body["results"]["validUntil"] == {"verified": False, "input": past}
    assert body["results"]["validFrom"]["verified"] is True
    unchecked = _verify(world, issued, checks=["proof"]).json()
    assert unchecked["warnings"] == []
    assert unchecked["checks"] == ["proof"]


def test_malformed_verify_requests_are_400_problems(sqlite_world: World) -> None:
    world = sqlite_world
    post = world.client.post
    for body in (b"", b"{", b"[]", b"null", b'{"verifiableCredential": {"a": 0.5}}',
                 b"[" * 100_000):
        problem(post("/credentials/verify", content=body,
                     headers={"content-type": "application/json"}), 400,
                "api.vc.request_invalid")
    problem(post("/credentials/verify", json={}), 400, "api.vc.request_invalid")
    problem(post("/credentials/verify", json={"verifiableCredential": {}, "x": 1}), 400,
            "api.vc.request_invalid")
    for options in ({"checks": ["proof", "teleportation"]}, {"challenge": "abc"}):
        found = problem(post("/credentials/verify", json={"verifiableCredential": {},
                                                          "options": options}),
                        400, "api.vc.request_invalid")
        assert found["errors"][0]["type"] == UNKNOWN_OPTION
    for options in ({"checks": "proof"}, {"returnResults": "yes"}, {"checks": [1]}):
        problem(post("/credentials/verify", json={"verifiableCredential": {},
                                                  "options": options}),
                400, "api.vc.request_invalid")
    problem(post("/credentials/verify", content=b"{}",
                 headers={"content-type": "text/plain"}), 415, "api.unsupported_media_type")
    # Well-formed requests whose credential is not one: a failed verification.
    assert _failed(_verify(world, "a string"))["errors"][0]["type"] == PARSING_ERROR
    body = _failed(_verify(world, {"type": "VerifiableCredential"}))
    assert {"$.@context", "$.issuer", "$.credentialSubject", "$.proof"} <= {
        e["detail"].split(":")[0] for e in body["errors"]}


def test_a_token_issued_over_the_api_is_checked_against_the_services_status_list(
        world: World) -> None:
    body = _issue(world, SME, "SHP-VC-API").json()
    token = body["token"]
    assert token["credentialStatus"]["statusListCredential"].startswith(
        world.service.settings.public_url)
    fine = _verify(world, token, returnResults=True).json()
    assert fine["verified"] is True, fine
    assert fine["warnings"] == []
    assert fine["results"]["credentialStatus"][0]["value"] == 0
    world.client.post(f"/v1/tokens/{body['tokenDigest']}/revoke", headers=world.auth(SME),
                      json={"reason": "withdrawn"})
    revoked = _verify(world, token, returnResults=True).json()
    assert revoked["verified"] is True  # VC-API: status is a warning, not an error
    assert [w["type"] for w in revoked["warnings"]] == [STATUS_VERIFICATION_ERROR]
    assert revoked["results"]["credentialStatus"][0] == {
        "value": 1, "verified": False, "input": token["credentialStatus"]}
    # The status list credential itself verifies (issued by the log's did:key).
    listed = world.client.get(token["credentialStatus"]["statusListCredential"].removeprefix(
        world.service.settings.public_url)).json()
    assert _verify(world, listed).json()["verified"] is True
    # Another service's list is reported as not checked.
    elsewhere = copy.deepcopy(token)
    elsewhere["credentialStatus"]["statusListCredential"] = "https://status.example/1"
    assert _failed(_verify(world, elsewhere))  # the entry is signed: tampering shows
    key = SigningKey.generate()
    foreign = sign_credential(_credential(issuer=did_key(key.public_key), credentialStatus={
        "id": "https://status.example/1#5", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": "5",
        "statusListCredential": "https://status.example/1"}), key,
        verification_method_id(key.public_key), "2026-01-01T00:00:00Z")
    warned = _verify(world, foreign).json()
    assert warned["verified"] is True
    assert [w["type"] for w in warned["warnings"]] == [STATUS_RETRIEVAL_ERROR]


def test_the_demo_writes_the_vc_api_file(tmp_path: Path) -> None:
    from tests.conftest import run_tmec

    out = tmp_path / "demo"
    result = run_tmec("demo", "--out", str(out), "--url", "http://127.0.0.1:9911")
    assert result.exit_code == 0, result.stderr
    named = json.loads((out / "vc-api.json").read_text("utf-8"))
    assert named["issue"] == "http://127.0.0.1:9911/credentials/issue"
    assert named["verify"] == "http://127.0.0.1:9911/credentials/verify"
    assert named["issuer"].startswith("did:key:z6Mk")
    assert named["verificationMethod"].startswith(named["issuer"] + "#")
    bad = run_tmec("demo", "--out", str(tmp_path / "other"), "--url", "ftp://x")
    assert bad.exit_code == 3
    assert "--url" in bad.stderr
