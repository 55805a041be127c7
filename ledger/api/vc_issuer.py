"""The service's own issuer key for the VC-API (`POST /credentials/issue`): one did:key.

The key is derived, never stored: ``HKDF-SHA256(TMEC_KEY_ENCRYPTION_KEY, info
"tmec-ledger/vc-api/issuer/v1")`` (`ledger.crypto.derive_key`, RFC 5869) is its Ed25519
seed. So every worker, on every machine given the same settings, signs with the same key
and names the same DID, with nothing to generate at first use (no race between workers)
and no new secret to keep: the key-encryption key that seals the parties' held keys is
the one secret. The derivation is one-way, so the issuer key reveals nothing of the
key-encryption key, and the label keeps it apart from any other key derived later.
Consequence: replacing the key-encryption key changes the issuer's DID (credentials issued
before keep verifying: a did:key is its own key). Without a key-encryption key the service
issues nothing (`KeysNotConfiguredError`, 503), as it then holds no keys at all.

This key is neither the log's key (checkpoints, status lists) nor a party's: a credential
issued here is the operator's word, never an origin certification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.api.signing_keys import KeysNotConfiguredError
from ledger.crypto import SigningKey, derive_key
from ledger.multikey import did_key, verification_method_id

__all__ = ["ISSUER_KEY_INFO", "ServiceIssuer"]

#: The HKDF label of the issuer key (changing it changes every installation's DID).
ISSUER_KEY_INFO: Final = b"tmec-ledger/vc-api/issuer/v1"


@dataclass(frozen=True)
class ServiceIssuer:
    """The issuer key, its DID and its verification method id."""

    key: SigningKey
    did: str
    verification_method: str

    @classmethod
    def from_secret(cls, key_encryption_key: bytes | None) -> ServiceIssuer:
        """The issuer of a service with this key-encryption key.

        Raises:
            KeysNotConfiguredError: There is no key-encryption key.
        """
        if key_encryption_key is None:
            raise KeysNotConfiguredError("the service issues no credentials: set "
                                         "TMEC_KEY_ENCRYPTION_KEY (32 bytes, hex), from "
                                         "which its issuer key is derived")
        key = SigningKey(derive_key(key_encryption_key, ISSUER_KEY_INFO))
        return cls(key, did_key(key.public_key), verification_method_id(key.public_key))
