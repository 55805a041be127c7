"""Liveness and readiness, for load balancers and orchestrators (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ledger.api.access import Caller, public
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of
from ledger.errors import LedgerError

__all__ = ["router"]

router = api_router(tags=["health"])


@router.get("/healthz", summary="The process is up",
            responses={200: {"content": {"application/json": {"example": {"ok": True}}}}})
async def healthz(caller: Caller = public()) -> dict[str, Any]:
    """Always ok while the process answers."""
    del caller
    return {"ok": True}


@router.get("/readyz", summary="The database answers",
            responses={200: {"content": {"application/json": {"example": {
                "ok": True, "size": 42}}}}})
def readyz(request: Request, caller: Caller = public()) -> dict[str, Any]:
    """Ready when the ledger's database answers (503 otherwise)."""
    del caller
    try:
        size = service_of(request).ledger.store.size()
    except LedgerError as exc:
        raise ApiProblem("api.not_ready", f"the ledger is not ready: {exc}") from None
    return {"ok": True, "size": size}
