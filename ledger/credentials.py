"""Any Verifiable Credential secured with eddsa-jcs-2022: issue one, verify one.

Origin tokens (`ledger.token`) are one kind of credential with a strict shape of their
own. The W3C VC-API surface (`ledger.api.routes.vc_api`) issues and verifies credentials of
any shape, so this module applies only what the general specifications require, and reuses
the token module's eddsa-jcs-2022 code (`sign_credential`, `verify_credential`) for the
proof itself; nothing here canonicalizes or signs on its own.

* `issue_credential` — an unsecured credential of the VC Data Model 2.0 (its ``@context``
  first, a ``VerifiableCredential`` type, a ``credentialSubject``; VCDM 2.0 s.4) gets the
  issuer's DID as ``issuer`` and a DataIntegrityProof (vc-di-eddsa s.3.3.1). Refused, with
  the path of the member (`CredentialError`): another issuer named (VC-API "Issue
  Credential", 400), a proof already attached (VC-API: an issuer configured for
  credentials without proofs returns an error), malformed validity dates.
* `verify_any_credential` — gathers problems instead of raising (VC-API "Error Handling":
  "avoid raising errors while performing verification"): *errors* for the data model and
  the proofs, *warnings* for the validity period and the status ("Verification Errors vs.
  Warnings"); ``verified`` is true exactly when there is no error. Each proof of a proof
  set is checked on its own (VC Data Integrity 1.0 s.4.5); proof chains
  (``previousProof``) are reported as unsupported. Keys resolve offline only: a did:key
  names its own key, and a caller-supplied resolver may know more (our own did:web
  documents); anything else is an error, never a network fetch. Whether the issuer
  controls the proof's verification method is VCDM's question, not Data Integrity's:
  an issuer that is a did:key controls exactly its own key, one the caller's
  ``issuer_keys`` knows (our did:web) the keys its document lists, and a key outside them
  is an error; an issuer that does not resolve offline (an https URL, as in vc-di-eddsa's
  own Appendix B vector, or another host's DID) is reported as a warning, so ``verified``
  says the proof holds and the warning says who made it is not established.

Problem types are the specifications' own URLs: VCDM 2.0 s.7.2 (PARSING_ERROR,
CRYPTOGRAPHIC_SECURITY_ERROR, MALFORMED_VALUE_ERROR, RANGE_ERROR), VC Data Integrity 1.0
s.4.7 (PROOF_VERIFICATION_ERROR) and Bitstring Status List 1.0 s.3.5
(STATUS_VERIFICATION_ERROR, STATUS_RETRIEVAL_ERROR).

Enveloped credentials (VCDM 2.0 s.4.13): an ``EnvelopedVerifiableCredential`` whose ``id``
is ``data:application/vc+jwt,<JWS>`` (VC-JOSE-COSE) is opened (`ledger.enveloped`) and the
credential in its payload judged as above, with the JWS in the place of the proof: its
``kid`` resolves offline as a proof's verification method does (did:key, our did:web),
the issuer must control that key (an ``iss`` claim or header, if present, must be the
issuer: VC-JOSE-COSE s.4.1.1), and the signature must verify. A malformed JWS is a
PARSING_ERROR, a refused header (``alg`` ``none``, HMAC, ``crit``, a key in the header,
another ``typ``) a PROOF_VERIFICATION_ERROR, a signature that does not verify a
CRYPTOGRAPHIC_SECURITY_ERROR. Other envelopes (``vc+sd-jwt``, ``vc+cose``) are refused.

What this module does not do: JSON-LD processing (eddsa-jcs-2022 needs none; contexts are
never fetched), credential schemas (reported as not checked), presentations, or reading a
clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from ledger.crypto import SigningKey
from ledger.enveloped import enveloped_jws, is_enveloped, read_vc_jwt, verify_vc_jwt
from ledger.errors import (
    CredentialError,
    EncodingError,
    JoseError,
    SignatureError,
    TokenError,
    UnknownKeyError,
)
from ledger.multikey import (
    DID_KEY_PREFIX,
    decode_did_key,
    decode_verification_method,
    did_key,
    verification_method_id,
)
from ledger.token import (
    CREDENTIAL_TYPE,
    CRYPTOSUITE,
    PROOF_TYPE,
    VC_CONTEXT_V2,
    sign_credential,
    verify_credential,
)

__all__ = [
    "ALL_CHECKS",
    "CRYPTOGRAPHIC_SECURITY_ERROR",
    "MALFORMED_VALUE_ERROR",
    "MAX_PROOFS",
    "PARSING_ERROR",
    "PROOF_VERIFICATION_ERROR",
    "RANGE_ERROR",
    "STATUS_RETRIEVAL_ERROR",
    "STATUS_VERIFICATION_ERROR",
    "VC_CONTEXT_V1",
    "CredentialVerification",
    "IssuerKeys",
    "KeyResolver",
    "ProblemDetail",
    "ProofResult",
    "StatusAnswer",
    "StatusResolver",
    "issue_credential",
    "verify_any_credential",
]

#: VCDM 1.1's base context: credentials under it verify too (vc-di-eddsa covers both).
VC_CONTEXT_V1: Final = "https://www.w3.org/2018/credentials/v1"

_VCDM: Final = "https://www.w3.org/TR/vc-data-model#"
#: VCDM 2.0 s.7.2: the input could not be read as a credential.
PARSING_ERROR: Final = _VCDM + "PARSING_ERROR"
#: VCDM 2.0 s.7.2: the securing mechanism detected a modification (a bad signature).
CRYPTOGRAPHIC_SECURITY_ERROR: Final = _VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
#: VCDM 2.0 s.7.2: a member's value is malformed (the path is given).
MALFORMED_VALUE_ERROR: Final = _VCDM + "MALFORMED_VALUE_ERROR"
#: VCDM 2.0 s.7.2: a value outside its range (here: now outside the validity period).
RANGE_ERROR: Final = _VCDM + "RANGE_ERROR"
#: VC Data Integrity 1.0 s.4.7: the proof could not be verified.
PROOF_VERIFICATION_ERROR: Final = "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
_STATUS: Final = "https://www.w3.org/ns/credentials/status-list#"
#: Bitstring Status List 1.0 s.3.5: the status list could not be retrieved.
STATUS_RETRIEVAL_ERROR: Final = _STATUS + "STATUS_RETRIEVAL_ERROR"
#: Bitstring Status List 1.0 s.3.5: the status entry does not validate.
STATUS_VERIFICATION_ERROR: Final = _STATUS + "STATUS_VERIFICATION_ERROR"

#: The checks a verification may run, named by the VCDM member they concern (the keys of
#: VC-API's ``results``). ``proof`` always runs: a credential is never "verified" unsigned.
ALL_CHECKS: Final = frozenset({"proof", "validFrom", "validUntil", "credentialStatus"})
#: Proofs of one proof set checked at most (each costs a canonicalization and a signature).
MAX_PROOFS: Final = 8
_BASE_CONTEXTS: Final = (VC_CONTEXT_V2, VC_CONTEXT_V1)


@dataclass(frozen=True, slots=True)
class ProblemDetail:
    """One problem (RFC 9457 members, as VC-API "Error Handling" uses them)."""

    type: str
    detail: str

    @property
    def title(self) -> str:
        """The short name the specifications give the type (after ``#``)."""
        return self.type.rpartition("#")[2]

    def to_dict(self) -> dict[str, str]:
        """``{type, title, detail}``."""
        return {"type": self.type, "title": self.title, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ProofResult:
    """What one proof of the credential gave (VC-API ``results.proof``)."""

    verified: bool
    proof: Mapping[str, Any]
    problem: ProblemDetail | None = None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """What the status resolver knows of one ``credentialStatus`` entry.

    `value` is the entry's bit (1: revoked or suspended for its purpose), or None when the
    list is not one the resolver can read offline (`detail` says why).
    """

    value: int | None
    detail: str = ""


@dataclass(frozen=True)
class CredentialVerification:
    """The outcome of `verify_any_credential`: problems gathered, nothing raised."""

    checks: tuple[str, ...]
    errors: tuple[ProblemDetail, ...]
    warnings: tuple[ProblemDetail, ...]
    proofs: tuple[ProofResult, ...] = ()
    results: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """True exactly when no error was found (VC-API: warnings do not count)."""
        return not self.errors

    def to_dict(self, *, with_results: bool = False) -> dict[str, Any]:
        """VC-API's verification result: ``verified``, ``checks``, ``warnings``,
        ``errors`` and ``problemDetails`` (errors then warnings, the newer spelling of the
        same list); ``results`` per checked member when `with_results`.
        """
        answer: dict[str, Any] = {
            "verified": self.verified, "checks": list(self.checks),
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
            "problemDetails": [p.to_dict() for p in (*self.errors, *self.warnings)],
        }
        if with_results:
            answer["results"] = {
                **self.results,
                "proof": [{"verified": p.verified, "input": dict(p.proof)}
                          for p in self.proofs]}
        return answer


# --------------------------------------------------------------------------------------
# Shared shape checks
# --------------------------------------------------------------------------------------


def _datetime(value: Any) -> datetime | None:
    """An XML Schema dateTimeStamp (with a zone), or None if `value` is not one."""
    if not isinstance(value, str) or len(value) > 64 or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer_id(value: Any) -> str | None:
    """VCDM 2.0 s.4.7: ``issuer`` is a URL or an object whose ``id`` is one."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and ":" in value else None


def _shape_problems(credential: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, what is wrong) for the VCDM members every credential has."""
    found: list[tuple[str, str]] = []
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] not in _BASE_CONTEXTS:
        found.append(("$.@context", f"must be an array whose first item is "
                                    f"{VC_CONTEXT_V2!r} (or VCDM 1.1's {VC_CONTEXT_V1!r})"))
    if CREDENTIAL_TYPE not in _types(credential.get("type")):
        found.append(("$.type", f"must include {CREDENTIAL_TYPE!r}"))
    if _issuer_id(credential.get("issuer")) is None:
        found.append(("$.issuer", "must be a URL, or an object whose id is a URL"))
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, Mapping) for s in subjects):
        found.append(("$.credentialSubject", "must be an object or a non-empty array of "
                                             "objects"))
    if "id" in credential and not (isinstance(credential["id"], str)
                                   and ":" in credential["id"]):
        found.append(("$.id", "must be a URL"))
    return found


