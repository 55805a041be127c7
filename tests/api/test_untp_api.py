"""The UNTP Digital Conformity Credential view of a token, against UNTP's own JSON Schema.

``GET /v1/tokens/{digest}/untp`` for every demo token validates against the DCC schema of
the same version (``tests/assets/untp``, UNTP 0.6.1, copied from uncefact/spec-untp); its
figures are the token's, exactly; our context (``/ns/origin-dcc/v1``) defines every term the
view adds to UNTP's, each protected, with no ``@vocab``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs

from ledger.untp import ORIGIN_DCC_CONTEXT_PATH, UNTP_DCC_CONTEXT, UNTP_DCC_VERSION
from tests.api.conftest import World, problem
from tests.conftest import asset

CALIPER = "brake-caliper-mx"
SCHEMA = json.loads(asset("untp", f"untp-dcc-schema-{UNTP_DCC_VERSION}.json")
                    .read_text("utf-8"))


def _view(world: World, digest: str, account: str = "cbp.customs") -> dict[str, Any]:
    response = world.client.get(f"/v1/tokens/{digest}/untp", headers=world.auth(account))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    view: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
    return view


def _schema_terms(node: Any) -> set[str]:
    """Every property name UNTP's schema declares anywhere (the terms of its vocabulary)."""
    found: set[str] = set()
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            found |= set(properties)
        for value in node.values():
            found |= _schema_terms(value)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_terms(value)
    return found


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_view_of_every_token_meets_untps_schema(sqlite_world: World) -> None:
    world = sqlite_world
    validator = jsonschema_rs.validator_for(SCHEMA, validate_formats=True)
    assert SCHEMA["properties"]["@context"]["prefixItems"][1]["const"] == UNTP_DCC_CONTEXT
    for name, digest in world.tokens.items():
        response = world.client.get(f"/v1/tokens/{digest}/untp",
                                    headers=world.auth("cbp.customs"))
        errors = [f"{e.instance_path}: {e.message}"
                  for e in validator.iter_errors(json.loads(response.content))]
        assert errors == [], (name, errors)


