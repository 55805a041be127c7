"""An origin token as a UNTP Digital Conformity Credential (UN/CEFACT UNTP, DCC 0.6.1).

The UN Transparency Protocol's conformity credential states that a product meets a rule,
who says so, and on what evidence. A USMCA certification of origin is exactly that, made
by the certifier itself, so the view is (field names of UNTP DCC 0.6.1,
``data-models/untp-dcc/artefacts/untp-dcc-schema.json``):

* ``credentialSubject``: a ``ConformityAttestation`` with ``assessorLevel`` ``Self`` and
  ``attestationType`` ``declaration`` (the exporter, producer or importer certifies,
  Art. 5.2), ``assessmentLevel`` ``Unspecified`` (no authority approved it), issued to the
  certifying party, with the origin token itself as ``auditableEvidence`` (its URN and its
  SHA-256 digest, which is the token digest).
* one ``ConformityAssessment`` (``conformityTopic`` ``governance.compliance``, UNTP's
  closest topic: it has no origin topic) whose ``referenceRegulation`` is USMCA Chapter 4
  with Annex 4-B, ``effectiveDate`` the effective date of the rule set the determination
  used; ``assessmentCriteria`` are the RVC threshold of each method
  (``thresholdValue``, percent, UN/ECE Rec. 20 unit ``P1``), the tariff shift and the
  other requirements the rule imposed; ``declaredValue`` the RVC computed per method,
  ``score`` ``pass`` or ``fail`` as the token says; ``conformance`` whether the good is
  originating; ``assessedProduct`` the good, named by its description and HS subheading.

Terms UNTP does not have (``hsCode``, ``originCriterion``, ``ruleSet``, ``shipmentId``,
``certifierRole``) are defined by our own versioned context `ORIGIN_DCC_CONTEXT_PATH`
(``ledger/contexts/origin-dcc-v1.jsonld``: protected, no ``@vocab``), served by the app
at the host of the token's own context, and they map to the same IRIs as the token's terms.

Numbers: UNTP's ``Measure.value`` is a JSON number, so the thresholds and RVCs are
`Decimal` here and the view's bytes come from `ledger.canonical.canonicalize_decimals`
(`view_bytes`), exact, never through binary rounding.

Like the traceability view it is a view, not a second claim: a pure function of the token,
its digest and the rule set's published date, with the token's URN as its id, so anyone
holding the token recomputes it byte for byte (which is how `ledger.copies` checks a JOSE
copy of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from ledger.canonical import canonicalize_decimals
from ledger.errors import TokenError
from ledger.token import TOKEN_CONTEXT_PATH, TOKEN_URN_PREFIX, VC_CONTEXT_V2, is_token_context
from ledger.traceability import certification_valid_until
from origin_rules.rules import default_rule_book

__all__ = ["ORIGIN_DCC_CONTEXT_PATH", "UNTP_DCC_CONTEXT", "UNTP_DCC_VERSION", "untp_view",
           "view_bytes"]

#: The UNTP release whose DCC schema the view follows (uncefact/spec-untp tag v0.6.1).
UNTP_DCC_VERSION: Final = "0.6.1"
UNTP_DCC_CONTEXT: Final = f"https://test.uncefact.org/vocabulary/untp/dcc/{UNTP_DCC_VERSION}/"
#: Our terms of the view (version 1), served by the app like the token's context.
ORIGIN_DCC_CONTEXT_PATH: Final = "/ns/origin-dcc/v1"
#: UN/ECE Recommendation 20 common code of "percent".
_PERCENT: Final = "P1"
_TOPIC: Final = "governance.compliance"
_METHODS: Final = {"net_cost": "net cost", "transaction_value": "transaction value"}
_REGULATION_NAME: Final = ("USMCA / T-MEC / CUSMA Chapter 4 (Rules of Origin) and Annex 4-B "
                           "(Product-Specific Rules of Origin)")
_ADMINISTRATOR: Final = {
    "id": "urn:tmec:usmca:free-trade-commission",
    "name": "USMCA Free Trade Commission; applied by the customs administrations of Canada "
            "(CBSA), Mexico (ANAM) and the United States (CBP)",
}


def _context_of(token: Mapping[str, Any]) -> str:
    """Our DCC-terms context at the host of the token's own context."""
    contexts = token.get("@context")
    for url in contexts if isinstance(contexts, list) else []:
        if is_token_context(url):
            return str(url).removesuffix(TOKEN_CONTEXT_PATH) + ORIGIN_DCC_CONTEXT_PATH
    raise TokenError("the token names no origin-token context")


def _effective_date(rule_set: str) -> str:
    for candidate in default_rule_book().rule_sets:
        if candidate.rule_set == rule_set:
            return candidate.valid_from.isoformat()
    raise TokenError(f"rule set {rule_set[:60]!r} is not one this installation has: its "
                     "effective date is unknown")


def _percent(text: Any, where: str) -> Decimal:
    if not isinstance(text, str):
        raise TokenError(f"{where}: expected a decimal string")
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise TokenError(f"{where}: {text[:40]!r} is not a decimal") from exc


def _certifying_party(subject: Mapping[str, Any]) -> Mapping[str, Any]:
    """The party that certifies: the role's party, else the exporter, else the certifier."""
    role = subject.get("certifierRole")
    party = subject.get(role) if isinstance(role, str) else None
    if isinstance(party, Mapping):
        return party
    exporter = subject.get("exporter")
    return exporter if isinstance(exporter, Mapping) else subject["certifier"]