def _version(credential: Mapping[str, Any]) -> int:
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else None
    return 1 if first == VC_CONTEXT_V1 else 2


def _period_members(version: int) -> tuple[str, str]:
    """The validity members: VCDM 2.0 s.4.9 or VCDM 1.1 s.4.6 / s.4.7."""
    return ("validFrom", "validUntil") if version == 2 else ("issuanceDate",
                                                              "expirationDate")


# --------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------


def issue_credential(credential: Any, key: SigningKey, *, created: str) -> dict[str, Any]:
    """Sign an unsecured VC 2.0 credential as the holder of `key` (its did:key).

    ``issuer`` may be absent (it becomes the DID), the DID itself, or an object whose
    ``id`` is the DID (kept, with its other members); anything else is refused, since the
    proof could only be made by this key. The credential's other members are signed as
    given: no validity period or id is invented (VC-API leaves both to the caller).

    Args:
        credential: The parsed ``credential`` member of the request (strict I-JSON).
        key: The issuer's key.
        created: The proof's ``created`` dateTimeStamp (injected: no clock here).

    Returns:
        A new document with the issuer set and the ``proof`` attached.

    Raises:
        CredentialError: Naming the member that makes the credential unacceptable.
    """
    if not isinstance(credential, Mapping):
        raise CredentialError(f"credential: expected an object, got "
                              f"{type(credential).__name__}")
    did = did_key(key.public_key)
    unsigned = dict(credential)
    if "proof" in unsigned:
        raise CredentialError("credential.proof: this issuer signs credentials without "
                              "proofs (no proof sets or chains)")
    if "issuer" not in unsigned:
        unsigned["issuer"] = did
    elif _issuer_id(unsigned["issuer"]) != did:
        raise CredentialError(f"credential.issuer: this service issues as {did}, not "
                              f"{str(_issuer_id(unsigned['issuer']))[:120]!r}")
    contexts = unsigned.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_CONTEXT_V2:
        raise CredentialError(f"credential.@context: must be an array whose first item is "
                              f"{VC_CONTEXT_V2!r} (this issuer writes VCDM 2.0)")
    problems = _shape_problems(unsigned)
    if problems:
        where, problem = problems[0]
        raise CredentialError(f"credential{where[1:]}: {problem}")
    moments = []
    for name in ("validFrom", "validUntil"):
        if name in unsigned:
            moment = _datetime(unsigned[name])
            if moment is None:
                raise CredentialError(f"credential.{name}: not an XML Schema dateTimeStamp "
                                      f"with a time zone (YYYY-MM-DDThh:mm:ssZ)")
            moments.append(moment)
    if len(moments) == 2 and moments[1] < moments[0]:
        raise CredentialError("credential.validUntil: earlier than validFrom")
    try:
        return sign_credential(unsigned, key, verification_method_id(key.public_key),
                               created)
    except (TokenError, EncodingError) as exc:
        raise CredentialError(f"credential: {exc.message}") from exc