def test_the_view_says_what_the_token_says(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    token = world.service.ledger.token(digest)
    subject = token["credentialSubject"]
    determination = subject["determination"]
    view = _view(world, digest, "frenos-bajio.producer")
    assert view["id"] == f"urn:tmec:token:{digest}"
    assert view["issuer"]["id"] == token["issuer"]
    attestation = view["credentialSubject"]
    assert (attestation["assessorLevel"], attestation["attestationType"]) == ("Self",
                                                                              "declaration")
    assert attestation["auditableEvidence"]["hashDigest"] == digest
    (assessment,) = attestation["assessment"]
    regulation = assessment["referenceRegulation"]
    assert "Chapter 4" in regulation["name"]
    assert "Annex 4-B" in regulation["name"]
    assert determination["ruleSet"] == "usmca/2020-07-01"
    assert regulation["effectiveDate"] == "2020-07-01"  # the rule set's valid_from
    assert assessment["assessmentDate"] == determination["asOf"]
    assert assessment["conformance"] is True
    assert assessment["originCriterion"] == subject["originCriterion"] == "B"
    thresholds = [c["thresholdValue"]["metricValue"] for c in assessment["assessmentCriteria"]
                  if "thresholdValue" in c]
    declared = [m["metricValue"] for m in assessment["declaredValue"]]
    # Known answer (README, brake caliper, Table B, 2026): NC 73.509453 % against 70,
    # TV 79.075286 % against 80 -- as exact numbers, never binary-rounded.
    assert [t["value"] for t in thresholds] == [Decimal("70"), Decimal("80")]
    assert [d["value"] for d in declared] == [Decimal("73.509453"), Decimal("79.075286")]
    assert {t["unit"] for t in thresholds + declared} == {"P1"}
    assert [m["score"] for m in assessment["declaredValue"]] == ["pass", "fail"]
    assert [r["rvc"] for r in determination["results"]] == ["73.509453", "79.075286"]
    (checked,) = assessment["assessedProduct"]
    assert checked["product"]["hsCode"] == subject["good"]["hsCode"] == "870830"
    assert checked["product"]["name"] == subject["good"]["description"]
    problem(world.client.get(f"/v1/tokens/{digest}/untp"), 401, "api.unauthenticated")
    problem(world.client.get(f"/v1/tokens/{digest}/untp",
                             headers=world.auth("huron-powertrain.producer")), 403,
            "api.forbidden")


def test_our_context_defines_every_term_the_view_adds_and_has_no_vocab(sqlite_world: World
                                                                        ) -> None:
    world = sqlite_world
    view = _view(world, world.tokens[CALIPER])
    url = view["@context"][2]
    assert urlsplit(url).path == ORIGIN_DCC_CONTEXT_PATH
    response = world.client.get(ORIGIN_DCC_CONTEXT_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert set(document) == {"@context"}
    context = document["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True
    assert "@vocab" not in json.dumps(document)  # nowhere, not even in a scoped context
    terms = {k: v for k, v in context.items() if not k.startswith("@")}
    for term, definition in terms.items():  # every term defined, by an absolute IRI
        assert isinstance(definition, dict), term
        assert urlsplit(definition["@id"]).scheme == "https", term
    untp = _schema_terms(SCHEMA)
    assert not set(terms) & untp  # no term of ours redefines one of UNTP's
    vc_terms = {"@context", "id", "type", "issuer", "validFrom", "validUntil",
                "credentialSubject", "credentialStatus", "name", "description",
                "statusPurpose", "statusListIndex", "statusListCredential"}
    used = _keys(view)
    assert used - untp - vc_terms == set(terms)  # each added term is ours, and each is used
    token_context = world.client.get("/ns/origin-token/v1").json()["@context"]
    for term, definition in terms.items():  # the same concepts as the token's terms
        assert token_context[term]["@id"] == definition["@id"]


def test_a_token_issued_over_the_api_keeps_its_status_entry_in_the_view(sqlite_world: World
                                                                         ) -> None:
    """API-issued tokens name a Bitstring Status List entry (UNTP: status lists MUST); the
    view carries the same entry, so the JOSE copy of the view shows the revocation."""
    from ledger.enveloped import envelope
    from tests.ledger.world import EXAMPLES

    world = sqlite_world
    bom = json.loads((EXAMPLES / "brake-caliper-mx.json").read_text("utf-8"))
    issued = world.client.post("/v1/tokens", headers=world.auth("frenos-bajio.producer"),
                               json={"shipmentId": "UNTP-STATUS-1", "bom": bom})
    assert issued.status_code == 201, issued.text
    digest = issued.json()["tokenDigest"]
    view = _view(world, digest)
    token = world.service.ledger.token(digest)
    assert view["credentialStatus"] == token["credentialStatus"]
    validator = jsonschema_rs.validator_for(SCHEMA, validate_formats=True)
    assert validator.is_valid(json.loads(world.client.get(
        f"/v1/tokens/{digest}/untp", headers=world.auth("cbp.customs")).content))
    jwt = world.client.get(f"/v1/tokens/{digest}/untp/jwt",
                           headers=world.auth("cbp.customs")).text
    before = world.client.post("/credentials/verify",
                               json={"verifiableCredential": envelope(jwt)}).json()
    assert before["verified"] is True
    assert before["warnings"] == []
    world.service.ledger.revoke_token(digest, signer=None, reason="recalled")
    after = world.client.post("/credentials/verify",
                              json={"verifiableCredential": envelope(jwt)}).json()
    assert after["verified"] is True  # VC-API: a revoked credential is a warning
    assert [w["title"] for w in after["warnings"]] == ["STATUS_VERIFICATION_ERROR"]
