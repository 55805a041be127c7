r"""Log statements: the small signed JSON objects that are the leaves of the ledger's log.

A leaf never carries commercial data (ledger design s.4): prices and supplier lists stay in
the token's salted commitments. Five kinds:

* ``key``       a party's Ed25519 key: ``add`` (signed by the key itself, proof of
                possession, for a party the log does not know yet; or signed by the
                registrar, which admits a key for any party, with a possession signature
                of the new key) or ``rotate`` (signed by the key it replaces, with a
                possession signature of the new key);
* ``token``     an origin token logged by digest, with its issuer key, its parents
                (supplier tokens, which must be logged earlier and still be active), the
                digest of its shipment id (one active token per shipment and issuer) and,
                for a correction, the token it ``supersedes``;
* ``revoke``    a token (by its issuer or the registrar) or a key (by its party or the
                registrar), optionally "compromised since index i" for a key;
* ``supersede`` a token replaced by a corrected one (by the issuer);
* ``status``    the registrar's statement of a token's, its key's and its evidence's state
                as of the log position just before it; bundles carry one so a verifier
                knows, offline, that nothing revoked the token (or the supplier tokens it
                rests on) before that position.

Party records are validated here because the log is where they become public: a party id
is a short lowercase slug (it names files and URLs: no ``/``, no ``..``), names are
printable text of bounded length, countries ISO 3166-1 alpha-2 codes.

Signatures: Ed25519 over ``b"tmec-ledger/statement/v1\n" || JCS(statement without
"signature" and "possession")`` (domain separated from checkpoints, which are signed
notes). The leaf data is ``JCS(signed statement)``. The registrar is the log operator;
its key is the log key named by the trust policy.

This module parses, signs and verifies single statements; the rules that relate
statements to each other (key state, ordering) live in `ledger.keys` and
`ledger.service`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from json.encoder import encode_basestring as _json_string
from typing import Any

from ledger.canonical import canonicalize, canonicalize_parsed, parse_json
from ledger.crypto import SigningKey, verify_signature
from ledger.errors import EncodingError, InputError, SignatureError
from ledger.merkle import leaf_hash
from ledger.multikey import decode_public_key, decode_verification_method

__all__ = [
    "EVIDENCE_STATES",
    "MAX_NAME_LENGTH",
    "PARTY_ID_PATTERN",
    "REGISTRAR_KID_PREFIX",
    "SIGNING_PREFIX",
    "Statement",
    "StatementKind",
    "UsualStatement",
    "check_party",
    "encode_statement",
    "logged_signing_bytes",
    "parse_statement",
    "read_usual_statement",
    "registrar_kid",
    "sign_statement",
    "signature_bytes",
    "signing_bytes",
    "verify_possession",
    "verify_statement_signature",
]

VERSION = 1
SIGNING_PREFIX = b"tmec-ledger/statement/v1\n"
REGISTRAR_KID_PREFIX = "registrar:"
_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_B64URL = re.compile(r"[A-Za-z0-9_-]+\Z")
#: A party id: lowercase letters and digits in groups joined by one ``-``, ``_`` or ``.``,
#: at most 64 characters. It names key files and will name URLs, so nothing a path or a
#: URL would interpret (``/``, ``..``, spaces, capitals that collide on some file systems).
PARTY_ID_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*\Z")
MAX_PARTY_ID_LENGTH = 64
#: Longest party name (legal names run to ~120 characters; the Annex 5-A fields are short).
MAX_NAME_LENGTH = 200
_COUNTRY = re.compile(r"[A-Z]{2}\Z")
#: What a status statement may say about the supplier tokens a token rests on (worst first
#: in `ledger.service`): all active, one superseded by a correction, one revoked (or signed
#: by a key compromised at the time, which voids it the same way).
EVIDENCE_STATES = ("active", "superseded", "revoked")


class StatementKind(StrEnum):
    """What a log entry says."""

    KEY = "key"
    TOKEN = "token"
    REVOKE = "revoke"
    SUPERSEDE = "supersede"
    STATUS = "status"


def registrar_kid(origin: str) -> str:
    """The key id under which the log operator signs (its checkpoint origin)."""
    return f"{REGISTRAR_KID_PREFIX}{origin}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: Any, where: str) -> bytes:
    # A length of 4k+1 characters is no base64 at all (binascii would raise its own error).
    if not isinstance(text, str) or _B64URL.match(text) is None or len(text) % 4 == 1:
        raise EncodingError(f"{where}: not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise EncodingError(f"{where}: not the canonical base64url spelling")
    return data


def signing_bytes(statement: Mapping[str, Any]) -> bytes:
    """The bytes a statement's signatures cover (everything but the signatures)."""
    unsigned = {k: v for k, v in statement.items() if k not in ("signature", "possession")}
    return SIGNING_PREFIX + canonicalize(unsigned)


