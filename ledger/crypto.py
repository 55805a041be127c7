"""Ed25519, hashing and sealing secrets at rest: the only module that imports PyNaCl.

Everything that signs or verifies in the ledger goes through `SigningKey.sign` and
`verify_signature`; `verify_signature` raises `SignatureError` and returns None, so a
failed check cannot be mistaken for a truthy value. Keys are raw 32-byte Ed25519 public
keys here; their text forms (multibase Multikey, did:key, C2SP vkeys) live in the modules
that define those formats.
"""

from __future__ import annotations

import hashlib
import hmac

import nacl.bindings
import nacl.exceptions
import nacl.signing
import nacl.utils

from ledger.errors import EncodingError, SignatureError

__all__ = ["PUBLIC_KEY_SIZE", "SEAL_KEY_SIZE", "SIGNATURE_SIZE", "SigningKey", "derive_key",
           "seal", "sha256", "unseal", "verify_signature"]

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SEED_SIZE = 32
SEAL_KEY_SIZE = 32
_NONCE_SIZE = 24  # XChaCha20: random nonces never collide in practice


def sha256(*parts: bytes) -> bytes:
    """SHA-256 of the concatenation of `parts`."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


def derive_key(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of `secret`, for the purpose `info`; no salt (all zeros).

    A secret the service already holds (the key-encryption key) yields further keys for
    other purposes without storing them: each `info` (a domain-separation string such as
    ``tmec-ledger/vc-api/issuer/v1``) gives an independent key, and none of them reveals
    `secret` or another (HKDF's extract-then-expand, RFC 5869 s.2).
    """
    if not secret:
        raise EncodingError("HKDF needs a non-empty secret")
    if not 0 < length <= 255 * 32:
        raise EncodingError(f"HKDF-SHA256 gives 1 to {255 * 32} bytes, not {length}")
    pseudo_random = hmac.digest(b"\x00" * 32, secret, "sha256")  # s.2.2 extract
    output, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):  # s.2.3 expand
        block = hmac.digest(pseudo_random, block + info + bytes([counter]), "sha256")
        output += block
    return output[:length]


class SigningKey:
    """An Ed25519 private key (RFC 8032); the seed is its only secret."""

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise EncodingError(f"an Ed25519 seed has {SEED_SIZE} bytes, got {len(seed)}")
        self._key = nacl.signing.SigningKey(seed)

    @classmethod
    def generate(cls) -> SigningKey:
        """A new key from the operating system's random source."""
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        """The 32-byte seed (keep it secret)."""
        return bytes(self._key)

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key."""
        return bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of `message`."""
        return bytes(self._key.sign(message).signature)

    def __repr__(self) -> str:
        return f"SigningKey(public={self.public_key.hex()[:16]}...)"


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Verify an Ed25519 signature; raise `SignatureError` if it does not verify."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise SignatureError(f"an Ed25519 public key has {PUBLIC_KEY_SIZE} bytes, got "
                             f"{len(public_key)}")
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"an Ed25519 signature has {SIGNATURE_SIZE} bytes, got "
                             f"{len(signature)}")
    # libsodium's crypto_sign_open on signature || message, as VerifyKey.verify does, less
    # the two Python objects it builds per call (an audit verifies every entry). A value
    # that is not bytes fails as a bad signature, as it did through VerifyKey.
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError,
            TypeError) as exc:
        raise SignatureError("the Ed25519 signature does not verify") from exc


def seal(key: bytes, secret: bytes, context: bytes) -> bytes:
    """Encrypt `secret` under `key` (XChaCha20-Poly1305, RFC 8439 with a 24-byte nonce).

    `context` is authenticated, not encrypted (what the secret belongs to, e.g. a key id):
    a sealed value moved to another context does not open. The result is nonce + ciphertext.
    """
    if len(key) != SEAL_KEY_SIZE:
        raise EncodingError(f"a sealing key has {SEAL_KEY_SIZE} bytes, got {len(key)}")
    nonce = nacl.utils.random(_NONCE_SIZE)
    return nonce + bytes(nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        secret, context, nonce, key))


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """The secret `seal` sealed; `SignatureError` when key, context or bytes are wrong."""
    if len(key) != SEAL_KEY_SIZE:
        raise EncodingError(f"a sealing key has {SEAL_KEY_SIZE} bytes, got {len(key)}")
    try:
        return bytes(nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed[_NONCE_SIZE:], context, sealed[:_NONCE_SIZE], key))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError,
            nacl.exceptions.TypeError) as exc:
        raise SignatureError("the sealed secret does not open under this key and context "
                             "(wrong key-encryption key, or the value was tampered with)"
                             ) from exc
