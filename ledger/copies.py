"""JOSE copies of an origin token: the token, its traceability view, its UNTP view as
``application/vc+jwt``, signed with the token's own key, checked against the logged token.

UNTP (VerifiableCredentials.md: "JOSE enveloping proof MUST") and the traceability
interop profile ("credentials MUST be secured with JOSE/COSE") read credentials secured
with JOSE, while the ledger logs the eddsa-jcs-2022 token. A JOSE copy is a second
securing of claims the token already makes, never a claim of its own:

* **What a copy is.** The JWS payload (VC-JOSE-COSE s.3.1.1: the unsecured credential
  itself) is one of three *copies* of a logged token, each a pure function of the token
  and its digest: `CopyKind.TOKEN`, the token without its ``proof`` member;
  `CopyKind.TRACEABILITY`, `ledger.traceability.traceability_view`; `CopyKind.UNTP`,
  `ledger.untp.untp_view`. The payload bytes are their RFC 8785 forms. The header's
  ``kid`` is the token proof's ``verificationMethod`` and the signature is by that same
  key: the issuer's word twice, in two envelopes. Ed25519 being deterministic, a copy is
  the same bytes however often it is made, so none is stored.
* **How a copy relates to the log.** Nothing new is logged. A verifier holding a copy and
  the token's bundle (`verify_copy`) runs the offline bundle verification
  (`ledger.verify.verify`: checkpoint, inclusion, key, status, signature...) and three
  more checks: ``jose.format`` (a vc+jwt whose header passes `ledger.jose`),
  ``jose.signature`` (its kid is the token's verification method, a did:key or the
  party's did:web method, and the signature verifies under that key, which the bundle
  proved registered), ``jose.payload`` (the
  payload is, value for value, the copy of that kind recomputed from the bundle's token).
  The decision covers all of them: a copy of a revoked token is rejected as the token is;
  a copy that differs in one member, or is signed by another key, is rejected though the
  token is clear. `copy_target` finds the logged token a copy is of, for a service that
  builds the bundle itself: the views' ``id`` is the token's URN; the token copy names its
  issuer's key and shipment, and the token logged last for them is the one it must be.

Who signs: the party's key, wherever it is kept; `sign_copy` needs the key and refuses
any other than the one that signed the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ledger.canonical import canonicalize, canonicalize_decimals, parse_json
from ledger.crypto import SigningKey
from ledger.enveloped import VcJwt, read_vc_jwt, secure_credential, verify_vc_jwt
from ledger.errors import (
    BundleError,
    EncodingError,
    JoseError,
    LedgerError,
    SignatureError,
    TokenError,
)
from ledger.token import TOKEN_TYPE, TOKEN_URN_PREFIX, method_key, shipment_digest
from ledger.traceability import traceability_view
from ledger.untp import untp_view
from ledger.verify import Check, Decision, Outcome, TrustFile, Verification, verify

__all__ = ["CopyKind", "CopyTarget", "copy_payload", "copy_target", "kind_of", "sign_copy",
           "verify_copy"]

_VIEW_TYPES: Final = {"USMCACertificationOfOrigin": "traceability",
                      "DigitalConformityCredential": "untp", TOKEN_TYPE: "token"}
_HEX64_LENGTH: Final = 64


class CopyKind(StrEnum):
    """Which copy of a token a JWS carries (the ``type`` of its payload says)."""

    TOKEN = "token"
    """The token itself, without its Data Integrity proof (``UsmcaOriginToken``)."""
    TRACEABILITY = "traceability"
    """The W3C traceability ``USMCACertificationOfOrigin`` view."""
    UNTP = "untp"
    """The UNTP ``DigitalConformityCredential`` view."""


def kind_of(credential: Mapping[str, Any]) -> CopyKind | None:
    """The copy a credential is, by its ``type``; None when it is none of ours."""
    kinds = credential.get("type")
    found = {_VIEW_TYPES[k] for k in (kinds if isinstance(kinds, list) else [kinds])
             if isinstance(k, str) and k in _VIEW_TYPES}
    return CopyKind(found.pop()) if len(found) == 1 else None


def copy_payload(kind: CopyKind, token: Mapping[str, Any], digest: str) -> bytes:
    """The JWS payload of the `kind` copy of `token` (RFC 8785 bytes)."""
    if kind is CopyKind.TOKEN:
        return canonicalize({k: v for k, v in token.items() if k != "proof"})
    if kind is CopyKind.TRACEABILITY:
        return canonicalize(traceability_view(token, digest))
    return canonicalize_decimals(untp_view(token, digest))


def _token_kid(token: Mapping[str, Any]) -> str:
    proof = token.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str) or not method:
        raise TokenError("the token's proof names no verificationMethod")
    return method


def sign_copy(kind: CopyKind, token: Mapping[str, Any], digest: str, key: SigningKey) -> str:
    """The ``vc+jwt`` of the `kind` copy of `token`, signed by `key`.

    Raises:
        TokenError: `key` is not the key that signed the token (its proof's
            verificationMethod), or the token lacks what the copy needs.
    """
    kid = _token_kid(token)
    if method_key(kid) != key.public_key:
        raise TokenError(f"the token was signed by {kid[:120]}; a JOSE copy is signed by "
                         "that same key, not this one")
    return secure_credential(copy_payload(kind, token, digest), key, kid)


@dataclass(frozen=True, slots=True)
class CopyTarget:
    """Which logged token a JOSE copy claims to be of (nothing verified yet).

    `digest` for the views (their id is the token's URN); for the token copy, the issuer
    key `kid` and the shipment digest, whose latest token it must be.
    """

    kind: CopyKind
    kid: str
    digest: str | None = None
    shipment: str | None = None


def copy_target(jwt: Any) -> CopyTarget:
    """Read a JOSE copy far enough to find its token.

    Raises:
        EncodingError, JoseError: Not a vc+jwt, or not a copy of an origin token.
    """
    vc_jwt = read_vc_jwt(jwt)
    credential = vc_jwt.credential
    kind = kind_of(credential)
    if kind is None:
        raise JoseError("the JWS payload is not a copy of an origin token (its type is "
                        "neither UsmcaOriginToken, USMCACertificationOfOrigin nor "
                        "DigitalConformityCredential)")
    if kind is CopyKind.TOKEN:
        subject = credential.get("credentialSubject")
        shipment = subject.get("shipmentId") if isinstance(subject, Mapping) else None
        if not isinstance(shipment, str):
            raise EncodingError("the token copy names no credentialSubject.shipmentId")
        return CopyTarget(kind, vc_jwt.kid, shipment=shipment_digest(shipment))
    urn = credential.get("id")
    digest = urn[len(TOKEN_URN_PREFIX):] if isinstance(urn, str) and urn.startswith(
        TOKEN_URN_PREFIX) else ""
    if len(digest) != _HEX64_LENGTH or not all(c in "0123456789abcdef" for c in digest):
        raise EncodingError(f"the {kind.value} copy's id is not urn:tmec:token:<digest>")
    return CopyTarget(kind, vc_jwt.kid, digest=digest)


def _payload_check(kind: CopyKind, vc_jwt: VcJwt, token: Mapping[str, Any],
                   digest: str) -> str:
    """The payload is the copy: as bytes (ours are RFC 8785 already), else as values (a
    party's JOSE library may have serialized the same credential otherwise).
    """
    expected = copy_payload(kind, token, digest)
    if vc_jwt.jws.payload != expected and canonicalize_decimals(vc_jwt.credential) != \
            expected:
        raise BundleError(f"the payload is not the {kind.value} copy of token "
                             f"{digest[:16]}...: it differs from the copy recomputed from "
                             "the bundle's token")
    return f"the {kind.value} copy of token {digest[:16]}..., value for value"


def verify_copy(jwt: Any, bundle: bytes | str | Mapping[str, Any], trust: TrustFile, *,
                now: int | None = None) -> Verification:
    """Verify a JOSE copy together with the bundle of the token it is a copy of.

    The bundle's own checks come first (exactly `ledger.verify.verify`'s), then
    ``jose.format``, ``jose.signature`` and ``jose.payload``; the decision is over all.
    """
    parsed: Any = bundle
    if isinstance(bundle, bytes | str):
        try:
            parsed = parse_json(bundle)
        except EncodingError:
            parsed = bundle  # verify() reports it as bundle.format, as for any bundle
    base = verify(parsed, trust, now=now)
    checks = list(base.checks)

    def finish() -> Verification:
        return Verification(Decision.of(c.outcome for c in checks), tuple(checks),
                            base.token_digest, base.shipment_id)

    def fail(name: str, detail: str) -> Verification:
        checks.append(Check(name, Outcome.FAIL, detail))
        return finish()

    try:
        vc_jwt = read_vc_jwt(jwt)
    except (EncodingError, JoseError) as exc:
        return fail("jose.format", exc.message)
    kind = kind_of(vc_jwt.credential)
    checks.append(Check("jose.format", Outcome.PASS,
                        f"vc+jwt, alg {vc_jwt.jws.algorithm}, "
                        f"{kind.value if kind else 'unknown'} copy"))
    token = parsed.get("token") if isinstance(parsed, Mapping) else None
    if not isinstance(token, Mapping) or base.token_digest is None:
        return fail("jose.signature", "the bundle carries no token to check the copy with")
    try:
        kid = _token_kid(token)
        if vc_jwt.kid != kid:
            raise SignatureError(f"the JWS is signed by kid {vc_jwt.kid[:120]!r}, the token "
                                 f"by {kid[:120]!r}: a copy is signed by the token's key")
        # did:key, or a party's did:web whose fragment the bundle bound to the key
        # (``token.issuer``): a copy of a did:web token is refused with its bundle else.
        verify_vc_jwt(vc_jwt, method_key(kid))
    except LedgerError as exc:
        return fail("jose.signature", exc.message)
    checks.append(Check("jose.signature", Outcome.PASS, f"EdDSA signature by {kid}"))
    if kind is None:
        return fail("jose.payload", "the payload is none of the token's copies (type "
                                    "UsmcaOriginToken, USMCACertificationOfOrigin or "
                                    "DigitalConformityCredential)")
    try:
        detail = _payload_check(kind, vc_jwt, token, base.token_digest)
    except LedgerError as exc:
        return fail("jose.payload", exc.message)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a malformed token
        return fail("jose.payload", f"the bundle's token has no {kind.value} copy "
                                    f"(malformed: {type(exc).__name__}: {exc})")
    checks.append(Check("jose.payload", Outcome.PASS, detail))
    return finish()