def logged_signing_bytes(statement: Mapping[str, Any], body: bytes) -> bytes:
    """`signing_bytes(statement)` for a statement whose canonical bytes `body` are known
    (``body == canonicalize(statement)``, as `parse_statement` checks for logged bytes).

    The signed bytes are the canonical object without its ``signature`` member, which is
    `body` with the text ``,"signature":<canonical value>`` cut out: members are sorted and
    separated by commas, and that text can only be an object member (inside a JSON string
    every ``"`` is escaped). When it occurs exactly once it is the top-level member (which
    is always there); otherwise (a nested object with the same member, a first-place or a
    ``possession`` member) the bytes are built by `signing_bytes`. Saves re-encoding each
    statement in an audit.
    """
    signature = statement.get("signature")
    if "possession" in statement or not isinstance(signature, dict):
        return signing_bytes(statement)
    kid, value = signature.get("kid"), signature.get("value")
    if (len(signature) == 2 and type(kid) is str and type(value) is str
            and kid.isascii() and value.isascii()):
        # The usual {"kid", "value"} pair of ASCII strings, spelled as RFC 8785 would
        # (sorted members; the encoder's string escapes are the ones canonicalize uses).
        member = (b',"signature":{"kid":' + _json_string(kid).encode("ascii")
                  + b',"value":' + _json_string(value).encode("ascii") + b"}")
    else:
        member = b',"signature":' + canonicalize_parsed(signature)
    at = body.find(member)
    if at < 0 or body.find(member, at + len(member)) >= 0:
        return signing_bytes(statement)
    return SIGNING_PREFIX + body[:at] + body[at + len(member):]


def sign_statement(statement: Mapping[str, Any], key: SigningKey, kid: str, *,
                   possession: SigningKey | None = None) -> dict[str, Any]:
    """Return `statement` with a ``signature`` by `key` (as `kid`) and, for key rotations,
    a ``possession`` signature by the new key.
    """
    body = signing_bytes(statement)
    signed = dict(statement)
    signed["signature"] = {"kid": kid, "value": _b64(key.sign(body))}
    if possession is not None:
        signed["possession"] = _b64(possession.sign(body))
    return signed


def signature_bytes(statement: Mapping[str, Any]) -> bytes:
    """The raw signature of a statement (raises `SignatureError` if it has none)."""
    signature = statement.get("signature")
    if not isinstance(signature, Mapping):
        raise SignatureError("the statement is not signed")
    return _unb64(signature.get("value"), "signature.value")


def verify_statement_signature(statement: Mapping[str, Any], public_key: bytes) -> None:
    """Verify the statement's ``signature`` under `public_key` (raises `SignatureError`)."""
    verify_signature(public_key, signing_bytes(statement), signature_bytes(statement))


def verify_possession(statement: Mapping[str, Any], public_key: bytes) -> None:
    """Verify a rotation's ``possession`` signature by the new key (raises `SignatureError`)."""
    verify_signature(public_key, signing_bytes(statement),
                     _unb64(statement.get("possession"), "possession"))


def encode_statement(statement: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """(leaf data, RFC 6962 leaf hash) of a signed statement."""
    body = canonicalize(dict(statement))
    return body, leaf_hash(body)


@dataclass(frozen=True, slots=True)
class Statement:
    """A parsed, well-formed statement (signature not yet verified)."""

    kind: StatementKind
    data: Mapping[str, Any]
    signer: str

    @property
    def token_digest(self) -> str | None:
        """The token this statement is about (the old token for a supersede)."""
        value = self.data.get("tokenDigest")
        return value if isinstance(value, str) else None

    @property
    def key_id(self) -> str | None:
        """The key this statement is about (key statements, key revocations), else its
        signer.
        """
        value = self.data.get("kid")
        return value if isinstance(value, str) else self.signer

    @property
    def public_key(self) -> bytes:
        """The public key of a key statement."""
        return decode_public_key(str(self.data["publicKeyMultibase"]))


def _field(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...],
           where: str, *, required: bool = True) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise InputError(f"{where}: field {name!r} is required")
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InputError(f"{where}: field {name!r} has the wrong type")
    return value


def _printable(text: str) -> bool:
    """No control, format or separator characters (which could rewrite a terminal line)."""
    return text.isprintable()


