"""JOSE copies (application/vc+jwt) of origin tokens over HTTP, end to end on the demo.

``GET /v1/tokens/{digest}/jwt`` (and ``/traceability/jwt``, ``/untp/jwt``) sign copies with
the token's held key; PyJWT, a JOSE implementation other than the service's, reads them;
``POST /v1/verify`` checks a copy alone or beside its bundle and ``/credentials/verify`` an
``EnvelopedVerifiableCredential``; tampering, another key, ``alg`` ``none`` and HMAC keyed
with the public key are refused with the check or problem that names them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.canonical import canonicalize
from ledger.copies import CopyKind, sign_copy, verify_copy
from ledger.credentials import (
    CRYPTOGRAPHIC_SECURITY_ERROR,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
)
from ledger.crypto import SigningKey
from ledger.enveloped import envelope, secure_credential
from ledger.installation import PartyKey
from ledger.multikey import decode_verification_method, verification_method_id
from ledger.token import CertifierRole
from ledger.verify import TrustFile
from tests.api.conftest import World, problem
from tests.conftest import run_tmec
from tests.ledger.world import EXAMPLES

CALIPER = "brake-caliper-mx"
SME = "frenos-bajio.producer"
VC_JWT = {"content-type": "application/vc+jwt"}
TAILS = {CopyKind.TOKEN: "/jwt", CopyKind.TRACEABILITY: "/traceability/jwt",
         CopyKind.UNTP: "/untp/jwt"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _copy(world: World, digest: str, kind: CopyKind, account: str = SME) -> str:
    response = world.client.get(f"/v1/tokens/{digest}{TAILS[kind]}",
                                headers=world.auth(account))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vc+jwt"
    return response.text


def _checks(answer: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["outcome"], c["detail"]) for c in answer["checks"]}


def test_copies_are_the_token_and_its_views_signed_by_its_key(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    token = world.service.ledger.token(digest)
    kid = token["proof"]["verificationMethod"]
    public = Ed25519PublicKey.from_public_bytes(decode_verification_method(kid))
    views = {CopyKind.TOKEN: canonicalize({k: v for k, v in token.items() if k != "proof"}),
             CopyKind.TRACEABILITY: canonicalize(world.client.get(
                 f"/v1/tokens/{digest}/traceability", headers=world.auth(SME)).json()),
             CopyKind.UNTP: world.client.get(f"/v1/tokens/{digest}/untp",
                                             headers=world.auth(SME)).content}
    for kind, payload in views.items():
        jwt = _copy(world, digest, kind)
        assert _copy(world, digest, kind, "cbp.customs") == jwt  # deterministic, not stored
        decoded = pyjwt.api_jws.PyJWS().decode_complete(jwt, key=public,
                                                        algorithms=["EdDSA"])
        assert decoded["header"] == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc",
                                     "kid": kid}
        assert decoded["payload"] == payload, kind
        alone = world.client.post("/v1/verify", content=jwt, headers=VC_JWT).json()
        assert alone["decision"] == "clear", alone
        assert alone["tokenDigest"] == digest
        checks = _checks(alone)
        assert [checks[n][0] for n in ("jose.format", "jose.signature", "jose.payload")] == [
            "pass", "pass", "pass"]
        assert checks["token.signature"][0] == "pass"  # the bundle's own checks ran too
        beside = world.client.post("/v1/verify", json={
            "bundle": json.loads(world.bundle_bytes(CALIPER)), "jwt": jwt}).json()
        assert beside["decision"] == "clear", beside
        assert _checks(beside)["jose.payload"][0] == "pass"


def test_who_may_have_a_copy_is_who_may_read_the_token(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    for tail in TAILS.values():
        problem(world.client.get(f"/v1/tokens/{digest}{tail}"), 401, "api.unauthenticated")
        problem(world.client.get(f"/v1/tokens/{digest}{tail}",
                                 headers=world.auth("huron-powertrain.producer")), 403,
                "api.forbidden")
        assert world.client.get(f"/v1/tokens/{digest}{tail}", headers=world.auth(
            "laredo-brokers.broker")).status_code == 200


def _signed_payload(world: World, payload: dict[str, Any], key_file: str = "frenos-bajio",
                    kid: str | None = None) -> str:
    party = PartyKey.load(world.home / "keys" / f"{key_file}.json")
    return secure_credential(canonicalize(payload), party.key, kid or party.kid)


def test_a_copy_that_is_not_the_tokens_is_rejected_naming_the_check(sqlite_world: World
                                                                     ) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    bundle = json.loads(world.bundle_bytes(CALIPER))
    trace = world.client.get(f"/v1/tokens/{digest}/traceability",
                             headers=world.auth(SME)).json()
    # Signed by the right key, but one member changed: only the payload check can tell.
    trace["credentialSubject"]["goods"][0]["originCriterion"] = "A"
    forged = _signed_payload(world, trace)
    found = world.client.post("/v1/verify", content=forged, headers=VC_JWT).json()
    assert found["decision"] == "reject"
    checks = _checks(found)
    assert checks["jose.signature"][0] == "pass"
    assert checks["jose.payload"][0] == "fail"
    assert "not the traceability copy" in checks["jose.payload"][1]
    # The same claims signed by another party's key, naming the token's kid.
    kid = world.service.ledger.token(digest)["proof"]["verificationMethod"]
    genuine = world.client.get(f"/v1/tokens/{digest}/traceability",
                               headers=world.auth(SME)).json()
    other = _signed_payload(world, genuine, "huron-powertrain", kid=kid)
    checks = _checks(world.client.post("/v1/verify", json={"bundle": bundle,
                                                           "jwt": other}).json())
    assert checks["jose.signature"] == ("fail", checks["jose.signature"][1])
    assert "does not verify" in checks["jose.signature"][1]
    # A genuine copy of one token beside another token's bundle.
    wheel = _copy(world, world.tokens["steel-wheel-ca"], CopyKind.TOKEN, "cbp.customs")
    mixed = world.client.post("/v1/verify", json={"bundle": bundle, "jwt": wheel}).json()
    assert mixed["decision"] == "reject"
    assert "a copy is signed by the token's key" in _checks(mixed)["jose.signature"][1]
    # A flipped signature bit, sent alone.
    jwt = _copy(world, digest, CopyKind.UNTP)
    head, body, signature = jwt.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x80
    flipped = f"{head}.{body}.{b64(bytes(raw))}"
    checks = _checks(world.client.post("/v1/verify", content=flipped, headers=VC_JWT).json())
    assert checks["jose.signature"][0] == "fail"
    # A view naming a token this ledger does not have.
    genuine["id"] = "urn:tmec:token:" + "0" * 64
    unknown = world.client.post("/v1/verify", content=_signed_payload(world, genuine),
                                headers=VC_JWT).json()
    assert unknown["decision"] == "reject"
    assert _checks(unknown)["jose.token"][0] == "fail"
    token = world.service.ledger.token(digest)
    unsecured = {k: v for k, v in token.items() if k != "proof"}
    unsecured["credentialSubject"] = {**unsecured["credentialSubject"],
                                      "shipmentId": "NEVER-SHIPPED"}
    nowhere = world.client.post("/v1/verify", content=_signed_payload(
        world, unsecured, kid=token["proof"]["verificationMethod"]), headers=VC_JWT).json()
    assert nowhere["decision"] == "reject"
    assert "is logged for this shipment" in _checks(nowhere)["jose.token"][1]


def test_alg_none_and_hmac_with_the_public_key_are_refused(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    jwt = _copy(world, digest, CopyKind.TOKEN)
    _, body, _ = jwt.split(".")
    kid = world.service.ledger.token(digest)["proof"]["verificationMethod"]
    none = f"{b64(json.dumps({'alg': 'none', 'typ': 'vc+jwt', 'kid': kid}).encode())}.{body}."
    hs_head = b64(json.dumps({"alg": "HS256", "typ": "vc+jwt", "kid": kid}).encode())
    mac = hmac.digest(decode_verification_method(kid), f"{hs_head}.{body}".encode(),
                      hashlib.sha256)
    hs256 = f"{hs_head}.{body}.{b64(mac)}"
    for forged, named in ((none, "alg 'none'"), (hs256, "alg 'HS256' is not accepted"),
                          ("not a jws", "three base64url parts")):
        alone = world.client.post("/v1/verify", content=forged, headers=VC_JWT)
        assert alone.status_code == 200
        assert alone.json()["decision"] == "reject"
        assert named in _checks(alone.json())["jose.format"][1]
        beside = world.client.post("/v1/verify", json={
            "bundle": json.loads(world.bundle_bytes(CALIPER)), "jwt": forged}).json()
        assert beside["decision"] == "reject"
        assert named in _checks(beside)["jose.format"][1]
        answer = world.client.post("/credentials/verify", json={
            "verifiableCredential": {**envelope("x"), "id": "data:application/vc+jwt,"
                                     + forged}})
        body_ = problem(answer, 400, "api.vc.not_verified")
        assert body_["verified"] is False
        expected = PARSING_ERROR if forged == "not a jws" else PROOF_VERIFICATION_ERROR
        assert body_["errors"][0]["type"] == expected
        assert named in body_["errors"][0]["detail"]


def test_vc_api_verifies_enveloped_copies_and_names_each_failure(sqlite_world: World
                                                                 ) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    for kind in CopyKind:
        jwt = _copy(world, digest, kind)
        answer = world.client.post("/credentials/verify", json={
            "verifiableCredential": envelope(jwt), "options": {"returnResults": True}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["verified"] is True
        assert answer.json()["results"]["proof"][0]["input"]["header"]["alg"] == "EdDSA"
    jwt = _copy(world, digest, CopyKind.UNTP)
    head, body, signature = jwt.split(".")
    tampered = f"{head}.{b64(base64.urlsafe_b64decode(body + '==')[:-1] + b' }')}." \
               f"{signature}"
    found = problem(world.client.post("/credentials/verify", json={
        "verifiableCredential": envelope(tampered)}), 400, "api.vc.not_verified")
    assert found["errors"][0]["type"] == CRYPTOGRAPHIC_SECURITY_ERROR
    sd_jwt = {**envelope(jwt), "id": "data:application/vc+sd-jwt," + jwt}
    found = problem(world.client.post("/credentials/verify", json={
        "verifiableCredential": sd_jwt}), 400, "api.vc.not_verified")
    assert found["errors"][0]["type"] == PARSING_ERROR
    # Signed by Huron's key for a credential whose issuer is Frenos' did:key.
    token = world.service.ledger.token(digest)
    unsecured = {k: v for k, v in token.items() if k != "proof"}
    huron = _signed_payload(world, unsecured, "huron-powertrain")
    found = problem(world.client.post("/credentials/verify", json={
        "verifiableCredential": envelope(huron)}), 400, "api.vc.not_verified")
    assert found["errors"][0]["type"] == PROOF_VERIFICATION_ERROR
    assert "does not control" in found["errors"][0]["detail"]
    # iss, when present, must be the issuer (VC-JOSE-COSE s.4.1.1).
    mismatched = _signed_payload(world, {**unsecured, "iss": "did:key:z6MkSomeoneElse"})
    found = problem(world.client.post("/credentials/verify", json={
        "verifiableCredential": envelope(mismatched)}), 400, "api.vc.not_verified")
    assert found["errors"][0]["type"] == MALFORMED_VALUE_ERROR


def test_a_revoked_tokens_copy_is_rejected_and_no_new_copy_is_made(sqlite_world: World
                                                                   ) -> None:
    world = sqlite_world
    digest = world.tokens["steel-wheel-ca"]
    jwt = _copy(world, digest, CopyKind.UNTP, "cbp.customs")
    world.service.ledger.revoke_token(digest, signer=None, reason="recalled")
    answer = world.client.post("/v1/verify", content=jwt, headers=VC_JWT).json()
    assert answer["decision"] == "reject"
    checks = _checks(answer)
    assert checks["status.token"][0] == "fail"
    assert checks["jose.payload"][0] == "pass"  # the copy is genuine; the token is revoked
    problem(world.client.get(f"/v1/tokens/{digest}/untp/jwt",
                             headers=world.auth("cbp.customs")), 409,
            "api.jose.token_not_active")


def test_a_key_the_party_keeps_signs_its_own_copies(world: World) -> None:
    """The service signs only with keys it holds and the log says are valid; a party that
    keeps its key signs its copies itself, and they verify the same way."""
    ledger = world.service.ledger
    old = PartyKey.load(world.home / "keys" / "frenos-bajio.json")
    kept = SigningKey(bytes(range(1, 33)))
    ledger.rotate_key(old.key, kept)  # logged; the service holds only the old key
    from cli.files import read_bom

    bom = read_bom(str(EXAMPLES / "brake-caliper-mx.json"))
    certification = old.certification(CertifierRole.PRODUCER, bom.producer,
                                      signed_on=date(2026, 12, 1))
    issued = ledger.issue_token(bom, certification, shipment_id="KEPT-1", key=kept)
    problem(world.client.get(f"/v1/tokens/{issued.digest}/jwt", headers=world.auth(SME)),
            409, "api.jose.key_not_held")
    problem(world.client.get(f"/v1/tokens/{world.tokens[CALIPER]}/jwt",
                             headers=world.auth(SME)), 409, "api.jose.key_not_valid")
    token = ledger.token(issued.digest)
    assert token["proof"]["verificationMethod"] == verification_method_id(kept.public_key)
    with pytest.raises(Exception, match="signed by that same key"):
        sign_copy(CopyKind.TOKEN, token, issued.digest, old.key)
    for kind in CopyKind:
        jwt = sign_copy(kind, token, issued.digest, kept)
        answer = world.client.post("/v1/verify", content=jwt, headers=VC_JWT).json()
        assert answer["decision"] == "clear", answer
        assert answer["tokenDigest"] == issued.digest
    # The party's own JOSE library serializes the same credential its own way (PyJWT: key
    # order as given, not RFC 8785): the copy is judged value for value.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    unsecured = dict(reversed([(k, v) for k, v in token.items() if k != "proof"]))
    kid = verification_method_id(kept.public_key)
    theirs = pyjwt.encode(unsecured, Ed25519PrivateKey.from_private_bytes(kept.seed),
                          algorithm="EdDSA", headers={"typ": "vc+jwt", "kid": kid})
    assert theirs.split(".")[1] != sign_copy(CopyKind.TOKEN, token, issued.digest,
                                             kept).split(".")[1]
    answer = world.client.post("/v1/verify", content=theirs, headers=VC_JWT).json()
    assert answer["decision"] == "clear", answer


def test_tmec_token_jwt_signs_a_copy_offline_that_verifies_offline(sqlite_world: World
                                                                   ) -> None:
    world = sqlite_world
    bundle_path = world.out / "bundles" / f"{CALIPER}.json"
    key_file = world.home / "keys" / "frenos-bajio.json"
    done = run_tmec("token", "jwt", str(bundle_path), "--key", str(key_file), "--view",
                    "untp")
    assert done.exit_code == 0, done.stderr
    jwt = done.stdout.strip()
    assert jwt == _copy(world, world.tokens[CALIPER], CopyKind.UNTP)
    trust = TrustFile.from_json((world.out / "trust.json").read_bytes())
    result = verify_copy(jwt, bundle_path.read_bytes(), trust)
    assert result.decision.value == "clear", result.to_dict()
    wrong = run_tmec("token", "jwt", str(bundle_path), "--key",
                     str(world.home / "keys" / "huron-powertrain.json"))
    assert wrong.exit_code == 3
    assert "signed by that same key" in wrong.stderr
    assert "Traceback" not in wrong.stderr
