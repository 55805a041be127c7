"""A broker's go / no-go per shipment, with reasons it can act on."""

from __future__ import annotations

import json

from ledger.api.routes.precheck import MAX_SHIPMENTS
from tests.api.conftest import World, problem

BROKER = "laredo-brokers.broker"


def _check(world: World, shipments: list[dict[str, object]], tolerance: str = "0"
           ) -> dict[str, object]:
    response = world.client.post("/v1/precheck", headers=world.auth(BROKER),
                                 json={"shipments": shipments, "tolerance": tolerance})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_demo_shipment_is_go(world: World) -> None:
    result = _check(world, [{"token": d} for d in world.tokens.values()])
    assert result["go"] == 4
    assert result["noGo"] == 0
    for shipment in result["shipments"]:  # type: ignore[attr-defined]
        assert shipment["go"] is True
        assert shipment["reasons"] == []
        assert shipment["decision"] == "clear"


def test_a_tight_margin_is_no_go_under_the_brokers_tolerance(sqlite_world: World) -> None:
    caliper = sqlite_world.tokens["brake-caliper-mx"]  # net cost 73.51 % against 70 %
    assert _check(sqlite_world, [{"token": caliper}], "3")["go"] == 1
    tight = _check(sqlite_world, [{"token": caliper}], "4")["shipments"][0]  # type: ignore[index]
    assert tight["go"] is False
    assert [r["reason"] for r in tight["reasons"]] == ["margin"]
    assert "3.509453" in tight["reasons"][0]["detail"]


def test_a_revoked_token_and_revoked_evidence_are_no_go(world: World) -> None:
    lash = world.tokens["lash-adjusters-us"]
    head = world.tokens["cylinder-head-us"]
    world.service.ledger.revoke_token(lash, signer=None, reason="supplier withdrew it")
    result = _check(world, [{"token": lash}, {"token": head}])
    lash_result, head_result = result["shipments"]  # type: ignore[misc]
    assert lash_result["go"] is False
    assert "status" in [r["reason"] for r in lash_result["reasons"]]
    assert head_result["go"] is False
    assert "evidence" in [r["reason"] for r in head_result["reasons"]]


def test_a_tampered_bundle_pasted_in_is_no_go(sqlite_world: World) -> None:
    bundle = json.loads(sqlite_world.bundle_bytes("steel-wheel-ca"))
    good = _check(sqlite_world, [{"bundle": bundle}])
    assert good["go"] == 1
    bundle["token"]["credentialSubject"]["good"]["hsCode"] = "870899"
    shipment = _check(sqlite_world, [{"bundle": bundle}])["shipments"][0]  # type: ignore[index]
    assert shipment["go"] is False
    assert shipment["decision"] == "reject"
    assert any(r["reason"].startswith("check:") for r in shipment["reasons"])


def test_shipments_not_given_to_the_broker_are_no_go_without_detail(sqlite_world: World
                                                                    ) -> None:
    world = sqlite_world
    created = world.client.post("/v1/accounts", headers=world.auth("registrar.registrar"),
                                json={"role": "broker", "party": "other-brokers",
                                      "name": "Other"}).json()
    response = world.client.post("/v1/precheck",
                                 headers={"Authorization": f"Bearer {created['apiKey']}"},
                                 json={"shipments": [{"token": world.tokens["steel-wheel-ca"]}]})
    shipment = response.json()["shipments"][0]
    assert shipment["go"] is False
    assert [r["reason"] for r in shipment["reasons"]] == ["access"]
    assert shipment["decision"] is None


def test_bad_requests(sqlite_world: World) -> None:
    world = sqlite_world
    auth = world.auth(BROKER)
    for body in ({"shipments": []}, {"shipments": [{"token": "x"}], "tolerance": "lots"},
                 {"shipments": [{"token": "x"}], "tolerance": "101"},
                 {"shipments": [{"token": "ab"}] * (MAX_SHIPMENTS + 1)},
                 {"shipments": [{"tokn": "ab"}]}):
        problem(world.client.post("/v1/precheck", headers=auth, json=body), 422,
                "api.request_invalid")
    both = _check(world, [{"token": "abcdefab", "bundle": {}}, {}])
    assert [s["reasons"][0]["reason"] for s in both["shipments"]] == ["request", "request"]  # type: ignore[attr-defined]
