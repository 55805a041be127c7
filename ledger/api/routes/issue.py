"""An SME registers a shipment over HTTP: its signing key, the token, corrections.

Two ways to sign, as the party prefers:

* **The service holds the key** (`POST /v1/signing-keys`): it generates an Ed25519 key,
  logs it for the caller's party (self-signed for a new party, a rotation signed by the
  held current key otherwise) and keeps it sealed (`ledger.api.signing_keys`). Then
  `POST /v1/tokens` determines origin, signs and logs the token; `.../revoke` and
  `.../supersede` sign the corrections with the same key.
* **Which identity it issues as** (`GET`/`PUT /v1/identity`): the token's ``issuer`` is
  the signing key's did:key (the default) or the party's did:web on this service's host
  (``did:web:<host>:parties:<party>``, whose document lists the keys the log holds valid
  now); the held-key path (`issue_with_held_key`: ``POST /v1/tokens`` and the web page
  /register) signs under the party's choice.
* **The party keeps its key**: it signs statements locally (``tmec``, or any client of the
  statement format in design/ledger.md) and submits them to `POST /v1/statements`; the
  ledger checks every signature and rule exactly as for its own.

Nothing here returns key material. Every write goes through `ledger.service.Ledger`, so the
log's rules (one active token per shipment, evidence, key validity) hold over HTTP too.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ledger.api.access import Caller, allow
from ledger.api.accounts import SMES, IssuerMethod, Role
from ledger.api.context import Service
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import JSON_MEDIA, api_router, media_type, service_of
from ledger.api.routes.determinations import form_files, read_bom_upload
from ledger.crypto import SigningKey
from ledger.errors import ConflictError, InputError, NotFoundError
from ledger.installation import certification_from_profile
from ledger.service import utc_now
from ledger.statements import parse_statement
from ledger.token import BlanketPeriod, CertifierRole, Party
from origin_rules import BillOfMaterials

__all__ = ["Blanket", "Importer", "IssueRequest", "issue_with_held_key", "router"]

router = api_router(prefix="/v1", tags=["issuing"])

_PROFILE_EXAMPLE: dict[str, Any] = {
    "name": "Frenos del Bajío S.A. de C.V.", "country": "MX",
    "address": "Av. Industrial 410, Celaya, Gto., MX",
    "email": "cumplimiento@frenosbajio.example", "phone": "+52 461 555 0142",
    "contact": "Ana Lucía Ortega", "title": "Gerente de Comercio Exterior"}
_DIGEST = "3f1c9a" + "0" * 58


class Profile(BaseModel):
    """The party's Annex 5-A contact details, printed on its certifications."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        **_PROFILE_EXAMPLE}]})
    name: str = Field(max_length=200)
    country: str = Field(min_length=2, max_length=2)
    address: str = Field(max_length=300)
    email: str = Field(max_length=200)
    phone: str = Field(max_length=40)
    contact: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    tax_id: str | None = Field(None, max_length=40)


@router.post("/signing-keys", status_code=201, summary="Let the service hold your key",
             responses={201: {"content": {"application/json": {"example": {
                 "kid": "did:key:z6Mk...#z6Mk...", "index": 14, "party": "frenos-bajio",
                 "replaces": None}}}}})
def new_signing_key(body: Profile, request: Request, caller: Caller = allow(*SMES)
                    ) -> dict[str, Any]:
    """A new key for your party, logged and held sealed; it replaces a held current key."""
    service = service_of(request)
    account = caller.require()
    service.vault.require_configured()  # before a key is made that could not be kept
    profile = {"id": account.party_id, **body.model_dump(exclude_none=True)}
    public = {k: profile[k] for k in ("id", "name", "country")}
    new = SigningKey.generate()
    known = service.ledger.store.party_keys(account.party_id)
    replaces = None
    if not known:
        service.vault.hold(new, profile)
        kid, index = service.ledger.register_key(new, public)
    else:
        try:
            current = service.held_key(caller)
        except NotFoundError:
            raise ConflictError(f"party {account.party_id} already has keys in the log that "
                                "the service does not hold: rotate with your current key "
                                "(tmec keys rotate) or ask the registrar to admit a new one"
                                ) from None
        service.vault.hold(new, profile)
        kid, index = service.ledger.rotate_key(current.key, new)
        replaces = current.kid
    return {"kid": kid, "index": index, "party": account.party_id, "replaces": replaces}


