"""Every page says who may open it, and the app holds every page to its word.

The matrix is generated from the pages' own routes, like tests/api/test_access.py for the
API: each page is opened signed out and signed in with every role (through the real
sign-in form). Signed out, a page that needs an account sends the visitor to sign in
(303); a role the page did not declare gets 403; a declared role gets neither. POSTs carry
the visitor's CSRF token, so what is checked is the role, not the form.
"""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from ledger.api import ApiSettings, create_app
from ledger.api.access import declared_access
from ledger.api.accounts import Role
from ledger.api.app import UndeclaredRouteError
from ledger.config import Settings
from ledger.web import pages as web_pages
from ledger.web.access import anyone
from ledger.web.rendering import PageRoute
from tests.web.conftest import Pages, csrf_of

ACCOUNT_OF_ROLE = {
    Role.PRODUCER: "frenos-bajio.producer", Role.BROKER: "laredo-brokers.broker",
    Role.CUSTOMS: "cbp.customs", Role.AUDITOR: "norte-audit.auditor",
    Role.REGISTRAR: "registrar.registrar",
}


def test_every_page_declares_its_access_and_stays_out_of_the_openapi(pages: Pages) -> None:
    routes = web_pages.page_routes()
    assert len(routes) >= 8
    schema = pages.world.client.get("/v1/openapi.json").json()
    for route in routes:
        assert declared_access(route) is not None, route.path
        assert isinstance(route, PageRoute), route.path
        assert route.path not in schema["paths"]


def test_an_undeclared_page_is_refused_when_the_app_is_built(tmp_path) -> None:
    rogue = APIRouter(route_class=PageRoute)
    rogue.add_api_route("/rogue-page", lambda: None)
    web_pages.ROUTERS = (*web_pages.ROUTERS, rogue)
    try:
        with pytest.raises(UndeclaredRouteError, match="/rogue-page"):
            create_app(ApiSettings(ledger=Settings(tmp_path, "sqlite://", "x")))
    finally:
        web_pages.ROUTERS = web_pages.ROUTERS[:-1]


def test_a_page_may_not_declare_twice() -> None:
    route = APIRoute("/x", lambda a=anyone(), b=anyone(): None)
    assert declared_access(route) is None


def _path(route: APIRoute, pages: Pages) -> str:
    values = {"digest": pages.token("brake-caliper-mx"), "party": "laredo-brokers"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], route.path)


def test_the_role_by_page_matrix(pages: Pages) -> None:
    browsers = {role: pages.signed_in(account) for role, account in ACCOUNT_OF_ROLE.items()}
    checked = 0
    for route in web_pages.page_routes():
        access = declared_access(route)
        assert access is not None
        path = _path(route, pages)
        for method in sorted(route.methods or ()):
            anonymous = pages.visitor()
            form = {"csrf": csrf_of(anonymous.get("/signin").text)} if method == "POST" else {}
            response = anonymous.request(method, path, data=form or None)
            if access.public:
                assert response.status_code not in (401, 403), (method, path)
            else:
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/signin")
            for role, browser in browsers.items():
                data = None
                if method == "POST":
                    data = {"csrf": csrf_of(browser.get("/v").text), "shipments": "abcdef12"}
                if route.path == "/signout":  # keep the browser signed in for the next page
                    continue
                response = browser.request(method, path, data=data)
                if access.public or role in access.roles:
                    assert response.status_code not in (401, 403), (method, path, role)
                    assert not response.headers.get("location", "").startswith("/signin")
                else:
                    assert response.status_code == 403, (method, path, role)
                    assert "text/html" in response.headers["content-type"]
                checked += 1
    assert checked >= 8 * (len(ACCOUNT_OF_ROLE) - 1)


def test_every_role_can_sign_out(pages: Pages) -> None:
    for account in ACCOUNT_OF_ROLE.values():
        browser = pages.signed_in(account)
        page = browser.get("/v")
        assert browser.post("/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
        assert "tmec_session" not in dict(browser.cookies)
