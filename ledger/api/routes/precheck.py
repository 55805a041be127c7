"""Broker pre-check: go / no-go per shipment before the truck reaches the bridge.

For each shipment, given as a token digest (one given to the broker) or as a full bundle:
the offline verification under the service's trust file, the token's standing in the log,
the RVC margin of the best passing method against the broker's tolerance, and the supplier
evidence. A shipment is *go* only when every one of those is fine; otherwise each reason is
listed, in words a broker can act on. Nothing about prices is shown: the margin is in
percentage points, not money.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.api.access import Caller, allow
from ledger.api.accounts import SMES, Role
from ledger.api.context import Service
from ledger.api.routes.common import api_router, service_of
from ledger.errors import LedgerError
from ledger.verify import Decision, Outcome, Verification

__all__ = ["MAX_SHIPMENTS", "PrecheckRequest", "Shipment", "check_shipments", "router"]

router = api_router(prefix="/v1", tags=["broker pre-check"])

MAX_SHIPMENTS = 200


class Shipment(BaseModel):
    """One shipment: a token digest (or unique prefix) or a bundle, not both."""

    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(None, max_length=64, description="Token digest or prefix.")
    bundle: dict[str, Any] | None = Field(None, description="A tmec-bundle/1 document.")


class PrecheckRequest(BaseModel):
    """The shipments to check and the RVC margin the broker wants above each threshold."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"shipments": [{"token": "3f1c9a0b"}], "tolerance": "2"}]})
    shipments: list[Shipment] = Field(min_length=1, max_length=MAX_SHIPMENTS)
    tolerance: str = Field("0", description="Percentage points of RVC above the threshold "
                           "below which a shipment is no-go (decimal text).")

    @field_validator("tolerance")
    @classmethod
    def _decimal(cls, value: str) -> str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("tolerance must be a decimal number, e.g. \"2.5\"") from None
        if not number.is_finite() or not 0 <= number <= 100:
            raise ValueError("tolerance must be between 0 and 100 percentage points")
        return value


def _margin(token: dict[str, Any]) -> Decimal | None:
    """The best RVC margin (rvc - threshold, percentage points) among passing methods."""
    determination = token.get("credentialSubject", {}).get("determination", {})
    margins = []
    for result in determination.get("results", []):
        try:
            if result.get("pass") is True:
                margins.append(Decimal(str(result["rvc"])) - Decimal(str(result["threshold"])))
        except (InvalidOperation, KeyError, TypeError):
            continue
    return max(margins) if margins else None


def _status_reasons(status: dict[str, Any]) -> list[dict[str, str]]:
    """Reasons from a registrar status statement: the token's and its evidence's standing."""
    reasons = []
    if status.get("token") != "active":
        reasons.append({"reason": "status", "detail": f"the token is {status.get('token')} "
                        "in the log"})
    if status.get("evidence", "active") != "active":
        affected = ", ".join(str(d)[:16] for d in status.get("evidenceAffected", []))
        reasons.append({"reason": "evidence", "detail": f"supplier evidence is "
                        f"{status.get('evidence')} ({affected})"})
    return reasons


def _reasons(verification: Verification, token: dict[str, Any] | None,
             current: dict[str, Any] | None, tolerance: Decimal) -> list[dict[str, str]]:
    """What stands in the way; `current` is the log's status statement of the token now
    (from the service's own current bundle: a bundle sent in may predate a revocation).
    """
    reasons = [{"reason": f"check:{c.name}", "detail": c.detail}
               for c in verification.checks if c.outcome in (Outcome.FAIL, Outcome.WARN)]
    if token is None:
        return reasons
    margin = _margin(token)
    criterion = token.get("credentialSubject", {}).get("originCriterion")
    if margin is not None and margin < tolerance:
        reasons.append({"reason": "margin", "detail": f"RVC is {margin} points above its "
                        f"threshold, under the tolerance of {tolerance}"})
    elif margin is None and criterion == "B":
        reasons.append({"reason": "margin", "detail": "no RVC method passed"})
    if current is not None:
        reasons += _status_reasons(current)
    return reasons


def _check_one(service: Service, caller: Caller, shipment: Shipment, tolerance: Decimal,
               watermark: int, readable: set[str]) -> dict[str, Any]:
    if (shipment.token is None) == (shipment.bundle is None):
        return {"go": False, "decision": None, "tokenDigest": None, "shipmentId": None,
                "reasons": [{"reason": "request", "detail": "give a token digest or a "
                             "bundle, not both or neither"}]}
    digest: str | None = None
    current: dict[str, Any] | None = None  # the service's own bundle of a logged token
    try:
        if shipment.token is not None:
            digest = service.ledger.resolve_token(shipment.token)
            if digest not in readable and not service.may_read(caller, digest):
                return {"go": False, "decision": None, "tokenDigest": digest,
                        "shipmentId": None, "reasons": [{
                            "reason": "access", "detail": "this token was not given to "
                            "your account; ask its issuer, or send its bundle"}]}
            verified = service.verify_logged(digest, watermark)
            bundle, verification = verified.bundle, verified.verification
            current = bundle
        else:
            bundle = dict(shipment.bundle or {})
            verification = service.verify(bundle)
            logged = verification.token_digest
            if logged is not None and service.ledger.store.token_row(logged):
                current = service.verify_logged(logged, watermark).bundle
    except LedgerError as exc:
        return {"go": False, "decision": None, "tokenDigest": digest, "shipmentId": None,
                "reasons": [{"reason": exc.code, "detail": str(exc)}]}
    token = bundle.get("token") if isinstance(bundle.get("token"), dict) else None
    status = None if current is None else current["log"]["status"]["statement"]
    reasons = _reasons(verification, token, status, tolerance)
    go = verification.decision is Decision.CLEAR and not reasons
    return {"go": go, "decision": verification.decision.value,
            "tokenDigest": verification.token_digest, "shipmentId": verification.shipment_id,
            "reasons": reasons}


def check_shipments(service: Service, caller: Caller, shipments: list[Shipment],
                    tolerance: Decimal) -> list[dict[str, Any]]:
    """Go / no-go for each shipment, in order: what ``POST /v1/precheck`` and the broker's
    pre-check page (`ledger.web`) both answer.
    """
    # One reading of the log's standing for the whole request: every shipment is judged
    # against the same state, and the cached verifications hold for all of them.
    watermark = service.ledger.store.standing_watermark()
    named = [s.token.lower() for s in shipments if s.token is not None and len(s.token) == 64]
    readable = service.readable_of(caller, named) if named else set()
    return [_check_one(service, caller, s, tolerance, watermark, readable) for s in shipments]


@router.post("/precheck", summary="Go / no-go per shipment, with the reasons",
             responses={200: {"content": {"application/json": {"example": {
                 "go": 1, "noGo": 0, "shipments": [{
                     "go": True, "decision": "clear", "tokenDigest": "3f1c" + "0" * 60,
                     "shipmentId": "FBA-PED-26-3807-6001842", "reasons": []}]}}}}})
def precheck(body: PrecheckRequest, request: Request,
             caller: Caller = allow(Role.BROKER, Role.CUSTOMS, *SMES)
             ) -> dict[str, Any]:
    """Each shipment in the order given, go only when nothing stands in the way."""
    results = check_shipments(service_of(request), caller, body.shipments,
                              Decimal(body.tolerance))
    go = sum(1 for r in results if r["go"])
    return {"go": go, "noGo": len(results) - go, "shipments": results}