class Identity(BaseModel):
    """The identity the party's origin tokens name as ``issuer``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"method": "did:web"}]})
    method: IssuerMethod


_IDENTITY_EXAMPLE = {"party": "frenos-bajio", "method": "did:web",
                     "issuer": "did:web:ledger.example:parties:frenos-bajio"}


def _identity(service: Service, party: str, method: IssuerMethod) -> dict[str, Any]:
    return {"party": party, "method": method.value,
            "issuer": service.issuer_did(party, method)}


@router.get("/identity", summary="The identity your tokens are issued under",
            responses={200: {"content": {"application/json": {"example": _IDENTITY_EXAMPLE}}}})
def get_identity(request: Request, caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """did:key (``issuer`` null: each token names its signing key's did:key) or did:web."""
    service = service_of(request)
    party = caller.require().party_id
    return _identity(service, party, service.accounts.identity(party))


@router.put("/identity", summary="Choose did:key or did:web for your tokens",
            responses={200: {"content": {"application/json": {"example": _IDENTITY_EXAMPLE}}}})
def put_identity(body: Identity, request: Request, caller: Caller = allow(*SMES)
                 ) -> dict[str, Any]:
    """From the next token on (tokens already issued keep their issuer). did:web needs the
    service at the root of a host (``TMEC_PUBLIC_URL``); otherwise 422
    ``ledger.token_invalid.issuer``.
    """
    service = service_of(request)
    service.choose_identity(caller, body.method)
    return _identity(service, caller.require().party_id, body.method)


class Blanket(BaseModel):
    """Annex 5-A element 8: the period a blanket certification covers (at most 12 months)."""

    model_config = ConfigDict(extra="forbid")
    start: date
    end: date


class Importer(BaseModel):
    """Annex 5-A element 5, when known."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    address: str = Field(max_length=300)
    country: str = Field(min_length=2, max_length=2)


class IssueRequest(BaseModel):
    """What the token certifies besides the BOM: the shipment and Annex 5-A choices."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "shipmentId": "FBA-PED-26-3807-6001842", "role": "producer",
        "invoiceNumber": "FBA-2026-0042", "bom": {"format": "tmec-bom/1", "...": "..."}}]})
    shipment_id: str = Field(alias="shipmentId", min_length=1, max_length=200)
    role: CertifierRole = CertifierRole.PRODUCER
    invoice_number: str | None = Field(None, alias="invoiceNumber", max_length=100)
    blanket_period: Blanket | None = Field(None, alias="blanketPeriod")
    importer: Importer | None = None
    supersedes: str | None = Field(None, max_length=64)
    bom: dict[str, Any] | None = Field(None, description="The tmec-bom/1 document (JSON "
                                       "body); in a multipart body, the bom file(s) instead.")


_ISSUE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/IssueRequest"},
                         "example": {"shipmentId": "FBA-PED-26-3807-6001842",
                                     "role": "producer", "bom": {"format": "tmec-bom/1"}}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "issue": {"type": "string", "description": "IssueRequest as JSON, without bom"},
        "bom": {"type": "string", "format": "binary"},
        "items": {"type": "string", "format": "binary"},
        "lines": {"type": "string", "format": "binary"},
        "document": {"type": "string", "format": "binary"}}}},
}}


