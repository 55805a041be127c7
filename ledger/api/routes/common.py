"""Small pieces every router uses: the service of the request, media types, JSON answers."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from ledger.api.context import Service
from ledger.store.sql import SqlStore

__all__ = ["JSON_MEDIA", "FastJSON", "PlainRoute", "api_router", "media_type", "run_on_store",
           "service_of"]

T = TypeVar("T")

JSON_MEDIA = ("application/json", "application/ld+json", "application/problem+json")


class PlainRoute(APIRoute):
    """A route whose plain-JSON answer is serialised once, by `FastJSON`.

    FastAPI would infer a response model from a ``-> dict[str, Any]`` annotation and run
    every answer through pydantic validation (or, with no model, `jsonable_encoder`)
    before serialising it: a tenth of a trivial request's time, more on a verification's
    checks. Our answers are our own `to_dict` forms, already plain JSON, and each route
    documents its response in ``responses=``. So no model is inferred, and an answer that
    is not a `Response` already becomes a `FastJSON` with the route's status code; the
    endpoint stays a coroutine or a plain function as it was written (FastAPI runs the
    latter in its thread pool).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], *,
                 response_model: Any = None, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        status = kwargs.get("status_code")
        status_code = status if isinstance(status, int) else 200
        super().__init__(path, _answering(endpoint, status_code),
                         response_model=response_model, **kwargs)


def _answering(endpoint: Callable[..., Any], status_code: int) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def answer_async(*args: Any, **kwargs: Any) -> Any:
            result = await endpoint(*args, **kwargs)
            return result if isinstance(result, Response) else FastJSON(result, status_code)
        return answer_async

    @functools.wraps(endpoint)
    def answer(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        return result if isinstance(result, Response) else FastJSON(result, status_code)
    return answer


def api_router(**kwargs: Any) -> APIRouter:
    """An `APIRouter` of `PlainRoute`s (every router of the API is one)."""
    return APIRouter(route_class=PlainRoute, **kwargs)


class FastJSON(JSONResponse):
    """A JSON response serialised once with the standard library.

    The routes' answers are already plain JSON values (our own `to_dict` forms); FastAPI's
    default walk through `jsonable_encoder` would cost several times the serialisation
    itself on a verification's checks.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Compact UTF-8 JSON (no NaN: none of our values is a float)."""
        return json.dumps(content, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")


async def run_on_store(service: Service, read: Callable[[], T]) -> T:
    """Run one short read of the store from a coroutine.

    SQLite is a local file: a single indexed query (~30 us) costs less than the thread
    hop, so it runs on the event loop. PostgreSQL is a network round trip, which must not
    hold up the loop's other connections: it runs in the thread pool.
    """
    store = service.ledger.store
    if isinstance(store, SqlStore) and store.is_local:
        return read()
    return await run_in_threadpool(read)


def service_of(request: Request) -> Service:
    """The worker's `Service` (built at start-up by the app's lifespan)."""
    service: Service = request.app.state.service
    return service


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
