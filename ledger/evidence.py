"""Supplier tokens as evidence: a cited token must back the very material that cites it.

A BOM may back an ``originating`` bought material with a supplier's origin token
(``"evidence": {"token": "<digest>"}``, spec `bom-format.md`, bought items). The producer
then relies on the supplier's certification instead of proving the material's origin
itself, as USMCA Art. 5.2 lets a certification rest on a producer's or exporter's
knowledge. That reliance only holds when the token is about that material:

* the material is declared ``originating`` (a certification of origin backs nothing else);
* the token certifies a good of the material's HS subheading (the token carries the six
  digits, Annex 5-A element 6), so a brake caliper's token cannot back an engine part;
* the token was certified by the good's **producer or exporter** (Annex 5-A element 1).
  An importer's certification rests on someone else's records and passes on no
  knowledge of the material's production, so it is not accepted as a supplier's evidence.

Whether the cited token is still active at the citing token's log position (not revoked,
not superseded, its key not compromised) is a rule of the log itself (`ledger.service`),
checked again on every replay. This module is pure: it receives the supplier tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import InputError
from origin_rules.bom import BillOfMaterials, Origin
from origin_rules.values import hs_digits

__all__ = ["EVIDENCE_ROLES", "check_evidence", "cited_tokens"]

#: Annex 5-A element 1 roles whose certification a buyer may cite as evidence.
EVIDENCE_ROLES = frozenset({"producer", "exporter"})


def cited_tokens(bom: BillOfMaterials) -> dict[str, list[str]]:
    """Supplier token digest -> ids of the items that cite it, in document order."""
    cited: dict[str, list[str]] = {}
    for item in bom.items.values():
        token = item.evidence.token if item.evidence is not None else None
        if token is not None:
            cited.setdefault(token, []).append(item.id)
    return cited


def check_evidence(bom: BillOfMaterials,
                   supplier_tokens: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a BOM whose cited supplier tokens do not back the materials citing them.

    Args:
        bom: The bill of materials of the token about to be issued.
        supplier_tokens: Every digest `cited_tokens` names, mapped to its stored token
            (checked against its digest by the caller).

    Raises:
        InputError: naming the item, the token and what does not match.
    """
    for digest, item_ids in cited_tokens(bom).items():
        token = supplier_tokens[digest]
        subject = token["credentialSubject"]
        certified_hs = str(subject["good"]["hsCode"])
        role = str(subject["certifierRole"])
        for item_id in item_ids:
            item = bom.items[item_id]
            where = f"item {item_id!r} cites supplier token {digest[:16]}..."
            path = f"items.{item_id}.evidence.token"
            if item.origin is not Origin.ORIGINATING:
                raise InputError(f"{where} as evidence but is declared "
                                 f"{item.origin.value if item.origin else 'without origin'}: "
                                 "a supplier's origin token backs an originating material",
                                 path=path)
            subheading = hs_digits(item.hs)[:6]
            if certified_hs != subheading:
                raise InputError(
                    f"{where}, which certifies a good of HS {certified_hs[:4]}.{certified_hs[4:]}"
                    f" ({subject['good']['description']!r}), not the material's subheading "
                    f"{subheading[:4]}.{subheading[4:]}", path=path)
            if role not in EVIDENCE_ROLES:
                raise InputError(f"{where}, certified by its {role}; only a producer's or "
                                 "exporter's certification backs a supplier's material",
                                 path=path)
