"""did:web documents of the service and its parties follow the log, and the verifier uses them.

Through the real app over the demo ledger: the service's document lists its VC-API issuer
key and the log's key; a party's lists the key the log registered, and after a rotation
only the new one; ``/credentials/verify`` resolves our did:web verification methods and
issuers from those documents, so a credential signed with a key the log rotated away
no longer verifies as the party's.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.api.vc_issuer import ServiceIssuer
from ledger.credentials import PROOF_VERIFICATION_ERROR
from ledger.crypto import SigningKey
from ledger.installation import PartyKey
from ledger.multikey import encode_public_key, verification_method_id
from ledger.token import VC_CONTEXT_V2, sign_credential
from tests.api.conftest import World, problem

HOST = "127.0.0.1%3A8000"  # the default TMEC_PUBLIC_URL, http://127.0.0.1:8000
PARTY_DID = f"did:web:{HOST}:parties:frenos-bajio"


def _keys(document: dict[str, Any]) -> list[str]:
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    for method in document["verificationMethod"]:
        assert method["type"] == "Multikey"
        assert method["controller"] == document["id"]
        assert method["id"] == f"{document['id']}#{method['publicKeyMultibase']}"
    return [m["publicKeyMultibase"] for m in document["verificationMethod"]]


def _get(world: World, path: str) -> dict[str, Any]:
    response = world.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/did+json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-cache"
    document: dict[str, Any] = response.json()
    return document


def test_the_services_document(sqlite_world: World) -> None:
    world = sqlite_world
    document = _get(world, "/.well-known/did.json")
    assert document["id"] == f"did:web:{HOST}"
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    issuer = json.loads((world.out / "vc-api.json").read_text("utf-8"))["issuer"]
    log_key = encode_public_key(world.service.ledger.log_key.public_key)
    assert _keys(document) == [issuer.removeprefix("did:key:"), log_key]
    assert document["alsoKnownAs"] == [issuer, f"did:key:{log_key}"]


def test_a_partys_document_follows_its_key_rotation(world: World) -> None:
    first = PartyKey.load(world.home / "keys" / "frenos-bajio.json")
    document = _get(world, "/parties/frenos-bajio/did.json")
    assert document["id"] == PARTY_DID
    assert _keys(document) == [encode_public_key(first.key.public_key)]
    profile = {k: v for k, v in first.party.items() if k != "id"}
    rotated = world.client.post("/v1/signing-keys", headers=world.auth(
        "frenos-bajio.producer"), json=profile)
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["replaces"] == first.kid
    new_key = rotated.json()["kid"].partition("#")[2]
    after = _get(world, "/parties/frenos-bajio/did.json")
    assert _keys(after) == [new_key]  # the rotated key left when the log said so
    assert after["alsoKnownAs"] == [f"did:key:{new_key}"]
    other = _get(world, "/parties/huron-powertrain/did.json")
    assert len(_keys(other)) == 1  # nobody else's document changed


def test_unknown_parties_have_no_document(sqlite_world: World) -> None:
    for party in ("nobody-here", "Frenos-Bajio", "x" * 80, "a..b"):
        problem(sqlite_world.client.get(f"/parties/{party}/did.json"), 404, "api.not_found")


def _party_credential(key: SigningKey, *, issuer: str, method: str) -> dict[str, Any]:
    unsigned = {"@context": [VC_CONTEXT_V2], "type": ["VerifiableCredential"],
                "issuer": issuer, "credentialSubject": {"id": "did:example:buyer",
                                                        "note": "supplier declaration"}}
    return sign_credential(unsigned, key, method, "2026-12-01T15:00:00Z")


def _verify(world: World, credential: dict[str, Any]) -> Any:
    return world.client.post("/credentials/verify", json={"verifiableCredential": credential})


def test_the_verifier_resolves_our_did_web_and_follows_rotation(sqlite_world: World) -> None:
    world = sqlite_world
    first = PartyKey.load(world.home / "keys" / "frenos-bajio.json")
    multibase = encode_public_key(first.key.public_key)
    by_web = _party_credential(first.key, issuer=PARTY_DID,
                               method=f"{PARTY_DID}#{multibase}")
    by_key = _party_credential(first.key, issuer=PARTY_DID,
                               method=verification_method_id(first.key.public_key))
    for credential in (by_web, by_key):
        body = _verify(world, credential).json()
        assert body["verified"] is True, body
        assert body["warnings"] == []  # the document says the party holds this key
    stranger = SigningKey.generate()
    forged = _party_credential(stranger, issuer=PARTY_DID,
                               method=verification_method_id(stranger.public_key))
    found = problem(_verify(world, forged), 400, "api.vc.not_verified")
    assert found["errors"][0]["type"] == PROOF_VERIFICATION_ERROR
    assert "does not control" in found["errors"][0]["detail"]
    profile = {k: v for k, v in first.party.items() if k != "id"}
    assert world.client.post("/v1/signing-keys", headers=world.auth("frenos-bajio.producer"),
                             json=profile).status_code == 201
    for credential in (by_web, by_key):  # signed by the key the log has rotated away
        found = problem(_verify(world, credential), 400, "api.vc.not_verified")
        assert found["errors"][0]["type"] == PROOF_VERIFICATION_ERROR
    # Another host's did:web is not fetched: an error, not a network request.
    elsewhere = _party_credential(stranger, issuer="did:web:elsewhere.example",
                                  method="did:web:elsewhere.example#key-1")
    assert "offline" in problem(_verify(world, elsewhere), 400,
                                "api.vc.not_verified")["errors"][0]["detail"]
    # The service's own did:web names its VC-API issuer key: a credential that gives the
    # service's did:web as issuer and its did:key as the signer verifies without a warning.
    kek = bytes.fromhex((world.out / "key-encryption.key").read_text("ascii").strip())
    service_key = ServiceIssuer.from_secret(kek).key
    as_service = _party_credential(service_key, issuer=f"did:web:{HOST}",
                                   method=verification_method_id(service_key.public_key))
    body = _verify(world, as_service).json()
    assert body["verified"] is True, body
    assert body["warnings"] == []
