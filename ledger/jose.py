"""Compact JWS signed with EdDSA (Ed25519): the only module that imports the JOSE library.

`ledger.crypto` owns PyNaCl; this module owns `joserfc` (the ``jose`` extra), so that the
JOSE library is named in one place and every JWS the ledger signs or accepts passes the
same checks. What a JWS *means* (a Verifiable Credential enveloped as ``vc+jwt``) is
`ledger.enveloped`'s business; here it is bytes, a protected header and a signature.

* `sign_compact` — RFC 7515 s.7.1 compact serialization of a payload under a protected
  header whose ``alg`` is ``EdDSA`` (RFC 8037 s.3.1), with a `ledger.crypto.SigningKey`.
  Ed25519 is deterministic (RFC 8032 s.5.1.6), so the same header, payload and key give
  the same JWS byte for byte: a copy signed again is the same copy.
* `parse_compact` — reads a compact JWS strictly, *before* any key is looked up: three
  parts (a five-part JWE is refused), each unpadded base64url in its one canonical form
  (RFC 7515 s.2; non-zero trailing bits would make one signature valid for several
  strings), the header a strict JSON object, a payload present (no detached content).
  The header is then judged on its own (RFC 8725 s.3.1, "perform algorithm
  verification"): ``alg`` must be ``EdDSA`` or its fully specified name ``Ed25519``
  (RFC 9864 s.2.2, the same signature); ``none`` (no integrity protection, which
  VC-JOSE-COSE s.2 says to ignore) and every other algorithm, HMAC included, are refused
  before anything is verified, so a public key can never be used as an HMAC secret
  (RFC 8725 s.2.1). ``crit`` and ``b64`` are refused (no extension is understood here:
  RFC 7515 s.4.1.11, RFC 7797 s.6), and so are ``jwk``, ``jku``, ``x5c``, ``x5u``: a key
  is never taken from the token it is supposed to check.
* `verify_compact` — the Ed25519 signature over ``ASCII(header) || '.' || ASCII(payload)``
  under a raw 32-byte public key the caller resolved, through joserfc; `SignatureError`
  when it does not verify.

RFC 9864 deprecates the polymorphic ``EdDSA`` name in favour of ``Ed25519``; ``EdDSA`` is
still what VC-JOSE-COSE's examples and most verifiers expect, so it is what we sign with,
and both names are accepted. joserfc warns about the deprecation on every call; that
choice is made here once, so its registry is subclassed to skip the warning.

Errors: `EncodingError` (not a well-formed compact JWS), `JoseError` (a header refused),
`SignatureError` (the signature does not verify).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ledger.canonical import parse_json
from ledger.crypto import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, SigningKey
from ledger.errors import EncodingError, JoseError, SignatureError

__all__ = ["ACCEPTED_ALGORITHMS", "ALGORITHM", "MAX_COMPACT_BYTES", "CompactJws",
           "parse_compact", "sign_compact", "verify_compact"]

#: RFC 8037 s.3.1: the JWS ``alg`` of Ed25519 signatures, the one we sign with.
ALGORITHM: Final = "EdDSA"
#: RFC 9864 s.2.2: the fully specified name of the same algorithm (accepted).
FULLY_SPECIFIED: Final = "Ed25519"
ACCEPTED_ALGORITHMS: Final = frozenset({ALGORITHM, FULLY_SPECIFIED})
#: Largest compact JWS read (a token copy is a few kB; a bundle's limit applies first).
MAX_COMPACT_BYTES: Final = 1 << 20
_MAX_HEADER_BYTES: Final = 8192
_MAX_KID: Final = 2048
#: Header parameters that would carry or point at a key (RFC 7515 s.4.1.2-4.1.8).
_KEY_PARAMETERS: Final = ("jwk", "jku", "x5c", "x5u", "x5t", "x5t#S256")
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*\Z")


@dataclass(frozen=True)
class _Library:
    """What this module uses of joserfc, imported on first use: a command that never
    reads or writes a JWS does not pay for the library's import (~30 ms).
    """

    jws: Any
    registry: Any
    okp_key: Any
    bad_signature: type[Exception]
    library_error: type[Exception]


@functools.cache
def _library() -> _Library:
    try:
        from joserfc import jws
        from joserfc.errors import BadSignatureError, UnsupportedAlgorithmError
        from joserfc.errors import JoseError as LibraryError
        from joserfc.jwk import OKPKey
        from joserfc.jws import JWSRegistry
    except ModuleNotFoundError as exc:  # pragma: no cover - the lean install has no JOSE
        raise ImportError("JOSE-enveloped credentials need the 'jose' extra: pip install "
                          "'tmec-ledger[jose]'") from exc

    class Registry(JWSRegistry):
        """joserfc's registry limited to Ed25519, without its per-call deprecation
        warning.
        """

        max_header_length = _MAX_HEADER_BYTES
        max_payload_length = MAX_COMPACT_BYTES

        def get_alg(self, name: str) -> Any:
            """The algorithm `name` if it is one of ours (never a deprecation warning)."""
            if name not in ACCEPTED_ALGORITHMS:
                raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
            return self.algorithms[name]

    return _Library(jws, Registry(strict_check_header=False), OKPKey, BadSignatureError,
                    LibraryError)


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A parsed compact JWS whose header passed `parse_compact`'s checks (unverified)."""

    text: str
    header: Mapping[str, Any]
    payload: bytes

    @property
    def algorithm(self) -> str:
        """The header's ``alg`` (one of `ACCEPTED_ALGORITHMS`)."""
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        """The header's ``kid``, the verification method's id, if it names one."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str, what: str) -> bytes:
    """Unpadded base64url in its canonical form (RFC 7515 s.2, RFC 4648 s.5)."""
    if _BASE64URL.match(part) is None or len(part) % 4 == 1:
        raise EncodingError(f"the JWS {what} is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the regex rules it out
        raise EncodingError(f"the JWS {what} is not base64url") from exc
    if _b64(data) != part:
        raise EncodingError(f"the JWS {what} is not in canonical base64url (non-zero "
                            "trailing bits)")
    return data


def _okp(public_key: bytes, seed: bytes | None = None) -> Any:
    """An Ed25519 JWK (RFC 8037 s.2) of a raw public key, and of its seed when signing."""
    members: dict[str, str | list[str]] = {"kty": "OKP", "crv": "Ed25519",
                                           "x": _b64(public_key)}
    if seed is not None:
        members["d"] = _b64(seed)
    return _library().okp_key.import_key(members)


def _check_header(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if alg is None:
        raise JoseError("the JWS header has no alg")
    if alg == "none":
        raise JoseError("alg 'none': an unsecured JWS has no integrity protection and is "
                        "never accepted (VC-JOSE-COSE s.2)")
    if alg not in ACCEPTED_ALGORITHMS:
        raise JoseError(f"alg {str(alg)[:40]!r} is not accepted: only EdDSA with Ed25519 "
                        f"(RFC 8037; also named Ed25519, RFC 9864) is verified here")
    for name in ("crit", "b64"):
        if name in header:
            raise JoseError(f"the JWS header has {name!r}: no JWS extension is understood "
                            "here (RFC 7515 s.4.1.11)")
    for name in _KEY_PARAMETERS:
        if name in header:
            raise JoseError(f"the JWS header carries {name!r}: a key is never taken from "
                            "the token it is to check")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > _MAX_KID):
        raise JoseError(f"kid: expected a non-empty string of at most {_MAX_KID} "
                        "characters")


def sign_compact(header: Mapping[str, Any], payload: bytes, key: SigningKey) -> str:
    """The compact JWS of `payload` under `header` (whose ``alg`` must be ``EdDSA``).

    The header is serialized as given (member order kept), so equal inputs give equal
    output. Raises `JoseError` for a header `parse_compact` would refuse.
    """
    if header.get("alg") != ALGORITHM:
        raise JoseError(f"this signer writes alg {ALGORITHM!r}, not "
                        f"{str(header.get('alg'))[:40]!r}")
    _check_header(header)
    if not payload:
        raise JoseError("a JWS payload must not be empty (no detached content)")
    library = _library()
    text = library.jws.serialize_compact(dict(header), payload,
                                         _okp(key.public_key, key.seed),
                                         algorithms=[ALGORITHM], registry=library.registry)
    return str(text)


def parse_compact(text: Any) -> CompactJws:
    """Read a compact JWS and judge its header, without verifying anything yet.

    Raises:
        EncodingError: Not three canonical base64url parts, a header that is not a strict
            JSON object, an empty payload, a signature of the wrong size, too large.
        JoseError: A header refused (algorithm, ``crit``, ``b64``, a key in the header).
    """
    if not isinstance(text, str):
        raise EncodingError(f"a compact JWS is a string, got {type(text).__name__}")
    if not text.isascii():
        raise EncodingError("a compact JWS is ASCII text")
    if len(text) > MAX_COMPACT_BYTES:
        raise EncodingError(f"the JWS has {len(text)} characters; at most "
                            f"{MAX_COMPACT_BYTES} are read")
    parts = text.split(".")
    if len(parts) == 5:
        raise EncodingError("this is a JWE (five parts): encrypted credentials are not "
                            "accepted, send the signed JWS")
    if len(parts) != 3:
        raise EncodingError(f"a compact JWS has three base64url parts separated by '.', "
                            f"got {len(parts)}")
    encoded_header, encoded_payload, encoded_signature = parts
    if len(encoded_header) > _MAX_HEADER_BYTES * 4 // 3 + 4:
        raise EncodingError(f"the JWS header is larger than {_MAX_HEADER_BYTES} bytes")
    header = parse_json(_unb64(encoded_header, "header"))
    if not isinstance(header, dict):
        raise EncodingError("the JWS header is not a JSON object")
    _check_header(header)
    payload = _unb64(encoded_payload, "payload")
    if not payload:
        raise EncodingError("the JWS has no payload (detached content is not accepted)")
    signature = _unb64(encoded_signature, "signature")
    if len(signature) != SIGNATURE_SIZE:
        raise EncodingError(f"the JWS signature has {len(signature)} bytes; an Ed25519 "
                            f"signature has {SIGNATURE_SIZE}")
    return CompactJws(text, header, payload)


def verify_compact(parsed: CompactJws, public_key: bytes) -> None:
    """Verify the Ed25519 signature of a parsed JWS under `public_key` (raw 32 bytes).

    Raises:
        SignatureError: The signature does not verify under that key.
    """
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise SignatureError(f"an Ed25519 public key has {PUBLIC_KEY_SIZE} bytes, got "
                             f"{len(public_key)}")
    library = _library()
    try:
        library.jws.deserialize_compact(parsed.text, _okp(public_key),
                                        algorithms=[parsed.algorithm],
                                        registry=library.registry)
    except library.bad_signature as exc:
        raise SignatureError("the JWS signature does not verify under the key its kid "
                             "names") from exc
    except (library.library_error, ValueError) as exc:
        raise SignatureError(f"the JWS does not verify: {exc}") from exc
