"""Who sees which token: its issuer, the brokers it was given to, customs, auditors."""

from __future__ import annotations

from ledger.bundle import Bundle
from tests.api.conftest import World, problem

CALIPER = "brake-caliper-mx"


def test_the_issuer_reads_its_token_bundle_and_status(world: World) -> None:
    digest = world.tokens[CALIPER]
    me = world.auth("frenos-bajio.producer")
    token = world.client.get(f"/v1/tokens/{digest}", headers=me)
    assert token.status_code == 200
    assert token.json() == world.service.ledger.token(digest)
    bundle = world.client.get(f"/v1/tokens/{digest[:10]}/bundle", headers=me).json()
    assert Bundle.from_dict(bundle).token == token.json()
    assert "disclosures" not in bundle  # no prices travel
    status = world.client.get(f"/v1/tokens/{digest}/status", headers=me).json()
    assert status == world.service.ledger.status(digest).to_dict()
    assert status["token"] == "active"


def test_another_sme_may_not_read_it(world: World) -> None:
    digest = world.tokens[CALIPER]
    other = world.auth("huron-powertrain.producer")
    for tail in ("", "/bundle", "/status"):
        problem(world.client.get(f"/v1/tokens/{digest}{tail}", headers=other), 403,
                "api.forbidden")


def test_customs_auditors_and_the_registrar_read_any_token(sqlite_world: World) -> None:
    digest = sqlite_world.tokens[CALIPER]
    for account in ("cbp.customs", "anam.customs", "norte-audit.auditor",
                    "registrar.registrar"):
        response = sqlite_world.client.get(f"/v1/tokens/{digest}/status",
                                           headers=sqlite_world.auth(account))
        assert response.status_code == 200, account


def test_a_broker_sees_only_the_shipments_it_was_given(sqlite_world: World) -> None:
    world = sqlite_world
    broker = world.auth("laredo-brokers.broker")
    digest = world.tokens[CALIPER]
    assert world.client.get(f"/v1/tokens/{digest}/status", headers=broker).status_code == 200
    # A new broker account was given nothing.
    created = world.client.post("/v1/accounts", headers=world.auth("registrar.registrar"),
                                json={"role": "broker", "party": "bridge-brokers",
                                      "name": "Bridge Brokers"}).json()
    newcomer = {"Authorization": f"Bearer {created['apiKey']}"}
    problem(world.client.get(f"/v1/tokens/{digest}/status", headers=newcomer), 403,
            "api.forbidden")
    # The issuer gives it the shipment; then it sees it, and giving twice changes nothing.
    issuer = world.auth("frenos-bajio.producer")
    given = world.client.post(f"/v1/tokens/{digest}/grants", headers=issuer,
                              json={"party": "bridge-brokers"})
    assert given.status_code == 201
    assert given.json()["granted"] is True
    again = world.client.post(f"/v1/tokens/{digest}/grants", headers=issuer,
                              json={"party": "bridge-brokers"})
    assert again.json()["granted"] is False
    assert world.client.get(f"/v1/tokens/{digest}/status", headers=newcomer).status_code == 200


