"""The W3C VC-API issuer and verifier: ``POST /credentials/issue`` and ``/credentials/verify``.

The generic credential surface beside the origin-token checks (`POST /v1/verify` of a
bundle stays where it is): any VC secured with an eddsa-jcs-2022 DataIntegrityProof, as the
VC-API (W3C CCG, now "VCALM", ``issuer.yml`` / ``verifier.yml``) defines the two calls, so
that wallets, customs pilots and the W3C vc-di-eddsa test suite can talk to the service.

* **Issue** — body ``{credential, options}``; answer 201 ``{verifiableCredential}``, the
  credential signed by the service's own did:key (`ledger.api.vc_issuer`). Only the
  **registrar** may call it: whatever is issued is signed in the operator's name, so an
  open issuer would let anyone put words in its mouth (parties sign their origin tokens
  with their own keys through ``/v1/tokens``). A client gives its key as
  ``Authorization: Bearer KEY`` (the W3C suite through ``headers`` in its local config).
  Options (VC-API ``IssueCredentialOptions``): ``credentialId`` (accepted; this service
  keeps no copy of what it issues, so there is nothing to look up by it later) and
  ``mandatoryPointers`` (refused unless empty: eddsa-jcs-2022 discloses everything).
* **Verify** — body ``{verifiableCredential, options}``; public, like every verification
  here. The credential is secured by eddsa-jcs-2022 proofs, or enveloped: an
  ``EnvelopedVerifiableCredential`` whose id is ``data:application/vc+jwt,<JWS>`` (VCDM 2.0
  s.4.13, VC-JOSE-COSE; `ledger.credentials`), such as the JOSE copies of origin tokens.
  200 ``{verified: true, checks, warnings, errors, problemDetails}`` when the credential
  verifies; **400** with the same members (and ``verified: false``) inside an
  RFC 9457 problem when it does not, as VC-API's verifier answers "invalid input" and the
  W3C suite expects 400 or 422 for a credential that fails. Options: ``checks`` (which of
  ``proof``, ``validFrom``, ``validUntil``, ``credentialStatus`` to run; ``proof`` always
  runs), ``returnResults`` (per-member ``results``), ``returnCredential``,
  ``returnProblemDetails`` (accepted; problems are always returned). Keys resolve offline
  only (did:key); ``credentialStatus`` entries naming this service's own Bitstring Status
  Lists are read from them, others are reported as not checked.

Malformed requests (not strict JSON, an unknown member or option, a credential that is not
an object) are 400 problems with the stable code ``api.vc.request_invalid`` and the
specification's problem type in ``errors``; an unknown option is VCALM's
``UNKNOWN_OPTION_PROVIDED``. Body size is bounded by the app's limit
(``TMEC_API_MAX_BODY_BYTES``, 413) and nesting by `MAX_DEPTH`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ledger.api.access import Caller, allow, public
from ledger.api.accounts import Role
from ledger.api.context import Service
from ledger.api.problems import ApiProblem, problem_response
from ledger.api.routes.common import JSON_MEDIA, FastJSON, api_router, media_type, service_of
from ledger.canonical import parse_json
from ledger.credentials import (
    ALL_CHECKS,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    CredentialVerification,
    ProblemDetail,
    StatusAnswer,
    issue_credential,
    verify_any_credential,
)
from ledger.errors import EncodingError
from ledger.service import utc_now

__all__ = ["MAX_DEPTH", "UNKNOWN_OPTION_PROVIDED", "router"]

router = api_router(tags=["vc-api"])

#: VCALM "Error Handling": an option unknown to the implementation.
UNKNOWN_OPTION_PROVIDED: Final = "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"
#: Deepest nesting of a request body (a credential is a few levels deep; the limit keeps
#: canonicalization far from the interpreter's recursion limit).
MAX_DEPTH: Final = 64

_EXAMPLE_CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:86294362-4254-4f36-854f-3952fe42555d",
    "type": ["VerifiableCredential"],
    "issuer": "did:key:z6Mk...",
    "credentialSubject": {"id": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b",
                          "name": "ExampleClaim"}}
_EXAMPLE_PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
    "created": "2026-12-01T15:00:00Z", "verificationMethod": "did:key:z6Mk...#z6Mk...",
    "proofPurpose": "assertionMethod", "@context": ["https://www.w3.org/ns/credentials/v2"],
    "proofValue": "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3"}
_EXAMPLE_SIGNED = {**_EXAMPLE_CREDENTIAL, "proof": _EXAMPLE_PROOF}
_PROBLEM = {"type": "object", "required": ["type", "title", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "detail": {"type": "string"}}}
VERIFICATION_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["verified", "checks", "warnings", "errors", "problemDetails"],
    "properties": {"verified": {"type": "boolean"},
                   "checks": {"type": "array", "items": {"type": "string"}},
                   "warnings": {"type": "array", "items": _PROBLEM},
                   "errors": {"type": "array", "items": _PROBLEM},
                   "problemDetails": {"type": "array", "items": _PROBLEM},
                   "results": {"type": "object"}, "credential": {"type": "object"}},
    "description": "VC-API's verification result; a failed verification is the same "
                   "members inside a 400 problem document (verified false).",
}


def _depth_within(value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` arrays and objects deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _invalid(detail: str, kind: str = PARSING_ERROR) -> ApiProblem:
    problem = ProblemDetail(kind, detail).to_dict()
    return ApiProblem("api.vc.request_invalid", detail, errors=[problem],
                      problemDetails=[problem])


async def _request_body(request: Request, members: frozenset[str]) -> dict[str, Any]:
    """The request's JSON object, strictly parsed, with only `members` (and ``@context``,
    which some clients send at the top level, as the suite's README shows).
    """
    if media_type(request) not in JSON_MEDIA:
        raise ApiProblem("api.unsupported_media_type", "send the request as "
                         "application/json (or application/ld+json)")
    try:
        body = parse_json(await request.body())
    except EncodingError as exc:
        raise _invalid(f"the body is not strict JSON: {exc.message}") from None
    if not isinstance(body, dict):
        raise _invalid("the body is a JSON object")
    if not _depth_within(body, MAX_DEPTH):
        raise _invalid(f"the body nests deeper than {MAX_DEPTH} levels")
    unknown = sorted(set(body) - members - {"@context"})
    if unknown:
        raise _invalid(f"unknown member {unknown[0][:80]!r} (expected "
                       f"{', '.join(sorted(members))})")
    return body


def _options(body: Mapping[str, Any], kinds: Mapping[str, type]) -> dict[str, Any]:
    """``options``, each known one of its JSON type; an unknown one is refused (VCALM)."""
    options = body.get("options")
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise _invalid("options: expected an object")
    for name, value in options.items():
        kind = kinds.get(name)
        if kind is None:
            raise _invalid(f"options.{name[:80]}: not an option of this endpoint (known: "
                           f"{', '.join(sorted(kinds))})", UNKNOWN_OPTION_PROVIDED)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            expected = {bool: "a boolean", str: "a string", list: "an array"}[kind]
            raise _invalid(f"options.{name}: expected {expected}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise _invalid(f"options.{name}: expected an array of strings")
    return dict(options)


@router.post("/credentials/issue", status_code=201,
             summary="Issue a credential (VC-API) under the service's did:key",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object", "required": ["credential"],
                                                 "properties": {
                                                     "credential": {"type": "object"},
                                                     "options": {"type": "object"}}},
                                      "example": {"credential": _EXAMPLE_CREDENTIAL,
                                                  "options": {}}}}}},
             responses={201: {"content": {"application/json": {
                 "schema": {"type": "object", "required": ["verifiableCredential"],
                            "properties": {"verifiableCredential": {"type": "object"}}},
                 "example": {"verifiableCredential": _EXAMPLE_SIGNED}}}}})
async def issue(request: Request, caller: Caller = allow(Role.REGISTRAR)) -> dict[str, Any]:
    """Sign `credential` (VC 2.0, no proof) with an eddsa-jcs-2022 DataIntegrityProof.

    ``issuer`` may be left out (it becomes the service's DID, which ``tmec demo`` writes
    to ``vc-api.json``) or name that DID; any other issuer is refused with 400, naming it.
    """
    del caller
    service = service_of(request)
    issuer = service.vc_issuer()  # 503 before reading anything when none is configured
    body = await _request_body(request, frozenset({"credential", "options"}))
    if "credential" not in body:
        raise _invalid("credential: missing")
    options = _options(body, {"credentialId": str, "mandatoryPointers": list})
    if options.get("mandatoryPointers"):
        raise _invalid("options.mandatoryPointers: eddsa-jcs-2022 has no selective "
                       "disclosure; send none", MALFORMED_VALUE_ERROR)
    created = utc_now().isoformat(timespec="seconds").replace("+00:00", "Z")
    # CPU only (one canonicalization, one signature): no thread hop.
    signed = issue_credential(body["credential"], issuer.key, created=created)
    return {"verifiableCredential": signed}


def _status_resolver(service: Service) -> Any:
    """What this service knows of a ``credentialStatus`` entry: its own lists only."""
    lists = service.status_lists

    def resolve(entry: Mapping[str, Any]) -> StatusAnswer:
        number = lists.number_of(entry.get("statusListCredential"))
        if number is None:
            return StatusAnswer(None, "the list is not this service's, and this verifier "
                                      "fetches none")
        if entry.get("type") != "BitstringStatusListEntry" or entry.get(
                "statusPurpose") != "revocation":
            return StatusAnswer(None, "this service's lists are BitstringStatusListEntry "
                                      "revocation lists")
        index = entry.get("statusListIndex")
        if not isinstance(index, str) or not index.isascii() or not index.isdigit() or (
                len(index) > 12):
            return StatusAnswer(None, "statusListIndex is not a decimal string")
        try:
            bit = lists.bit(number, int(index), service.ledger.log_key,
                            service.ledger.store.standing_watermark())
        except EncodingError as exc:
            return StatusAnswer(None, exc.message)
        return StatusAnswer(bit, "revoked in the ledger's log" if bit else "")

    return resolve


def _verify(service: Service, credential: Any, checks: frozenset[str]
            ) -> CredentialVerification:
    return verify_any_credential(credential, now=utc_now(), checks=checks,
                                 resolve=service.dids.resolve,
                                 issuer_keys=service.dids.keys_of,
                                 status=_status_resolver(service))


@router.post("/credentials/verify",
             summary="Verify an eddsa-jcs-2022 or application/vc+jwt credential (VC-API)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object",
                                                 "required": ["verifiableCredential"],
                                                 "properties": {
                                                     "verifiableCredential": {
                                                         "type": "object"},
                                                     "options": {"type": "object"}}},
                                      "example": {"verifiableCredential": _EXAMPLE_SIGNED,
                                                  "options": {"checks": ["proof"]}}}}}},
             responses={200: {"content": {"application/json": {
                 "schema": VERIFICATION_RESULT,
                 "example": {"verified": True, "checks": ["proof"], "warnings": [],
                             "errors": [], "problemDetails": []}}}}})
async def verify(request: Request, caller: Caller = public()) -> JSONResponse:
    """Verify the credential's proofs (offline key resolution), data model, validity
    period and, for this service's own status lists, its status.
    """
    del caller
    body = await _request_body(request, frozenset({"verifiableCredential", "options"}))
    if "verifiableCredential" not in body:
        raise _invalid("verifiableCredential: missing")
    options = _options(body, {"checks": list, "returnResults": bool,
                              "returnProblemDetails": bool, "returnCredential": bool})
    checks = frozenset(options.get("checks", ALL_CHECKS))
    if not checks <= ALL_CHECKS:
        unknown = sorted(checks - ALL_CHECKS)[0]
        raise _invalid(f"options.checks: {unknown[:80]!r} is not a check of this verifier "
                       f"(known: {', '.join(sorted(ALL_CHECKS))})", UNKNOWN_OPTION_PROVIDED)
    credential = body["verifiableCredential"]
    service = service_of(request)
    # A status entry may name one of our lists: a query, so off the event loop.
    result = await run_in_threadpool(_verify, service, credential, checks)
    answer = result.to_dict(with_results=bool(options.get("returnResults")))
    if options.get("returnCredential"):
        answer["credential"] = credential
    if result.verified:
        return FastJSON(answer)
    first = result.errors[0]
    return problem_response("api.vc.not_verified", f"the credential does not verify: "
                            f"{first.title}: {first.detail}", **answer)
