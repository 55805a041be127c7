"""did:web identifiers and documents (`ledger.did_web`), after the did:web Method
Specification's examples ("Method-Specific Identifier": a port is ``%3A``, a path is
``:``-separated) and DID 1.0's document shape.
"""

from __future__ import annotations

import pytest

from ledger.crypto import SigningKey
from ledger.did_web import DidWebName, did_document, did_web_host, parse_did_web
from ledger.errors import EncodingError
from ledger.multikey import did_key, encode_public_key


def test_hosts_and_ports() -> None:
    assert did_web_host("https://w3c-ccg.github.io") == "w3c-ccg.github.io"
    assert did_web_host("https://example.com:3000/") == "example.com%3A3000"
    assert did_web_host("http://127.0.0.1:8000") == "127.0.0.1%3A8000"
    for bad in ("ftp://example.com", "https://example.com/ledger", "https://u@example.com",
                "https://example.com?x=1", "not a url"):
        with pytest.raises(EncodingError):
            did_web_host(bad)


def test_names_round_trip() -> None:
    party = DidWebName.of_party("example.com%3A3000", "frenos-bajio")
    assert party.did == "did:web:example.com%3A3000:parties:frenos-bajio"
    assert parse_did_web(party.did) == party
    assert party.party == "frenos-bajio"
    assert DidWebName("example.com").did == "did:web:example.com"
    assert parse_did_web("did:web:example.com").party is None
    assert parse_did_web("did:web:example.com:user:alice").party is None
    for bad in ("did:key:z6Mk", "did:web:", "did:web:exa mple.com", "did:web:x.com:Parties:a",
                "did:web:x.com#frag", "did:web:" + "a" * 400):
        with pytest.raises(EncodingError):
            parse_did_web(bad)
    with pytest.raises(EncodingError):
        DidWebName.of_party("example.com", "../etc")


def test_documents_list_each_key_once_for_assertions() -> None:
    one, two = SigningKey(bytes(32)).public_key, SigningKey(bytes(range(32))).public_key
    document = did_document("did:web:example.com", [one, two, one])
    assert document["@context"] == ["https://www.w3.org/ns/did/v1",
                                    "https://w3id.org/security/multikey/v1"]
    ids = [f"did:web:example.com#{encode_public_key(k)}" for k in (one, two)]
    assert [m["id"] for m in document["verificationMethod"]] == ids
    assert document["assertionMethod"] == ids
    assert document["alsoKnownAs"] == [did_key(one), did_key(two)]
    assert did_document("did:web:example.com", [])["verificationMethod"] == []