def test_the_issuer_withdraws_a_grant_and_may_give_it_again(world: World) -> None:
    """Withdrawn: the broker's reads, pre-check and list leave the shipment out from the
    next request; the grant and its withdrawal stay on record; a new grant restores it."""
    broker = world.auth("laredo-brokers.broker")
    issuer = world.auth("frenos-bajio.producer")
    digest = world.tokens[CALIPER]
    path = f"/v1/tokens/{digest}/grants/laredo-brokers"
    problem(world.client.delete(path, headers=world.auth("huron-powertrain.producer")), 403,
            "api.forbidden")
    withdrawn = world.client.delete(path, headers=issuer)
    assert withdrawn.status_code == 200
    assert withdrawn.json() == {"token": digest, "party": "laredo-brokers", "withdrawn": True}
    problem(world.client.get(f"/v1/tokens/{digest}/status", headers=broker), 403,
            "api.forbidden")
    listed = world.client.get("/v1/grants", headers=broker).json()
    assert digest not in {t["tokenDigest"] for t in listed["tokens"]}
    assert len(listed["tokens"]) == len(world.tokens) - 1  # the others stay given
    checked = world.client.post("/v1/precheck", headers=broker,
                                json={"shipments": [{"token": digest}]}).json()
    assert checked["go"] == 0
    assert checked["shipments"][0]["go"] is False
    assert world.client.delete(path, headers=issuer).json()["withdrawn"] is False
    again = world.client.post(f"/v1/tokens/{digest}/grants", headers=issuer,
                              json={"party": "laredo-brokers"})
    assert again.json()["granted"] is True
    assert world.client.get(f"/v1/tokens/{digest}/status", headers=broker).status_code == 200
    with world.service.ledger.store.engine.connect() as db:  # type: ignore[attr-defined]
        changes = db.exec_driver_sql(
            "SELECT change, changed_by FROM api_grant_changes WHERE token_digest = "
            f"'{digest}' ORDER BY change_id").all()
        assert [tuple(c) for c in changes] == [("withdrawn", "frenos-bajio.producer"),
                                               ("granted", "frenos-bajio.producer")]
        assert db.exec_driver_sql("SELECT count(*) FROM api_grants WHERE token_digest = "
                                  f"'{digest}'").scalar() == 1


