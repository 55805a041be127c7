"""Customs verification: a bundle in, the decision and every check out, as offline.

``POST /v1/verify`` runs exactly the offline `ledger.verify.verify` on the bundle sent,
under the service's trust file; ``GET /v1/trust`` returns that trust file, so that
``tmec verify BUNDLE --trust trust.json`` on any machine gives the same decision and checks.
``GET /v1/verify/{digest}`` (what a certificate's QR code opens) builds the token's bundle
from the ledger, with its supplier bundles, and verifies it the same way; besides the
checks it shows what the certificate prints (Annex 5-A's nine data elements) and nothing
else of the token. All three are public: the officer at the bridge has no account.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ledger.api.access import Caller, public
from ledger.api.context import Service, certificate
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import (
    JSON_MEDIA,
    FastJSON,
    api_router,
    media_type,
    run_on_store,
    service_of,
)
from ledger.verify import Decision, Outcome, verification_time

__all__ = ["contexts", "router"]

router = api_router(prefix="/v1", tags=["verification"])
contexts = api_router(tags=["verification"])

_CHECK = {"type": "object", "required": ["name", "outcome", "detail"], "properties": {
    "name": {"type": "string"}, "outcome": {"enum": [o.value for o in Outcome]},
    "detail": {"type": "string"}}}
VERIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["decision", "tokenDigest", "shipmentId", "checks"],
    "properties": {"decision": {"enum": [d.value for d in Decision]},
                   "tokenDigest": {"type": ["string", "null"]},
                   "shipmentId": {"type": ["string", "null"]},
                   "checks": {"type": "array", "items": _CHECK}},
}
_EXAMPLE = {"decision": "clear", "tokenDigest": "3f1c" + "0" * 60,
            "shipmentId": "FBA-PED-26-3807-6001842",
            "checks": [{"name": "token.signature", "outcome": "pass",
                        "detail": "eddsa-jcs-2022 signature by did:key:z6Mk..."}]}
_BUNDLE_BODY = {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "description": "A tmec-bundle/1 document (ledger design "
               "s.7): token, log proofs under a checkpoint, optional disclosures and "
               "supplier bundles."},
    "example": {"format": "tmec-bundle/1", "token": {"...": "the origin token"},
                "log": {"checkpoint": "tmec.example/ledger\n42\n...", "token": {},
                        "key": {}, "status": {}}}}}}


def _moment(at: str | None) -> int | None:
    return None if at is None else verification_time(at, "at")


AT = Query(None, description="Verify as of this time (ISO 8601; default now).",
           examples=["2026-12-01T15:00:00Z"])


@router.post("/verify", summary="Verify a bundle (as tmec verify does offline)",
             openapi_extra={"requestBody": _BUNDLE_BODY},
             responses={200: {"content": {"application/json": {
                 "schema": VERIFICATION_SCHEMA, "example": _EXAMPLE}}}})
async def verify_bundle(request: Request, at: str | None = AT,
                        caller: Caller = public()) -> dict[str, Any]:
    """The decision (clear / review / reject) and every check, in the order they ran."""
    del caller
    if media_type(request) not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type", "send the bundle as application/json")
    data = await request.body()
    moment = _moment(at)
    # CPU only (no database): run on the event loop, which is faster than a thread hop
    # and lets no other request thread fight this one for the GIL.
    result = service_of(request).verify(data, at=moment)
    return result.to_dict()


@router.get("/verify/{digest}", summary="Verify a logged token (what the QR code opens)",
            responses={200: {"content": {"application/json": {"example": {
                **_EXAMPLE, "certificate": {"certifierRole": "producer",
                                            "originCriterion": "B"}}}}}})
async def verify_digest(digest: str, request: Request, at: str | None = AT,
                        caller: Caller = public()) -> Response:
    """Build the token's bundle from the ledger and verify it under the trust file.

    `digest` is the token digest (64 hex digits) or a unique prefix of at least 8.
    """
    del caller
    service = service_of(request)
    moment = _moment(at)
    if moment is None and len(digest) == 64:
        # What a QR code opens, again and again: answered on the event loop when the
        # cached verification still holds (one short query: the standing watermark).
        watermark = await run_on_store(service, service.ledger.store.standing_watermark)
        found = service.cached_verification(digest.lower(), watermark)
        if found is not None:
            return Response(found.public_answer, media_type="application/json")
    return await run_in_threadpool(_verify_digest, service, digest, moment)


def _verify_digest(service: Service, digest: str, moment: int | None) -> Response:
    full = service.ledger.resolve_token(digest)
    if moment is None:  # now: the cached verification holds while the log's standing does
        verified = service.verify_logged(full)
        return Response(verified.public_answer, media_type="application/json")
    bundle = service.bundle(full)
    result = service.verify(bundle, at=moment)
    return FastJSON({**result.to_dict(), "certificate": certificate(bundle["token"])})


@router.get("/trust", summary="The trust file the service verifies under",
            responses={200: {"content": {"application/json": {"example": {
                "log": {"origin": "tmec.example/ledger", "key": "tmec.example/ledger+..."},
                "witnesses": [], "quorum": 2, "maxAgeSeconds": 86400}}}}})
def trust(request: Request, caller: Caller = public()) -> dict[str, Any]:
    """The trust file: log key, witnesses, quorum and maximum checkpoint age."""
    del caller
    return service_of(request).trust.to_json()


@router.get("/status/{number}", summary="A W3C Bitstring Status List of revocations",
            responses={200: {"content": {"application/json": {"example": {
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "credentialSubject": {"type": "BitstringStatusList",
                                      "statusPurpose": "revocation",
                                      "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwf"}}}}}})
def status_list(number: int, request: Request, caller: Caller = public()) -> JSONResponse:
    """List `number` (signed by the log's key), what tokens' ``credentialStatus`` names;
    any origin may read it (``Access-Control-Allow-Origin: *``), as the spec expects.
    """
    del caller
    if not 0 <= number < 2**31:
        raise ApiProblem("api.not_found", f"there is no status list {number}")
    service = service_of(request)
    credential = service.status_lists.credential(
        number, service.ledger.log_key, service.ledger.store.standing_watermark())
    return FastJSON(credential, headers={"Access-Control-Allow-Origin": "*",
                                         "Cache-Control": "no-cache"})


_CONTEXT = (files("ledger.contexts") / "origin-token-v1.jsonld").read_bytes()


@contexts.get("/ns/origin-token/v1", include_in_schema=True, response_class=Response,
            summary="The JSON-LD context origin tokens name in @context",
            responses={200: {"content": {"application/ld+json": {"example": {
                "@context": {"@version": 1.1, "@protected": True,
                             "shipmentId": {"@id": "https://tmec-ledger.example/ns/"
                                                   "origin-token#shipmentId"}}}}}}})
def origin_token_context(caller: Caller = public()) -> Response:
    """Every term of a token's ``credentialSubject`` (protected, no ``@vocab``); any
    origin may fetch it, and a version never changes (cacheable for a year).
    """
    del caller
    return Response(_CONTEXT, media_type="application/ld+json", headers={
        "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=31536000"})
