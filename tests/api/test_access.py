"""Every route says who may call it, and the app holds every route to its word.

The matrix is generated from the app's own routes: each route is called by the public (no
key), by an unknown key, and by a key of every role. A role the route did not declare gets
403 ``api.forbidden.role``; the public gets 401 on a route that needs a key; a declared role
never gets either. A route that declares nothing cannot exist: `create_app` refuses it.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from ledger.api import ApiSettings, create_app
from ledger.api.access import declared_access, public
from ledger.api.accounts import Role
from ledger.api.app import UndeclaredRouteError, api_routes
from ledger.config import Settings
from tests.api.conftest import World, problem

ACCOUNT_OF_ROLE = {
    Role.PRODUCER: "frenos-bajio.producer", Role.BROKER: "laredo-brokers.broker",
    Role.CUSTOMS: "cbp.customs", Role.AUDITOR: "norte-audit.auditor",
    Role.REGISTRAR: "registrar.registrar",
}


def _routes(world: World) -> list[APIRoute]:
    del world
    return api_routes()


def _path(route: APIRoute, world: World) -> str:
    values = {"digest": world.tokens["brake-caliper-mx"], "account_id": "registrar.registrar",
              "key_id": "000000000000", "path": "0/000.p/1", "party": "frenos-bajio",
              "number": "0"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], route.path)


def test_every_route_declares_its_access(sqlite_world: World) -> None:
    routes = _routes(sqlite_world)
    assert len(routes) >= 17
    for route in routes:
        assert declared_access(route) is not None, route.path


def test_an_undeclared_route_is_refused_when_the_app_is_built(tmp_path) -> None:
    def rogue_route() -> dict[str, str]:
        return {}

    from ledger.api.routes import health
    health.router.add_api_route("/v1/rogue", rogue_route)
    try:
        with pytest.raises(UndeclaredRouteError, match="/v1/rogue"):
            create_app(ApiSettings(ledger=Settings(tmp_path, "sqlite://", "x")))
    finally:
        health.router.routes[:] = [r for r in health.router.routes
                                   if getattr(r, "path", "") != "/v1/rogue"]


def test_a_route_may_not_declare_twice() -> None:
    route = APIRoute("/x", lambda a=public(), b=public(): None)
    assert declared_access(route) is None


def test_the_role_by_route_matrix(sqlite_world: World) -> None:
    world = sqlite_world
    checked = 0
    for route in _routes(world):
        access = declared_access(route)
        assert access is not None
        path = _path(route, world)
        for method in sorted(route.methods or ()):
            send = {"json": {}} if method == "POST" else {}
            anonymous = world.client.request(method, path, **send)
            if access.public:
                assert anonymous.status_code not in (401, 403), (method, path, anonymous.text)
            else:
                problem(anonymous, 401, "api.unauthenticated")
                assert anonymous.headers["www-authenticate"].startswith("Bearer")
            bogus = world.client.request(method, path, **send,
                                         headers={"Authorization": "Bearer tmec_nope"})
            problem(bogus, 401, "api.unauthenticated")
            for role, account in ACCOUNT_OF_ROLE.items():
                response = world.client.request(method, path, **send,
                                                headers=world.auth(account))
                if access.public or role in access.roles:
                    assert response.status_code != 401, (method, path, role)
                    if response.status_code == 403:  # refused on the object, not the role
                        assert response.json()["code"] == "api.forbidden", (method, path, role)
                else:
                    body = problem(response, 403, "api.forbidden.role")
                    assert set(body["allowedRoles"]) == {r.value for r in access.roles}
                checked += 1
    assert checked >= 17 * len(ACCOUNT_OF_ROLE)


def test_openapi_documents_each_routes_access_and_examples(sqlite_world: World) -> None:
    schema = sqlite_world.client.get("/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert "**Access.**" in operation["description"], (method, path)
            body = operation.get("requestBody")
            if body is not None:
                for media, content in body["content"].items():
                    if media.startswith("application/json"):
                        has_example = "example" in content or "examples" in content or \
                            "examples" in str(schema["components"]["schemas"].get(
                                content.get("schema", {}).get("$ref", "").split("/")[-1], {}))
                        assert has_example, (method, path)
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            assert ok is not None, (method, path)
            assert any("example" in c for c in ok.get("content", {}).values()), (method, path)
