"""did:web documents: ``GET /.well-known/did.json`` and ``GET /parties/{party}/did.json``.

What ``did:web:<host>`` and ``did:web:<host>:parties:<party>`` resolve to (did:web Method
Specification, "Read": the identifier's path, ``/did.json``, or ``/.well-known/did.json``
for a bare host), built by `ledger.api.dids` from the log at the moment of the request:
the service's issuer and log keys, a party's keys valid now. Public, readable from any
origin, never cached (a key event changes them).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ledger.api.access import Caller, public
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import FastJSON, api_router, run_on_store, service_of
from ledger.did_web import DidWebName
from ledger.errors import EncodingError

__all__ = ["DID_JSON", "router"]

router = api_router(tags=["did:web"])

#: DID 1.0 s.6.2.1: the media type of a JSON DID document.
DID_JSON = "application/did+json"

_EXAMPLE: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    "id": "did:web:ledger.example:parties:frenos-bajio",
    "alsoKnownAs": ["did:key:z6Mk..."],
    "verificationMethod": [{"id": "did:web:ledger.example:parties:frenos-bajio#z6Mk...",
                            "type": "Multikey",
                            "controller": "did:web:ledger.example:parties:frenos-bajio",
                            "publicKeyMultibase": "z6Mk..."}],
    "assertionMethod": ["did:web:ledger.example:parties:frenos-bajio#z6Mk..."]}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {DID_JSON: {"schema": {"type": "object"}, "example": _EXAMPLE}}}}


def _answer(document: dict[str, Any] | None, what: str) -> Response:
    if document is None:
        raise ApiProblem("api.not_found", f"there is no DID document for {what} here")
    return FastJSON(document, media_type=DID_JSON,
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})


@router.get("/.well-known/did.json", response_class=Response, responses=_RESPONSES,
            summary="The service's DID document (did:web)")
async def service_document(request: Request, caller: Caller = public()) -> Response:
    """The keys the service signs with: its VC-API issuer key and the log's key."""
    del caller
    dids = service_of(request).dids
    if dids.host is None:
        raise ApiProblem("api.not_found", "did:web needs TMEC_PUBLIC_URL at the root of a "
                         "host")
    return _answer(dids.document(DidWebName(dids.host)), "this service")


@router.get("/parties/{party}/did.json", response_class=Response, responses=_RESPONSES,
            summary="A party's DID document (did:web), from the log's key events")
async def party_document(party: str, request: Request, caller: Caller = public()
                         ) -> Response:
    """The party's keys the log holds valid now (rotated and revoked keys have left)."""
    del caller
    service = service_of(request)
    dids = service.dids
    if dids.host is None:
        raise ApiProblem("api.not_found", "did:web needs TMEC_PUBLIC_URL at the root of a "
                         "host")
    try:
        name = DidWebName.of_party(dids.host, party)
    except EncodingError:
        raise ApiProblem("api.not_found", f"{party[:80]!r} is not a party id") from None
    document = await run_on_store(service, lambda: dids.document(name))
    return _answer(document, f"party {party}")