# --------------------------------------------------------------------------------------
# Verifying
# --------------------------------------------------------------------------------------

KeyResolver = Callable[[str], bytes | None]
"""A verification method id -> its raw Ed25519 key, or None when unknown (offline only)."""

IssuerKeys = Callable[[str], frozenset[bytes] | None]
"""An issuer id -> the keys it controls for assertions now, or None when not known."""

StatusResolver = Callable[[Mapping[str, Any]], StatusAnswer]
"""A ``credentialStatus`` entry -> what is known of its bit, offline."""


def _controller(verification_method: str) -> str:
    return verification_method.partition("#")[0]


def _controlled_keys(issuer: str, issuer_keys: IssuerKeys | None) -> frozenset[bytes] | None:
    """The keys `issuer` controls for assertions, or None when that is not known offline.

    A did:key controls its own key and no other (did:key Method, "Document Creation
    Algorithm"); other identifiers are asked of `issuer_keys` (our own did:web documents).
    """
    if issuer.startswith(DID_KEY_PREFIX):
        try:
            return frozenset({decode_did_key(issuer)})
        except EncodingError:
            return frozenset()
    return None if issuer_keys is None else issuer_keys(issuer)


def _binding(issuer: str | None, key: bytes | None, method: str,
             issuer_keys: IssuerKeys | None) -> tuple[ProblemDetail | None,
                                                      ProblemDetail | None]:
    """(error, warning) on whether `issuer` controls the key of `method` (VCDM 2.0 s.4.7):
    an error when the issuer is known offline and does not, a warning when it is not
    known offline and `method` is not its own.
    """
    if issuer is None or key is None:
        return None, None
    controlled = _controlled_keys(issuer, issuer_keys)
    if controlled is not None and key not in controlled:
        return ProblemDetail(PROOF_VERIFICATION_ERROR, f"the proof was made by "
                             f"{method[:120]!r}, a key the issuer {issuer[:120]!r} does not "
                             f"control"), None
    if controlled is None and _controller(method) != issuer:
        return None, ProblemDetail(PROOF_VERIFICATION_ERROR, (
            f"issuer {issuer[:120]!r} does not resolve offline, so whether it controls "
            f"{method[:120]!r} (which made the proof) is not known; the proof itself "
            f"verifies"))
    return None, None


