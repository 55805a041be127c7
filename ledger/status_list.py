"""W3C Bitstring Status List v1.0: a token's revocation in the form standard verifiers read.

The log is the authority on a token's standing (`ledger.status`); this module restates
the revocations as a Bitstring Status List credential, so that a wallet or verifier that
knows nothing of our log can still see a token revoked. Each token issued by the service
carries a ``BitstringStatusListEntry`` (``statusPurpose`` revocation) naming a list and an
index; the list credential's ``encodedList`` has bit `index` set when the log revoked the
token (spec s.2.1-2.2: a GZIP-compressed bitstring of at least 16 KiB, base64url without
padding, multibase prefix ``u``; index 0 is the left-most bit of the first byte).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from typing import Any

from ledger.crypto import SigningKey
from ledger.errors import EncodingError
from ledger.multikey import did_key, verification_method_id
from ledger.token import VC_CONTEXT_V2, sign_credential

__all__ = ["LIST_BITS", "decode_status_list", "encode_status_list", "status_entry",
           "status_list_credential"]

LIST_BITS = 131_072
"""Bits per list: the spec's minimum of 16 KiB, for herd privacy."""


def encode_status_list(set_bits: Iterable[int], size: int = LIST_BITS) -> str:
    """``encodedList``: multibase base64url (no padding) of the GZIP of the bitstring."""
    bits = bytearray(size // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise EncodingError(f"status index {index} is outside a list of {size} bits")
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_status_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (the inverse of `encode_status_list`)."""
    if not encoded.startswith("u"):
        raise EncodingError("an encodedList is multibase base64url (prefix 'u')")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, OSError, EOFError) as exc:
        raise EncodingError(f"not a GZIP-compressed bitstring ({exc})") from None


def status_entry(list_url: str, index: int) -> dict[str, str]:
    """The ``credentialStatus`` entry of the token at `index` of the list at `list_url`."""
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(index),
            "statusListCredential": list_url}


def status_list_credential(list_url: str, revoked: Iterable[int], key: SigningKey,
                           created: str) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` (eddsa-jcs-2022) of one list."""
    unsigned = {
        "@context": [VC_CONTEXT_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_key(key.public_key),
        "validFrom": created,
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation",
                              "encodedList": encode_status_list(revoked)},
    }
    return sign_credential(unsigned, key, verification_method_id(key.public_key), created)
