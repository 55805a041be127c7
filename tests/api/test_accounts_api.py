"""Accounts and API keys: shown once, stored hashed, revocable, checked on every request."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.api.accounts import hash_api_key
from tests.api.conftest import World, problem

REGISTRAR = "registrar.registrar"


def test_the_registrar_admits_a_party_whose_key_then_works(world: World) -> None:
    created = world.client.post("/v1/accounts", headers=world.auth(REGISTRAR), json={
        "role": "importer", "party": "detroit-imports", "name": "Detroit Imports LLC"})
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["apiKey"]
    assert key.startswith(f"tmec_{body['keyId']}_")
    me = world.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["accountId"] == "detroit-imports.importer"
    assert me["role"] == "importer"
    listed = world.client.get("/v1/accounts", headers=world.auth(REGISTRAR)).json()
    assert "detroit-imports.importer" in [a["accountId"] for a in listed["accounts"]]
    problem(world.client.post("/v1/accounts", headers=world.auth(REGISTRAR), json={
        "role": "importer", "party": "detroit-imports", "name": "Again"}), 409,
        "ledger.conflict")


def test_keys_are_stored_as_hashes_only(world: World) -> None:
    engine = world.service.ledger.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM api_keys")).all()
    stored = repr(rows)
    for key in world.keys.values():
        assert key not in stored
        assert key[len("tmec_") + 13:] not in stored  # the secret part
    hashes = {bytes(row.key_hash) for row in rows}
    assert {hash_api_key(k) for k in world.keys.values()} <= hashes
    listing = world.client.get("/v1/accounts/frenos-bajio.producer/keys",
                               headers=world.auth("frenos-bajio.producer")).json()
    assert set(listing["keys"][0]) == {"keyId", "accountId", "label", "createdAt",
                                       "revokedAt"}


def test_a_revoked_key_is_refused_from_the_next_request(world: World) -> None:
    auth = world.auth("frenos-bajio.producer")
    extra = world.client.post("/v1/accounts/frenos-bajio.producer/keys", headers=auth,
                              json={"label": "ERP job"}).json()
    extra_auth = {"Authorization": f"Bearer {extra['apiKey']}"}
    assert world.client.get("/v1/me", headers=extra_auth).status_code == 200
    revoked = world.client.post(f"/v1/keys/{extra['keyId']}/revoke", headers=auth,
                                json={"reason": "job retired"})
    assert revoked.status_code == 200, revoked.text
    problem(world.client.get("/v1/me", headers=extra_auth), 401, "api.unauthenticated")
    assert world.client.get("/v1/me", headers=auth).status_code == 200
    problem(world.client.post(f"/v1/keys/{extra['keyId']}/revoke", headers=auth,
                              json={"reason": "again"}), 409, "ledger.conflict")


def test_an_account_manages_only_its_own_keys(sqlite_world: World) -> None:
    world = sqlite_world
    other = world.auth("huron-powertrain.producer")
    problem(world.client.post("/v1/accounts/frenos-bajio.producer/keys", headers=other,
                              json={}), 403, "api.forbidden")
    problem(world.client.get("/v1/accounts/frenos-bajio.producer/keys", headers=other),
            403, "api.forbidden")
    mine = world.client.get("/v1/accounts/frenos-bajio.producer/keys",
                            headers=world.auth("frenos-bajio.producer")).json()
    key_id = mine["keys"][0]["keyId"]
    problem(world.client.post(f"/v1/keys/{key_id}/revoke", headers=other,
                              json={"reason": "mischief"}), 403, "api.forbidden")
    problem(world.client.post("/v1/keys/ffffffffffff/revoke", headers=other,
                              json={"reason": "x"}), 404, "ledger.not_found")


def test_account_input_is_checked(sqlite_world: World) -> None:
    auth = sqlite_world.auth(REGISTRAR)
    for body in ({"role": "pirate", "party": "x", "name": "X"},
                 {"role": "broker", "party": "../etc", "name": "X"},
                 {"role": "customs", "party": "interpol", "name": "X"},
                 {"role": "broker", "party": "ok", "name": "\x1b[2J"}):
        response = sqlite_world.client.post("/v1/accounts", headers=auth, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_malformed_authorization_headers(sqlite_world: World) -> None:
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer tmec_" + "0" * 12 + "_" + "x" * 43,
                   "token abc"):
        problem(sqlite_world.client.get("/v1/me", headers={"Authorization": header}), 401,
                "api.unauthenticated")
