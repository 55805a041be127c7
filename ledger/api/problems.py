"""RFC 9457 problem details: every error of the API, in one shape, with a stable code.

The ledger and the origin engine raise errors from their own trees, each with a dotted
`code` (``ledger.not_found``, ``rules.bom_invalid``...). This module is the one place those
codes become HTTP statuses (the CLI has its own table, for exit codes): the longest dotted
prefix that has a status wins, like the CLI's. The body is ``application/problem+json``
(RFC 9457 s.3): ``type`` (a URN built from the code, so it never dangles), ``title``,
``status``, ``detail`` and our extension member ``code``. No handler ever returns a
traceback; an unexpected exception is logged and answered with a generic 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import LedgerError
from origin_rules.errors import OriginRulesError

__all__ = ["PROBLEM_JSON", "STATUS_BY_CODE", "ApiProblem", "BodyTooLarge",
           "install_problem_handlers",
           "problem_response", "status_for"]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MAX_DETAIL = 600

#: Error code (or dotted prefix) -> HTTP status; the longest matching key wins.
STATUS_BY_CODE: Mapping[str, int] = {
    "rules": 422,
    "rules.limit_exceeded": 413,
    "ledger": 409,
    "ledger.encoding_invalid": 422,
    "ledger.input_invalid": 422,
    "ledger.token_invalid": 422,
    "ledger.credential_invalid": 400,  # VC-API's issuer answers 400 for a bad credential
    "ledger.jose_invalid": 422,
    "ledger.hypothetical_rule_set": 422,
    "ledger.bundle_invalid": 422,
    "ledger.policy_invalid": 422,
    "ledger.out_of_range": 422,
    "ledger.not_found": 404,
    "ledger.signature_invalid": 422,
    "ledger.unknown_key": 422,
    "ledger.key_revoked": 409,
    "ledger.conflict": 409,
    "ledger.tampered": 500,
    "ledger.proof_invalid": 422,
    "ledger.checkpoint_inconsistent": 500,
    "ledger.store_unavailable": 503,
    "ledger.limit_exceeded": 413,
    "ledger.not_configured": 503,
    "api.unauthenticated": 401,
    "api.forbidden": 403,
    "api.not_found": 404,
    "api.method_not_allowed": 405,
    "api.request_invalid": 422,
    "api.too_large": 413,
    "api.unsupported_media_type": 415,
    "api.not_ready": 503,
    "api.vc": 400,  # the VC-API routes (ledger.api.routes.vc_api): 400, as the spec says
    "api.jose": 409,  # no JOSE copy can be signed now (the key is the party's, or retired)
    "internal": 500,
}


def status_for(code: str) -> int:
    """HTTP status for an error code, by longest matching dotted prefix (500 if none)."""
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        status = STATUS_BY_CODE.get(".".join(parts[:n]))
        if status is not None:
            return status
    return 500


class ApiProblem(Exception):  # noqa: N818 - it is a problem document, not an "Error"
    """An error of the API layer itself (authentication, access, media types)."""

    def __init__(self, code: str, detail: str, *, headers: Mapping[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions


class BodyTooLarge(Exception):  # noqa: N818 - a signal between BodyLimit's two halves
    """Raised inside a request by the app's body limit when the bytes read pass it; the app
    answers 413 (`ledger.api.app.BodyLimit`), and the pages let it through to it.
    """


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= MAX_DETAIL:
        return flat
    return flat[:MAX_DETAIL - 30] + f"... ({len(flat)} characters)"


def problem_response(code: str, detail: str, *, status: int | None = None,
                     headers: Mapping[str, str] | None = None,
                     **extensions: Any) -> JSONResponse:
    """The problem+json response for `code` (status from `status_for` unless given)."""
    status = status_for(code) if status is None else status
    body = {"type": f"urn:tmec:problem:{code}", "title": HTTPStatus(status).phrase,
            "status": status, "detail": _one_line(detail), "code": code, **extensions}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers=dict(headers or {}))


_HTTP_CODES = {401: "api.unauthenticated", 403: "api.forbidden", 404: "api.not_found",
               405: "api.method_not_allowed", 413: "api.too_large",
               415: "api.unsupported_media_type"}


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    for error in exc.errors()[:20]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        errors.append({"where": where, "message": str(error.get("msg", ""))[:200]})
    first = errors[0] if errors else {"where": "request", "message": "invalid"}
    return f"{first['where']}: {first['message']}", errors


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of `app` with problem+json, never a traceback."""

    @app.exception_handler(ApiProblem)
    async def api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.code, exc.detail, headers=exc.headers, **exc.extensions)

    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        if status_for(exc.code) >= 500:
            log.error("ledger error %s: %s", exc.code, exc)
        return problem_response(exc.code, str(exc))

    @app.exception_handler(OriginRulesError)
    async def rules_error(_: Request, exc: OriginRulesError) -> JSONResponse:
        return problem_response(exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(exc)
        return problem_response("api.request_invalid", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "api.error")
        return problem_response(code, str(exc.detail), status=exc.status_code,
                                headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem_response("internal", "the service failed unexpectedly; the error is "
                                "logged (no detail is given to callers)")
