"""did:web identifiers and DID documents for the service and its parties.

W3C CCG *did:web Method Specification* ("Method-Specific Identifier", "Create", "Read"):
the identifier is the host (a port written ``%3A``) followed by ``:``-separated path
segments; ``did:web:host`` is read from ``https://host/.well-known/did.json`` and
``did:web:host:parties:frenos-bajio`` from ``https://host/parties/frenos-bajio/did.json``.
This module builds both forms from the service's public URL, parses them back, and writes
the documents (W3C DID 1.0 s.5, with Multikey verification methods of Controlled
Identifiers 1.0 s.2.2.2: the same ``publicKeyMultibase`` a did:key carries). Each key is a
verification method whose fragment is its own multibase form, so a key keeps one id in
every document that lists it and a rotated key's id never comes back for another key.

The documents say only what is true *now*: the keys passed in are the ones the log holds
valid (`ledger.keys.KeyRecord.status_at`); the log, not the document, keeps the history
(a token signed by a key rotated away later still verifies from its bundle). Resolution
here is offline: the service answers for its own DIDs only; it never fetches another
host's document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from ledger.errors import EncodingError
from ledger.multikey import decode_public_key, did_key, encode_public_key

__all__ = ["DID_CONTEXT", "DID_WEB_PREFIX", "MULTIKEY_CONTEXT", "PARTIES_SEGMENT",
           "DidWebName", "check_host", "did_document", "did_web_host", "parse_did_web",
           "parse_party_method", "party_method"]

DID_WEB_PREFIX: Final = "did:web:"
#: DID 1.0 s.6.3.1: a JSON-LD DID document's first context.
DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
#: The context defining ``Multikey`` and ``publicKeyMultibase``.
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
#: The path segment under which party documents live (``/parties/<id>/did.json``).
PARTIES_SEGMENT: Final = "parties"

_SEGMENT: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
_HOST: Final = re.compile(r"[A-Za-z0-9.-]{1,253}(?:%3A[0-9]{1,5})?\Z")


def did_web_host(public_url: str) -> str:
    """The method-specific host part of the service's DID, from its public URL.

    ``http://127.0.0.1:8000`` gives ``127.0.0.1%3A8000``. The service's documents are at
    the root of its host (did:web's ``/.well-known/did.json``), so a public URL with a path
    is refused.

    Raises:
        EncodingError: `public_url` is not an http(s) URL of a host, without a path.
    """
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") \
            or parts.query or parts.fragment or parts.username:
        raise EncodingError(f"did:web needs the service at the root of an http(s) host, "
                            f"got {public_url[:80]!r}")
    host = parts.hostname
    if parts.port is not None:
        host = f"{host}%3A{parts.port}"
    if _HOST.match(host) is None:
        raise EncodingError(f"{host[:80]!r} is not a host did:web can name")
    return host


@dataclass(frozen=True, slots=True)
class DidWebName:
    """A did:web identifier split into its host and path segments."""

    host: str
    path: tuple[str, ...] = ()

    @property
    def did(self) -> str:
        """The identifier, ``did:web:<host>[:<segment>...]``."""
        return ":".join((DID_WEB_PREFIX + self.host, *self.path))

    @property
    def party(self) -> str | None:
        """The party id when this is a party's DID (``...:parties:<id>``)."""
        if len(self.path) == 2 and self.path[0] == PARTIES_SEGMENT:
            return self.path[1]
        return None

    @classmethod
    def of_party(cls, host: str, party_id: str) -> DidWebName:
        """The DID of a registered party."""
        if _SEGMENT.match(party_id) is None:
            raise EncodingError(f"{party_id[:80]!r} is not a party id")
        return cls(host, (PARTIES_SEGMENT, party_id))


def parse_did_web(did: str) -> DidWebName:
    """Split a did:web identifier (no fragment, query or path) into host and segments.

    Only the segments this service writes are accepted (lowercase slugs), so a parsed
    name can be matched against ours without ambiguity.

    Raises:
        EncodingError: `did` is not such an identifier.
    """
    if not did.startswith(DID_WEB_PREFIX) or len(did) > 400:
        raise EncodingError(f"not a did:web identifier: {str(did)[:80]!r}")
    host, *path = did[len(DID_WEB_PREFIX):].split(":")
    if _HOST.match(host) is None or not all(_SEGMENT.match(s) for s in path):
        raise EncodingError(f"not a did:web identifier this service writes: {did[:80]!r}")
    return DidWebName(host, tuple(path))


def check_host(host: str) -> str:
    """`host` if it is a method-specific host part did:web can name (a port as ``%3A``).

    Raises:
        EncodingError: it is not.
    """
    if _HOST.match(host) is None:
        raise EncodingError(f"{str(host)[:80]!r} is not a host did:web can name")
    return host


def party_method(did: str, public_key: bytes) -> str:
    """The id a party's DID document gives `public_key`: ``<did>#<publicKeyMultibase>``.

    The same id `did_document` writes, so a token's ``proof.verificationMethod`` under a
    did:web issuer names exactly the entry of the party's document (while the key is
    listed there).
    """
    return f"{did}#{encode_public_key(public_key)}"


def parse_party_method(verification_method: str) -> tuple[DidWebName, bytes]:
    """Split ``did:web:<host>:parties:<party>#<multibase>`` into the name and the key.

    Offline: the key is read from the fragment, which is the key's own multibase form in
    every document this service writes; whether the party held that key is for the log
    to say (`ledger.verify`), not the fragment.

    Raises:
        EncodingError: not a party's did:web method with a Multikey fragment.
    """
    did, sep, fragment = verification_method.partition("#")
    name = parse_did_web(did)
    if name.party is None:
        raise EncodingError(f"{did[:80]!r} is not a party's did:web identifier "
                            f"(did:web:<host>:{PARTIES_SEGMENT}:<party>)")
    if not sep or not fragment:
        raise EncodingError(f"{verification_method[:120]!r} names no key: the fragment is "
                            "the key's publicKeyMultibase")
    return name, decode_public_key(fragment)


def did_document(did: str, public_keys: Sequence[bytes]) -> dict[str, Any]:
    """The DID document of `did` listing `public_keys` (raw Ed25519) for assertions.

    Each key is a ``Multikey`` verification method ``<did>#<publicKeyMultibase>``, named
    in ``assertionMethod`` (the relationship a credential's proof uses, Data Integrity
    s.2.1 ``proofPurpose``); ``alsoKnownAs`` gives each key's did:key, the identifier the
    same key has where the ledger names parties by key.
    """
    methods = []
    for key in dict.fromkeys(public_keys):  # once each, in the order given
        multibase = encode_public_key(key)
        methods.append({"id": f"{did}#{multibase}", "type": "Multikey", "controller": did,
                        "publicKeyMultibase": multibase})
    return {"@context": [DID_CONTEXT, MULTIKEY_CONTEXT], "id": did,
            "alsoKnownAs": [did_key(key) for key in dict.fromkeys(public_keys)],
            "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods]}