def _check_proof(credential: Mapping[str, Any], proof: Any, issuer: str | None,
                 now: datetime, resolve: KeyResolver | None, issuer_keys: IssuerKeys | None
                 ) -> tuple[ProofResult, ProblemDetail | None]:
    """One proof of `credential` (the document carrying only that proof), and a warning
    when it verifies but its key is not known to be the issuer's.
    """
    shown = proof if isinstance(proof, Mapping) else {}

    def failed(kind: str, detail: str) -> tuple[ProofResult, None]:
        return ProofResult(False, shown, ProblemDetail(kind, detail)), None

    if not isinstance(proof, Mapping):
        return failed(PROOF_VERIFICATION_ERROR, "a proof is an object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return failed(PROOF_VERIFICATION_ERROR, f"proof type {proof.get('type')!r} with "
                      f"cryptosuite {proof.get('cryptosuite')!r}: only {PROOF_TYPE} with "
                      f"{CRYPTOSUITE} is verified here")
    if "previousProof" in proof:
        return failed(PROOF_VERIFICATION_ERROR, "proof chains (previousProof) are not "
                      "supported")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return failed(PROOF_VERIFICATION_ERROR, "proof.verificationMethod: expected a "
                      "non-empty string")
    key: bytes | None = None
    if method.startswith(DID_KEY_PREFIX):
        try:
            key = decode_verification_method(method)
        except EncodingError as exc:
            return failed(PROOF_VERIFICATION_ERROR, f"proof.verificationMethod: "
                          f"{exc.message}")
    elif resolve is not None:
        key = resolve(method)
    refused, binding = _binding(issuer, key, method, issuer_keys)
    if refused is not None:
        return ProofResult(False, shown, refused), None
    if "expires" in proof:
        expires = _datetime(proof["expires"])
        if expires is None or expires < now:
            return failed(PROOF_VERIFICATION_ERROR, "proof.expires: the proof has expired "
                          "or the date is not a dateTimeStamp")
    try:
        verify_credential({**credential, "proof": proof}, key)
    except SignatureError as exc:  # the signature, its encoding or its @context binding
        return failed(CRYPTOGRAPHIC_SECURITY_ERROR, exc.message)
    except UnknownKeyError as exc:
        return failed(PROOF_VERIFICATION_ERROR, f"{exc.message} (only did:key and this "
                      f"service's own DID documents resolve offline)")
    except (TokenError, EncodingError) as exc:
        return failed(PROOF_VERIFICATION_ERROR, exc.message)
    return ProofResult(True, shown), binding


