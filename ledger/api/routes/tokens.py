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

A party's list (``GET /v1/tokens``) is read page by page in log order, and may be searched
(`TokenSearch`: a shipment id, an HS code or a digest prefix, and a standing); the SME's
"my shipments" page (`ledger.web.routes.shipments`) lists through the same
`party_token_page`, so the page and the API always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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
from ledger.errors import NotFoundError
from ledger.multikey import verification_method_id
from ledger.status import TokenState
from ledger.token import token_public_key
from ledger.traceability import traceability_view
from ledger.untp import view_bytes

__all__ = ["SCAN_LIMIT", "TokenLine", "TokenPage", "TokenSearch", "grants_router",
           "party_token_page", "router", "token_line"]

router = api_router(prefix="/v1/tokens", tags=["tokens"])

READERS = (*SMES, Role.BROKER, Role.CUSTOMS, Role.AUDITOR, Role.REGISTRAR)
_DIGEST_EXAMPLE = "3f1c9a" + "0" * 58


SCAN_LIMIT = 2_000
"""Most tokens one searched page reads (then `next` says where to go on): a search costs
bounded work per request however many tokens a party has."""
_HEX = re.compile(r"[0-9a-f]+\Z")
_HS = re.compile(r"[0-9]{2,10}\Z")
_SEARCH_MAX = 100


@dataclass(frozen=True, slots=True)
class TokenSearch:
    """What a party's list is narrowed to: some `text`, a `status`, both or neither.

    `text` matches a token whose shipment id contains it (case ignored), whose HS code
    starts with it (dots and spaces ignored: ``8708.30`` finds 870830), or whose digest
    starts with it (hex).
    """

    text: str = ""
    status: TokenState | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip()[:_SEARCH_MAX])

    @property
    def active(self) -> bool:
        """Whether the search leaves anything out."""
        return bool(self.text) or self.status is not None

    def matches_text(self, line: TokenLine) -> bool:
        """Whether `line` matches `text` (every line does when there is none)."""
        if not self.text:
            return True
        wanted = self.text.casefold()
        if wanted in (line.shipment_id or "").casefold():
            return True
        code = re.sub(r"[.\s]", "", wanted)
        if _HS.match(code) and (line.hs_code or "").startswith(code):
            return True
        return bool(_HEX.match(wanted)) and line.digest.startswith(wanted)