def check_party(party: Mapping[str, Any], where: str = "party") -> None:
    """The public party record of a key statement: ``id``, ``name`` and ``country``.

    Raises `InputError` naming the field: an id outside `PARTY_ID_PATTERN` or longer than
    64 characters, an empty, over-long or non-printable name, a country that is not two
    capital letters (ISO 3166-1 alpha-2).
    """
    party_id = _field(party, "id", str, where)
    if len(party_id) > MAX_PARTY_ID_LENGTH or PARTY_ID_PATTERN.match(party_id) is None:
        raise InputError(f"{where}: id {party_id[:80]!r} is not a party id (lowercase letters "
                         "and digits, groups joined by '-', '_' or '.', at most "
                         f"{MAX_PARTY_ID_LENGTH} characters, e.g. frenos-bajio)")
    name = _field(party, "name", str, where)
    if not name.strip() or len(name) > MAX_NAME_LENGTH or not _printable(name):
        raise InputError(f"{where}: name must be printable text of 1 to {MAX_NAME_LENGTH} "
                         "characters")
    country = _field(party, "country", str, where)
    if _COUNTRY.match(country) is None:
        raise InputError(f"{where}: country {country[:20]!r} is not an ISO 3166-1 alpha-2 "
                         "code (MX, US, CA, ...)")


#: Longest reason of a revocation or correction (it is public and shown to verifiers).
MAX_REASON_LENGTH = 500


def _reason(data: Mapping[str, Any], where: str) -> None:
    reason = _field(data, "reason", str, where)
    if len(reason) > MAX_REASON_LENGTH or not _printable(reason):
        raise InputError(f"{where}: reason must be printable text of at most "
                         f"{MAX_REASON_LENGTH} characters")