def _loads(data: bytes, what: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(data, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiProblem("api.request_invalid", f"{what} is not valid JSON: {exc}") from None


async def _issue_request(request: Request) -> tuple[IssueRequest, str,
                                                     dict[str, tuple[str, bytes]]]:
    kind = media_type(request)
    if kind in JSON_MEDIA:
        parsed = _loads(await request.body(), "the request")
        body = IssueRequest.model_validate(parsed) if isinstance(parsed, dict) else None
        if body is None or body.bom is None:
            raise ApiProblem("api.request_invalid", "a JSON request carries the BOM as 'bom' "
                             "(a tmec-bom/1 document)")
        return body, "json", {"bom": ("bom.json", json.dumps(body.bom).encode("utf-8"))}
    if kind != "multipart/form-data":
        raise ApiProblem("api.unsupported_media_type", "send application/json, or "
                         "multipart/form-data with an 'issue' field and the BOM file(s)")
    files = await form_files(request, extra=("issue",))
    issue = files.pop("issue", None)
    if issue is None:
        raise ApiProblem("api.request_invalid", "a multipart request needs the 'issue' field "
                         "(IssueRequest as JSON)")
    parsed = _loads(issue[1], "the issue field")
    if not isinstance(parsed, dict) or "bom" in parsed:
        raise ApiProblem("api.request_invalid", "the issue field is a JSON object without "
                         "'bom' (the BOM travels as files)")
    return IssueRequest.model_validate(parsed), "multipart", files


def _links(service: Service, digest: str) -> dict[str, str]:
    base = service.settings.public_url
    return {"token": f"{base}/v1/tokens/{digest}", "bundle": f"{base}/v1/tokens/{digest}/bundle",
            "status": f"{base}/v1/tokens/{digest}/status", "verify": f"{base}/v1/verify/{digest}"}


@router.post("/tokens", status_code=201, summary="Issue an origin token (service-held key)",
             openapi_extra={"requestBody": _ISSUE_BODY},
             responses={201: {"content": {"application/json": {"example": {
                 "tokenDigest": _DIGEST, "index": 15, "supersedes": None,
                 "token": {"type": ["VerifiableCredential", "UsmcaOriginToken"]},
                 "links": {"verify": f"http://127.0.0.1:8000/v1/verify/{_DIGEST}"}}}}}})
async def issue_token(request: Request, caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """Determine origin, sign with the held key, log the token; the shipment's one active
    token (a correction names the token it `supersedes`).
    """
    service = service_of(request)
    try:
        body, kind, files = await _issue_request(request)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise ApiProblem("api.request_invalid", f"the issue request: {exc}") from None

    def run() -> dict[str, Any]:
        bom = read_bom_upload("json" if kind == "json" else "multipart", files, {})
        return issue_with_held_key(service, caller, body, bom)

    return await run_in_threadpool(run)


def issue_with_held_key(service: Service, caller: Caller, body: IssueRequest,
                        bom: BillOfMaterials) -> dict[str, Any]:
    """Certify `bom` for `body`'s shipment with the key the service holds for the caller's
    party: the Annex 5-A certification from the party's profile, a status-list entry, the
    token signed and logged (blocking: run it in a worker thread).

    What ``POST /v1/tokens`` does once it has read the request; the SME's web page calls
    it too, so a token issued from a page is issued exactly as over the API.
    """
    held, issuer = service.issuing_as(caller)  # issuer None: the key's did:key
    blanket = (BlanketPeriod(body.blanket_period.start, body.blanket_period.end)
               if body.blanket_period else None)
    importer = (Party(body.importer.name, body.importer.address, body.importer.country)
                if body.importer else None)
    replaced = (service.issued_by(caller, body.supersedes)
                if body.supersedes is not None else None)
    certification = certification_from_profile(
        held.party, body.role, bom.producer, blanket=blanket, invoice=body.invoice_number,
        importer=importer, signed_on=utc_now().date())
    _, entry = service.status_lists.allocate()  # inside the signed token
    prepared = service.ledger.prepare_token(
        bom, certification, shipment_id=body.shipment_id, key=held.key,
        supersedes=replaced, credential_status=entry, issuer=issuer,
        key_checked=True)  # by held_key
    result = service.log_prepared(prepared)
    return {"tokenDigest": result.digest, "index": result.index, "supersedes": replaced,
            "token": result.token, "links": _links(service, result.digest)}


@router.post("/tokens/signed", status_code=201,
             summary="Log a token you signed yourself (your key stays with you)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {
                     "type": "object", "required": ["token", "statement", "disclosureRecords"],
                     "properties": {
                         "token": {"type": "object", "description": "the signed origin token"},
                         "statement": {"type": "object",
                                       "description": "its signed token statement"},
                         "disclosureRecords": {
                             "type": "string", "description": "base64 of the salted line "
                             "records the token commits to (tmec remote issue --key makes "
                             "them); kept so its lines can be disclosed to customs"}}},
                     "example": {"token": {"type": ["VerifiableCredential",
                                                    "UsmcaOriginToken"]},
                                 "statement": {"v": 1, "type": "token",
                                               "tokenDigest": _DIGEST},
                                 "disclosureRecords": "eyJ..."}}}}},
             responses={201: {"content": {"application/json": {"example": {
                 "tokenDigest": _DIGEST, "index": 15, "supersedes": None,
                 "links": {"verify": f"http://127.0.0.1:8000/v1/verify/{_DIGEST}"}}}}}})
async def submit_signed_token(request: Request, caller: Caller = allow(*SMES)
                              ) -> dict[str, Any]:
    """For a party that keeps its signing key: the CLI determines origin and signs on the
    party's machine, the service checks the token, its statement and its disclosure
    records belong together and logs them in one transaction, as for a token it signs.
    """
    service = service_of(request)
    if media_type(request) not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type", "send the token as application/json")
    raw = _loads(await request.body(), "the signed token")
    if not isinstance(raw, dict) or set(raw) != {"token", "statement", "disclosureRecords"}:
        raise ApiProblem("api.request_invalid", "send {\"token\", \"statement\", "
                         "\"disclosureRecords\"} and nothing else")
    token, statement, records = raw["token"], raw["statement"], raw["disclosureRecords"]
    if not isinstance(token, dict) or not isinstance(statement, dict) or not isinstance(
            records, str):
        raise ApiProblem("api.request_invalid", "token and statement are objects, "
                         "disclosureRecords a base64 string")
    try:
        decoded = base64.b64decode(records, validate=True)
    except ValueError:
        raise ApiProblem("api.request_invalid", "disclosureRecords is not base64") from None
    account = caller.require()

    def run() -> dict[str, Any]:
        signer = statement.get("signature", {}).get("kid") if isinstance(
            statement.get("signature"), dict) else None
        record = service.ledger.store.key(signer) if isinstance(signer, str) else None
        if record is None or record.party_id != account.party_id:
            raise ApiProblem("api.forbidden", "the token is not signed by a key of your party")
        result = service.ledger.log_signed_token(token, statement, decoded)
        return {"tokenDigest": result.digest, "index": result.index,
                "supersedes": statement.get("supersedes"),
                "links": _links(service, result.digest)}

    return await run_in_threadpool(run)


