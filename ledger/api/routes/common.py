"""Small pieces every router uses: the service of the request, media types, JSON answers."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ledger.api.context import Service

__all__ = ["JSON_MEDIA", "FastJSON", "media_type", "service_of"]

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