def _check_period(credential: Mapping[str, Any], checks: frozenset[str], now: datetime,
                  errors: list[ProblemDetail], warnings: list[ProblemDetail],
                  results: dict[str, Any]) -> None:
    start_name, end_name = _period_members(_version(credential))
    for check, name in (("validFrom", start_name), ("validUntil", end_name)):
        if name not in credential:
            if name == "issuanceDate":  # VCDM 1.1 s.4.6: MUST be present
                errors.append(ProblemDetail(MALFORMED_VALUE_ERROR,
                                            "$.issuanceDate: missing (VCDM 1.1)"))
            continue
        moment = _datetime(credential[name])
        if moment is None:
            errors.append(ProblemDetail(MALFORMED_VALUE_ERROR, f"$.{name}: not an XML "
                                        f"Schema dateTimeStamp with a time zone"))
            continue
        if check not in checks:
            continue
        ok = moment <= now if check == "validFrom" else now <= moment
        results[check] = {"verified": ok, "input": credential[name]}
        if not ok:
            when = "not valid before" if check == "validFrom" else "expired at"
            warnings.append(ProblemDetail(RANGE_ERROR, f"$.{name}: the credential is "
                                          f"{when} {credential[name]}"))


def _check_status(credential: Mapping[str, Any], status: StatusResolver | None,
                  warnings: list[ProblemDetail], results: dict[str, Any]) -> None:
    entries = credential["credentialStatus"]
    checked = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
            warnings.append(ProblemDetail(STATUS_VERIFICATION_ERROR, "$.credentialStatus: "
                                          "an entry is an object with a type"))
            continue
        answer = status(entry) if status is not None else StatusAnswer(
            None, "this verifier fetches no status lists")
        if answer.value is None:
            warnings.append(ProblemDetail(STATUS_RETRIEVAL_ERROR, f"credentialStatus "
                                          f"{str(entry.get('id', ''))[:120]!r} not checked: "
                                          f"{answer.detail}"))
            continue
        checked.append({"value": answer.value, "verified": answer.value == 0,
                        "input": dict(entry)})
        if answer.value:
            warnings.append(ProblemDetail(STATUS_VERIFICATION_ERROR, f"the status list says "
                                          f"{entry.get('statusPurpose', 'status')!s:.40}: "
                                          f"{answer.detail}".rstrip(": ")))
    results["credentialStatus"] = checked