class Reason(BaseModel):
    """Why, in words kept with the log entry."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "wrong supplier on line 4"}]})
    reason: str = Field(min_length=1, max_length=500)


class Supersede(BaseModel):
    """The later token (same party, logged after) that corrects this one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"newToken": _DIGEST, "reason": "invoice number corrected"}]})
    new_token: str = Field(alias="newToken", min_length=8, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/tokens/{digest}/revoke", summary="Revoke a token (issuer or registrar)",
             responses={200: {"content": {"application/json": {"example": {
                 "tokenDigest": _DIGEST, "index": 16}}}}})
def revoke_token(digest: str, body: Reason, request: Request,
                 caller: Caller = allow(*SMES, Role.REGISTRAR)) -> dict[str, Any]:
    """Log the revocation: verifiers reject the token from the next bundle on."""
    service = service_of(request)
    full = service.ledger.resolve_token(digest)
    if caller.role is Role.REGISTRAR:
        index = service.ledger.revoke_token(full, signer=None, reason=body.reason)
    else:
        service.require_issuer(caller, full)
        key = service.held_key(caller).key
        index = service.ledger.revoke_token(full, signer=key, reason=body.reason)
    return {"tokenDigest": full, "index": index}


@router.post("/tokens/{digest}/supersede", summary="Mark a token corrected by a later one",
             responses={200: {"content": {"application/json": {"example": {
                 "tokenDigest": _DIGEST, "newTokenDigest": _DIGEST, "index": 17}}}}})
def supersede_token(digest: str, body: Supersede, request: Request,
                    caller: Caller = allow(*SMES)) -> dict[str, Any]:
    """Log that `newToken` replaces this token (both the caller's party's)."""
    service = service_of(request)
    old = service.issued_by(caller, digest)
    new = service.issued_by(caller, body.new_token)
    key = service.held_key(caller).key
    index = service.ledger.supersede_token(old, new, signer=key, reason=body.reason)
    return {"tokenDigest": old, "newTokenDigest": new, "index": index}


@router.post("/statements", status_code=201, summary="Submit a statement you signed",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object"}, "example": {
                     "v": 1, "type": "revoke", "target": "token", "tokenDigest": _DIGEST,
                     "time": "2026-12-01T15:00:00Z", "reason": "wrong BOM",
                     "signature": {"kid": "did:key:z6Mk...#z6Mk...", "sig": "..."}}}}}},
             responses={201: {"content": {"application/json": {"example": {
                 "index": 18, "type": "revoke"}}}}})
async def submit_statement(request: Request, caller: Caller = allow(*SMES)
                           ) -> dict[str, Any]:
    """A key, revoke or supersede statement signed by a key of your party; the ledger
    checks the signature and the log's rules as for its own statements.
    """
    service = service_of(request)
    if media_type(request) not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type", "send the statement as application/json")
    raw = _loads(await request.body(), "the statement")
    if not isinstance(raw, dict):
        raise ApiProblem("api.request_invalid", "a statement is a JSON object")
    account = caller.require()

    def run() -> dict[str, Any]:
        statement = parse_statement(raw)
        kind = statement.kind.value
        if kind not in ("key", "revoke", "supersede"):
            raise InputError(f"a {kind} statement is not submitted by parties (token "
                             "statements come with their token; status is the registrar's)")
        if kind == "key" and statement.data.get("party", {}).get("id") != account.party_id:
            raise ApiProblem("api.forbidden", "a key statement names your own party")
        if kind != "key" or statement.data.get("action") != "add":
            record = service.ledger.store.key(statement.signer)
            if record is None or record.party_id != account.party_id:
                raise ApiProblem("api.forbidden", "the statement is not signed by a key of "
                                 "your party")
        (index,) = service.ledger.append([raw])
        return {"index": index, "type": kind}

    return await run_in_threadpool(run)

