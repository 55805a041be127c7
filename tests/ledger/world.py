"""The shared world of the ledger's service tests: fixed keys, parties, BOMs, helpers.

A fixed clock and fixed seeds make every digest reproducible; `issue` gives each token a
new shipment number (the log size), so the same steps make the same digests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.crypto import SigningKey
from ledger.multikey import encode_public_key, verification_method_id
from ledger.note import SIG_COSIGNATURE_V1, Signer
from ledger.service import IssueResult, Ledger
from ledger.token import Certification, Certifier, CertifierRole, Party, line_records
from origin_rules import BillOfMaterials, bom_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ORIGIN = "tmec.example/ledger"
LOG_KEY = SigningKey(bytes([1]) * 32)
LOG_SIGNER = Signer(ORIGIN, LOG_KEY)
COSIGNERS = [Signer.from_seed(name, bytes([100 + n]) * 32, SIG_COSIGNATURE_V1)
             for n, name in enumerate(("cbp", "cbsa", "anam"))]

FRENOS = {"id": "frenos-bajio", "name": "Frenos del Bajío S.A. de C.V.", "country": "MX"}
HURON = {"id": "huron-powertrain", "name": "Huron Powertrain Components LLC", "country": "US"}
LAKESHORE = {"id": "lakeshore-valvetrain", "name": "Lakeshore Valvetrain Inc.", "country": "US"}


def key(seed: int) -> SigningKey:
    return SigningKey(bytes([seed]) * 32)


def kid_of(signing_key: SigningKey) -> str:
    return verification_method_id(signing_key.public_key)


FRENOS_KEY, HURON_KEY, LAKESHORE_KEY = key(11), key(12), key(13)


def now() -> datetime:
    return NOW


def bom(name: str, *, cites: str | None = None) -> BillOfMaterials:
    document = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    if cites is not None:
        for item in document["items"]:
            if item["id"] == "hydraulic-lash":
                item["evidence"] = {"token": cites}
    return bom_from_dict(document)


def certification(party: dict[str, str]) -> Certification:
    me = Party(name=party["name"], address="1 Industrial Way", country=party["country"])
    return Certification(
        role=CertifierRole.PRODUCER,
        certifier=Certifier(name="Ana Lucía Ortega", title="Compliance",
                            address="1 Industrial Way", country=party["country"],
                            phone="+52 461 555 0142", email="origin@example.com"),
        producer=None, exporter=me, signature_date=NOW.date())


def issue(ledger: Ledger, signing_key: SigningKey, party: dict[str, str], *,
          name: str = "brake-caliper-mx", cites: str | None = None) -> IssueResult:
    """Issue a token; the shipment number is the log size, so every call makes a new
    digest, and the same steps make the same digests.
    """
    n = ledger.store.size()
    good = bom(name, cites=cites)
    return ledger.issue_token(
        good, certification(party), shipment_id=f"SHP-{n}", key=signing_key,
        salts=[n.to_bytes(8, "big") + bytes([i]) * 8 for i in range(len(line_records(good)))])


def key_statement(signing_key: SigningKey, party: dict[str, str]) -> dict[str, Any]:
    return {"v": 1, "type": "key", "action": "add", "time": "2026-11-22T12:00:00Z",
            "kid": kid_of(signing_key),
            "publicKeyMultibase": encode_public_key(signing_key.public_key),
            "party": dict(party)}


def rotation(old: SigningKey, new: SigningKey, party: dict[str, str]) -> dict[str, Any]:
    return {**key_statement(new, party), "action": "rotate", "replaces": kid_of(old)}


@contextmanager
def unchanged(ledger: Ledger) -> Iterator[None]:
    """The block's refused append must leave the store exactly as it was."""
    size = ledger.store.size()
    yield
    assert ledger.store.size() == size, "a refused append wrote entries"