def test_only_the_issuer_gives_a_token_and_only_to_a_broker(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    problem(world.client.post(f"/v1/tokens/{digest}/grants",
                              headers=world.auth("huron-powertrain.producer"),
                              json={"party": "laredo-brokers"}), 403, "api.forbidden")
    problem(world.client.post(f"/v1/tokens/{digest}/grants",
                              headers=world.auth("frenos-bajio.producer"),
                              json={"party": "norte-audit"}), 422, "api.request_invalid")
    problem(world.client.post(f"/v1/tokens/{digest}/grants",
                              headers=world.auth("frenos-bajio.producer"),
                              json={"party": "laredo-brokers", "extra": 1}), 422,
            "api.request_invalid")


def test_unknown_and_ambiguous_tokens(sqlite_world: World) -> None:
    me = sqlite_world.auth("cbp.customs")
    problem(sqlite_world.client.get("/v1/tokens/" + "0" * 64, headers=me), 404,
            "ledger.not_found")
    problem(sqlite_world.client.get("/v1/tokens/abc", headers=me), 422,
            "ledger.input_invalid")


def test_customs_sees_exactly_the_lines_disclosed_to_it(world: World) -> None:
    import time as clock

    from ledger.verify import TrustFile, verify

    digest = world.tokens[CALIPER]
    issuer = world.auth("frenos-bajio.producer")
    disclosed = world.client.post(f"/v1/tokens/{digest}/disclosures", headers=issuer,
                                  json={"authority": "cbp", "lines": [0, 1, 2]})
    assert disclosed.status_code == 200, disclosed.text
    assert disclosed.json()["new"] == [0, 1, 2]
    cbp = world.client.get(f"/v1/tokens/{digest}/bundle",
                           headers=world.auth("cbp.customs")).json()
    assert sorted(d["line"] for d in cbp["disclosures"]) == [0, 1, 2]
    trust = TrustFile.from_json(world.client.get("/v1/trust").content)
    result = verify(cbp, trust, now=int(clock.time()))
    assert result.decision.value == "clear", result.to_dict()
    assert any(c.name.startswith("disclosure") and c.outcome.value == "pass"
               for c in result.checks)
    # Another authority, the broker and the issuer's own bundle carry no prices.
    for account in ("cbsa.customs", "laredo-brokers.broker", "frenos-bajio.producer"):
        other = world.client.get(f"/v1/tokens/{digest}/bundle",
                                 headers=world.auth(account)).json()
        assert "disclosures" not in other, account


def test_only_the_issuer_discloses_real_lines_to_an_authority(sqlite_world: World) -> None:
    world = sqlite_world
    digest = world.tokens[CALIPER]
    problem(world.client.post(f"/v1/tokens/{digest}/disclosures",
                              headers=world.auth("huron-powertrain.producer"),
                              json={"authority": "cbp", "lines": [0]}), 403, "api.forbidden")
    issuer = world.auth("frenos-bajio.producer")
    problem(world.client.post(f"/v1/tokens/{digest}/disclosures", headers=issuer,
                              json={"authority": "cbp", "lines": [9999]}), 422,
            "api.request_invalid")
    problem(world.client.post(f"/v1/tokens/{digest}/disclosures", headers=issuer,
                              json={"authority": "laredo-brokers", "lines": [0]}), 422,
            "ledger.input_invalid")


def test_an_sme_lists_its_shipments_page_by_page(world: World) -> None:
    issuer = world.auth("frenos-bajio.producer")
    listed = world.client.get("/v1/tokens", headers=issuer).json()
    assert listed["party"] == "frenos-bajio"
    assert [t["tokenDigest"] for t in listed["tokens"]] == [world.tokens[CALIPER]]
    assert listed["tokens"][0]["shipmentId"] == "FBA-PED-26-3807-6001842"
    assert listed["tokens"][0]["status"] == "active"
    assert listed["next"] is None
    # Paging: the wheel maker's one token, a page of one, then nothing after it.
    auditor = world.auth("norte-audit.auditor")
    page = world.client.get("/v1/tokens", headers=auditor,
                            params={"party": "great-lakes-wheel", "limit": 1}).json()
    assert len(page["tokens"]) == 1
    rest = world.client.get("/v1/tokens", headers=auditor, params={
        "party": "great-lakes-wheel", "after": page["next"]}).json()
    assert rest["tokens"] == []
    problem(world.client.get("/v1/tokens", headers=issuer, params={"party": "huron-powertrain"}),
            403, "api.forbidden")
    problem(world.client.get("/v1/tokens", headers=auditor), 422, "api.request_invalid")
    problem(world.client.get("/v1/tokens", headers=world.auth("laredo-brokers.broker")), 403,
            "api.forbidden.role")


def test_the_traceability_view_meets_the_vocabularys_strict_schema(sqlite_world: World
                                                                   ) -> None:
    import json as jsonlib

    import jsonschema_rs

    from tests.conftest import asset

    world = sqlite_world
    schema = jsonlib.loads(asset("traceability", "USMCACertificationOfOrigin.schema.json")
                           .read_text("utf-8"))
    validator = jsonschema_rs.validator_for(schema)
    for name, digest in world.tokens.items():
        view = world.client.get(f"/v1/tokens/{digest}/traceability",
                                headers=world.auth("cbp.customs")).json()
        errors = [e.message for e in validator.iter_errors(view)]
        assert errors == [], (name, errors)
        token = world.service.ledger.token(digest)
        good = view["credentialSubject"]["goods"][0]
        assert good["commodityCode"] == token["credentialSubject"]["good"]["hsCode"]
        assert good["originCriterion"] == token["credentialSubject"]["originCriterion"]
        assert view["id"] == f"urn:tmec:token:{digest}"
        assert view["issuer"]["id"] == token["issuer"]
    wheel = world.client.get(f"/v1/tokens/{world.tokens['steel-wheel-ca']}/traceability",
                             headers=world.auth("cbp.customs")).json()
    token = world.service.ledger.token(world.tokens["steel-wheel-ca"])
    assert (wheel["validFrom"], wheel["validUntil"]) == (token["validFrom"],
                                                         token["validUntil"])
    caliper = world.client.get(f"/v1/tokens/{world.tokens[CALIPER]}/traceability",
                               headers=world.auth("cbp.customs")).json()
    assert caliper["validUntil"][:4] == str(int(caliper["validFrom"][:4]) + 4)
    problem(world.client.get(f"/v1/tokens/{world.tokens[CALIPER]}/traceability"), 401,
            "api.unauthenticated")


def test_a_broker_lists_the_shipments_given_to_it(sqlite_world: World) -> None:
    world = sqlite_world
    broker = world.auth("laredo-brokers.broker")
    listed = world.client.get("/v1/grants", headers=broker).json()
    assert listed["party"] == "laredo-brokers"
    assert {t["tokenDigest"] for t in listed["tokens"]} == set(world.tokens.values())
    assert all(t["status"] == "active" for t in listed["tokens"])
    first = world.client.get("/v1/grants", headers=broker, params={"limit": 2}).json()
    rest = world.client.get("/v1/grants", headers=broker,
                            params={"after": first["next"]}).json()
    assert [t["tokenDigest"] for t in first["tokens"] + rest["tokens"]] == sorted(
        world.tokens.values())
    problem(world.client.get("/v1/grants", headers=world.auth("frenos-bajio.producer")), 403,
            "api.forbidden.role")


def _issue(world: World, shipment: str) -> str:
    import json

    from tests.conftest import ROOT

    document = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    issued = world.client.post("/v1/tokens", headers=world.auth("frenos-bajio.producer"),
                               json={"shipmentId": shipment, "bom": document})
    assert issued.status_code == 201, issued.text
    return str(issued.json()["tokenDigest"])


def test_an_sme_searches_its_shipments(sqlite_world: World, monkeypatch) -> None:
    from ledger.api.routes import tokens as token_routes

    world = sqlite_world
    me = world.auth("frenos-bajio.producer")
    first = world.tokens[CALIPER]  # FBA-PED-26-3807-6001842
    north = _issue(world, "NORTE-2026-0001")
    south = _issue(world, "SUR-2026-0002")
    fixed = _issue(world, "SUR-2026-0002-B")
    assert world.client.post(f"/v1/tokens/{north}/revoke", headers=me,
                             json={"reason": "wrong invoice"}).status_code == 200
    assert world.client.post(f"/v1/tokens/{south}/supersede", headers=me, json={
        "newToken": fixed, "reason": "costs corrected"}).status_code == 200

    def search(**params: object) -> dict:
        response = world.client.get("/v1/tokens", headers=me, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def digests(**params: object) -> list[str]:
        return [t["tokenDigest"] for t in search(**params)["tokens"]]

    assert digests() == [first, north, south, fixed]
    assert digests(q="sur-2026") == [south, fixed]  # part of a shipment id, any case
    assert digests(q="6001842") == [first]
    assert digests(q="8708.30") == [first, north, south, fixed]  # the HS code, dotted
    assert digests(q="9401") == []
    assert digests(q=fixed[:12]) == [fixed]  # a digest prefix
    assert digests(status="revoked") == [north]
    assert digests(status="superseded") == [south]
    assert digests(status="active") == [first, fixed]
    assert digests(q="SUR", status="active") == [fixed]
    line = search(q=south[:16])["tokens"][0]
    assert line["status"] == "superseded"
    assert line["supersededBy"] == fixed
    assert line["hsCode"] == "870830"
    assert line["description"].startswith("Front brake caliper")
    assert line["validFrom"].endswith("Z")
    # A searched page reads a bounded number of tokens; `next` goes on from there.
    monkeypatch.setattr(token_routes, "SCAN_LIMIT", 2)
    page = search(q="SUR")
    assert page["tokens"] == []
    assert page["next"] is not None
    rest = search(q="SUR", after=page["next"])
    assert [t["tokenDigest"] for t in rest["tokens"]] == [south, fixed]
    assert rest["next"] is not None  # two read: maybe more
    assert search(q="SUR", after=rest["next"]) == {"party": "frenos-bajio", "tokens": [],
                                                   "next": None}
    # Paging a search by `limit` as well.
    monkeypatch.setattr(token_routes, "SCAN_LIMIT", 2_000)
    one = search(q="SUR", limit=1)
    assert [t["tokenDigest"] for t in one["tokens"]] == [south]
    assert [t["tokenDigest"] for t in search(q="SUR", after=one["next"])["tokens"]] == [fixed]
    problem(world.client.get("/v1/tokens", headers=me, params={"status": "lost"}), 422,
            "api.request_invalid")
    problem(world.client.get("/v1/tokens", headers=me, params={"q": "x" * 101}), 422,
            "api.request_invalid")
