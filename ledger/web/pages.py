"""Every router of the pages, in the order `ledger.api.app.create_app` mounts them, and the
pages' answer to an address or a method no route takes.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from ledger.web.rendering import PageRoute, error_page
from ledger.web.routes import account, audit, home, precheck, shipments, signin, verify

__all__ = ["ROUTERS", "install_error_pages", "page_routes"]

ROUTERS = (home.router, signin.router, verify.router, precheck.router,
           # web-rest: the SME's shipments, the compliance export, passwords
           shipments.router, audit.router, account.router)


def page_routes() -> list[APIRoute]:
    """Every page route (what the access check and the role x page matrix walk)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


_MESSAGES = {404: "error.http.not_found", 405: "error.http.method"}


def _api_segments(routes: list[BaseRoute]) -> frozenset[str]:
    """The first path segments of the API's routes (``v1``, ``checkpoint``, ``tile``...)."""
    found = set()
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str) and not isinstance(route, PageRoute):
            found.add(path.split("/")[1])
    pages = {r.path.split("/")[1] for r in page_routes()}
    return frozenset(found - pages)


def install_error_pages(app: FastAPI) -> None:
    """Answer an unknown address (404) or method (405) of the pages with a page.

    A request no route takes never reaches a page's own error handling (`PageRoute`),
    so the framework's HTTP errors are sorted here by address: under a segment of the
    API's (``/v1/...``, ``/tile/...``, ``/checkpoint``...) they stay the API's RFC 9457
    problem+json; anywhere else they are a page in the visitor's language, with the same
    status and headers (``Allow`` for a 405). Call it after every router is included.
    """
    api = _api_segments(list(app.routes))
    handler = app.exception_handlers[StarletteHTTPException]

    async def page_or_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        segment = request.url.path.split("/")[1] if request.url.path.count("/") else ""
        if segment in api or exc.status_code not in _MESSAGES:
            answer = handler(request, exc)  # the API's problem+json
            return await answer if inspect.isawaitable(answer) else answer
        response = error_page(request, exc.status_code, _MESSAGES[exc.status_code],
                              {"method": request.method[:10]})
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    app.add_exception_handler(StarletteHTTPException, page_or_problem)
