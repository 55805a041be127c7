"""Tokens over HTTP: the token, its bundle, its status, and showing it to a broker.

Views of a token for other vocabularies (the same readers): ``/traceability`` (W3C
traceability ``USMCACertificationOfOrigin``), ``/untp`` (UNTP Digital Conformity
Credential, `ledger.untp`), and JOSE copies (``application/vc+jwt``, `ledger.copies`) of
the token and of both views at ``/jwt``, ``/traceability/jwt``, ``/untp/jwt``. A copy is
signed *on request* with the key that signed the token, when the service holds it and the
log says it is valid now, and only for an active token; Ed25519 is deterministic, so the
same request gives the same bytes and nothing is stored. A party that keeps its key signs
its copies itself (``tmec token jwt``); anyone checks a copy at ``POST /v1/verify``.

Who sees a token (`ledger.api.context.Service.may_read`): the accounts of the party that
issued it, the brokers it was given to, customs authorities, auditors and the registrar.
The bundle carries no line disclosures (no prices): those go to customs through the
disclosure routes. `{digest}` is the full token digest or a unique prefix of 8+ hex digits.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledger.api.access import Caller, allow
from ledger.api.accounts import SME_ROLES, SMES, Role
from ledger.api.context import Service
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of
from ledger.canonical import parse_json
from ledger.copies import CopyKind, sign_copy
from ledger.enveloped import MEDIA_TYPE as VC_JWT
from ledger.traceability import traceability_view
from ledger.untp import view_bytes

__all__ = ["grants_router", "router"]

router = api_router(prefix="/v1/tokens", tags=["tokens"])

READERS = (*SMES, Role.BROKER, Role.CUSTOMS, Role.AUDITOR, Role.REGISTRAR)
_DIGEST_EXAMPLE = "3f1c9a" + "0" * 58


@router.get("", summary="A party's tokens, in log order (paginated)",
            responses={200: {"content": {"application/json": {"example": {
                "party": "frenos-bajio", "tokens": [{
                    "tokenDigest": _DIGEST_EXAMPLE, "index": 7,
                    "shipmentId": "FBA-PED-26-3807-6001842", "status": "active"}],
                "next": 7}}}}})
def list_tokens(request: Request, party: str | None = Query(
                    None, description="Whose tokens (SMEs: always their own party)."),
                after: int = Query(-1, ge=-1, description="The `next` of the previous page."),
                limit: int = Query(100, ge=1, le=500),
                caller: Caller = allow(*SMES, Role.CUSTOMS, Role.AUDITOR, Role.REGISTRAR)
                ) -> dict[str, Any]:
    """Tokens of a party after log entry `after`: digest, entry, shipment id, standing.

    SMEs list their own party's (a `party` naming another is refused); customs, auditors
    and the registrar name the party.
    """
    service = service_of(request)
    account = caller.require()
    if account.role in SME_ROLES:
        if party not in (None, account.party_id):
            raise ApiProblem("api.forbidden", "an SME lists only its own tokens")
        party = account.party_id
    if party is None:
        raise ApiProblem("api.request_invalid", "name the party: ?party=<party id>")
    rows = service.ledger.store.party_tokens(party, after, limit)
    listed = _summaries(service, [r.digest for r in rows])
    for row, summary in zip(rows, listed, strict=True):
        summary["index"] = row.index
    return {"party": party, "tokens": listed,
            "next": rows[-1].index if len(rows) == limit else None}


def _summaries(service: Service, digests: list[str]) -> list[dict[str, Any]]:
    """A line per token of a list: digest, shipment id (from the token), standing now."""
    blobs = service.ledger.store.get_blobs(digests)
    listed = []
    for digest in digests:
        token = parse_json(blobs[digest]) if digest in blobs else {}
        subject = token.get("credentialSubject", {}) if isinstance(token, dict) else {}
        listed.append({"tokenDigest": digest, "shipmentId": subject.get("shipmentId"),
                       "status": service.ledger.status(digest).token.value})
    return listed


@router.get("/{digest}", summary="The origin token (a W3C verifiable credential)",
            responses={200: {"content": {"application/json": {"example": {
                "type": ["VerifiableCredential", "UsmcaOriginToken"],
                "issuer": "did:key:z6Mk...", "credentialSubject": {"originCriterion": "B"}}}}}})
def get_token(digest: str, request: Request, caller: Caller = allow(*READERS)
              ) -> dict[str, Any]:
    """The stored token, checked against its digest."""
    service = service_of(request)
    full = service.readable(caller, digest)
    return service.ledger.token(full)


@router.get("/{digest}/bundle", summary="The token's offline verification bundle",
            responses={200: {"content": {"application/json": {"example": {
                "format": "tmec-bundle/1", "token": {}, "log": {"checkpoint": "..."}}}}}})
def get_bundle(digest: str, request: Request, caller: Caller = allow(*READERS)
               ) -> dict[str, Any]:
    """Token, log proofs under a checkpoint ending at a fresh status, supplier bundles; for
    a customs authority, the BOM lines the issuer disclosed to it (salted records).
    """
    service = service_of(request)
    full = service.readable(caller, digest)
    account = caller.require()
    lines = (service.accounts.disclosed_lines(full, account.party_id)
             if account.role is Role.CUSTOMS else [])
    return service.bundle(full, disclose_lines=lines or None)


@router.get("/{digest}/traceability",
            summary="The token as a W3C traceability USMCACertificationOfOrigin",
            responses={200: {"content": {"application/json": {"example": {
                "type": ["VerifiableCredential", "USMCACertificationOfOrigin"],
                "id": "urn:tmec:token:" + _DIGEST_EXAMPLE,
                "credentialSubject": {"type": ["USMCAClaims"], "goods": [{
                    "type": ["USMCAProduct"], "commodityCode": "870830",
                    "commodityCodeType": "HS", "originCriterion": "B",
                    "countryOfOrigin": "MX", "description": "Brake caliper"}]}}}}}})
def get_traceability(digest: str, request: Request, caller: Caller = allow(*READERS)
                     ) -> dict[str, Any]:
    """The view customs pilots' tools read (strict traceability-vocab schema); the
    token, signed and logged, stays the evidence (the view's id is its URN).
    """
    service = service_of(request)
    full = service.readable(caller, digest)
    return traceability_view(service.ledger.token(full), full)


_UNTP_EXAMPLE = {
    "type": ["DigitalConformityCredential", "VerifiableCredential"],
    "id": "urn:tmec:token:" + _DIGEST_EXAMPLE,
    "credentialSubject": {"type": ["ConformityAttestation", "Attestation"],
                          "assessorLevel": "Self", "attestationType": "declaration",
                          "assessment": [{"conformance": True, "declaredValue": [{
                              "metricName": "RVC (net cost method)",
                              "metricValue": {"value": 73.509453, "unit": "P1"},
                              "score": "pass"}]}]}}


@router.get("/{digest}/untp", response_class=Response,
            summary="The token as a UNTP Digital Conformity Credential (DCC 0.6.1)",
            responses={200: {"content": {"application/json": {"example": _UNTP_EXAMPLE}}}})
def get_untp(digest: str, request: Request, caller: Caller = allow(*READERS)) -> Response:
    """The determination as a self-declared conformity attestation (``ledger.untp``):
    USMCA Chapter 4 / Annex 4-B with the rule set's effective date, RVC threshold and
    declared value per method, the good by HS code. Numbers are exact JSON numbers.
    """
    service = service_of(request)
    full = service.readable(caller, digest)
    return Response(view_bytes(service.ledger.token(full), full),
                    media_type="application/json")


_JWT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {VC_JWT: {
    "schema": {"type": "string"}, "example": "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCIs..."}}}}


def _jose_copy(request: Request, caller: Caller, digest: str, kind: CopyKind) -> Response:
    service = service_of(request)
    full = service.readable(caller, digest)
    token = service.ledger.token(full)
    kid = str(token["proof"]["verificationMethod"])
    key = service.vault.held(kid)  # 503 when the service holds no keys at all
    if key is None:
        raise ApiProblem("api.jose.key_not_held", f"token {full[:16]}... was signed by a key "
                         "its party keeps: the party signs the JOSE copy itself (tmec token "
                         "jwt) and POST /v1/verify checks it")
    record = service.ledger.store.key(kid)
    standing = record.status_at(service.ledger.size) if record is not None else "unknown"
    if standing != "valid":
        raise ApiProblem("api.jose.key_not_valid", f"the key that signed token "
                         f"{full[:16]}... is {standing} now and signs nothing new; a copy "
                         "made before still verifies with the token's bundle")
    state = service.ledger.status(full).token.value
    if state != "active":
        raise ApiProblem("api.jose.token_not_active", f"token {full[:16]}... is {state}: "
                         "no new JOSE copy of it is made")
    return Response(sign_copy(kind, token, full, key), media_type=VC_JWT)


@router.get("/{digest}/jwt", response_class=Response, responses=_JWT_RESPONSES,
            summary="The token as application/vc+jwt (JOSE copy, same issuer key)")
def get_token_jwt(digest: str, request: Request, caller: Caller = allow(*READERS)
                  ) -> Response:
    """The token without its Data Integrity proof as a JWS payload (VC-JOSE-COSE),
    ``kid`` the token's verification method, signed by that held key.
    """
    return _jose_copy(request, caller, digest, CopyKind.TOKEN)


@router.get("/{digest}/traceability/jwt", response_class=Response,
            responses=_JWT_RESPONSES,
            summary="The traceability view as application/vc+jwt (same issuer key)")
def get_traceability_jwt(digest: str, request: Request, caller: Caller = allow(*READERS)
                         ) -> Response:
    """The ``USMCACertificationOfOrigin`` view secured with JOSE by the token's key."""
    return _jose_copy(request, caller, digest, CopyKind.TRACEABILITY)


@router.get("/{digest}/untp/jwt", response_class=Response, responses=_JWT_RESPONSES,
            summary="The UNTP view as application/vc+jwt (same issuer key)")
def get_untp_jwt(digest: str, request: Request, caller: Caller = allow(*READERS)
                 ) -> Response:
    """The UNTP Digital Conformity Credential secured with JOSE (UNTP: JOSE enveloping
    proof MUST) by the token's key.
    """
    return _jose_copy(request, caller, digest, CopyKind.UNTP)


@router.get("/{digest}/status", summary="Active, revoked or superseded; key; evidence",
            responses={200: {"content": {"application/json": {"example": {
                "token": "active", "key": "valid", "kid": "did:key:z6Mk...#z6Mk...",
                "index": 7, "evidence": "active"}}}}})
def get_status(digest: str, request: Request, caller: Caller = allow(*READERS)
               ) -> dict[str, Any]:
    """The token's standing in the log now (ledger.status.TokenStatus)."""
    service = service_of(request)
    full = service.readable(caller, digest)
    return service.ledger.status(full).to_dict()


class GrantRequest(BaseModel):
    """Show a token to a customs broker (the party that clears the shipment)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"party": "laredo-brokers"}]})
    party: str = Field(min_length=1, max_length=64, description="The broker's party id.")


@router.post("/{digest}/grants", summary="Give a shipment's token to a broker",
             status_code=201, responses={201: {"content": {"application/json": {"example": {
                                             "token": _DIGEST_EXAMPLE,
                                             "party": "laredo-brokers", "granted": True}}}}})
def grant(digest: str, body: GrantRequest, request: Request,
          caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """The issuer lets a broker see the token's determination and status."""
    service = service_of(request)
    full = service.issued_by(caller, digest)
    if not service.accounts.has_account(body.party, Role.BROKER):
        raise ApiProblem("api.request_invalid", f"no customs broker account has party id "
                         f"{body.party[:64]!r}")
    granted = service.accounts.grant(full, body.party, caller.require().account_id)
    return {"token": full, "party": body.party, "granted": granted}


class Disclosure(BaseModel):
    """BOM lines (0-based, as committed in the token) to show one customs authority."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"authority": "cbp", "lines": [0, 1, 2]}]})
    authority: str = Field(description="cbp, cbsa or anam")
    lines: list[int] = Field(min_length=1, max_length=100_000)


@router.post("/{digest}/disclosures", summary="Disclose BOM lines to a customs authority",
             responses={200: {"content": {"application/json": {"example": {
                 "token": _DIGEST_EXAMPLE, "authority": "cbp", "lines": [0, 1, 2],
                 "new": [0, 1, 2]}}}}})
def disclose(digest: str, body: Disclosure, request: Request,
             caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """The issuer shows lines to CBP, CBSA or ANAM: that authority's bundles carry them,
    so its officers can recompute the RVC; nobody else sees them.
    """
    service = service_of(request)
    full = service.issued_by(caller, digest)
    count = service.ledger.commitment(full).count
    outside = sorted({n for n in body.lines if not 0 <= n < count})
    if outside:
        raise ApiProblem("api.request_invalid", f"line {outside[0]} is not a line of this "
                         f"token (it commits to lines 0 to {count - 1})")
    new = service.accounts.disclose(full, body.authority, body.lines,
                                    caller.require().account_id)
    return {"token": full, "authority": body.authority,
            "lines": service.accounts.disclosed_lines(full, body.authority), "new": new}


grants_router = api_router(prefix="/v1", tags=["tokens"])


@grants_router.get("/grants", summary="The shipments given to you (brokers)",
                   responses={200: {"content": {"application/json": {"example": {
                       "party": "laredo-brokers", "tokens": [{
                           "tokenDigest": _DIGEST_EXAMPLE, "shipmentId": "FBA-77",
                           "status": "active"}], "next": None}}}}})
def given_to_me(request: Request,
                after: str = Query("", max_length=64, description="The `next` of the "
                                   "previous page (a token digest)."),
                limit: int = Query(100, ge=1, le=500),
                caller: Caller = allow(Role.BROKER)) -> dict[str, Any]:
    """Tokens the issuers gave to your broker party, in digest order, with their standing."""
    service = service_of(request)
    party = caller.require().party_id
    digests = service.accounts.grants_to(party, after=after, limit=limit)
    return {"party": party, "tokens": _summaries(service, digests),
            "next": digests[-1] if len(digests) == limit else None}
