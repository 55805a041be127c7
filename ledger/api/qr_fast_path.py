"""The QR code's route answered from its cache before the framework runs.

``GET /v1/verify/{digest}`` is what the QR code on every certificate opens, so it is the
route an officer's phone, a broker's script and a border system hit again and again for
the same tokens. Its answer is cached per worker while the log's standing watermark holds
(`ledger.api.context.VerifiedCache`); a cached answer needs one short query and a lookup.
Going through FastAPI's routing, dependency solving and middleware for that costs several
times the work itself, so this ASGI layer, in front of the app, answers exactly the cached
case: a public route asked without a key (a request with an ``Authorization`` header goes
to the app, which checks the key), nothing personal in the answer, a full
64-hex digest, no query string (``?at=`` goes to the app), a cached verification still
valid at the watermark just read. Anything else, and any failure reading the watermark,
goes on to the app unchanged, which answers as it always does (and fills the cache).

The answer is byte for byte what the route itself sends from the cache (the same
`Verified.public_answer`); the suite checks both paths give the same body.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.errors import LedgerError
from ledger.store.sql import SqlStore

__all__ = ["QrFastPath", "has_authorization"]

_PATH = re.compile(r"/v1/verify/([0-9a-f]{64})")
_HEADERS = [(b"content-type", b"application/json")]


def has_authorization(scope: Scope) -> bool:
    """A request that sends a key goes to the app, which checks it (a bad key is a 401
    on public routes too, `ledger.api.access`).
    """
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))


class QrFastPath:
    """ASGI middleware: cached ``GET /v1/verify/{digest}`` answers, nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached QR verification; hand everything else to the app."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get(
                "query_string") and not has_authorization(scope):
            match = _PATH.fullmatch(scope["path"])
            if match is not None:
                body = self._cached(scope, match[1])
                if body is not None:
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [*_HEADERS,
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _cached(scope: Scope, digest: str) -> bytes | None:
        app = scope.get("app")
        service = getattr(getattr(app, "state", None), "service", None)
        if service is None:
            return None
        store = service.ledger.store
        if not (isinstance(store, SqlStore) and store.is_local):
            return None  # a network round trip: the app runs it off the event loop
        try:
            watermark = store.standing_watermark()
        except LedgerError:
            return None  # the app answers, with its problem+json
        found = service.cached_verification(digest, watermark)
        return None if found is None else bytes(found.public_answer)
