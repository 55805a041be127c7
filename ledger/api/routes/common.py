"""Small pieces every router uses: the service of the request, JSON bodies read strictly."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ledger.api.context import Service
from ledger.api.problems import ApiProblem
from ledger.canonical import parse_json
from ledger.errors import LedgerError

__all__ = ["JSON_MEDIA", "FastJSON", "json_body", "media_type", "service_of"]

JSON_MEDIA = ("application/json", "application/ld+json", "application/problem+json")


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


def service_of(request: Request) -> Service:
    """The worker's `Service` (built at start-up by the app's lifespan)."""
    service: Service = request.app.state.service
    return service


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def json_body(request: Request, what: str) -> Any:
    """The body as JSON, read by the ledger's strict parser (depth, duplicates, numbers)."""
    if media_type(request) not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type",
                         f"{what} must be sent as application/json")
    data = await request.body()
    try:
        return parse_json(data)
    except LedgerError as exc:
        raise ApiProblem("api.request_invalid", f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiProblem("api.request_invalid", f"{what} is nested too deeply") from None