def _digest(data: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> None:
    value = _field(data, name, str, where, required=required)
    if value is not None and _DIGEST.match(value) is None:
        raise InputError(f"{where}: {name} must be a SHA-256 digest in lowercase hex")


def parse_statement(data: bytes | str | Mapping[str, Any]) -> Statement:
    """Check a statement's shape (fields, types, allowed values) and return it.

    Raises `EncodingError` for bytes that are not canonical JSON of an object and
    `InputError` for a statement that is not one of the five kinds well formed. Logged
    bytes of the usual shapes are read by `read_usual_statement` (the same statement,
    without the general parser); anything else goes through the checks below.
    """
    if isinstance(data, bytes):
        usual = read_usual_statement(data)
        if usual is not None:
            return usual.statement
    if isinstance(data, bytes | str):
        raw = parse_json(data)
        if (isinstance(data, bytes) and isinstance(raw, Mapping)
                and canonicalize_parsed(raw) != data):
            raise EncodingError("a logged statement must be canonical JSON (RFC 8785)")
    else:
        raw = data
    if not isinstance(raw, Mapping):
        raise InputError("a statement is a JSON object")
    where = "statement"
    if raw.get("v") != VERSION:
        raise InputError(f"{where}: field 'v' must be {VERSION}")
    kind_text = _field(raw, "type", str, where)
    try:
        kind = StatementKind(kind_text)
    except ValueError:
        raise InputError(f"{where}: unknown type {kind_text!r}") from None
    where = _WHERE[kind]
    _field(raw, "time", str, where)
    if _TIME.match(raw["time"]) is None:
        raise InputError(f"{where}: time must be YYYY-MM-DDTHH:MM:SSZ")
    signature = _field(raw, "signature", Mapping, where)
    signer = _field(signature, "kid", str, where)
    _field(signature, "value", str, where)
    if kind is StatementKind.KEY:
        action = _field(raw, "action", str, where)
        if action not in ("add", "rotate"):
            raise InputError(f"{where}: action must be 'add' or 'rotate'")
        kid = _field(raw, "kid", str, where)
        public = decode_verification_method(kid)
        if decode_public_key(_field(raw, "publicKeyMultibase", str, where)) != public:
            raise InputError(f"{where}: publicKeyMultibase does not match kid")
        check_party(_field(raw, "party", Mapping, where), f"{where} party")
        if action == "rotate":
            _field(raw, "replaces", str, where)
            _field(raw, "possession", str, where)
            if signer != raw["replaces"]:
                raise InputError(f"{where}: a rotation is signed by the key it replaces")
        elif signer.startswith(REGISTRAR_KID_PREFIX):
            _field(raw, "possession", str, where)  # the admitted key proves possession
        elif signer != kid:
            raise InputError(f"{where}: a new key signs its own statement (or the registrar "
                             "admits it)")
    elif kind is StatementKind.TOKEN:
        _digest(raw, "tokenDigest", where)
        _digest(raw, "shipment", where)
        _digest(raw, "supersedes", where, required=False)
        if raw.get("supersedes") == raw["tokenDigest"]:
            raise InputError(f"{where}: a token cannot supersede itself")
        _field(raw, "issuer", str, where)
        parents = _field(raw, "parents", list, where)
        for n, parent in enumerate(parents):
            if not isinstance(parent, str) or _DIGEST.match(parent) is None:
                raise InputError(f"{where}: parents[{n}] must be a token digest")
        if len(set(parents)) != len(parents):
            raise InputError(f"{where}: parents repeat a digest")
        if raw.get("blanket") is not None:
            _field(raw, "blanket", bool, where)
    elif kind is StatementKind.REVOKE:
        target = _field(raw, "target", str, where)
        _reason(raw, where)
        if target == "token":
            _digest(raw, "tokenDigest", where)
        elif target == "key":
            _field(raw, "kid", str, where)
            since = _field(raw, "compromisedSince", int, where, required=False)
            if since is not None and since < 0:
                raise InputError(f"{where}: compromisedSince must be a log index")
        else:
            raise InputError(f"{where}: target must be 'token' or 'key'")
    elif kind is StatementKind.SUPERSEDE:
        _digest(raw, "tokenDigest", where)
        _digest(raw, "newTokenDigest", where)
        _reason(raw, where)
        if raw["tokenDigest"] == raw["newTokenDigest"]:
            raise InputError(f"{where}: a token cannot supersede itself")
    else:
        _digest(raw, "tokenDigest", where)
        covers = _field(raw, "coversSize", int, where)
        if covers < 0:
            raise InputError(f"{where}: coversSize must not be negative")
        if _field(raw, "token", str, where) not in ("active", "revoked", "superseded"):
            raise InputError(f"{where}: token status must be active, revoked or superseded")
        if _field(raw, "key", str, where) not in ("valid", "revoked", "compromised",
                                                   "unknown"):
            raise InputError(f"{where}: key status is not one of the known values")
        _digest(raw, "supersededBy", where, required=False)
        if _field(raw, "evidence", str, where) not in EVIDENCE_STATES:
            raise InputError(f"{where}: evidence status must be one of {EVIDENCE_STATES}")
        affected = _field(raw, "evidenceAffected", list, where, required=False) or []
        for n, digest in enumerate(affected):
            if not isinstance(digest, str) or _DIGEST.match(digest) is None:
                raise InputError(f"{where}: evidenceAffected[{n}] must be a token digest")
        if (raw["evidence"] == "active") != (not affected):
            raise InputError(f"{where}: evidenceAffected lists the supplier tokens that are "
                             "not active, exactly when evidence is not active")
        if not signer.startswith(REGISTRAR_KID_PREFIX):
            raise InputError(f"{where}: only the registrar signs status statements")
    allowed = _ALLOWED[kind]
    if not raw.keys() <= allowed:
        unknown = sorted(set(raw) - allowed)
        raise InputError(f"{where}: unknown field {unknown[0]!r}")
    return Statement(kind, raw, signer)


@dataclass(frozen=True, slots=True)
class UsualStatement:
    """A logged statement read by `read_usual_statement`: the statement, the bytes its
    signature covers (`signing_bytes`) and the raw Ed25519 signature (`signature_bytes`).
    """

    statement: Statement
    signed: bytes
    signature: bytes


# The two shapes nearly every logged statement has, as RFC 8785 spells them: a token and
# a status statement whose strings are printable ASCII without '"' or '\' (which JCS
# writes as they are), members in sorted order, no optional member the general checks
# would have to look into (a status's `revocation`, an empty list, a null). A body of
# this shape is canonical JSON by construction, with no duplicate member and no float.
_TEXT = r'[ !#-\[\]-~]*'
_HEX = r'[0-9a-f]{64}'
_HEXES = rf'"{_HEX}"(?:,"{_HEX}")*'
_SIGNED_BY = (r'(?P<signature>,"signature":\{"kid":"(?P<kid>%s)",'
              r'"value":"(?P<value>[A-Za-z0-9_-]{85}[AQgw])"\})')  # 64 bytes, canonical
_WHEN = r'"time":"(?P<time>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)"'
_USUAL_TOKEN = re.compile(
    r'\{(?:"blanket":(?P<blanket>true|false),)?'
    rf'"issuer":"(?P<issuer>{_TEXT})","parents":\[(?P<parents>(?:{_HEXES})?)\],'
    rf'"shipment":"(?P<shipment>{_HEX})"{_SIGNED_BY % _TEXT},'
    rf'(?:"supersedes":"(?P<supersedes>{_HEX})",)?{_WHEN},'
    rf'"tokenDigest":"(?P<digest>{_HEX})","type":"token","v":1\}}')
_USUAL_STATUS = re.compile(
    r'\{"coversSize":(?P<covers>0|[1-9][0-9]{0,14}),'
    r'"evidence":"(?P<evidence>active|superseded|revoked)"'
    rf'(?:,"evidenceAffected":\[(?P<affected>{_HEXES})\])?,'
    r'"key":"(?P<key>valid|revoked|compromised|unknown)"'
    rf'{_SIGNED_BY % (REGISTRAR_KID_PREFIX + _TEXT)},'
    rf'(?:"supersededBy":"(?P<by>{_HEX})",)?{_WHEN},'
    r'"token":"(?P<token>active|revoked|superseded)",'
    rf'"tokenDigest":"(?P<digest>{_HEX})","type":"status","v":1\}}')


def read_usual_statement(body: bytes) -> UsualStatement | None:
    """The statement logged as `body` when it has one of the usual shapes, else None.

    Equal to what `parse_statement`'s general checks return for the same bytes (a
    property test holds the two to it), with the signed bytes cut at the signature
    member's place and the signature decoded: an audit reads every entry, and the
    general path (strict JSON decode, canonical re-encoding, field walk) is most of its
    time after Ed25519. None means only "not the usual shape": the general checks decide.
    """
    if not body.isascii():
        return None
    text = body.decode("ascii")
    usual = _USUAL_TOKEN.fullmatch(text) if text.endswith('"token","v":1}') else (
        _USUAL_STATUS.fullmatch(text))
    if usual is None:
        return None
    data: dict[str, Any]
    if usual.re is _USUAL_TOKEN:
        blanket, issuer, parents, shipment, _, kid, value, supersedes, time, digest = (
            usual.groups())
        listed = parents[1:-1].split('","') if parents else []
        if len(set(listed)) != len(listed) or supersedes == digest:
            return None  # refused by the general checks, with their message
        data = {} if blanket is None else {"blanket": blanket == "true"}
        data["issuer"] = issuer
        data["parents"] = listed
        data["shipment"] = shipment
        data["signature"] = {"kid": kid, "value": value}
        if supersedes is not None:
            data["supersedes"] = supersedes
        data["time"] = time
        data["tokenDigest"] = digest
        data["type"] = "token"
        kind = StatementKind.TOKEN
    else:
        covers, evidence, affected, key, _, kid, value, by, time, token, digest = (
            usual.groups())
        if (evidence == "active") != (affected is None):
            return None
        data = {"coversSize": int(covers), "evidence": evidence}
        if affected is not None:
            data["evidenceAffected"] = affected[1:-1].split('","')
        data["key"] = key
        data["signature"] = {"kid": kid, "value": value}
        if by is not None:
            data["supersededBy"] = by
        data["time"] = time
        data["token"] = token
        data["tokenDigest"] = digest
        data["type"] = "status"
        kind = StatementKind.STATUS
    data["v"] = VERSION
    cut_from, cut_to = usual.span("signature")
    signature = binascii.a2b_base64(value.replace("-", "+").replace("_", "/") + "==")
    return UsualStatement(Statement(kind, data, kid),
                          SIGNING_PREFIX + body[:cut_from] + body[cut_to:], signature)


_COMMON = frozenset({"v", "type", "time", "signature"})
#: The fields each kind of statement may have (anything else is refused by name).
_ALLOWED: dict[StatementKind, frozenset[str]] = {
    StatementKind.KEY: _COMMON | {"action", "kid", "publicKeyMultibase", "party", "replaces",
                                  "possession"},
    StatementKind.TOKEN: _COMMON | {"tokenDigest", "issuer", "parents", "blanket", "shipment",
                                    "supersedes"},
    StatementKind.REVOKE: _COMMON | {"target", "tokenDigest", "kid", "compromisedSince",
                                     "reason"},
    StatementKind.SUPERSEDE: _COMMON | {"tokenDigest", "newTokenDigest", "reason"},
    StatementKind.STATUS: _COMMON | {"tokenDigest", "coversSize", "token", "key",
                                     "supersededBy", "revocation", "evidence",
                                     "evidenceAffected"},
}
_WHERE = {kind: f"{kind.value} statement" for kind in StatementKind}
