"""The BOM between the upload and the issue: carried by the form, signed, re-read.

An SME uploads a BOM, reads the determination, then fills the certification and issues the
token, two requests that may reach two different workers, the second one hours later or
never. Nothing of the first request is kept in a worker's memory and nothing is written to
the ledger's database for a draft that may be dropped: the BOM travels in the issue form,
as a hidden field, in the `tmec-bom/1` JSON the API takes (`origin_rules.writer`, with the
document's extensions), compressed and base64url-encoded.

The field is *signed* (HMAC-SHA-256 keyed by the visitor's session secret, which only the
browser's HttpOnly cookie and the server see), so a draft is only accepted back in the
session it was made for, and it is *re-validated* on the way back: the issue step reads
the BOM again with the same reader and limits as ``POST /v1/tokens`` (JSON body), and the
ledger determines origin again before it signs. The signature keeps a form from being
replayed into another session; the re-reading is what makes the document safe to use,
exactly as if it had been uploaded then.

The signature does not hide the document from its own visitor, who holds the cookie and
could seal a document of their own: that gains nothing they could not upload, since every
draft is read and determined again. Bounded both ways: a draft larger than
`MAX_DRAFT_CHARS` is not made (the page says to use the API or the CLI for such a BOM), and
one that inflates beyond `MAX_DRAFT_BYTES` is refused unread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any

from origin_rules.bom import BillOfMaterials
from origin_rules.limits import DEFAULT_LIMITS
from origin_rules.writer import bom_to_dict

__all__ = ["MAX_DRAFT_BYTES", "MAX_DRAFT_CHARS", "DraftError", "document_of", "open_draft",
           "seal_draft"]

MAX_DRAFT_CHARS = 900_000
"""Largest draft field (characters): below the 1 MiB a form field may have (Starlette)."""
MAX_DRAFT_BYTES = 64 * 1024 * 1024
"""Largest document a draft may inflate to (a zlib bomb is refused, not inflated)."""
_CONTEXT = b"tmec-web-draft/1"


class DraftError(Exception):
    """The draft field is missing, altered, from another session, or too large."""


def _mac(secret: str, payload: str) -> str:
    key = hmac.new(secret.encode("utf-8"), _CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def document_of(bom: BillOfMaterials) -> dict[str, Any]:
    """The `tmec-bom/1` document of `bom`, with the document's own extensions (the
    product-specific rule choices and any other top-level field the reader kept).
    """
    return {**bom_to_dict(bom), **dict(bom.extensions)}


def seal_draft(document: dict[str, Any], secret: str) -> str:
    """The form field carrying `document` for the session whose cookie is `secret`.

    Raises:
        DraftError: the compressed document is larger than `MAX_DRAFT_CHARS`.
    """
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    payload = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")
    if len(payload) > MAX_DRAFT_CHARS:
        raise DraftError("the bill of materials is too large to carry through the form")
    return f"{payload}.{_mac(secret, payload)}"


def open_draft(field: str, secret: str) -> bytes:
    """The JSON bytes of the document in `field`, if it was sealed for this session.

    The bytes are for the BOM reader (which validates them); nothing else is checked here.

    Raises:
        DraftError: missing, not ours, altered, or inflating past the document limit.
    """
    payload, _, mac = field.strip().rpartition(".")
    if not payload or len(payload) > MAX_DRAFT_CHARS or not secret:
        raise DraftError("no draft in the form")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise DraftError("the draft was not made for this session")
    try:
        compressed = base64.urlsafe_b64decode(payload.encode("ascii"))
    except (binascii.Error, ValueError):
        raise DraftError("the draft is not base64url") from None
    limit = min(MAX_DRAFT_BYTES, DEFAULT_LIMITS.max_document_bytes)
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, limit + 1)
    except zlib.error:
        raise DraftError("the draft is not compressed JSON") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise DraftError("the draft inflates beyond the document limit")
    return data
