"""The app factory: `create_app(settings)` builds the FastAPI app over one ledger.

What every request goes through, outermost first:

1. `BodyLimit` — a body longer than ``TMEC_API_MAX_BODY_BYTES`` is answered 413
   (problem+json) as soon as its ``Content-Length`` says so, or as soon as the bytes read
   pass the limit when it does not: memory stays bounded whatever is sent. (In front of
   it, `ledger.api.qr_fast_path` answers cached QR verifications; behind it,
   `ledger.api.verify_fast_path` verifies plain ``POST /v1/verify`` bundles; both hand
   everything else on.)
2. The route's `ledger.api.access` declaration: public, or the roles that may call it with
   an API key. `create_app` refuses to build an app with an undeclared route. The web
   pages (`ledger.web`, mounted in the same app) declare theirs the same way
   (`ledger.web.access`: signed in with a session cookie instead of a key).
3. `ledger.api.problems`: every error, ours or the framework's, as RFC 9457 problem+json.

Start-up (the lifespan) opens the ledger from the settings, migrating its database, and
starts the checkpointer (`ledger.sequencer.Sequencer`): a checkpoint every
``TMEC_CHECKPOINT_EVERY`` seconds while there are new entries, witnesses asked outside the
writer lock. Several workers may serve one database: state is in the store, and one
checkpoint at a time is signed under the store's writer section.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api.access import declared_access
from ledger.api.context import Service
from ledger.api.problems import BodyTooLarge, install_problem_handlers, problem_response
from ledger.api.qr_fast_path import QrFastPath
from ledger.api.routes import (
    accounts,
    determinations,
    dids,
    export,
    health,
    issue,
    log,
    precheck,
    tokens,
    vc_api,
    verify,
)
from ledger.api.routes.common import FastJSON
from ledger.api.settings import ApiSettings
from ledger.api.verify_fast_path import VerifyFastPath
from ledger.sequencer import Sequencer
from ledger.shared_sequencer import SequencerClient
from ledger.web import pages

__all__ = ["ROUTERS", "UndeclaredRouteError", "api_routes", "create_app"]

logger = logging.getLogger(__name__)

THREADS = 8
"""Request threads per worker (anyio's default is 40)."""

DESCRIPTION = """\
The T-MEC / USMCA / CUSMA origin ledger over HTTP: SMEs qualify a bill of materials and
issue signed origin tokens; brokers get a go / no-go per shipment; customs verify a token
in one call, with the same decision and checks as the offline `tmec verify`; monitors and
witnesses read the log as C2SP tlog-tiles.

Authentication: `Authorization: Bearer KEY` with an API key of an account (a party in a
role). Each route says who may call it; errors are RFC 9457 problem+json with a stable
`code`.
"""


class UndeclaredRouteError(RuntimeError):
    """A route that says neither who may call it nor that it is public."""


class BodyLimit:
    """Refuse request bodies over `maximum` bytes with 413, reading at most that much."""

    def __init__(self, app: ASGIApp, maximum: int) -> None:
        self.app = app
        self.maximum = maximum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.maximum):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.maximum:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:  # pragma: no cover - no route answers before reading its body
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response("api.too_large", f"the request body is larger than "
                                    f"{self.maximum} bytes (TMEC_API_MAX_BODY_BYTES)",
                                    headers={"Connection": "close"})
        await response(scope, receive, send)


ROUTERS = (health.router, verify.router, verify.contexts, tokens.router, tokens.grants_router,
           issue.router, determinations.router, precheck.router, export.router,
           accounts.router, log.router, vc_api.router, dids.router)
"""Every router of the API, in the order they are mounted."""


