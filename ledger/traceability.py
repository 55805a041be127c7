"""An origin token as the W3C traceability vocabulary's ``USMCACertificationOfOrigin``.

The customs pilots' tools (w3c-ccg/traceability-vocab, the CBP steel tech demo) read a
USMCA certification in that vocabulary's strict schema (no property beyond those listed):
an ``Organization`` issuer with its ``employee`` (the certifier, Annex 5-A element 2), and
``USMCAClaims`` with ``invoiceNumber``, ``exporterDetails`` (element 3),
``producerDetails`` (4), ``importerDetails`` (5) and ``goods[]`` (6-7: description,
``commodityCode`` with ``commodityCodeType`` HS, ``originCriterion``,
``countryOfOrigin``). This module maps a token onto it, contexts
``https://www.w3.org/ns/credentials/v2`` and ``https://w3id.org/traceability/v1``, with
``validFrom`` / ``validUntil`` the blanket period (element 8) or, for a single shipment,
the four years a certification is valid (USMCA Art. 5.2(6)).

It is a view, not a second credential: ``id`` is the token's URN, the token (eddsa-jcs-2022
signed and logged) stays the evidence. The certification statement and the RVC have no
field in that schema, so they are not in the view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ledger.errors import TokenError
from ledger.token import IMPORTER_VARIOUS, PRODUCER_VARIOUS, TOKEN_URN_PREFIX, VC_CONTEXT_V2

__all__ = ["TRACEABILITY_CONTEXT", "certification_valid_until", "traceability_view"]

TRACEABILITY_CONTEXT = "https://w3id.org/traceability/v1"
_VALID_YEARS = 4  # USMCA Art. 5.2(6): a certification is valid four years from completion


def _address(party: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": ["Place"], "address": {"type": ["PostalAddress"],
                                           "streetAddress": str(party.get("address", "")),
                                           "addressCountry": str(party.get("country", ""))}}


def _organization(party: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": ["Organization"], "name": str(party["name"])}
    for ours, theirs in (("email", "email"), ("phone", "phoneNumber"), ("taxId", "taxId")):
        if isinstance(party.get(ours), str):
            shown[theirs] = party[ours]
    if isinstance(party.get("address"), str):
        shown["location"] = _address(party)
    return shown


def _person(certifier: Mapping[str, Any]) -> dict[str, Any]:
    first, _, last = str(certifier["name"]).strip().rpartition(" ")
    return {"type": ["Person"], "firstName": first or last, "lastName": last if first else "",
            "jobTitle": str(certifier.get("title", "")), "email": str(certifier["email"]),
            "phoneNumber": str(certifier.get("phone", ""))}


def _valid_until(valid_from: str) -> str:
    moment = datetime.fromisoformat(valid_from.replace("Z", "+00:00"))
    try:
        later = moment.replace(year=moment.year + _VALID_YEARS)
    except ValueError:  # 29 February
        later = moment.replace(year=moment.year + _VALID_YEARS, day=28)
    return later.strftime("%Y-%m-%dT%H:%M:%SZ")


def certification_valid_until(token: Mapping[str, Any]) -> str:
    """The end of the certification's validity: the blanket period's end (the token's
    ``validUntil``) or, for a single shipment, four years from ``validFrom`` (Art. 5.2(6)).
    """
    return str(token.get("validUntil") or _valid_until(str(token["validFrom"])))


def traceability_view(token: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """The ``USMCACertificationOfOrigin`` of a (parsed, verified) token."""
    subject = token.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise TokenError("the token has no credentialSubject")
    certifier = subject["certifier"]
    exporter = subject.get("exporter")
    producer = subject.get("producer")
    importer = subject.get("importer")
    good = subject["good"]
    maker = producer if isinstance(producer, Mapping) else exporter or certifier
    claims: dict[str, Any] = {"type": ["USMCAClaims"]}
    if isinstance(good.get("invoiceNumber"), str):
        claims["invoiceNumber"] = good["invoiceNumber"]
    claims["exporterDetails"] = _organization(exporter if isinstance(exporter, Mapping)
                                              else certifier)
    if producer == PRODUCER_VARIOUS:
        claims["variousProducers"] = True
    claims["producerDetails"] = _organization(maker)
    if importer == IMPORTER_VARIOUS:
        claims["variousImporters"] = True
    elif isinstance(importer, Mapping):
        claims["importerDetails"] = [_organization(importer)]
    claims["goods"] = [{"type": ["USMCAProduct"], "description": str(good["description"]),
                        "commodityCode": str(good["hsCode"]), "commodityCodeType": "HS",
                        "originCriterion": str(subject["originCriterion"]),
                        "countryOfOrigin": str(maker.get("country", ""))}]
    valid_from = str(token["validFrom"])
    issuer_party = exporter if isinstance(exporter, Mapping) else maker
    return {
        "@context": [VC_CONTEXT_V2, TRACEABILITY_CONTEXT],
        "type": ["VerifiableCredential", "USMCACertificationOfOrigin"],
        "id": f"{TOKEN_URN_PREFIX}{digest}",
        "validFrom": valid_from,
        "validUntil": certification_valid_until(token),
        "issuer": {"type": ["Organization"], "id": str(token["issuer"]),
                   "name": str(issuer_party["name"]), "employee": _person(certifier),
                   "location": _address(certifier)},
        "credentialSubject": claims,
    }
