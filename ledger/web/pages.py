"""Every router of the pages, in the order `ledger.api.app.create_app` mounts them, and the
pages' answer to an address or a method no route takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ledger.web.rendering import error_page
from ledger.web.routes import (
    account,
    audit,
    certificates,
    home,
    precheck,
    register,
    shipments,
    signin,
    verify,
)

__all__ = ["ROUTERS", "install_error_pages", "page_routes"]

ROUTERS = (home.router, signin.router, verify.router, precheck.router,
           register.router, certificates.router,
           shipments.router, audit.router, account.router)


def page_routes() -> list[APIRoute]:
    """Every page route (what the access check and the role x page matrix walk)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


_MESSAGES = {404: "error.http.not_found", 405: "error.http.method"}


def _segments(paths: Iterable[str]) -> frozenset[str]:
    """The first segments of `paths` that no page uses (``v1``, ``checkpoint``, ``tile``)."""
    pages = {r.path.split("/")[1] for r in page_routes()}
    return frozenset({p.split("/")[1] for p in paths if p.startswith("/")} - pages)


def _methods_of(request: Request) -> list[str]:
    """The methods the pages at the request's address take (its ``Allow``).

    Starlette names those of the first route whose path matches; a page has a GET and a
    POST route under one address (``/signin``), so both are collected here.
    """
    methods: set[str] = set()
    for route in page_routes():
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


def install_error_pages(app: FastAPI, api_paths: Iterable[str]) -> None:
    """Answer an unknown address (404) or method (405) of the pages with a page.

    A request no route takes never reaches a page's own error handling (`PageRoute`),
    so the framework's HTTP errors are sorted here by address: under a segment of the
    API's (``/v1/...``, ``/tile/...``, ``/checkpoint``...) they stay the API's RFC 9457
    problem+json; anywhere else they are a page in the visitor's language, with the same
    status and headers (``Allow`` for a 405). `api_paths` are the API's routes' paths
    (with the OpenAPI document's and the docs'); call it once the handlers are installed.
    """
    api = _segments(api_paths)
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
        if exc.status_code == 405:  # every method of the address, not the first route's
            response.headers["Allow"] = ", ".join(_methods_of(request))
        return response

    app.add_exception_handler(StarletteHTTPException, page_or_problem)