def api_routes() -> list[APIRoute]:
    """Every route of the API (what the access matrix and the OpenAPI notes walk)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _check_declarations() -> None:
    undeclared = [f"{sorted(r.methods or ())} {r.path}"
                  for r in [*api_routes(), *pages.page_routes()] if declared_access(r) is None]
    if undeclared:
        raise UndeclaredRouteError("routes without an access declaration (allow() or "
                                   f"public(); pages: page() or anyone()): "
                                   f"{', '.join(undeclared)}")


BODY_MODELS = (issue.IssueRequest,)
"""Models of request bodies a route parses itself (JSON or multipart), for OpenAPI."""

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["type", "title", "status", "detail", "code"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                   "status": {"type": "integer"}, "detail": {"type": "string"},
                   "code": {"type": "string"}},
    "description": "RFC 9457 problem details, with the stable error code in `code`.",
}
_PROBLEM_RESPONSE = {"description": "An RFC 9457 problem (any error status)", "content": {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"},
                                 "example": {"type": "urn:tmec:problem:ledger.not_found",
                                             "title": "Not Found", "status": 404,
                                             "detail": "token 3f1c... is not in the ledger",
                                             "code": "ledger.not_found"}}}}


def _describe_access(schema: dict[str, Any]) -> None:
    """Write each route's access declaration and its error responses into OpenAPI.

    FastAPI documents a 422 in its own validation shape; every error of this API is a
    problem document instead, so each operation gets one ``default`` problem response.
    """
    for route in api_routes():
        access = declared_access(route)
        assert access is not None  # _check_declarations ran first
        for method in route.methods or ():
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {path:path} -> {path}
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            text = operation.get("description", "")
            operation["description"] = f"{text}\n\n**Access.** {access.describe()}".strip()
            if not access.public:
                operation["security"] = [{"apiKey": []}]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["default"] = _PROBLEM_RESPONSE


def create_app(settings: ApiSettings | None = None, *, service: Service | None = None,
               checkpointer: bool = True) -> FastAPI:
    """The API over the ledger of `settings` (default: from the environment).

    `service` (tests) is an already-open `Service`, left open at shutdown; without it the
    lifespan opens one and closes it. `checkpointer` False leaves checkpoints to another
    process.
    """
    settings = settings or (service.settings if service else ApiSettings.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Request threads only wait on the database and Ed25519; more of them than a few
        # per core only fight over the GIL.
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        opened = service or Service.open(settings)
        app.state.service = opened
        app.state.accounts = opened.accounts
        # max_wait 0: a batch is whatever arrived while the previous one was being
        # written (group commit with no added latency). Under `tmec serve` with several
        # workers the server's one sequencer process takes the appends and checkpoints
        # (`ledger.shared_sequencer`); otherwise this worker runs its own.
        sequencer: Sequencer | SequencerClient | None = None
        if settings.sequencer is not None:
            sequencer = SequencerClient(settings.sequencer)
        elif checkpointer:
            sequencer = Sequencer(opened.ledger, checkpoint_every=settings.checkpoint_every,
                                  max_wait=0.0)
        opened.sequencer = sequencer
        try:
            yield
        finally:
            opened.sequencer = None
            if sequencer is not None:
                sequencer.close()
            if service is None:
                opened.close()

    app = FastAPI(title="T-MEC origin ledger", version="1", description=DESCRIPTION,
                  lifespan=lifespan, openapi_url="/v1/openapi.json", docs_url="/v1/docs",
                  redoc_url=None, default_response_class=FastJSON)
    install_problem_handlers(app)
    _check_declarations()
    for router in ROUTERS:
        app.include_router(router)
    for router in pages.ROUTERS:  # the web pages, over the same service (ledger.web)
        app.include_router(router)
    # 404 / 405 outside the API's paths: a page (ledger.web.pages)
    pages.install_error_pages(app, [r.path for r in api_routes()] + ["/v1/openapi.json"])
    # Inside the body limit: plain POST /v1/verify bundles skip the framework.
    app.add_middleware(VerifyFastPath)
    app.add_middleware(BodyLimit, maximum=settings.max_body_bytes)
    app.add_middleware(QrFastPath)  # outermost: cached QR answers skip the framework

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            _describe_access(schema)
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemas["Problem"] = PROBLEM_SCHEMA
            for model in BODY_MODELS:  # bodies read by hand, documented by their model
                found = model.model_json_schema(
                    by_alias=True, ref_template="#/components/schemas/{model}")
                schemas.update(found.pop("$defs", {}))
                schemas[model.__name__] = found
            components["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer",
                           "description": "An account's API key (tmec_<id>_<secret>)."}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
