"""The service's did:web identities: its own and each registered party's, from the log.

`ledger.did_web` writes identifiers and documents; this module fills them from what the
service knows, and answers the verifier's two offline questions about them:

* ``did:web:<host>`` (``/.well-known/did.json``) — the service itself: its VC-API issuer
  key (`ledger.api.vc_issuer`, when a key-encryption key is set) and the log's key, which
  signs the Bitstring Status List credentials.
* ``did:web:<host>:parties:<id>`` (``/parties/<id>/did.json``) — a party: exactly its keys
  that the log holds valid now (`ledger.keys.KeyRecord.status_at` after the last entry).
  A key the log rotated away, revoked or marked compromised is gone from the document from
  the entry that says so, in every worker (the rows are in the store; nothing is cached).

`<host>` comes from ``TMEC_PUBLIC_URL`` (a port as ``%3A``); a public URL with a path has no
did:web identity (the documents must be at the host's root). Identifiers of another host
are not resolved: the service fetches nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.did_web import DidWebName, did_document, did_web_host, parse_did_web
from ledger.errors import EncodingError
from ledger.multikey import decode_public_key

if TYPE_CHECKING:
    from ledger.api.context import Service

__all__ = ["ServiceDids"]


class ServiceDids:
    """did:web documents and offline resolution for one service (safe between threads)."""

    def __init__(self, service: Service) -> None:
        self._service = service
        try:
            self.host: str | None = did_web_host(service.settings.public_url)
        except EncodingError:
            self.host = None

    @property
    def service_did(self) -> str | None:
        """``did:web:<host>``, or None when the public URL gives no did:web identity."""
        return None if self.host is None else DidWebName(self.host).did

    def _service_keys(self) -> list[bytes]:
        keys = []
        service = self._service
        if service.settings.key_encryption_key is not None:
            keys.append(service.vc_issuer().key.public_key)
        keys.append(service.ledger.log_key.public_key)
        return keys

    def _party_keys(self, party_id: str) -> list[bytes] | None:
        """The party's keys valid now, oldest first; None if the log has none of its."""
        ledger = self._service.ledger
        records = ledger.store.party_keys(party_id)
        if not records:
            return None
        after_last = ledger.size + 1
        return [r.public_key for r in records if r.status_at(after_last) == "valid"]

    def document(self, name: DidWebName) -> dict[str, Any] | None:
        """The document of one of our DIDs, or None when there is no such identity."""
        if self.host is None or name.host != self.host:
            return None
        if not name.path:
            return did_document(name.did, self._service_keys())
        if name.party is None:
            return None
        keys = self._party_keys(name.party)
        return None if keys is None else did_document(name.did, keys)

    def keys_of(self, did: str) -> frozenset[bytes] | None:
        """The keys `did` controls now, if it is ours; None for any other identifier."""
        try:
            name = parse_did_web(did)
        except EncodingError:
            return None
        if self.host is None or name.host != self.host:
            return None
        found = self.document(name)
        if found is None:
            return frozenset()  # our host, no such identity: it controls nothing
        return frozenset(decode_public_key(m["publicKeyMultibase"])
                         for m in found["verificationMethod"])

    def resolve(self, verification_method: str) -> bytes | None:
        """The key of a verification method of one of our documents, listed there now."""
        did, _, fragment = verification_method.partition("#")
        keys = self.keys_of(did)
        if not keys:
            return None
        try:
            key = decode_public_key(fragment)
        except EncodingError:
            return None
        return key if key in keys else None
