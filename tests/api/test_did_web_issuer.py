"""Origin tokens issued under a party's did:web identity (issue 12).

Through the real app over the demo ledger: the party chooses did:web (``PUT
/v1/identity``, a new row each time), the held-key path signs under it, the offline
`verify()` of the token's bundle binds the DID to the log (host from the trust file,
party from the key statement, fragment = the key), and the JOSE copy, the VC-API verifier
and the views agree. Tokens whose did:web names another party, another host or another key
are refused with the ``token.issuer`` check even when forced into the log; a key rotated
away signs no new token; a token logged before the rotation still verifies from its
bundle while the party's DID document no longer lists its key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from ledger.api import ApiSettings, create_app
from ledger.canonical import canonicalize
from ledger.crypto import SigningKey
from ledger.did_web import party_method
from ledger.installation import PartyKey, certification_from_profile
from ledger.multikey import encode_public_key
from ledger.service import sign_token, utc_now
from ledger.statements import sign_statement
from ledger.store.sql import METADATA
from ledger.token import CertifierRole, token_digest
from ledger.verify import Outcome, TrustFile, Verification, verify
from origin_rules import bom_from_dict
from tests.api.conftest import World, problem
from tests.conftest import ROOT

HOST = "127.0.0.1%3A8000"  # the default TMEC_PUBLIC_URL, http://127.0.0.1:8000
PARTY = "frenos-bajio"
SME = f"{PARTY}.producer"
PARTY_DID = f"did:web:{HOST}:parties:{PARTY}"
EXAMPLES = ROOT / "examples"


def _caliper() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / "brake-caliper-mx.json").read_text(
        "utf-8"))
    return document


def _issue(world: World, shipment: str) -> dict[str, Any]:
    response = world.client.post("/v1/tokens", headers=world.auth(SME),
                                 json={"shipmentId": shipment, "bom": _caliper()})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _trust(world: World) -> TrustFile:
    return TrustFile.from_json(world.client.get("/v1/trust").content)


def _checks(result: Verification) -> dict[str, tuple[Outcome, str]]:
    return {c.name: (c.outcome, c.detail) for c in result.checks}


def _keys_listed(world: World) -> list[str]:
    document = world.client.get(f"/parties/{PARTY}/did.json").json()
    return [m["publicKeyMultibase"] for m in document["verificationMethod"]]


def _choose(world: World, method: str) -> Any:
    return world.client.put("/v1/identity", headers=world.auth(SME), json={"method": method})


def test_a_party_issues_under_did_web_and_verifiers_accept_it(world: World) -> None:
    """SQLite and PostgreSQL: the choice is stored, followed, and checked offline."""
    assert world.client.get("/v1/identity", headers=world.auth(SME)).json() == {
        "party": PARTY, "method": "did:key", "issuer": None}
    chosen = _choose(world, "did:web")
    assert chosen.status_code == 200, chosen.text
    assert chosen.json() == {"party": PARTY, "method": "did:web", "issuer": PARTY_DID}
    trust = _trust(world)
    assert trust.did_web_host == HOST  # what the verifier trusts for this log

    body = _issue(world, "FBA-DIDWEB-1")
    token, digest = body["token"], body["tokenDigest"]
    held = PartyKey.load(world.home / "keys" / f"{PARTY}.json")
    assert token["issuer"] == PARTY_DID
    assert token["proof"]["verificationMethod"] == party_method(PARTY_DID,
                                                                held.key.public_key)
    assert encode_public_key(held.key.public_key) in _keys_listed(world)

    bundle = world.client.get(f"/v1/tokens/{digest}/bundle", headers=world.auth(SME)).json()
    result = verify(bundle, trust)
    assert result.decision == "clear", result.to_dict()
    checks = _checks(result)
    assert checks["token.issuer"][0] is Outcome.PASS
    assert PARTY_DID in checks["token.issuer"][1]
    assert world.client.get(f"/v1/verify/{digest}").json()["decision"] == "clear"

    # The JOSE copy names the same method as kid; the views show the did:web issuer.
    for tail in ("/jwt", "/traceability/jwt", "/untp/jwt"):
        jwt = world.client.get(f"/v1/tokens/{digest}{tail}", headers=world.auth(SME))
        assert jwt.status_code == 200, jwt.text
        alone = world.client.post("/v1/verify", content=jwt.content,
                                  headers={"Content-Type": "application/vc+jwt"}).json()
        assert alone["decision"] == "clear", alone
        outcomes = {c["name"]: c["outcome"] for c in alone["checks"]}
        assert outcomes["jose.signature"] == outcomes["token.issuer"] == "pass"
    trace = world.client.get(f"/v1/tokens/{digest}/traceability", headers=world.auth(SME))
    assert trace.json()["issuer"]["id"] == PARTY_DID
    untp = world.client.get(f"/v1/tokens/{digest}/untp", headers=world.auth(SME)).json()
    assert untp["issuer"]["id"] == PARTY_DID
    vc_api = world.client.post("/credentials/verify", json={"verifiableCredential": token})
    assert vc_api.json()["verified"] is True, vc_api.text

    # Back to did:key: a new row, the old one kept; the next token names its did:key.
    assert _choose(world, "did:key").json()["issuer"] is None
    again = _issue(world, "FBA-DIDWEB-2")["token"]
    assert again["issuer"].startswith("did:key:")
    table = METADATA.tables["api_party_identities"]
    with world.service.ledger.store.engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(sa.select(table.c.method).where(
            table.c.party_id == PARTY).order_by(table.c.choice_id)).scalars().all()
    assert rows == ["did:web", "did:key"]


def test_after_a_rotation_the_old_token_still_verifies_from_its_bundle(
        sqlite_world: World) -> None:
    world = sqlite_world
    assert _choose(world, "did:web").status_code == 200
    first = PartyKey.load(world.home / "keys" / f"{PARTY}.json")
    old = _issue(world, "FBA-DIDWEB-ROT-1")
    old_bundle = world.client.get(f"/v1/tokens/{old['tokenDigest']}/bundle",
                                  headers=world.auth(SME)).json()
    profile = {k: v for k, v in first.party.items() if k != "id"}
    rotated = world.client.post("/v1/signing-keys", headers=world.auth(SME), json=profile)
    assert rotated.status_code == 201, rotated.text
    new_multibase = rotated.json()["kid"].partition("#")[2]
    assert _keys_listed(world) == [new_multibase]  # the old key left the document
    trust = _trust(world)
    assert verify(old_bundle, trust).decision == "clear"
    fresh = world.client.get(f"/v1/tokens/{old['tokenDigest']}/bundle",
                             headers=world.auth(SME)).json()
    assert verify(fresh, trust).decision == "clear"  # the log, not the document, decides
    new = _issue(world, "FBA-DIDWEB-ROT-2")["token"]
    assert new["proof"]["verificationMethod"] == f"{PARTY_DID}#{new_multibase}"

    # A token signed by the rotated key after the rotation is never logged.
    bom = bom_from_dict(_caliper())
    certification = certification_from_profile(first.party, CertifierRole.PRODUCER,
                                               bom.producer, signed_on=utc_now().date())
    late = sign_token(bom, certification, shipment_id="FBA-DIDWEB-ROT-3", key=first.key,
                      created=utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"), issuer=PARTY_DID)
    ((_, records),) = late.disclosures
    refused = world.client.post("/v1/tokens/signed", headers=world.auth(SME), json={
        "token": late.token, "statement": late.statement,
        "disclosureRecords": base64.b64encode(records).decode("ascii")})
    problem(refused, 409, "ledger.key_revoked")


def _forced(world: World, key: SigningKey, party: dict[str, Any], shipment: str,
            issuer: str, signer: SigningKey | None = None) -> dict[str, Any]:
    """A did:web token appended to the log without `Ledger.check_issuer` (as a rogue or
    buggy operator could): only the offline checks stand between it and a verifier."""
    ledger = world.service.ledger
    bom = bom_from_dict(_caliper())
    certification = certification_from_profile(party, CertifierRole.PRODUCER, bom.producer,
                                               signed_on=utc_now().date())
    created = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
    prepared = sign_token(bom, certification, shipment_id=shipment, key=key, created=created,
                          issuer=issuer)
    token = prepared.token
    if signer is not None:  # the token signed by another key, the statement by the party's
        token = sign_token(bom, certification, shipment_id=shipment, key=signer,
                           created=created, issuer=issuer).token
        statement = {k: v for k, v in prepared.statement.items() if k != "signature"}
        statement["tokenDigest"] = token_digest(token)
        signed = sign_statement(statement, key, prepared.statement["signature"]["kid"])
        ledger.append([signed], blobs=[(token_digest(token), canonicalize(token))],
                      disclosures=[(token_digest(token), prepared.disclosures[0][1])])
        digest = token_digest(token)
    else:
        ledger.append([prepared.statement], blobs=prepared.blobs,
                      disclosures=prepared.disclosures)
        digest = prepared.digest
    return world.service.bundle(digest)


def test_a_did_web_issuer_not_bound_to_the_log_is_refused(sqlite_world: World) -> None:
    world = sqlite_world
    held = PartyKey.load(world.home / "keys" / f"{PARTY}.json")
    trust = _trust(world)
    cases = {
        "another party": (f"did:web:{HOST}:parties:huron-powertrain", None,
                          "names party 'huron-powertrain', but the log binds the signing "
                          f"key to party '{PARTY}'"),
        "another host": (f"did:web:evil.example:parties:{PARTY}", None,
                         "host is 'evil.example'; the trust file names '127.0.0.1%3A8000'"),
        "another key": (PARTY_DID, SigningKey.generate(), "fragment names another key"),
    }
    for n, (name, (issuer, signer, reason)) in enumerate(cases.items()):
        bundle = _forced(world, held.key, held.party, f"FBA-FORCED-{n}", issuer, signer)
        result = verify(bundle, trust)
        checks = _checks(result)
        assert result.decision == "reject", name
        assert checks["token.issuer"][0] is Outcome.FAIL, name
        assert reason in checks["token.issuer"][1], (name, checks["token.issuer"])
        if signer is None:  # everything else about the bundle is genuine
            failed = [c for c, (outcome, _) in checks.items() if outcome is Outcome.FAIL]
            assert failed == ["token.issuer"], (name, failed)

    # A genuine did:web bundle under a trust file naming no host, or another one.
    assert _choose(world, "did:web").status_code == 200
    digest = _issue(world, "FBA-GENUINE")["tokenDigest"]
    bundle = world.service.bundle(digest)
    assert verify(bundle, trust).decision == "clear"
    for other, reason in ((replace(trust, did_web_host=None), "names no did:web host"),
                          (replace(trust, did_web_host="ledger.example"),
                           "the trust file names 'ledger.example'")):
        checks = _checks(verify(bundle, other))
        assert checks["token.issuer"][0] is Outcome.FAIL
        assert reason in checks["token.issuer"][1]


def test_the_service_refuses_to_log_a_did_web_token_of_another_party_or_host(
        sqlite_world: World) -> None:
    world = sqlite_world
    held = PartyKey.load(world.home / "keys" / f"{PARTY}.json")
    bom = bom_from_dict(_caliper())
    certification = certification_from_profile(held.party, CertifierRole.PRODUCER,
                                               bom.producer, signed_on=utc_now().date())
    for n, issuer in enumerate((f"did:web:{HOST}:parties:huron-powertrain",
                                f"did:web:evil.example:parties:{PARTY}")):
        prepared = sign_token(bom, certification, shipment_id=f"FBA-SIGNED-{n}",
                              key=held.key, created=utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                              issuer=issuer)
        ((_, records),) = prepared.disclosures
        found = problem(world.client.post("/v1/tokens/signed", headers=world.auth(SME), json={
            "token": prepared.token, "statement": prepared.statement,
            "disclosureRecords": base64.b64encode(records).decode("ascii")}), 422,
            "ledger.token_invalid.issuer")
        assert ("another party" if n == 0 else "another host") in found["detail"]


def test_did_web_needs_a_public_url_at_a_host_root(sqlite_world: World) -> None:
    world = sqlite_world
    settings = world.service.settings
    at_a_path = ApiSettings(ledger=settings.ledger, max_body_bytes=settings.max_body_bytes,
                            checkpoint_every=settings.checkpoint_every,
                            key_encryption_key=settings.key_encryption_key,
                            public_url="http://127.0.0.1:8000/ledger")
    with TestClient(create_app(at_a_path), raise_server_exceptions=False) as client:
        found = problem(client.put("/v1/identity", headers=world.auth(SME),
                                   json={"method": "did:web"}), 422,
                        "ledger.token_invalid.issuer")
        assert "TMEC_PUBLIC_URL" in found["detail"]
        problem(client.put("/v1/identity", headers=world.auth(SME),
                           json={"method": "did:nope"}), 422, "api.request_invalid")
