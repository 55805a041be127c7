"""Origin tokens: USMCA certifications of origin as W3C Verifiable Credentials 2.0.

An origin token is the signed statement a certifier (exporter, producer or importer)
makes about one good for one shipment, or for a blanket period (design `ledger.md`
decision 1). It is a VC 2.0 JSON document of type
``["VerifiableCredential", "UsmcaOriginToken"]`` secured by an embedded
``DataIntegrityProof`` with the ``eddsa-jcs-2022`` cryptosuite (W3C *Data Integrity EdDSA
Cryptosuites v1.0*, Recommendation 15 May 2025, s.3.3): RFC 8785 canonical JSON, SHA-256,
Ed25519. No JSON-LD expansion or context fetching is involved, so a token verifies
offline and with any independent eddsa-jcs-2022 implementation; our signer reproduces the
spec's Appendix B.3 vector byte for byte (tests/assets/vc-di-eddsa).

The module has four layers, each usable on its own:

1. **eddsa-jcs-2022** — `sign_credential` / `verify_credential` for any VC (s.3.3.1-3.3.7).
2. **Selective disclosure** (decision 2; ledger-anchors s.5.1) — every BOM line is a
   salted, position-bound leaf ``SHA-256(0x00 || JCS({"salt", "line", ...record}))`` under
   an RFC 6962 root (`commit_parts`); one line can be shown to customs with its salt and
   inclusion proof (`disclose`, `verify_disclosure`) while prices stay hidden from others.
3. **Annex 5-A** — `Certification` and its parts carry the nine minimum data elements of a
   USMCA certification of origin (Agreement Annex 5-A; 19 CFR 182.12; usmca-rules s.3.2).
4. **The token** — `build_origin_token` assembles and signs; `token_digest` is the
   identifier used everywhere (decision 3); `parse_token` checks the shape and
   `verify_token` the signature and the issuer/key binding.

Encodings chosen here (each is part of the signed bytes, so changing one breaks every
token already issued):

* ``partsRoot`` and inclusion-proof hashes are lowercase hex, like ``tokenDigest`` and the
  log's hashes, so one notation runs through bundles, URLs and logs.
* Salts are 16 random bytes written as unpadded base64url (RFC 4648 s.5); ``line`` is the
  0-based position of the line in the BOM document, which is also its Merkle leaf index.
* Money, quantities and percentages are decimal strings; prices (``unit_value``) appear
  only inside the line commitments. The determination summary carries the good's RVC
  base and VNM, which the certifier discloses by choice (decision 1).
* Supplier tokens are linked through the VC 2.0 ``relatedResource`` property (VCDM 2.0
  s.5.3) with ``id`` ``urn:tmec:token:<hex digest>`` and ``digestMultibase`` = ``u`` +
  base64url-nopad of the sha2-256 multihash (``12 20`` || digest) of the same bytes.

What this module does not do: recompute the determination from disclosed lines, check
key registration or revocation in the log, or consult a clock (every time is passed in).
"""

from __future__ import annotations

import base64
import copy
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from ledger import merkle
from ledger.canonical import Split, canonicalize, parse_json
from ledger.crypto import SIGNATURE_SIZE, SigningKey, sha256, verify_signature
from ledger.did_web import DID_WEB_PREFIX, parse_did_web, parse_party_method, party_method
from ledger.errors import (
    EncodingError,
    HypotheticalRuleSetError,
    IssuerError,
    SignatureError,
    TokenError,
    UnknownKeyError,
)
from ledger.multikey import (
    DID_KEY_PREFIX,
    decode_did_key,
    decode_multibase,
    decode_verification_method,
    did_key,
    encode_multibase,
    verification_method_id,
)
from ledger.statements import check_party
from origin_rules.bom import BillOfMaterials
from origin_rules.determination import Determination
from origin_rules.values import format_decimal, hs_digits, is_decimal_string
from origin_rules.writer import document_header, item_to_dict

__all__ = [
    "CERTIFICATION_STATEMENT",
    "CREDENTIAL_TYPE",
    "CRYPTOSUITE",
    "IMPORTER_VARIOUS",
    "PARTS_FORMAT",
    "PRODUCER_AVAILABLE_UPON_REQUEST",
    "PRODUCER_VARIOUS",
    "PROFILE_FIELDS",
    "PROOF_PURPOSE",
    "PROOF_TYPE",
    "SALT_SIZE",
    "SHIPMENT_DIGEST_PREFIX",
    "TOKEN_CONTEXT",
    "TOKEN_CONTEXT_PATH",
    "TOKEN_TYPE",
    "TOKEN_URN_PREFIX",
    "USMCA_COUNTRIES",
    "VC_CONTEXT_V2",
    "BlanketPeriod",
    "Certification",
    "Certifier",
    "CertifierRole",
    "IssuedToken",
    "PartsCommitment",
    "Party",
    "build_origin_token",
    "check_party_profile",
    "commit_parts",
    "decode_commitment",
    "disclose",
    "document_from_records",
    "encode_commitment",
    "is_token_context",
    "line_records",
    "method_key",
    "parse_token",
    "shipment_digest",
    "sign_credential",
    "supplier_token_digests",
    "token_digest",
    "token_digest_of",
    "token_issuer",
    "token_public_key",
    "verify_credential",
    "verify_disclosure",
    "verify_token",
]

#: The VC 2.0 base context; VCDM 2.0 "Contexts" requires it first in ``@context``.
VC_CONTEXT_V2: Final = "https://www.w3.org/ns/credentials/v2"
#: The project's JSON-LD context for the UsmcaOriginToken terms. A placeholder under the
#: reserved ``.example`` TLD (RFC 2606) until the project publishes its context document:
#: eddsa-jcs-2022 never dereferences it, but JSON-LD processors would, and the URL is part
#: of every signature, so it must be fixed before the first production token.
TOKEN_CONTEXT: Final = "https://tmec-ledger.example/ns/origin-token/v1"
"""The default ``@context`` of our terms; an operator serves the same document at its own
host (``TMEC_TOKEN_CONTEXT``), so any ``http(s)://<host>`` + `TOKEN_CONTEXT_PATH` names it."""

TOKEN_CONTEXT_PATH: Final = "/ns/origin-token/v1"


def is_token_context(url: object) -> bool:
    """Whether `url` names version 1 of our context, at our default host or an operator's."""
    if not isinstance(url, str) or not url.endswith(TOKEN_CONTEXT_PATH):
        return False
    host = url.removesuffix(TOKEN_CONTEXT_PATH)
    for scheme in ("https://", "http://"):
        if host.startswith(scheme):
            name = host[len(scheme):]
            return bool(name) and all(c.isalnum() or c in ".-:[]" for c in name)
    return False
#: First member of ``type`` (VCDM 2.0 "Types").
CREDENTIAL_TYPE: Final = "VerifiableCredential"
#: Our credential type.
TOKEN_TYPE: Final = "UsmcaOriginToken"
#: vc-di-eddsa s.2.2.1: the proof ``type``.
PROOF_TYPE: Final = "DataIntegrityProof"
#: vc-di-eddsa s.3.3: the cryptosuite identifier.
CRYPTOSUITE: Final = "eddsa-jcs-2022"
#: The only proof purpose an origin token has: the issuer asserts its claims.
PROOF_PURPOSE: Final = "assertionMethod"
#: Bytes of salt per committed BOM line (ledger-anchors s.5.1).
SALT_SIZE: Final = 16
#: Scheme of supplier-token identifiers in ``relatedResource``.
TOKEN_URN_PREFIX: Final = "urn:tmec:token:"
#: The three Parties; exporter, producer and importer addresses lie in their territory
#: (Annex 5-A elements 3-5).
USMCA_COUNTRIES: Final = frozenset({"CA", "MX", "US"})
#: Annex 5-A element 4 alternatives to naming the producer.
PRODUCER_VARIOUS: Final = "Various"
PRODUCER_AVAILABLE_UPON_REQUEST: Final = "Available upon request by the importing authorities"
#: Annex 5-A element 5 (19 CFR 182.12): several importers.
IMPORTER_VARIOUS: Final = "Various"
#: Annex 5-A element 9 statement. The wording is reproduced identically by several public
#: implementations; the primary Annex text was not retrieved (usmca-rules s.3.2 marks it
#: UNCONFIRMED), so `Certification.statement` can override it.
CERTIFICATION_STATEMENT: Final = (
    "I certify that the goods described in this document qualify as originating and the "
    "information contained in this document is true and accurate. I assume responsibility "
    "for proving such representations and agree to maintain and present upon request or to "
    "make available during a verification visit, documentation necessary to support this "
    "certification."
)

