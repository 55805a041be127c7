"""``POST /v1/verify`` of a plain bundle answered before the framework runs.

A customs verification is CPU only: the offline `ledger.verify.verify` of the bytes sent,
under the service's trust file, no database. FastAPI's routing, dependency solving (the
``at`` query and the access declaration) and its exception middleware cost about a
quarter of such a request on top of the verification itself (issue 8: 1,500 requests/s
on two workers leaves ~1.3 ms of CPU per request). So this ASGI layer, inside the body
limit (`ledger.api.app.BodyLimit` still counts every byte), answers exactly the common
case: ``POST /v1/verify`` with a JSON media type, no query string (``?at=`` goes to the
app), no ``Authorization`` header (a key, if sent, is checked by the app, as on every
public route), and a body that is a bundle, not a ``{"bundle", "jwt"}`` pair (JOSE copies
go to the app). The answer is what the route returns for the same body: the same
`verify` call, the same `FastJSON` rendering.

Anything else, and any exception while answering, goes to the app with the body already
read, replayed as it came, and the app answers as it always does (its problem+json for
errors included).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api.qr_fast_path import has_authorization
from ledger.api.routes.common import JSON_MEDIA, FastJSON

__all__ = ["VerifyFastPath"]

_PATH = "/v1/verify"


def _json_media(scope: Scope) -> bool:
    """The request's media type is JSON, read as `ledger.api.routes.common.media_type`
    reads it (the first ``Content-Type`` header, parameters dropped, lower case).
    """
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return kind in JSON_MEDIA
    return False


def _replay(body: bytes) -> Receive:
    """A `receive` that gives the app the body already read, then waits as uvicorn's does
    (a disconnect once the body has been read).
    """
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class VerifyFastPath:
    """ASGI middleware: plain ``POST /v1/verify`` bundles verified without the framework."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify a plain bundle; hand everything else to the app."""
        if not (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] == _PATH and not scope.get("query_string")
                and not has_authorization(scope) and _json_media(scope)):
            await self.app(scope, receive, send)
            return
        app = scope.get("app")
        service = getattr(getattr(app, "state", None), "service", None)
        if service is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()  # BodyLimit's receive: 413 past the limit
            if message["type"] != "http.request":
                return  # the client went away before sending its bundle
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        response: FastJSON | None = None
        # A bundle never has a "jwt" member: the text test is the route's own.
        if b'"jwt"' not in body:
            try:
                response = FastJSON(service.verify(body).to_dict())
            except Exception:  # the app answers, with its problem+json
                response = None
        if response is None:
            await self.app(scope, _replay(body), send)
            return
        await response(scope, _replay(body), send)