def _metric(name: str, value: Decimal, score: str | None = None) -> dict[str, Any]:
    metric: dict[str, Any] = {"metricName": name,
                              "metricValue": {"value": value, "unit": _PERCENT}}
    if score is not None:
        metric["score"] = score
    return metric


def _criteria(determination: Mapping[str, Any], rule_set_id: str
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(assessmentCriteria, declaredValue) of a determination."""
    rule = determination["rule"]
    explained = f"{rule['title']}. {rule['reference']}"
    criteria: list[dict[str, Any]] = []
    declared: list[dict[str, Any]] = []
    for n, result in enumerate(determination.get("results", [])):
        method = str(result["method"])
        label = f"RVC ({_METHODS.get(method, method)} method)"
        where = f"credentialSubject.determination.results[{n}]"
        criteria.append({
            "type": ["Criterion"], "id": f"{rule_set_id}#rvc-{method}",
            "name": f"Regional value content, {_METHODS.get(method, method)} method",
            "description": explained, "conformityTopic": _TOPIC, "status": "active",
            "thresholdValue": _metric(label, _percent(result["threshold"],
                                                      f"{where}.threshold"))})
        declared.append(_metric(label, _percent(result["rvc"], f"{where}.rvc"),
                                "pass" if result["pass"] is True else "fail"))
    shift = determination.get("tariffShift")
    if isinstance(shift, Mapping) and shift.get("required"):
        criteria.append({
            "type": ["Criterion"], "id": f"{rule_set_id}#tariff-shift",
            "name": f"Change in tariff classification ({shift['required']})",
            "description": explained, "conformityTopic": _TOPIC, "status": "active"})
    for n, requirement in enumerate(determination.get("requirements", [])):
        criteria.append({
            "type": ["Criterion"], "id": f"{rule_set_id}#requirement-{n}",
            "name": str(requirement["name"]), "description": str(requirement["reference"]),
            "conformityTopic": _TOPIC, "status": "active"})
    return criteria, declared


def untp_view(token: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """The ``DigitalConformityCredential`` of a (parsed, verified) token.

    Raises:
        TokenError: The token lacks what the view needs, or names a rule set this
            installation does not have (its effective date would be unknown).
    """
    subject = token.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise TokenError("the token has no credentialSubject")
    urn = f"{TOKEN_URN_PREFIX}{digest}"
    determination = subject["determination"]
    rule_set = str(determination["ruleSet"])
    rule_set_id = f"urn:tmec:rule-set:{rule_set}"
    criteria, declared = _criteria(determination, rule_set_id)
    good = subject["good"]
    party = _certifying_party(subject)
    issuer_id = str(token["issuer"])
    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment", "Declaration"],
        "id": f"{urn}#assessment",
        "name": f"USMCA origin criterion {subject['originCriterion']}: "
                f"{determination['rule']['title']}",
        "description": str(determination["rule"]["reference"]),
        "assessmentDate": str(determination["asOf"]),
        "referenceRegulation": {
            "type": ["Regulation"], "id": rule_set_id, "name": _REGULATION_NAME,
            "administeredBy": dict(_ADMINISTRATOR),
            "effectiveDate": _effective_date(rule_set)},
        "assessmentCriteria": criteria,
        "conformance": determination["originating"] is True,
        "conformityTopic": _TOPIC,
        "assessedProduct": [{
            "type": ["ProductVerification"],
            "product": {"id": f"{urn}#good", "name": str(good["description"]),
                        "hsCode": str(good["hsCode"])},
            "IDverifiedByCAB": False}],
        "originCriterion": str(subject["originCriterion"]),
        "ruleSet": rule_set,
    }
    if declared:
        assessment["declaredValue"] = declared
    attestation: dict[str, Any] = {
        "type": ["ConformityAttestation", "Attestation"],
        "id": f"{urn}#attestation",
        "name": f"USMCA certification of origin: {good['description']}",
        "assessorLevel": "Self",
        "assessmentLevel": "Unspecified",
        "attestationType": "declaration",
        "description": str(subject["authorizedSignature"]["statement"]),
        "issuedToParty": {"id": issuer_id, "name": str(party["name"])},
        "auditableEvidence": {
            "type": ["SecureLink", "Link"], "linkURL": urn,
            "linkName": "The origin token (W3C VC 2.0, eddsa-jcs-2022), logged in the "
                        "T-MEC origin ledger",
            "hashDigest": digest, "hashMethod": "SHA-256"},
        "assessment": [assessment],
        "shipmentId": str(subject["shipmentId"]),
        "certifierRole": str(subject["certifierRole"]),
    }
    view: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, UNTP_DCC_CONTEXT, _context_of(token)],
        "type": ["DigitalConformityCredential", "VerifiableCredential"],
        "id": urn,
        "issuer": {"type": ["CredentialIssuer"], "id": issuer_id,
                   "name": str(party["name"])},
        "validFrom": str(token["validFrom"]),
        "validUntil": certification_valid_until(token),
        "credentialSubject": attestation,
    }
    if isinstance(token.get("credentialStatus"), Mapping):
        view["credentialStatus"] = dict(token["credentialStatus"])
    return view


def view_bytes(token: Mapping[str, Any], digest: str) -> bytes:
    """The view's canonical JSON bytes (RFC 8785, decimals as exact numbers)."""
    return canonicalize_decimals(untp_view(token, digest))