_HEX64: Final = re.compile(r"[0-9a-f]{64}\Z")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<tz>Z|[+-]\d{2}:\d{2})?\Z")
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*\Z")
_COUNTRY: Final = re.compile(r"[A-Z]{2}\Z")
_SHA256_MULTIHASH: Final = b"\x12\x20"  # multicodec sha2-256, digest length 32


# --------------------------------------------------------------------------------------
# 1. Data Integrity eddsa-jcs-2022 (vc-di-eddsa s.3.3)
# --------------------------------------------------------------------------------------


def _check_datetime(value: Any, where: str, *, require_timezone: bool) -> datetime:
    """An XML Schema 1.1 dateTime (vc-di-eddsa s.3.3.5 step 3; VCDM 2.0 "Validity Period")."""
    if not isinstance(value, str):
        raise TokenError(f"{where}: expected a dateTime string, got {type(value).__name__}")
    match = _DATETIME.match(value)
    if match is None or (require_timezone and match["tz"] is None):
        zone = " with a time zone" if require_timezone else ""
        raise TokenError(f"{where}: {value!r} is not an XML Schema dateTime{zone} "
                         f"(YYYY-MM-DDThh:mm:ssZ)")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise TokenError(f"{where}: {value!r} is not a calendar date and time") from exc


def _hash_data(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """vc-di-eddsa s.3.3.4: SHA-256(JCS(proof config)) || SHA-256(JCS(document)).

    JCS of the document is the transformation of s.3.3.3, JCS of the proof configuration
    the canonical form of s.3.3.5; the proof-config hash comes first.
    """
    return sha256(canonicalize(proof_config)) + sha256(canonicalize(document))


def _contexts(value: Any, where: str) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value
    raise TokenError(f"{where}: @context must be a string or an array")


def sign_credential(unsigned: Mapping[str, Any], key: SigningKey, verification_method: str,
                    created: str) -> dict[str, Any]:
    """Secure a document with an eddsa-jcs-2022 DataIntegrityProof.

    Follows vc-di-eddsa s.3.3.1 "Create Proof": the proof options are cloned, get the
    document's ``@context`` (step 2, which the spec strongly advises), are canonicalized
    with JCS (s.3.3.5), hashed together with the JCS form of the document (s.3.3.3-3.3.4),
    and the Ed25519 signature of the 64-byte hash data (s.3.3.6) becomes ``proofValue`` in
    base58btc multibase. The input is not modified.

    Args:
        unsigned: The unsecured document (I-JSON: no floats).
        key: The signing key.
        verification_method: The ``verificationMethod`` URL; when it is a did:key it must
            name `key`'s public key, so a token can never claim a key it was not signed by.
        created: The proof's ``created`` time, an XML Schema dateTimeStamp such as
            ``2023-02-24T23:36:38Z`` (injected: this module has no clock).

    Returns:
        A new document: a deep copy of `unsigned` with a ``proof`` member.

    Raises:
        TokenError: If the document already has a proof, `created` is not a dateTime with
            a time zone, or a did:key verification method names another key.
        EncodingError: If the document is not I-JSON (floats, huge integers).
    """
    if "proof" in unsigned:
        raise TokenError("the document already has a proof; proof sets and chains are not "
                         "supported")
    _check_datetime(created, "proof.created", require_timezone=True)
    _text(verification_method, "proof.verificationMethod")
    if verification_method.startswith(DID_KEY_PREFIX):
        try:
            named = decode_verification_method(verification_method)
        except EncodingError as exc:
            raise TokenError(f"proof.verificationMethod: {exc.message}") from exc
        if named != key.public_key:
            raise TokenError(f"proof.verificationMethod names key {named.hex()}, but the "
                             f"signing key is {key.public_key.hex()}")
    elif _party_method_key(verification_method) not in (None, key.public_key):
        raise TokenError(f"proof.verificationMethod {verification_method[:120]!r} names "
                         "another key than the signing key")
    document: dict[str, Any] = _copy_json(dict(unsigned))
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    if "@context" in document:
        proof["@context"] = _copy_json(document["@context"])
    proof["proofValue"] = encode_multibase(key.sign(_hash_data(document, proof)))
    document["proof"] = proof
    return document


def method_key(verification_method: str) -> bytes:
    """The key a verification method of ours names: a did:key's own, or the fragment of a
    party's did:web method (``<did>#<publicKeyMultibase>``, `ledger.did_web.party_method`).

    Naming is not resolving: a did:web fragment is only the *claim* of a key, which a
    verifier binds to the party through the log (`ledger.verify`); `verify_credential`
    never resolves a did:web method by its fragment alone.

    Raises:
        TokenError: neither form, or not a well-formed key.
    """
    try:
        if verification_method.startswith(DID_KEY_PREFIX):
            return decode_verification_method(verification_method)
        if verification_method.startswith(DID_WEB_PREFIX):
            return parse_party_method(verification_method)[1]
    except EncodingError as exc:
        raise TokenError(f"proof.verificationMethod: {exc.message}") from exc
    raise TokenError(f"proof.verificationMethod {verification_method[:120]!r} is neither a "
                     "did:key nor a party's did:web method")


def _party_method_key(verification_method: str) -> bytes | None:
    """The key a party's did:web method names in its fragment; None for any other method
    (a generic credential's did:web, such as ``did:web:issuer.example#key-1``, is
    resolved by its caller's key alone, as before).
    """
    if not verification_method.startswith(DID_WEB_PREFIX):
        return None
    try:
        return parse_party_method(verification_method)[1]
    except EncodingError:
        return None


def _resolve_key(verification_method: str, public_key: bytes | None) -> bytes:
    """vc-di-eddsa s.3.3.7 step 1, offline: did:key methods resolve to their own key.

    A did:web method of a party (``...#<publicKeyMultibase>``) resolves only with the key
    passed in (from the log), and its fragment must name that same key.
    """
    named: bytes | None = None
    if verification_method.startswith(DID_KEY_PREFIX):
        try:
            named = decode_verification_method(verification_method)
        except EncodingError as exc:
            raise TokenError(f"proof.verificationMethod: {exc.message}") from exc
    elif public_key is not None and (fragment := _party_method_key(verification_method)) \
            and not hmac.compare_digest(fragment, public_key):
        raise SignatureError(f"proof.verificationMethod names key {fragment.hex()} in its "
                             f"fragment, not the expected key {public_key.hex()}")
    if public_key is None:
        if named is None:
            raise UnknownKeyError(f"verification method {verification_method!r} cannot be "
                                  f"resolved offline; pass its public key",
                                  key_id=verification_method)
        return named
    if named is not None and not hmac.compare_digest(named, public_key):
        raise SignatureError(f"proof.verificationMethod names key {named.hex()}, not the "
                             f"expected key {public_key.hex()}")
    return public_key


def verify_credential(credential: Mapping[str, Any], public_key: bytes | None = None, *,
                      members: Split | None = None) -> None:
    """Verify the eddsa-jcs-2022 DataIntegrityProof of a secured document.

    Follows vc-di-eddsa s.3.3.2 "Verify Proof": the proof options are the proof without
    ``proofValue``; if they carry an ``@context``, the document's ``@context`` must start
    with it and replaces it for hashing (step 4); then the hash data of s.3.3.4 is checked
    against the Ed25519 signature (s.3.3.7). Beyond the spec's minimum this fails closed
    on anything but ``type`` DataIntegrityProof, ``cryptosuite`` eddsa-jcs-2022 and
    ``proofPurpose`` assertionMethod, on an invalid ``created``, and on proof sets.

    Args:
        credential: The secured document (with one ``proof`` object).
        public_key: The raw 32-byte key to verify with. When None, the verification method
            must be a did:key, which resolves offline; when given and the verification
            method is a did:key, both must name the same key.
        members: `ledger.canonical.split_canonical` of `credential` itself around
            ``proof``, when the caller has it (a verifier that also needs the document's
            digest): the unsecured document's bytes are taken from it, byte for byte
            what `canonicalize` would give, so the document is canonicalized once.

    Raises:
        TokenError: If the proof is missing or malformed, or names another suite or
            purpose.
        SignatureError: If the signature or the ``@context`` binding does not verify.
        UnknownKeyError: If no key was passed and the verification method is not a did:key.
        EncodingError: If the document is not I-JSON.
    """
    if not isinstance(credential, Mapping):
        raise TokenError(f"a credential is a JSON object, got {type(credential).__name__}")
    proof = credential.get("proof")
    if proof is None:
        raise TokenError("proof: missing")
    if isinstance(proof, list):
        raise TokenError("proof: proof sets and chains are not supported")
    if not isinstance(proof, Mapping):
        raise TokenError(f"proof: expected an object, got {type(proof).__name__}")
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    for name, expected in (("type", PROOF_TYPE), ("cryptosuite", CRYPTOSUITE),
                           ("proofPurpose", PROOF_PURPOSE)):
        if options.get(name) != expected:
            raise TokenError(f"proof.{name}: expected {expected!r}, got "
                             f"{options.get(name)!r}")
    if "created" in options:
        _check_datetime(options["created"], "proof.created", require_timezone=False)
    verification_method = options.get("verificationMethod")
    if not isinstance(verification_method, str) or not verification_method:
        raise TokenError("proof.verificationMethod: expected a non-empty string")
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        raise TokenError("proof.proofValue: expected a multibase string")
    try:
        signature = decode_multibase(proof_value)
    except EncodingError as exc:
        raise SignatureError(f"proof.proofValue: {exc.message}") from exc
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"proof.proofValue holds {len(signature)} bytes, an Ed25519 "
                             f"signature has {SIGNATURE_SIZE}")
    unsecured = {name: value for name, value in credential.items() if name != "proof"}
    if "@context" in options:
        proof_contexts = _contexts(options["@context"], "proof")
        document_contexts = _contexts(credential.get("@context", []), "document")
        if document_contexts[: len(proof_contexts)] != proof_contexts:
            raise SignatureError("the document's @context does not start with the proof's "
                                 "@context")
        unsecured["@context"] = options["@context"]
    key = _resolve_key(verification_method, public_key)
    if members is None or ("@context" in options and canonicalize(
            options["@context"]) != canonicalize(credential.get("@context"))):
        hash_data = _hash_data(unsecured, options)
    else:  # the document without its proof, as the split already has it
        hash_data = sha256(canonicalize(options)) + sha256(members.without())
    verify_signature(key, hash_data, signature)


