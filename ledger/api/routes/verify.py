"""Customs verification: a bundle in, the decision and every check out, as offline.

``POST /v1/verify`` runs exactly the offline `ledger.verify.verify` on the bundle sent,
under the service's trust file; ``GET /v1/trust`` returns that trust file, so that
``tmec verify BUNDLE --trust trust.json`` on any machine gives the same decision and checks.
``GET /v1/verify/{digest}`` (what a certificate's QR code opens) builds the token's bundle
from the ledger, with its supplier bundles, and verifies it the same way; besides the
checks it shows what the certificate prints (Annex 5-A's nine data elements) and nothing
else of the token. All three are public: the officer at the bridge has no account.

``POST /v1/verify`` also checks JOSE copies (``application/vc+jwt``, `ledger.copies`):
a body of that media type is a copy alone, whose token the service finds in its ledger
and whose bundle it builds; a JSON body ``{"bundle": <tmec-bundle/1>, "jwt": "<JWS>"}`` is
a copy beside the bundle its holder has. Either way the answer is the bundle's decision
and checks plus ``jose.format``, ``jose.signature`` and ``jose.payload``, decided together.
"""

from __future__ import annotations

import time
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
from ledger.canonical import parse_json
from ledger.copies import CopyKind, copy_target, verify_copy
from ledger.enveloped import MEDIA_TYPE as VC_JWT
from ledger.errors import EncodingError, JoseError, LedgerError, NotFoundError
from ledger.multikey import verification_method_id
from ledger.token import method_key
from ledger.untp import ORIGIN_DCC_CONTEXT_PATH
from ledger.verify import Check, Decision, Outcome, Verification, verification_time

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
               "supplier bundles; or {bundle, jwt}: a JOSE copy of its token beside it."},
    "example": {"format": "tmec-bundle/1", "token": {"...": "the origin token"},
                "log": {"checkpoint": "tmec.example/ledger\n42\n...", "token": {},
                        "key": {}, "status": {}}}},
    VC_JWT: {"schema": {"type": "string", "description": "A JOSE copy of a logged token "
                        "(the token, its traceability or its UNTP view), compact JWS."},
             "example": "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCIs..."}}}


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
    kind = media_type(request)
    if kind == VC_JWT:
        jwt = (await request.body()).decode("ascii", "replace").strip()
        moment = _moment(at)
        # Finding the token and building its bundle reads (and may write) the store.
        found = await run_in_threadpool(_verify_jose_alone, service_of(request), jwt,
                                        moment)
        return found.to_dict()
    if kind not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type", "send the bundle as application/json "
                         f"(or a JOSE copy as {VC_JWT})")
    data = await request.body()
    moment = _moment(at)
    beside = _jose_beside(data)
    service = service_of(request)
    if beside is not None:
        bundle, jwt = beside
        return verify_copy(jwt, bundle, service.trust, now=_now(moment)).to_dict()
    # CPU only (no database): run on the event loop, which is faster than a thread hop
    # and lets no other request thread fight this one for the GIL.
    result = service.verify(data, at=moment)
    return result.to_dict()


def _now(moment: int | None) -> int:
    return int(time.time()) if moment is None else moment


def _jose_beside(data: bytes) -> tuple[Any, Any] | None:
    """``(bundle, jwt)`` of a ``{"bundle", "jwt"}`` body, or None for a plain bundle.

    A bundle never has a ``jwt`` member, so a body without that text is not parsed here.
    """
    if b'"jwt"' not in data:
        return None
    try:
        body = parse_json(data)
    except EncodingError:
        return None  # the bundle path reports it as bundle.format
    if not isinstance(body, dict) or set(body) != {"bundle", "jwt"}:
        return None
    return body["bundle"], body["jwt"]


def _verify_jose_alone(service: Service, jwt: str, moment: int | None) -> Verification:
    """A JOSE copy without its bundle: find its logged token, build the bundle, verify."""
    try:
        target = copy_target(jwt)
        digest = target.digest
        if target.kind is CopyKind.TOKEN:  # the token its issuer's party logged last
            # The log knows the key by its did:key id, whichever DID the token names.
            record = service.ledger.store.key(verification_method_id(method_key(target.kid)))
            digest = (None if record is None or target.shipment is None else
                      service.ledger.store.shipment_token(record.party_id, target.shipment))
        if digest is None:
            raise NotFoundError(f"no token of key {target.kid[:120]!r} is logged for this "
                                "shipment: this is a copy of no token of this ledger")
        service.issuer_party(digest)  # NotFoundError when it is not logged
    except LedgerError as exc:
        failed = Check("jose.format" if isinstance(exc, EncodingError | JoseError)
                       else "jose.token", Outcome.FAIL, exc.message)
        return Verification(Decision.REJECT, (failed,))
    return verify_copy(jwt, service.bundle(digest), service.trust, now=_now(moment))


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
_DCC_CONTEXT = (files("ledger.contexts") / "origin-dcc-v1.jsonld").read_bytes()


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


@contexts.get(ORIGIN_DCC_CONTEXT_PATH, include_in_schema=True, response_class=Response,
              summary="The JSON-LD context of our terms in the UNTP view",
              responses={200: {"content": {"application/ld+json": {"example": {
                  "@context": {"@version": 1.1, "@protected": True,
                               "hsCode": {"@id": "https://tmec-ledger.example/ns/"
                                                 "origin-token#hsCode"}}}}}}})
def origin_dcc_context(caller: Caller = public()) -> Response:
    """The terms the UNTP Digital Conformity Credential view adds to UNTP's (``hsCode``,
    ``originCriterion``, ``ruleSet``, ``shipmentId``, ``certifierRole``): protected, no
    ``@vocab``, the token's IRIs; any origin may fetch it; a version never changes.
    """
    del caller
    return Response(_DCC_CONTEXT, media_type="application/ld+json", headers={
        "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=31536000"})