@dataclass(frozen=True, slots=True)
class TokenLine:
    """A line of a list of tokens: which shipment, which good, its standing now."""

    digest: str
    index: int | None
    shipment_id: str | None
    hs_code: str | None
    description: str | None
    valid_from: str | None
    status: TokenState
    superseded_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the API's lists (``index`` only in a party's list)."""
        out: dict[str, Any] = {"tokenDigest": self.digest, "shipmentId": self.shipment_id,
                               "status": self.status.value, "hsCode": self.hs_code,
                               "description": self.description, "validFrom": self.valid_from}
        if self.index is not None:
            out["index"] = self.index
        if self.superseded_by is not None:
            out["supersededBy"] = self.superseded_by
        return out


@dataclass(frozen=True, slots=True)
class TokenPage:
    """One page of a party's tokens: the lines, and where the next page starts (or None)."""

    party: str
    lines: list[TokenLine]
    next: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form of ``GET /v1/tokens``."""
        return {"party": self.party, "tokens": [line.to_dict() for line in self.lines],
                "next": self.next}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _line(service: Service, digest: str, index: int | None, blob: bytes | None,
          status: bool = True) -> TokenLine:
    """The line of a token from its stored document; its standing unless `status` is
    False (then `ACTIVE` until the caller reads the standing).
    """
    token = parse_json(blob) if blob is not None else {}
    subject = token.get("credentialSubject", {}) if isinstance(token, dict) else {}
    subject = subject if isinstance(subject, dict) else {}
    good = subject.get("good") if isinstance(subject.get("good"), dict) else {}
    assert isinstance(good, dict)
    standing = service.ledger.status(digest) if status else None
    return TokenLine(digest, index, _text(subject.get("shipmentId")), _text(good.get("hsCode")),
                     _text(good.get("description")),
                     _text(token.get("validFrom")) if isinstance(token, dict) else None,
                     standing.token if standing else TokenState.ACTIVE,
                     standing.superseded_by if standing else None)


def token_line(service: Service, digest: str) -> TokenLine:
    """The list line of one logged token (`NotFoundError` if it is not logged)."""
    row = service.ledger.store.token_row(digest)
    if row is None:
        raise NotFoundError(f"token {digest} is not in the ledger")
    return _line(service, digest, row.index, service.ledger.store.get_blob(digest))


def party_token_page(service: Service, party: str, *, after: int = -1, limit: int = 100,
                     search: TokenSearch | None = None) -> TokenPage:
    """The party's tokens logged after entry `after`, in log order, at most `limit`.

    Without a search, a page is the next `limit` tokens (`next` is the last one's entry
    when the page is full). With one, tokens are read in log order until `limit` match or
    `SCAN_LIMIT` have been read; `next` is then the last entry read, so a page may hold
    fewer than `limit` lines and still have a next one.
    """
    store = service.ledger.store
    wanted = search if search is not None and search.active else None
    if wanted is None:
        rows = store.party_tokens(party, after, limit)
        blobs = store.get_blobs([r.digest for r in rows])
        lines = [_line(service, r.digest, r.index, blobs.get(r.digest)) for r in rows]
        return TokenPage(party, lines, rows[-1].index if len(rows) == limit else None)
    found: list[TokenLine] = []
    cursor, read = after, 0
    batch = min(500, SCAN_LIMIT)
    while True:
        rows = store.party_tokens(party, cursor, batch)
        blobs = store.get_blobs([r.digest for r in rows])
        for row in rows:
            cursor, read = row.index, read + 1
            line = _line(service, row.digest, row.index, blobs.get(row.digest), status=False)
            if wanted.matches_text(line):  # the standing only for the lines that match
                standing = service.ledger.status(row.digest)
                if wanted.status is None or standing.token is wanted.status:
                    found.append(replace(line, status=standing.token,
                                         superseded_by=standing.superseded_by))
            if len(found) == limit or read >= SCAN_LIMIT:
                return TokenPage(party, found, cursor)
        if len(rows) < batch:
            return TokenPage(party, found, None)


@router.get("", summary="A party's tokens, in log order (paginated, searchable)",
            responses={200: {"content": {"application/json": {"example": {
                "party": "frenos-bajio", "tokens": [{
                    "tokenDigest": _DIGEST_EXAMPLE, "index": 7,
                    "shipmentId": "FBA-PED-26-3807-6001842", "status": "active",
                    "hsCode": "870830", "description": "Front brake caliper assembly",
                    "validFrom": "2026-12-01T20:27:00Z"}],
                "next": 7}}}}})
def list_tokens(request: Request, party: str | None = Query(
                    None, description="Whose tokens (SMEs: always their own party)."),
                after: int = Query(-1, ge=-1, description="The `next` of the previous page."),
                limit: int = Query(100, ge=1, le=500),
                q: str = Query("", max_length=_SEARCH_MAX, description="Only tokens whose "
                               "shipment id contains this, whose HS code starts with it, or "
                               "whose digest starts with it."),
                status: TokenState | None = Query(None, description="Only tokens that are "
                                                  "active, revoked or superseded now."),
                caller: Caller = allow(*SMES, Role.CUSTOMS, Role.AUDITOR, Role.REGISTRAR)
                ) -> dict[str, Any]:
    """Tokens of a party after log entry `after`: digest, entry, shipment id, good, standing.

    SMEs list their own party's (a `party` naming another is refused); customs, auditors
    and the registrar name the party. With `q` or `status`, at most 2,000 tokens are read
    per page: a page may then hold fewer than `limit` lines and still name a `next`.
    """
    service = service_of(request)
    account = caller.require()
    if account.role in SME_ROLES:
        if party not in (None, account.party_id):
            raise ApiProblem("api.forbidden", "an SME lists only its own tokens")
        party = account.party_id
    if party is None:
        raise ApiProblem("api.request_invalid", "name the party: ?party=<party id>")
    return party_token_page(service, party, after=after, limit=limit,
                            search=TokenSearch(q, status)).to_dict()


def _summaries(service: Service, digests: list[str]) -> list[dict[str, Any]]:
    """A line per token of a list: digest, shipment id and good (from the token), standing."""
    blobs = service.ledger.store.get_blobs(digests)
    listed = []
    for digest in digests:
        listed.append(_line(service, digest, None, blobs.get(digest)).to_dict())
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
    # The vault knows a key by its did:key id, whichever DID the token names as issuer.
    kid = verification_method_id(token_public_key(token))
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


@router.delete("/{digest}/grants/{party}", summary="Withdraw a shipment's token from a broker",
               responses={200: {"content": {"application/json": {"example": {
                   "token": _DIGEST_EXAMPLE, "party": "laredo-brokers",
                   "withdrawn": True}}}}})
def withdraw_grant(digest: str, party: str, request: Request,
                   caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """The issuer stops showing the token to a broker (it changed broker, say): from the
    next request the broker's reads, pre-checks and list leave it out. Nothing is
    removed: the grant and its withdrawal stay on record, and a new grant gives it back.
    ``withdrawn`` is false when the token was not shown to that party.
    """
    service = service_of(request)
    full = service.issued_by(caller, digest)
    if len(party) > 64:
        raise ApiProblem("api.request_invalid", "a party id has at most 64 characters")
    withdrawn = service.accounts.withdraw_grant(full, party, caller.require().account_id)
    return {"token": full, "party": party, "withdrawn": withdrawn}


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