# --------------------------------------------------------------------------------------
# 2. Selective disclosure of BOM lines (decision 2; ledger-anchors s.5.1)
# --------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: Any, where: str) -> bytes:
    """Strict unpadded base64url (RFC 4648 s.5): only the canonical spelling is accepted."""
    if not isinstance(text, str) or _BASE64URL.match(text) is None or len(text) % 4 == 1:
        raise TokenError(f"{where}: not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(data) != text:
        raise TokenError(f"{where}: not the canonical base64url spelling")
    return data


def _copy_json(value: Any) -> Any:
    """A deep copy of a JSON value: what `copy.deepcopy` gives for dicts, lists and
    scalars, without its memo and dispatch (a registration copies every BOM line record
    and the token; deepcopy was a twentieth of its work). Anything else (a tuple, a
    Mapping that is not a dict) is copied by `copy.deepcopy` itself, so the result is
    the same whatever the value holds.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {key: _copy_json(child) for key, child in value.items()}
    if kind is list:
        return [_copy_json(child) for child in value]
    return copy.deepcopy(value)


def _part_leaf(line: int, salt: bytes, record: Mapping[str, Any]) -> bytes:
    """``SHA-256(0x00 || JCS({"salt", "line", ...record}))``: RFC 6962 leaf of one line."""
    return merkle.leaf_hash(canonicalize({"salt": _b64url(salt), "line": line, **record}))


@dataclass(frozen=True, slots=True)
class PartsCommitment:
    """Salted commitments to a BOM's lines and their RFC 6962 root.

    The issuer keeps this (records and salts are secret); the token carries only
    `root_hex` and `count`. Records are deep copies, so later changes to the caller's
    dicts cannot desynchronize them from the leaves.
    """

    records: tuple[Mapping[str, Any], ...]
    salts: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    root: bytes

    @property
    def count(self) -> int:
        """Number of committed lines (the token's ``partsCount``)."""
        return len(self.leaves)

    @property
    def root_hex(self) -> str:
        """The root as lowercase hex (the token's ``partsRoot``)."""
        return self.root.hex()


def line_records(bom: BillOfMaterials) -> list[dict[str, Any]]:
    """What the token commits to: one record per BOM line, then one for the good.

    A line record holds the line (``parent``, ``child``, ``qty``) and its child item as the
    `tmec-bom/1` document spells it (``hs``, ``description``, ``kind`` and, for a bought
    material, ``origin``, ``unit_value``, ``country``, ``evidence``, Art. 4.7
    ``deductions``, the Art. 4.11 ``statement`` and the Art. 4.9/4.15/4.16 flags; for a
    self-produced one its costs, transaction value and designation). The last record is
    the good itself with the document's top-level fields, so that disclosing every record
    lets customs rebuild the document and recompute the determination; disclosing one
    line shows that line and nothing else.

    Args:
        bom: A validated bill of materials.

    Returns:
        JSON-ready records; every decimal is a string.
    """
    records: list[dict[str, Any]] = []
    for line in bom.lines:
        child = item_to_dict(bom.items[line.child])
        del child["id"]
        records.append({"parent": line.parent, "child": line.child,
                        "qty": format_decimal(line.qty), **child})
    good = item_to_dict(bom.root)
    del good["id"]
    header = {k: v for k, v in document_header(bom).items() if k not in ("format", "good")}
    records.append({"good": bom.good, "document": header, **good})
    return records


def document_from_records(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rebuild the `tmec-bom/1` document from every committed record (a full disclosure).

    Raises:
        TokenError: the records are not a complete set as `line_records` writes them.
    """
    if not records or "good" not in records[-1]:
        raise TokenError("a full disclosure ends with the good's record")
    good = dict(records[-1])
    good_id = good.pop("good")
    header = good.pop("document")
    if not isinstance(header, Mapping):
        raise TokenError("the good's record has no document header")
    items: dict[str, dict[str, Any]] = {good_id: {"id": good_id, **good}}
    lines = []
    for n, record in enumerate(records[:-1]):
        try:
            parent, child, qty = record["parent"], record["child"], record["qty"]
        except KeyError as exc:
            raise TokenError(f"record {n} is not a BOM line (missing {exc})") from None
        item = {k: v for k, v in record.items() if k not in ("parent", "child", "qty")}
        items.setdefault(child, {"id": child, **item})
        lines.append({"parent": parent, "child": child, "qty": qty})
    return {"format": "tmec-bom/1", "good": good_id, **header, "items": list(items.values()),
            "lines": lines}


def commit_parts(records: Sequence[Mapping[str, Any]],
                 salts: Sequence[bytes]) -> PartsCommitment:
    """Commit to records with salted, position-bound RFC 6962 leaves.

    leaf_i = ``SHA-256(0x00 || JCS({"salt": b64url(salt_i), "line": i, ...record_i}))``
    (`merkle.leaf_hash` of the canonical bytes) and the root is the RFC 9162 s.2.1.1 Merkle
    tree hash of the leaves. The salt keeps a low-entropy record (a price) from being
    guessed from its leaf; ``line`` binds each record to its position, which the inclusion
    proof binds again.

    Args:
        records: The line records, in line order (see `line_records`).
        salts: One `SALT_SIZE`-byte random salt per record.

    Returns:
        The commitment (records, salts, leaves and root).

    Raises:
        TokenError: If the counts differ, a salt has the wrong size, or a record is not an
            object or uses the reserved keys ``salt`` or ``line``.
        EncodingError: If a record is not I-JSON.
    """
    if len(records) != len(salts):
        raise TokenError(f"{len(records)} records but {len(salts)} salts")
    kept: list[Mapping[str, Any]] = []
    leaves: list[bytes] = []
    for index, (record, salt) in enumerate(zip(records, salts, strict=True)):
        if not isinstance(record, Mapping):
            raise TokenError(f"records[{index}]: expected an object")
        if "salt" in record or "line" in record:
            raise TokenError(f"records[{index}]: the keys 'salt' and 'line' are reserved")
        if not isinstance(salt, bytes):
            raise TokenError(f"salts[{index}]: expected bytes")
        if len(salt) != SALT_SIZE:
            raise TokenError(f"salts[{index}]: expected {SALT_SIZE} bytes, got {len(salt)}")
        copied = _copy_json(dict(record))
        kept.append(copied)
        leaves.append(_part_leaf(index, salt, copied))
    return PartsCommitment(tuple(kept), tuple(salts), tuple(leaves), merkle.root(leaves))


#: Format tag of the issuer's stored disclosure records (`encode_commitment`).
PARTS_FORMAT: Final = "tmec-parts/1"


def encode_commitment(commitment: PartsCommitment) -> bytes:
    """The issuer's disclosure records as canonical JSON bytes, for the store.

    ``{"format": "tmec-parts/1", "partsRoot": hex, "records": [...], "salts": [b64url]}``:
    everything `disclose` needs, nothing more (leaves and root are recomputed on reading).
    """
    return canonicalize({"format": PARTS_FORMAT, "partsRoot": commitment.root_hex,
                         "records": list(commitment.records),
                         "salts": [_b64url(salt) for salt in commitment.salts]})


def decode_commitment(data: bytes) -> PartsCommitment:
    """Read what `encode_commitment` wrote, recomputing and checking the root.

    Raises:
        TokenError: the bytes are not such records, or do not reproduce their root.
    """
    try:
        raw = parse_json(data)
    except EncodingError as exc:
        raise TokenError(f"disclosure records: {exc.message}") from exc
    if not isinstance(raw, dict) or raw.get("format") != PARTS_FORMAT:
        raise TokenError(f"disclosure records: not {PARTS_FORMAT}")
    records, salts = raw.get("records"), raw.get("salts")
    if not isinstance(records, list) or not isinstance(salts, list):
        raise TokenError("disclosure records: records and salts must be arrays")
    commitment = commit_parts(records, [_b64url_decode(salt, f"salts[{n}]")
                                        for n, salt in enumerate(salts)])
    if commitment.root_hex != raw.get("partsRoot"):
        raise TokenError("disclosure records: they do not reproduce their partsRoot")
    return commitment


def disclose(commitment: PartsCommitment, index: int) -> dict[str, Any]:
    """What the issuer shows to reveal one line: record, salt, position and audit path.

    Args:
        commitment: The issuer's commitment.
        index: The 0-based line position.

    Returns:
        ``{"line": i, "salt": b64url, "record": {...}, "proof": [hex, ...]}`` where
        ``proof`` is the RFC 9162 s.2.1.3.1 inclusion path of leaf ``i``.

    Raises:
        OutOfRangeError: If `index` is not a committed line.
    """
    path = merkle.inclusion_proof(commitment.leaves, index)
    return {
        "line": index,
        "salt": _b64url(commitment.salts[index]),
        "record": _copy_json(dict(commitment.records[index])),
        "proof": [node.hex() for node in path],
    }


def _hash_from_hex(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or _HEX64.match(value) is None:
        raise TokenError(f"{where}: expected 64 lowercase hex digits")
    return bytes.fromhex(value)


def verify_disclosure(parts_root: str | bytes, parts_count: int,
                      disclosure: Mapping[str, Any]) -> None:
    """Check a disclosed line against a token's ``partsRoot`` and ``partsCount``.

    Recomputes the leaf from the record, salt and line, then runs the RFC 9162 s.2.1.3.2
    inclusion check, so a changed record, salt, line number or path fails.

    Args:
        parts_root: The token's ``partsRoot`` (hex) or the raw 32-byte root.
        parts_count: The token's ``partsCount``.
        disclosure: What `disclose` produced.

    Raises:
        TokenError: If the disclosure is malformed.
        ProofError: If the line is not committed under the root.
        OutOfRangeError: If ``line`` is outside ``partsCount``.
    """
    root = parts_root if isinstance(parts_root, bytes) else _hash_from_hex(parts_root,
                                                                            "partsRoot")
    if not isinstance(disclosure, Mapping):
        raise TokenError("disclosure: expected an object")
    line = disclosure.get("line")
    if not isinstance(line, int) or isinstance(line, bool):
        raise TokenError("disclosure.line: expected an integer")
    salt = _b64url_decode(disclosure.get("salt"), "disclosure.salt")
    if len(salt) != SALT_SIZE:
        raise TokenError(f"disclosure.salt: expected {SALT_SIZE} bytes, got {len(salt)}")
    record = disclosure.get("record")
    if not isinstance(record, Mapping):
        raise TokenError("disclosure.record: expected an object")
    if "salt" in record or "line" in record:
        raise TokenError("disclosure.record: the keys 'salt' and 'line' are reserved")
    path = disclosure.get("proof")
    if not isinstance(path, list):
        raise TokenError("disclosure.proof: expected an array of hashes")
    nodes = [_hash_from_hex(node, f"disclosure.proof[{n}]") for n, node in enumerate(path)]
    merkle.verify_inclusion(_part_leaf(line, salt, record), line, parts_count, nodes, root)


# --------------------------------------------------------------------------------------
# 3. Annex 5-A minimum data elements (usmca-rules s.3.2)
# --------------------------------------------------------------------------------------


class CertifierRole(StrEnum):
    """Annex 5-A element 1: who completes the certification (Art. 5.2)."""

    EXPORTER = "exporter"
    PRODUCER = "producer"
    IMPORTER = "importer"


@dataclass(frozen=True, slots=True)
class Party:
    """Exporter, producer or importer (Annex 5-A elements 3-5).

    `country` is the ISO 3166-1 alpha-2 code of the address, which must be in a Party's
    territory (CA, MX, US): the place of export, of production, or the importer's address.
    """

    name: str
    address: str
    country: str
    email: str | None = None
    phone: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True, slots=True)
class Certifier:
    """Annex 5-A element 2: the certifier's name, title, address, telephone and e-mail."""

    name: str
    title: str
    address: str
    country: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class BlanketPeriod:
    """Annex 5-A element 8: a period of up to 12 months for identical goods, inclusive."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Certification:
    """The certifier's side of an origin token: the Annex 5-A elements the BOM lacks.

    The good's description and 6-digit HS code (element 6) and the origin criterion
    (element 7) come from the BOM and the determination; everything else is here.

    Attributes:
        role: Element 1, exporter, producer or importer.
        certifier: Element 2.
        producer: Element 4: a `Party`, `PRODUCER_VARIOUS`, or
            `PRODUCER_AVAILABLE_UPON_REQUEST`; None when the producer is the certifier or
            the exporter ("if different from the certifier or exporter").
        signature_date: Element 9, the date the certifier signs.
        exporter: Element 3; may be None only when the producer certifies and does not
            know the exporter.
        importer: Element 5, "if known": a `Party`, `IMPORTER_VARIOUS`, or None.
        blanket_period: Element 8; None for a single shipment.
        description: Element 6 description; None takes the good's BOM description.
        invoice_number: Element 6, for a single shipment, the invoice number if known.
        statement: Element 9 certification statement.
    """

    role: CertifierRole
    certifier: Certifier
    producer: Party | str | None
    signature_date: date
    exporter: Party | None = None
    importer: Party | str | None = None
    blanket_period: BlanketPeriod | None = None
    description: str | None = None
    invoice_number: str | None = None
    statement: str = CERTIFICATION_STATEMENT


#: Longest text element of a certification (the Annex 5-A statement is ~380 characters).
MAX_TEXT_LENGTH: Final = 2000


def _text(value: Any, where: str) -> str:
    """A non-empty, printable text element of bounded length.

    Printable: no control, format or line-separator characters, which would let a signed
    field rewrite the terminal or page of whoever displays it (a shipment id carrying
    ``ESC[2J`` and a fake verdict).
    """
    if not isinstance(value, str) or not value.strip():
        raise TokenError(f"{where}: expected a non-empty string")
    if len(value) > MAX_TEXT_LENGTH:
        raise TokenError(f"{where}: longer than {MAX_TEXT_LENGTH} characters")
    if not value.isprintable():
        raise TokenError(f"{where}: contains control or other non-printable characters")
    return value


_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+\Z")
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ().-]{4,30}\Z")
#: The fields of a party profile (what a party registers to certify: Annex 5-A elements 2
#: to 5), with the ones a profile must have.
PROFILE_FIELDS: Final = ("id", "name", "country", "address", "email", "phone", "contact",
                         "title", "tax_id")
_REQUIRED_PROFILE: Final = ("id", "name", "country", "address", "email", "phone")


def check_party_profile(profile: Mapping[str, Any]) -> None:
    """A party's certifier profile, checked once at registration instead of at every token.

    The public part (id, name, country) follows `ledger.statements.check_party`; the
    country is moreover a USMCA Party (CA, MX, US), as the exporter's and producer's
    addresses are (Annex 5-A elements 3-4); address, contact name, title and tax id are
    printable text; the e-mail looks like one (``local@domain.tld``) and the telephone is
    digits with ``+``, spaces, dots, dashes or parentheses.

    Raises:
        InputError: the public part is malformed (from `check_party`).
        TokenError: naming any other field.
    """
    unknown = sorted(set(profile) - set(PROFILE_FIELDS))
    if unknown:
        raise TokenError(f"party profile: unknown field {unknown[0]!r}")
    for name in _REQUIRED_PROFILE:
        if profile.get(name) is None:
            raise TokenError(f"party profile: {name} is required")
    check_party(profile, "party profile")
    _country(profile["country"], "party profile: country", usmca=True)
    for name in ("address", "contact", "title", "tax_id"):
        if profile.get(name) is not None:
            _text(profile[name], f"party profile: {name}")
    if _EMAIL.match(_text(profile["email"], "party profile: email")) is None:
        raise TokenError(f"party profile: email {profile['email'][:80]!r} is not an e-mail "
                         "address")
    if _PHONE.match(_text(profile["phone"], "party profile: phone")) is None:
        raise TokenError(f"party profile: phone {profile['phone'][:40]!r} is not a telephone "
                         "number (digits, optionally +, spaces, dots, dashes, parentheses)")


def _country(value: Any, where: str, *, usmca: bool) -> str:
    text = _text(value, where)
    if _COUNTRY.match(text) is None:
        raise TokenError(f"{where}: expected an ISO 3166-1 alpha-2 code, got {text!r}")
    if usmca and text not in USMCA_COUNTRIES:
        raise TokenError(f"{where}: {text} is not in the territory of a USMCA Party "
                         f"(CA, MX, US)")
    return text


def _party_json(party: Party, where: str) -> dict[str, str]:
    if not isinstance(party, Party):
        raise TokenError(f"{where}: expected a Party")
    result = {"name": _text(party.name, f"{where}.name"),
              "address": _text(party.address, f"{where}.address"),
              "country": _country(party.country, f"{where}.country", usmca=True)}
    for name in ("email", "phone", "tax_id"):
        value = getattr(party, name)
        if value is not None:
            result["taxId" if name == "tax_id" else name] = _text(value, f"{where}.{name}")
    return result


def _party_or_word(value: Party | str, where: str, words: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        if value not in words:
            allowed = " or ".join(repr(word) for word in words)
            raise TokenError(f"{where}: a name stands in a Party; the text may only be "
                             f"{allowed}")
        return value
    return _party_json(value, where)


def _last_day_of_twelve_months(start: date) -> date:
    """The last day of a period of 12 months from `start` (29 February: to 28 February).

    The day before the same date a year later; in the calendar's last year (9999) every
    later day of that year is within twelve months.
    """
    if start.year == date.max.year:
        return date.max
    try:
        year_after = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        year_after = date(start.year + 1, 3, 1)
    return date.fromordinal(year_after.toordinal() - 1)


def _check_blanket(period: BlanketPeriod) -> None:
    """Annex 5-A element 8: "a period ... not more than 12 months"."""
    for name in ("start", "end"):
        if not isinstance(getattr(period, name), date):
            raise TokenError(f"blanket_period.{name}: expected a date")
    if period.end < period.start:
        raise TokenError(f"blanket_period: ends {period.end} before it starts {period.start}")
    last = _last_day_of_twelve_months(period.start)
    if period.end > last:
        raise TokenError(f"blanket_period: {period.start} to {period.end} is longer than 12 "
                         f"months; Annex 5-A allows at most 12 (last day {last})")


def _certification_json(certification: Certification, bom: BillOfMaterials,
                        determination: Determination) -> dict[str, Any]:
    """The Annex 5-A elements in the token's spelling, each validated."""
    cert = certification
    try:
        role = CertifierRole(cert.role)
    except ValueError as exc:
        raise TokenError(f"role: {cert.role!r} is not exporter, producer or importer") from exc
    c = cert.certifier
    if not isinstance(c, Certifier):
        raise TokenError("certifier: expected a Certifier")
    subject: dict[str, Any] = {
        "certifierRole": role.value,
        "certifier": {
            "name": _text(c.name, "certifier.name"),
            "title": _text(c.title, "certifier.title"),
            "address": _text(c.address, "certifier.address"),
            "country": _country(c.country, "certifier.country", usmca=False),
            "phone": _text(c.phone, "certifier.phone"),
            "email": _text(c.email, "certifier.email"),
        },
    }
    if cert.exporter is not None:
        subject["exporter"] = _party_json(cert.exporter, "exporter")
    elif role is not CertifierRole.PRODUCER:
        raise TokenError("exporter: required unless the producer certifies and does not "
                         "know the exporter (Annex 5-A element 3)")
    if cert.producer is not None:
        subject["producer"] = _party_or_word(
            cert.producer, "producer", (PRODUCER_VARIOUS, PRODUCER_AVAILABLE_UPON_REQUEST))
    if cert.importer is not None:
        subject["importer"] = _party_or_word(cert.importer, "importer", (IMPORTER_VARIOUS,))
    subheading = hs_digits(bom.root.hs)[:6]
    if not subheading.isdigit() or len(subheading) != 6:
        raise TokenError(f"good: HS code {bom.root.hs!r} has no 6-digit subheading")
    description = bom.root.description if cert.description is None else cert.description
    good: dict[str, Any] = {"description": _text(description, "description"),
                            "hsCode": subheading}
    if cert.invoice_number is not None:
        if cert.blanket_period is not None:
            raise TokenError("invoice_number: only for a single shipment, not a blanket "
                             "period")
        good["invoiceNumber"] = _text(cert.invoice_number, "invoice_number")
    subject["good"] = good
    subject["originCriterion"] = determination.criterion
    if cert.blanket_period is not None:
        _check_blanket(cert.blanket_period)
        subject["blanketPeriod"] = {"start": cert.blanket_period.start.isoformat(),
                                    "end": cert.blanket_period.end.isoformat()}
    if not isinstance(cert.signature_date, date):
        raise TokenError("signature_date: expected a date")
    subject["authorizedSignature"] = {"date": cert.signature_date.isoformat(),
                                      "statement": _text(cert.statement, "statement")}
    return subject


# --------------------------------------------------------------------------------------
# 4. The origin token
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token with its identifier and the issuer's secret line commitments.

    Keep `commitment` (or at least its salts): without it no line can be disclosed later.
    """

    token: dict[str, Any]
    digest: str
    commitment: PartsCommitment
    #: the token's RFC 8785 bytes, which `digest` hashes (what the ledger stores as the
    #: token's blob: canonicalized once for both)
    canonical: bytes = b""


def _determination_json(determination: Determination) -> dict[str, Any]:
    """The determination summary: outcome and per-method figures as decimal strings.

    Contributors (``top_vnm``), margins and headroom stay out: they would reveal the
    prices of individual materials that only the line commitments may hold.
    """
    summary: dict[str, Any] = {
        "originating": determination.originating,
        "criterion": determination.criterion,
        "ruleSet": determination.rule_set,
        "asOf": determination.as_of.isoformat(),
        "currency": determination.currency,
        "rule": {"title": determination.rule.title,
                 "reference": determination.rule.reference},
        "results": [{key: figures[key]
                     for key in ("method", "base", "vnm", "rvc", "threshold", "pass")}
                    for figures in (result.to_dict() for result in determination.results)],
    }
    shift = determination.tariff_shift
    if shift.required is not None:
        summary["tariffShift"] = {"required": shift.required, "pass": shift.passed}
    if determination.rvc_exempt:
        summary["rvcExempt"] = True
    if determination.requirements:
        summary["requirements"] = [{"name": r.name, "pass": r.passed,
                                    "reference": r.reference}
                                   for r in determination.requirements]
    return summary


def _digest_multibase(digest: bytes) -> str:
    """Multibase base64url-nopad (``u``) of the sha2-256 multihash of `digest`."""
    return "u" + _b64url(_SHA256_MULTIHASH + digest)


def _supplier_links(bom: BillOfMaterials) -> list[dict[str, str]]:
    """``relatedResource`` entries for the supplier tokens the BOM cites as evidence."""
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in bom.items.values():
        token = item.evidence.token if item.evidence is not None else None
        if token is None or token in seen:
            continue
        if _HEX64.match(token) is None:
            raise TokenError(f"items[{item.id!r}].evidence.token: {token!r} is not a token "
                             f"digest (64 lowercase hex digits)")
        seen.add(token)
        links.append({"id": TOKEN_URN_PREFIX + token,
                      "digestMultibase": _digest_multibase(bytes.fromhex(token))})
    return links


def build_origin_token(
    bom: BillOfMaterials,
    determination: Determination,
    certification: Certification,
    *,
    shipment_id: str,
    key: SigningKey,
    created: str,
    salts: Sequence[bytes] | None = None,
    credential_status: Mapping[str, Any] | None = None,
    context: str = TOKEN_CONTEXT,
    issuer: str | None = None,
) -> IssuedToken:
    """Assemble, commit and sign the origin token of one good.

    The token (decision 1) carries in ``credentialSubject`` the shipment id, the Annex
    5-A elements of `certification`, the good's description and HS subheading, the
    origin criterion and determination summary, and ``partsRoot`` / ``partsCount`` over
    `line_records`; supplier tokens cited as ``evidence.token`` in the BOM become
    ``relatedResource`` links (VCDM 2.0 s.5.3). The issuer is the did:key of `key`, or the
    party's did:web identity given as `issuer` (`token_issuer`).
    ``validFrom`` / ``validUntil`` span the blanket period (00:00:00Z of the first day to
    23:59:59Z of the last; dates are read as UTC) or, for a single shipment, ``validFrom``
    is `created` and there is no ``validUntil``.

    Args:
        bom: The bill of materials the determination was made on.
        determination: `origin_rules.determine_origin(bom)`; must be originating.
        certification: The certifier's Annex 5-A data.
        shipment_id: The shipment (or blanket programme) reference.
        key: The certifier's signing key.
        created: The proof time, an XML Schema dateTimeStamp (no clock here).
        salts: One `SALT_SIZE`-byte salt per BOM line, for reproducible tests; None draws
            them from `os.urandom`.
        credential_status: A W3C Bitstring Status List entry (``credentialStatus``) the
            token carries, when its issuer publishes one (`ledger.status_list`).
        context: The URL of our terms' context (`is_token_context`), the operator's.
        issuer: None (or the key's did:key) for the did:key form, the default; or the
            party's ``did:web:<host>:parties:<party>``, whose key id is then
            ``<issuer>#<publicKeyMultibase>``. Which party and host are right is the
            ledger's to check (`ledger.service.Ledger.prepare_token`).

    Returns:
        The signed token, its digest and the line commitment (keep it to disclose lines).

    Raises:
        HypotheticalRuleSetError: If `determination` was made under a scenario
            (`origin_rules.scenarios`): a what-if is never certified.
        TokenError: If the good is not originating, the determination does not belong to
            the BOM, an Annex 5-A element is missing or invalid (a blanket period over 12
            months, an exporter missing without cause, an address outside the Parties), a
            supplier digest is malformed, or `created` is not a dateTimeStamp.
        IssuerError: `issuer` is neither the key's did:key nor a party's did:web DID.
    """
    if determination.hypothetical:
        # Checked first, whatever the verdict: a what-if never becomes a certification.
        raise HypotheticalRuleSetError(
            f"cannot issue an origin token: the determination of {determination.good!r} was "
            f"made under the hypothetical rule set {determination.rule_set} (a what-if "
            "scenario, not the rules in force); determine it under the rules in force")
    if not determination.originating:
        reason = determination.explanation[-1] if determination.explanation else ""
        raise TokenError(f"cannot issue an origin token: {determination.good!r} is not "
                         f"originating on {determination.as_of} under "
                         f"{determination.rule_set}. {reason}".rstrip())
    if not determination.criterion:
        raise TokenError("cannot issue an origin token: the determination names no origin "
                         "criterion")
    if (determination.good, determination.as_of) != (bom.good, bom.as_of):
        raise TokenError(f"the determination is for {determination.good!r} on "
                         f"{determination.as_of}, the BOM for {bom.good!r} on {bom.as_of}")
    _text(shipment_id, "shipment_id")
    _check_datetime(created, "created", require_timezone=True)
    issuer_did, method = token_issuer(issuer, key.public_key)
    records = line_records(bom)
    if salts is None:
        salts = [os.urandom(SALT_SIZE) for _ in records]
    commitment = commit_parts(records, salts)
    subject: dict[str, Any] = {"shipmentId": shipment_id}
    subject.update(_certification_json(certification, bom, determination))
    subject["determination"] = _determination_json(determination)
    subject["partsRoot"] = commitment.root_hex
    subject["partsCount"] = commitment.count
    period = certification.blanket_period
    unsigned: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, context],
        "type": [CREDENTIAL_TYPE, TOKEN_TYPE],
        "issuer": issuer_did,
        "validFrom": created if period is None else f"{period.start.isoformat()}T00:00:00Z",
    }
    if period is not None:
        unsigned["validUntil"] = f"{period.end.isoformat()}T23:59:59Z"
    unsigned["credentialSubject"] = subject
    links = _supplier_links(bom)
    if links:
        unsigned["relatedResource"] = links
    if not is_token_context(context):
        raise TokenError(f"context: {context[:80]!r} is not http(s)://<host>"
                         f"{TOKEN_CONTEXT_PATH}")
    if credential_status is not None:  # W3C Bitstring Status List v1.0 s.2.1
        _check_status_entry(credential_status, "credential_status")
        unsigned["credentialStatus"] = dict(credential_status)
    token = sign_credential(unsigned, key, method, created)
    canonical = canonicalize(token)  # token_digest's bytes, kept for the blob
    return IssuedToken(token, sha256(canonical).hex(), commitment, canonical)


def token_issuer(issuer: str | None, public_key: bytes) -> tuple[str, str]:
    """The ``issuer`` and ``proof.verificationMethod`` of a token signed by `public_key`.

    None, or the key's own did:key, gives the did:key form (``did:key:z...`` and
    ``did:key:z...#z...``). A party's did:web DID (did:web Method Specification; the
    form `ledger.did_web.DidWebName.of_party` writes) gives that DID and the id its DID
    document gives the key, ``<did>#<publicKeyMultibase>``.

    Raises:
        IssuerError: another did:key, a did:web that is not a party's, or anything else.
    """
    own = did_key(public_key)
    if issuer is None or issuer == own:
        return own, verification_method_id(public_key)
    if issuer.startswith(DID_KEY_PREFIX):
        raise IssuerError(f"issuer {issuer[:120]!r} is another key's did:key; a did:key "
                          f"issuer is the signing key's own ({own})")
    try:
        name = parse_did_web(issuer)
    except EncodingError as exc:
        raise IssuerError(f"issuer: {exc.message}") from exc
    if name.party is None:
        raise IssuerError(f"issuer {issuer[:120]!r} is not a party's did:web identifier "
                          "(did:web:<host>:parties:<party>)")
    return issuer, party_method(issuer, public_key)


def token_public_key(token: Mapping[str, Any]) -> bytes:
    """The key a token's proof names (did:key, or a party's did:web fragment).

    For a did:web token this is the *claimed* key: pass it to `verify_token` only where
    something else binds it to the party (the log's key statement).

    Raises:
        TokenError: the proof names no method of either form.
    """
    proof = token.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise TokenError("$.proof.verificationMethod: missing")
    return method_key(method)


#: Domain separation of `shipment_digest` (no other hash in the ledger starts so).
SHIPMENT_DIGEST_PREFIX: Final = b"tmec-ledger/shipment/v1\n"


def shipment_digest(shipment_id: str) -> str:
    r"""The digest of a shipment id that a token's log statement carries (lowercase hex).

    ``SHA-256("tmec-ledger/shipment/v1\\n" || UTF-8(shipmentId))``. The log refuses a second
    active token of one issuer for the same digest (one certification per shipment; a
    correction supersedes), without putting the commercial reference itself in the public
    log. The token, which carries the id, binds the two: the verifier recomputes this.
    """
    return sha256(SHIPMENT_DIGEST_PREFIX + shipment_id.encode("utf-8")).hex()


def token_digest(token: Mapping[str, Any]) -> str:
    """The token's identifier: SHA-256 of its JCS bytes, proof included, as lowercase hex.

    Decision 3: ledger statements, supplier links, URLs and QR codes all name a token by
    this digest, so it covers the proof too (two signatures of the same claims are two
    tokens).

    Args:
        token: A signed token.

    Returns:
        64 lowercase hex digits.

    Raises:
        TokenError: If the token has no proof.
        EncodingError: If the token is not I-JSON.
    """
    if "proof" not in token:
        raise TokenError("a token digest covers the proof, and this token has none")
    return sha256(canonicalize(token)).hex()


def token_digest_of(split: Split) -> str:
    """`token_digest` of the token whose `ledger.canonical.split_canonical` around
    ``proof`` this is.
    """
    if split.member is None:
        raise TokenError("a token digest covers the proof, and this token has none")
    return sha256(split.whole()).hex()


def _get(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], *,
         optional: bool = False) -> Any:
    """``obj[key]`` checked against `kind`; TokenError names the JSON path."""
    if key not in obj:
        if optional:
            return None
        raise TokenError(f"{where}.{key}: missing")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(_JSON_NAMES.get(k, k.__name__) for k in kinds)
        raise TokenError(f"{where}.{key}: expected {names}, got "
                         f"{_JSON_NAMES.get(type(value), type(value).__name__)}")
    return value


_JSON_NAMES: Final[dict[type, str]] = {dict: "an object", list: "an array", str: "a string",
                                       int: "an integer", bool: "a boolean",
                                       type(None): "null"}


def _check_date(value: Any, where: str) -> None:
    if not isinstance(value, str) or _DATE.match(value) is None:
        raise TokenError(f"{where}: expected a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise TokenError(f"{where}: {value!r} is not a calendar date") from exc


def _check_party_shape(value: Any, where: str, words: tuple[str, ...]) -> None:
    if isinstance(value, str) and value in words:
        return
    if not isinstance(value, dict):
        raise TokenError(f"{where}: expected an object")
    for name in ("name", "address", "country"):
        _get(value, name, where, str)


def _check_subject(subject: dict[str, Any]) -> None:
    where = "$.credentialSubject"
    _text(_get(subject, "shipmentId", where, str), f"{where}.shipmentId")
    role = _get(subject, "certifierRole", where, str)
    if role not in {r.value for r in CertifierRole}:
        raise TokenError(f"{where}.certifierRole: {role!r} is not exporter, producer or "
                         f"importer")
    certifier = _get(subject, "certifier", where, dict)
    for name in ("name", "title", "address", "country", "phone", "email"):
        _get(certifier, name, f"{where}.certifier", str)
    for name, words in (("exporter", ()), ("producer", (PRODUCER_VARIOUS,
                                                        PRODUCER_AVAILABLE_UPON_REQUEST)),
                        ("importer", (IMPORTER_VARIOUS,))):
        if name in subject:
            _check_party_shape(subject[name], f"{where}.{name}", words)
    good = _get(subject, "good", where, dict)
    _get(good, "description", f"{where}.good", str)
    hs = _get(good, "hsCode", f"{where}.good", str)
    if len(hs) != 6 or not hs.isdigit():
        raise TokenError(f"{where}.good.hsCode: expected 6 digits, got {hs!r}")
    _text(_get(subject, "originCriterion", where, str), f"{where}.originCriterion")
    period = _get(subject, "blanketPeriod", where, dict, optional=True)
    if period is not None:
        _check_date(_get(period, "start", f"{where}.blanketPeriod", str),
                    f"{where}.blanketPeriod.start")
        _check_date(_get(period, "end", f"{where}.blanketPeriod", str),
                    f"{where}.blanketPeriod.end")
    signature = _get(subject, "authorizedSignature", where, dict)
    _check_date(_get(signature, "date", f"{where}.authorizedSignature", str),
                f"{where}.authorizedSignature.date")
    _get(signature, "statement", f"{where}.authorizedSignature", str)
    summary = _get(subject, "determination", where, dict)
    dwhere = f"{where}.determination"
    if _get(summary, "originating", dwhere, bool) is not True:
        raise TokenError(f"{dwhere}.originating: an origin token is only issued for an "
                         f"originating good")
    _get(summary, "criterion", dwhere, str)
    _get(summary, "ruleSet", dwhere, str)
    _check_date(_get(summary, "asOf", dwhere, str), f"{dwhere}.asOf")
    for n, result in enumerate(_get(summary, "results", dwhere, list)):
        rwhere = f"{dwhere}.results[{n}]"
        if not isinstance(result, dict):
            raise TokenError(f"{rwhere}: expected an object")
        _get(result, "method", rwhere, str)
        for name in ("base", "vnm", "rvc", "threshold"):
            if not is_decimal_string(_get(result, name, rwhere, str)):
                raise TokenError(f"{rwhere}.{name}: expected a decimal string")
        _get(result, "pass", rwhere, bool)
    _hash_from_hex(_get(subject, "partsRoot", where, str), f"{where}.partsRoot")
    if _get(subject, "partsCount", where, int) < 0:
        raise TokenError(f"{where}.partsCount: must not be negative")


def parse_token(data: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """Check that a document has the shape of a UsmcaOriginToken; no signature check.

    Verifies the members this module writes: the VC 2.0 ``@context`` (first) and ours,
    both types, a did:key ``issuer`` (or a party's did:web one), ``validFrom`` /
    ``validUntil`` dateTimeStamps in order, the credentialSubject's Annex 5-A elements,
    determination summary, ``partsRoot`` and ``partsCount``, well-formed
    ``relatedResource`` links whose ``digestMultibase`` matches their id, and the proof
    members. Unknown extra members are allowed (VCDM 2.0 extensibility); they are still
    covered by the signature.

    Args:
        data: JSON bytes or text, or an already-parsed object.

    Returns:
        The token as a dict (a deep copy when a mapping was passed).

    Raises:
        TokenError: Naming the JSON path of the first missing or invalid member, or when
            `data` is not strict JSON.
    """
    if isinstance(data, bytes | str):
        try:
            parsed = parse_json(data)
        except EncodingError as exc:
            raise TokenError(f"a token must be strict JSON: {exc.message}") from exc
    else:
        parsed = _copy_json(data)
    return _validated(parsed)


def _check_status_entry(entry: Any, where: str) -> None:
    """A ``BitstringStatusListEntry`` (W3C Bitstring Status List v1.0 s.2.1), strictly."""
    if not isinstance(entry, Mapping):
        raise TokenError(f"{where}: expected an object")
    if entry.get("type") != "BitstringStatusListEntry":
        raise TokenError(f"{where}.type: must be 'BitstringStatusListEntry'")
    for name in ("id", "statusPurpose", "statusListIndex", "statusListCredential"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise TokenError(f"{where}.{name}: expected a non-empty string")
    index = entry["statusListIndex"]
    if not index.isascii() or not index.isdigit() or (len(index) > 1 and index[0] == "0"):
        raise TokenError(f"{where}.statusListIndex: a decimal integer as a string")


def _validated(parsed: Any) -> dict[str, Any]:
    """The shape checks of `parse_token`, in place (no copy)."""
    if not isinstance(parsed, dict):
        raise TokenError("$: a token is a JSON object")
    token: dict[str, Any] = parsed
    contexts = _get(token, "@context", "$", list)
    if not contexts or contexts[0] != VC_CONTEXT_V2:
        raise TokenError(f"$.@context: must start with {VC_CONTEXT_V2!r}")
    if not any(is_token_context(c) for c in contexts):
        raise TokenError(f"$.@context: must include {TOKEN_CONTEXT!r} (or the same path, "
                         f"{TOKEN_CONTEXT_PATH}, at an operator's host)")
    types = _get(token, "type", "$", list)
    for needed in (CREDENTIAL_TYPE, TOKEN_TYPE):
        if needed not in types:
            raise TokenError(f"$.type: must include {needed!r}")
    issuer = _get(token, "issuer", "$", str)
    if issuer.startswith(DID_WEB_PREFIX):
        try:
            if parse_did_web(issuer).party is None:
                raise IssuerError(f"$.issuer: {issuer[:120]!r} is not a party's did:web "
                                  "identifier (did:web:<host>:parties:<party>)")
        except EncodingError as exc:
            raise IssuerError(f"$.issuer: {exc.message}") from exc
    else:
        try:
            decode_did_key(issuer)
        except EncodingError as exc:
            raise TokenError(f"$.issuer: {exc.message}") from exc
    valid_from = _check_datetime(_get(token, "validFrom", "$", str), "$.validFrom",
                                 require_timezone=True)
    if "validUntil" in token:
        valid_until = _check_datetime(_get(token, "validUntil", "$", str), "$.validUntil",
                                      require_timezone=True)
        if valid_until < valid_from:
            raise TokenError("$.validUntil: earlier than validFrom")
    _check_subject(_get(token, "credentialSubject", "$", dict))
    links = _get(token, "relatedResource", "$", list, optional=True)
    for n, link in enumerate(links or []):
        where = f"$.relatedResource[{n}]"
        if not isinstance(link, dict):
            raise TokenError(f"{where}: expected an object")
        urn = _get(link, "id", where, str)
        if not urn.startswith(TOKEN_URN_PREFIX):
            raise TokenError(f"{where}.id: expected {TOKEN_URN_PREFIX}<digest>")
        digest = _hash_from_hex(urn[len(TOKEN_URN_PREFIX):], f"{where}.id")
        if _get(link, "digestMultibase", where, str) != _digest_multibase(digest):
            raise TokenError(f"{where}.digestMultibase: does not match the digest in the id")
    if "credentialStatus" in token:
        _check_status_entry(token["credentialStatus"], "$.credentialStatus")
    proof = _get(token, "proof", "$", dict)
    for name in ("type", "cryptosuite", "created", "verificationMethod", "proofPurpose",
                 "proofValue"):
        _get(proof, name, "$.proof", str)
    return token


def verify_token(token: bytes | str | Mapping[str, Any],
                 public_key: bytes | None = None, *,
                 members: Split | None = None) -> None:
    """Check a token's shape, its eddsa-jcs-2022 proof, and that its issuer signed it.

    `parse_token`, then `verify_credential`, then the binding VCDM 2.0 leaves to the
    verifier: the proof's verification method must belong to the ``issuer`` DID,
    otherwise anyone could sign claims in another certifier's name. A did:web issuer's
    method must also name `public_key` in its fragment; that the party held that key,
    and its host, are judged against the log (`ledger.verify`), as are key registration
    and revocation.

    Args:
        token: The token (JSON bytes, text or object).
        public_key: The key the caller expects (for example, from the key registry); None
            resolves the did:key offline (a did:web token then raises UnknownKeyError).
        members: `ledger.canonical.split_canonical` of a mapping `token` around
            ``proof`` (see `verify_credential`); ignored for JSON text, parsed here.

    Raises:
        TokenError: If the token is malformed.
        SignatureError: If the proof does not verify or was made by a key other than the
            issuer's.
        UnknownKeyError: If no key was passed and the verification method is not a did:key.
        EncodingError: If the token is not I-JSON.
    """
    # A mapping is checked in place: verification only reads it (parse_token copies).
    parsed = parse_token(token) if isinstance(token, bytes | str) else _validated(token)
    # `members` (see verify_credential) belong to a mapping given here, never to a parse.
    verify_credential(parsed, public_key,
                      members=None if isinstance(token, bytes | str) else members)
    did, _, _ = parsed["proof"]["verificationMethod"].partition("#")
    if did != parsed["issuer"]:
        raise SignatureError(f"the proof was made by {did!r} but the issuer is "
                             f"{parsed['issuer']!r}")


def supplier_token_digests(token: Mapping[str, Any]) -> list[str]:
    """Digests of the supplier tokens a token links to, in ``relatedResource`` order.

    Args:
        token: A token that passed `parse_token`.

    Returns:
        The 64-hex-digit digests.
    """
    links = token.get("relatedResource") or []
    return [link["id"][len(TOKEN_URN_PREFIX):] for link in links
            if isinstance(link, Mapping) and str(link.get("id", "")).startswith(
                TOKEN_URN_PREFIX)]
