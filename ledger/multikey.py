"""Text forms of Ed25519 keys: base58btc, multibase, Multikey and did:key.

An origin token names its signer by a `did:key` identifier and its proof carries a
base58btc multibase signature (W3C vc-di-eddsa s.2.1.1 and s.2.2.1). Both are defined
by small public specs, so this module implements them directly instead of pulling in a
multiformats library:

* **base58btc** — the Bitcoin alphabet, leading zero bytes written as ``1``
  (draft-multiformats-multibase s.3.1; W3C Controlled Identifiers 1.0 s.2.4 "Multibase").
* **multibase** — a one-character header naming the base; only ``z`` (base58btc) is
  produced or accepted, because vc-di-eddsa s.2.1.1 says "Any other encoding MUST NOT be
  allowed" for keys and s.2.2.1 requires it for ``proofValue``.
* **Multikey** (Controlled Identifiers 1.0 s.2.2.2) — multibase of a multicodec header
  followed by the raw key: ``ed25519-pub`` (0xed, varint ``ed 01``) for the 32-byte
  public key, which always starts ``z6Mk``; ``ed25519-priv`` (0x1300, varint ``80 26``)
  for the 32-byte secret seed, which starts ``z3u2`` (vc-di-eddsa Appendix B.3,
  Example 29). vc-di-eddsa s.2.1.1: implementations raise an error on a prefix other
  than ``0xed01`` in a ``publicKeyMultibase``.
* **did:key** (W3C CCG *The did:key Method*, "Format" and "Document Creation
  Algorithm") — ``did:key:`` + the public Multikey; its single verification method is
  ``did:key:<mb>#<mb>``, so resolving it needs no network.

Decoders are strict and raise `EncodingError` on anything malformed: a wrong multibase
header, a wrong multicodec header, a wrong key length, characters outside the alphabet,
or text longer than `MAX_BASE58_LENGTH` (this module decodes keys and signatures, never
bulk data, and base58 decoding is quadratic in the input length). This module does not
sign or verify; see `ledger.crypto` and `ledger.token`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from ledger.errors import EncodingError

__all__ = [
    "BASE58BTC_ALPHABET",
    "DID_KEY_PREFIX",
    "ED25519_PRIV_HEADER",
    "ED25519_PUB_HEADER",
    "MAX_BASE58_LENGTH",
    "MULTIBASE_BASE58BTC",
    "decode_base58btc",
    "decode_did_key",
    "decode_multibase",
    "decode_public_key",
    "decode_secret_key",
    "decode_verification_method",
    "did_key",
    "encode_base58btc",
    "encode_multibase",
    "encode_public_key",
    "encode_secret_key",
    "uvarint",
    "verification_method_id",
]

#: The Bitcoin base58 alphabet: no ``0``, ``O``, ``I`` or ``l`` (multibase draft s.3.1).
BASE58BTC_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: The multibase header character of base58btc.
MULTIBASE_BASE58BTC: Final = "z"
#: The method prefix of a did:key identifier (did:key Method, "Format").
DID_KEY_PREFIX: Final = "did:key:"
#: Longest base58 text accepted by the decoders (a 64-byte signature takes 88 characters).
MAX_BASE58_LENGTH: Final = 1024

_KEY_SIZE: Final = 32
_INDEX: Final = {char: value for value, char in enumerate(BASE58BTC_ALPHABET)}
#: Two base58btc characters at a time (58**2 = 3,364 pairs): a signature's 88 characters
#: are 44 steps of the decoding loop instead of 88 (every verification decodes two).
_PAIRS: Final = {a + b: 58 * x + y for a, x in _INDEX.items() for b, y in _INDEX.items()}


def uvarint(value: int) -> bytes:
    """Unsigned LEB128 varint, the encoding of multicodec codes.

    Multicodec headers are written as unsigned varints (multiformats unsigned-varint
    spec): seven bits per byte, least significant group first, high bit set on every byte
    but the last. Exposed so the two key headers below are derived, not hand-typed.

    Args:
        value: A non-negative integer.

    Returns:
        The varint bytes.

    Raises:
        EncodingError: If `value` is negative.
    """
    if value < 0:
        raise EncodingError(f"a varint encodes a non-negative integer, got {value}")
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


#: Multicodec ``ed25519-pub`` (0xed) as a varint: ``ed 01``.
ED25519_PUB_HEADER: Final = uvarint(0xED)
#: Multicodec ``ed25519-priv`` (0x1300) as a varint: ``80 26``.
ED25519_PRIV_HEADER: Final = uvarint(0x1300)


def encode_base58btc(data: bytes) -> str:
    """Base58btc text of `data` (no multibase header).

    Each leading zero byte becomes a ``1``; the rest is the big-endian integer in base 58
    (multibase draft s.3.1), so the encoding is a bijection and decoding can be checked.

    Args:
        data: Bytes to encode.

    Returns:
        The base58btc string (empty for empty input).
    """
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(BASE58BTC_ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


def decode_base58btc(text: str) -> bytes:
    """Bytes of a base58btc string (no multibase header).

    Args:
        text: Base58btc characters only.

    Returns:
        The decoded bytes.

    Raises:
        EncodingError: On a character outside the alphabet or text longer than
            `MAX_BASE58_LENGTH`.
    """
    if len(text) > MAX_BASE58_LENGTH:
        raise EncodingError(f"base58btc text of {len(text)} characters is longer than the "
                            f"{MAX_BASE58_LENGTH} this decoder accepts")
    number = 0
    odd = len(text) % 2
    try:
        if odd:
            number = _INDEX[text[0]]
        for start in range(odd, len(text), 2):
            number = number * 3364 + _PAIRS[text[start:start + 2]]
    except KeyError:
        for position, char in enumerate(text):  # name the first character not allowed
            if char not in _INDEX:
                raise EncodingError(f"{char!r} at position {position} is not a base58btc "
                                    f"character") from None
        raise  # pragma: no cover - every pair of alphabet characters is in _PAIRS
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def encode_multibase(data: bytes) -> str:
    """Multibase base58btc text of `data`: ``z`` + base58btc (CID 1.0 s.2.4).

    Args:
        data: Bytes to encode.

    Returns:
        The multibase string.
    """
    return MULTIBASE_BASE58BTC + encode_base58btc(data)


def decode_multibase(text: str) -> bytes:
    """Bytes of a multibase string; only the base58btc header ``z`` is accepted.

    Args:
        text: A multibase string.

    Returns:
        The decoded bytes.

    Raises:
        EncodingError: If the header is not ``z`` or the rest is not base58btc.
    """
    if not isinstance(text, str):
        raise EncodingError(f"multibase value must be a string, got {type(text).__name__}")
    if not text.startswith(MULTIBASE_BASE58BTC):
        header = repr(text[:1]) if text else "nothing"
        raise EncodingError(f"multibase header must be 'z' (base58btc), got {header}")
    return decode_base58btc(text[1:])


def _encode_key(header: bytes, key: bytes, what: str) -> str:
    if len(key) != _KEY_SIZE:
        raise EncodingError(f"an Ed25519 {what} has {_KEY_SIZE} bytes, got {len(key)}")
    return encode_multibase(header + key)


def _decode_key(text: str, header: bytes, what: str) -> bytes:
    raw = decode_multibase(text)
    if raw[: len(header)] != header:
        raise EncodingError(f"Multikey {what} must start with multicodec header "
                            f"{header.hex()}, got {raw[: len(header)].hex() or 'nothing'}")
    key = raw[len(header):]
    if len(key) != _KEY_SIZE:
        raise EncodingError(f"Multikey {what} holds {len(key)} key bytes, expected "
                            f"{_KEY_SIZE}")
    return key


def encode_public_key(public_key: bytes) -> str:
    """``publicKeyMultibase`` of a raw Ed25519 public key (``z6Mk…``).

    Args:
        public_key: The 32-byte public key.

    Returns:
        ``z`` + base58btc(``ed 01`` ‖ key), per vc-di-eddsa s.2.1.1 / CID 1.0 s.2.2.2.

    Raises:
        EncodingError: If the key is not 32 bytes.
    """
    return _encode_key(ED25519_PUB_HEADER, public_key, "public key")


@lru_cache(maxsize=4096)
def decode_public_key(text: str) -> bytes:
    """Raw 32-byte Ed25519 public key of a ``publicKeyMultibase`` value.

    Args:
        text: A Multikey public key (``z6Mk…``).

    Returns:
        The 32 raw key bytes.

    Raises:
        EncodingError: On a wrong multibase or multicodec header, a wrong length or bad
            characters (vc-di-eddsa s.2.1.1 requires an error on any header but 0xed01).
    """
    return _decode_key(text, ED25519_PUB_HEADER, "public key")


def encode_secret_key(seed: bytes) -> str:
    """``secretKeyMultibase`` of an Ed25519 seed (``z3u2…``).

    vc-di-eddsa s.2.1.1 advises never to publish or export this form by default; it exists
    here to read and write the spec's test vectors and key files.

    Args:
        seed: The 32-byte Ed25519 seed (RFC 8032 private key).

    Returns:
        ``z`` + base58btc(``80 26`` ‖ seed).

    Raises:
        EncodingError: If the seed is not 32 bytes.
    """
    return _encode_key(ED25519_PRIV_HEADER, seed, "secret key")


def decode_secret_key(text: str) -> bytes:
    """32-byte Ed25519 seed of a ``secretKeyMultibase`` value.

    Args:
        text: A Multikey secret key (``z3u2…``).

    Returns:
        The 32-byte seed, suitable for `ledger.crypto.SigningKey`.

    Raises:
        EncodingError: On a wrong header, length or characters.
    """
    return _decode_key(text, ED25519_PRIV_HEADER, "secret key")


@lru_cache(maxsize=4096)
def did_key(public_key: bytes) -> str:
    """The did:key identifier of an Ed25519 public key (did:key Method, "Format").

    Args:
        public_key: The 32-byte public key.

    Returns:
        ``did:key:z6Mk…``.

    Raises:
        EncodingError: If the key is not 32 bytes.
    """
    return DID_KEY_PREFIX + encode_public_key(public_key)


def verification_method_id(public_key: bytes) -> str:
    """The id of the one verification method of a did:key document.

    did:key Method, "Document Creation Algorithm": the fragment is the multibase key
    itself, giving ``did:key:z6Mk…#z6Mk…`` — the form vc-di-eddsa Appendix B.3 uses as
    ``verificationMethod``.

    Args:
        public_key: The 32-byte public key.

    Returns:
        ``did:key:<mb>#<mb>``.

    Raises:
        EncodingError: If the key is not 32 bytes.
    """
    multibase = encode_public_key(public_key)
    return f"{DID_KEY_PREFIX}{multibase}#{multibase}"


@lru_cache(maxsize=4096)
def decode_did_key(did: str) -> bytes:
    """Raw Ed25519 public key of a did:key identifier (no fragment, path or query).

    Args:
        did: ``did:key:z6Mk…``.

    Returns:
        The 32 raw key bytes.

    Raises:
        EncodingError: If `did` is not an Ed25519 did:key.
    """
    if not isinstance(did, str):
        raise EncodingError(f"a did:key identifier is a string, got {type(did).__name__}")
    if not did.startswith(DID_KEY_PREFIX):
        raise EncodingError(f"not a did:key identifier: {did!r}")
    multibase = did[len(DID_KEY_PREFIX):]
    if any(char in multibase for char in "#?/;"):
        raise EncodingError(f"a did:key identifier has no path, query or fragment: {did!r}")
    return decode_public_key(multibase)


@lru_cache(maxsize=4096)
def decode_verification_method(verification_method: str) -> bytes:
    """Raw Ed25519 public key named by a did:key verification method id.

    Resolution is offline (did:key Method, "Document Creation Algorithm"): the key is the
    DID itself, and the fragment must repeat it exactly, as the DID document created from
    it has no other verification method.

    Args:
        verification_method: ``did:key:<mb>#<mb>``.

    Returns:
        The 32 raw key bytes.

    Raises:
        EncodingError: If the id is not ``did:key:<mb>#<mb>`` with the same Ed25519 key.
    """
    if not isinstance(verification_method, str):
        raise EncodingError(f"verification method must be a string, got "
                            f"{type(verification_method).__name__}")
    did, hash_sign, fragment = verification_method.partition("#")
    if not hash_sign:
        raise EncodingError(f"a did:key verification method needs a '#' fragment: "
                            f"{verification_method!r}")
    public_key = decode_did_key(did)
    if fragment != did[len(DID_KEY_PREFIX):]:
        raise EncodingError(f"did:key fragment {fragment!r} does not repeat the key "
                            f"{did[len(DID_KEY_PREFIX):]!r}")
    return public_key
