"""Verifiable Credentials enveloped in a JWS: ``application/vc+jwt`` (W3C VC-JOSE-COSE).

VC-JOSE-COSE s.3.1.1 secures a VC Data Model 2.0 credential with JOSE by making the
*unsecured* credential the JWS payload itself (no ``vc`` claim: s.3.1.3 forbids it), with
the header ``typ`` ``vc+jwt`` and, when present, ``cty`` ``vc``. Keys named by DID URLs
are found through the header's ``kid`` (s.4.1.1: it MUST be present then), which is the
verification method id, exactly as a Data Integrity proof's ``verificationMethod``.
VCDM 2.0 s.4.13 carries such a credential inside JSON as an
``EnvelopedVerifiableCredential`` whose ``id`` is a ``data:`` URL (RFC 2397):
``data:application/vc+jwt,<compact JWS>`` (the JWS is URL-safe ASCII, so no escaping).

* `secure_credential` — the JWS of a credential (payload bytes given: the caller decides
  their serialization), header ``{"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid"}``.
* `read_vc_jwt` — `ledger.jose.parse_compact`, then the media-type checks of this
  specification (``typ`` and ``cty`` when present; ``kid`` required), then the payload as
  strict JSON (non-integer numbers as `Decimal`) that is an object without ``vc``/``vp``.
  Nothing is verified yet: the caller resolves ``kid`` to a key and calls `verify_vc_jwt`.
* `envelope` / `enveloped_jws` — the ``EnvelopedVerifiableCredential`` object and back.

The JOSE library is reached only through `ledger.jose`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ledger.canonical import parse_json
from ledger.crypto import SigningKey
from ledger.errors import EncodingError, JoseError
from ledger.jose import ALGORITHM, CompactJws, parse_compact, sign_compact, verify_compact

__all__ = [
    "CTY",
    "DATA_URL_PREFIX",
    "ENVELOPED_TYPE",
    "MEDIA_TYPE",
    "TYP",
    "VcJwt",
    "envelope",
    "enveloped_jws",
    "is_enveloped",
    "read_vc_jwt",
    "secure_credential",
    "verify_vc_jwt",
]

#: VC-JOSE-COSE s.6.1.1: the media type of a credential secured with JOSE.
MEDIA_TYPE: Final = "application/vc+jwt"
#: VC-JOSE-COSE s.3.1.1: ``typ`` SHOULD be this, and ``cty``, when present, this.
TYP: Final = "vc+jwt"
CTY: Final = "vc"
#: VCDM 2.0 s.4.13: the type of a credential carried as a data: URL.
ENVELOPED_TYPE: Final = "EnvelopedVerifiableCredential"
DATA_URL_PREFIX: Final = f"data:{MEDIA_TYPE},"
_VC_CONTEXT_V2: Final = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True, slots=True)
class VcJwt:
    """A ``vc+jwt`` read by `read_vc_jwt`: its JWS and the credential it carries."""

    jws: CompactJws
    credential: dict[str, Any]

    @property
    def kid(self) -> str:
        """The verification method that made the signature (required here)."""
        kid = self.jws.kid
        assert kid is not None  # read_vc_jwt requires it
        return kid

    @property
    def header(self) -> Mapping[str, Any]:
        """The protected header."""
        return self.jws.header


def secure_credential(payload: bytes, key: SigningKey, kid: str) -> str:
    """The ``vc+jwt`` of a credential whose JSON bytes are `payload`, signed by `key`.

    `kid` is the verification method id of `key` (a did:key URL for a party's key).
    """
    header = {"alg": ALGORITHM, "typ": TYP, "cty": CTY, "kid": kid}
    return sign_compact(header, payload, key)


def read_vc_jwt(text: Any) -> VcJwt:
    """Read a ``vc+jwt`` strictly; nothing verified yet (see `verify_vc_jwt`).

    Raises:
        EncodingError: Not a compact JWS, or a payload that is not a JSON object.
        JoseError: A header refused by `ledger.jose`, a ``typ`` or ``cty`` of another
            media type, no ``kid``, or a payload with the forbidden ``vc``/``vp`` claims.
    """
    parsed = parse_compact(text)
    typ = parsed.header.get("typ")
    if typ is not None and typ not in (TYP, MEDIA_TYPE):
        raise JoseError(f"typ {str(typ)[:40]!r}: a credential secured with JOSE has typ "
                        f"{TYP!r} (VC-JOSE-COSE s.3.1.1)")
    cty = parsed.header.get("cty")
    if cty is not None and cty not in (CTY, f"application/{CTY}"):
        raise JoseError(f"cty {str(cty)[:40]!r}: the content of a vc+jwt is {CTY!r}")
    if parsed.kid is None:
        raise JoseError("the JWS header names no kid: the verification method of the "
                        "issuer's key must be given (VC-JOSE-COSE s.4.1.1)")
    credential = parse_json(parsed.payload, decimals=True)
    if not isinstance(credential, dict):
        raise EncodingError("the JWS payload is not a JSON object (a credential)")
    for claim in ("vc", "vp"):
        if claim in credential:
            raise JoseError(f"the payload has the JWT claim {claim!r}, which VC-JOSE-COSE "
                            "s.3.1.3 forbids: the credential itself is the payload")
    return VcJwt(parsed, credential)


def verify_vc_jwt(vc_jwt: VcJwt, public_key: bytes) -> None:
    """Verify the signature under the key `vc_jwt.kid` resolved to (`SignatureError`)."""
    verify_compact(vc_jwt.jws, public_key)


def envelope(jwt: str) -> dict[str, Any]:
    """The ``EnvelopedVerifiableCredential`` of a ``vc+jwt`` (VCDM 2.0 s.4.13)."""
    return {"@context": [_VC_CONTEXT_V2], "id": DATA_URL_PREFIX + jwt,
            "type": ENVELOPED_TYPE}


def is_enveloped(value: Any) -> bool:
    """Whether `value` is typed ``EnvelopedVerifiableCredential`` (to be opened)."""
    if not isinstance(value, Mapping):
        return False
    kinds = value.get("type")
    return ENVELOPED_TYPE in (kinds if isinstance(kinds, list) else [kinds])


def enveloped_jws(value: Mapping[str, Any]) -> str:
    """The compact JWS inside an ``EnvelopedVerifiableCredential`` object.

    Raises:
        EncodingError: Not such an object: no VC 2.0 ``@context``, or an ``id`` that is
            not a ``data:application/vc+jwt,`` URL (other envelopes, such as
            ``vc+sd-jwt`` or ``vc+cose``, are named as not supported).
    """
    contexts = value.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    if not listed or listed[0] != _VC_CONTEXT_V2:
        raise EncodingError(f"$.@context: an EnvelopedVerifiableCredential names "
                            f"{_VC_CONTEXT_V2!r} first")
    data_url = value.get("id")
    if not isinstance(data_url, str) or not data_url.startswith("data:"):
        raise EncodingError("$.id: an EnvelopedVerifiableCredential's id is a data: URL")
    media, comma, jwt = data_url[len("data:"):].partition(",")
    if not comma:
        raise EncodingError("$.id: a data: URL has a ',' before its data (RFC 2397)")
    if media.lower() != MEDIA_TYPE:
        raise EncodingError(f"$.id: media type {media[:60]!r} is not verified here; only "
                            f"{MEDIA_TYPE} envelopes are")
    return jwt