def verify_any_credential(credential: Any, *, now: datetime,
                          checks: frozenset[str] = ALL_CHECKS,
                          resolve: KeyResolver | None = None,
                          issuer_keys: IssuerKeys | None = None,
                          status: StatusResolver | None = None) -> CredentialVerification:
    """Verify a credential's eddsa-jcs-2022 proofs, data model, validity and status.

    Args:
        credential: The parsed ``verifiableCredential`` (strict I-JSON).
        now: The time to judge the validity period and proof expiry by (aware).
        checks: Which of `ALL_CHECKS` to run; ``proof`` and the data model always run.
        resolve: Keys of verification methods that are not did:key (our did:web).
        issuer_keys: The keys an issuer that is not a did:key controls (our did:web).
        status: What is known of ``credentialStatus`` entries (our own lists).

    Returns:
        The checks run, the errors (``verified`` is false when there is one) and warnings.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    run = ("proof", *sorted(checks & (ALL_CHECKS - {"proof"})))
    if not isinstance(credential, Mapping):
        problem = ProblemDetail(PARSING_ERROR, f"a credential is a JSON object, not "
                                f"{type(credential).__name__}")
        return CredentialVerification(run, (problem,), ())
    if is_enveloped(credential):
        return _verify_enveloped(credential, now, checks, run, resolve, issuer_keys, status)
    errors = [ProblemDetail(MALFORMED_VALUE_ERROR, f"{where}: {what}")
              for where, what in _shape_problems(credential)]
    warnings: list[ProblemDetail] = []
    results: dict[str, Any] = {}
    proofs = credential.get("proof")
    listed = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
    outcomes: list[ProofResult] = []
    if not listed:
        errors.append(ProblemDetail(PROOF_VERIFICATION_ERROR, "$.proof: the credential has "
                                    "no proof"))
    elif len(listed) > MAX_PROOFS:
        errors.append(ProblemDetail(PROOF_VERIFICATION_ERROR, f"$.proof: {len(listed)} "
                                    f"proofs; at most {MAX_PROOFS} are checked"))
    else:
        issuer = _issuer_id(credential.get("issuer"))
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        for proof in listed:
            outcome, binding = _check_proof(unsecured, proof, issuer, now, resolve,
                                            issuer_keys)
            outcomes.append(outcome)
            if outcome.problem is not None:
                errors.append(outcome.problem)
            if binding is not None:
                warnings.append(binding)
    _check_claims(credential, checks, now, status, errors, warnings, results)
    return CredentialVerification(run, tuple(errors), tuple(warnings), tuple(outcomes),
                                  results)


def _check_claims(credential: Mapping[str, Any], checks: frozenset[str], now: datetime,
                  status: StatusResolver | None, errors: list[ProblemDetail],
                  warnings: list[ProblemDetail], results: dict[str, Any]) -> None:
    """Validity period, status and schema of a credential whose securing was checked."""
    _check_period(credential, checks, now, errors, warnings, results)
    if "credentialStatus" in checks and "credentialStatus" in credential:
        _check_status(credential, status, warnings, results)
    if "credentialSchema" in credential:
        warnings.append(ProblemDetail(MALFORMED_VALUE_ERROR, "$.credentialSchema: not "
                                      "checked (this verifier fetches no schemas)"))


def _plain(value: Any) -> Any:
    """`value` with Decimals (from a JWS payload) as strings, for the JSON answer."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _verify_enveloped(envelope: Mapping[str, Any], now: datetime, checks: frozenset[str],
                      run: tuple[str, ...], resolve: KeyResolver | None,
                      issuer_keys: IssuerKeys | None, status: StatusResolver | None
                      ) -> CredentialVerification:
    """An ``EnvelopedVerifiableCredential`` (``application/vc+jwt``): open, verify the JWS
    under its kid's key, then judge the credential it carries.
    """
    def refused(kind: str, detail: str, header: Mapping[str, Any] | None = None
                ) -> CredentialVerification:
        problem = ProblemDetail(kind, detail)
        shown = {"type": "EnvelopedVerifiableCredential", "header": dict(header or {})}
        return CredentialVerification(run, (problem,), (), (ProofResult(False, shown,
                                                                         problem),))

    try:
        vc_jwt = read_vc_jwt(enveloped_jws(envelope))
    except EncodingError as exc:
        return refused(PARSING_ERROR, exc.message)
    except JoseError as exc:
        return refused(PROOF_VERIFICATION_ERROR, exc.message)
    header = vc_jwt.header
    credential = vc_jwt.credential
    kid = vc_jwt.kid
    key: bytes | None = None
    if kid.startswith(DID_KEY_PREFIX):
        try:
            key = decode_verification_method(kid)
        except EncodingError as exc:
            return refused(PROOF_VERIFICATION_ERROR, f"kid: {exc.message}", header)
    elif resolve is not None:
        key = resolve(kid)
    if key is None:
        return refused(PROOF_VERIFICATION_ERROR, f"kid {kid[:120]!r} does not resolve "
                       "offline (only did:key and this service's own DID documents do)",
                       header)
    try:
        verify_vc_jwt(vc_jwt, key)
    except SignatureError as exc:
        return refused(CRYPTOGRAPHIC_SECURITY_ERROR, exc.message, header)
    errors = [ProblemDetail(MALFORMED_VALUE_ERROR, f"{where}: {what}")
              for where, what in _shape_problems(credential)]
    warnings: list[ProblemDetail] = []
    issuer = _issuer_id(credential.get("issuer"))
    for where, claimed in (("header", header.get("iss")), ("payload", credential.get("iss"))):
        if claimed is not None and claimed != issuer:
            errors.append(ProblemDetail(MALFORMED_VALUE_ERROR, f"iss in the JWS {where} is "
                                        f"{str(claimed)[:120]!r}, not the issuer "
                                        f"(VC-JOSE-COSE s.4.1.1)"))
    if is_enveloped(credential):
        errors.append(ProblemDetail(MALFORMED_VALUE_ERROR, "the envelope holds another "
                                    "envelope; nested envelopes are not opened"))
    refusal, binding = _binding(issuer, key, kid, issuer_keys)
    if refusal is not None:
        errors.append(refusal)
    if binding is not None:
        warnings.append(binding)
    if "proof" in credential:
        warnings.append(ProblemDetail(PROOF_VERIFICATION_ERROR, "$.proof: an embedded proof "
                                      "inside the envelope is not checked"))
    results: dict[str, Any] = {}
    _check_claims(credential, checks, now, status, errors, warnings, results)
    shown = {"type": "EnvelopedVerifiableCredential", "header": dict(header)}
    return CredentialVerification(run, tuple(errors), tuple(warnings),
                                  (ProofResult(refusal is None, shown),), _plain(results))

