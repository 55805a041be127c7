"""Offline verification of a shipment bundle: ``clear``, ``review`` or ``reject``.

One function, `verify()`, used by the CLI, the API and anyone holding a bundle and a trust
file; it makes no network call and reads no clock (`now` is an argument). It returns every
check with its outcome (ledger design s.8):

* **reject** when any integrity, signature, key, proof, revocation or recomputation check
  fails. Every value in a bundle is covered by a signature or a hash, and a bundle may
  carry nothing else (unknown fields and signature lines from keys the policy does not
  name are refused), so any single changed value turns a clear bundle into a reject.
* **review** when everything is authentic but a person should look: the checkpoint is
  not fresh, the blanket period does not cover `now`, disclosed lines are missing where
  the trust file requires full disclosure, supplier bundles are absent where required, or
  the RVC margin is under the configured tolerance.
* **clear** otherwise.

The answer is a typed value, as the API will return it: a `Verification` holding the
`Decision` and every `Check` with its `Outcome` (StrEnums, so ``== "clear"`` holds), whose
``to_dict`` is the JSON of ``tmec verify --json`` and whose ``from_dict`` reads it back
strictly. The bundle format is `ledger.bundle`'s one definition, applied here level by
level: a malformed supplier bundle fails its own ``supplier.<digest>`` check, and the rest
of the bundle is still checked and reported.

Checks, in order: bundle format; checkpoint signature, cosignature quorum and freshness;
inclusion of the token, key and status statements under the checkpoint; token digest;
key statement and its order before the token; statement and token signatures by that
key; registrar's status of token and key; validity period; parents = supplier links;
line disclosures against ``partsRoot`` and, when complete, recomputation of the
determination with `origin_rules`; supplier bundles (recursively); RVC margin.

Signatures checked offline are the ones that carry authority: the log's and every
witness's on the checkpoint, and the issuer's on the token (eddsa-jcs-2022). The three
log statements are authenticated by their inclusion under that checkpoint, as entries of a
transparency log are; their own signatures (the issuer's on its token statement, the key's
proof of possession, the registrar's status made with the log key itself) were checked
when the ledger appended them, and `Ledger.audit` checks them again. Their signer fields
are still bound here to the issuer key and the registrar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from ledger import merkle, shape
from ledger.bundle import (
    BUNDLE_FORMAT,
    MAX_SUPPLIER_DEPTH,
    Bundle,
    check_bundle_shape,
    check_disclosure_shape,
    decode_proof,
)
from ledger.canonical import (
    Split,
    canonicalize,
    parse_json,
    split_canonical,
    values_checked,
)
from ledger.did_web import DID_WEB_PREFIX, DidWebName, check_host, parse_party_method
from ledger.errors import (
    BundleError,
    EncodingError,
    InputError,
    IssuerError,
    LedgerError,
    PolicyError,
)
from ledger.multikey import did_key
from ledger.policy import Policy, StaleCheckpointError, VerifiedCheckpoint, verify_checkpoint
from ledger.statements import Statement, StatementKind, parse_statement, registrar_kid
from ledger.status import EvidenceState, KeyState, TokenState
from ledger.token import (
    document_from_records,
    shipment_digest,
    supplier_token_digests,
    token_digest_of,
    verify_disclosure,
    verify_token,
)
from origin_rules import OriginRulesError, bom_from_dict, determine_origin
from origin_rules.rules import RuleBook, default_rule_book
from origin_rules.scenarios import default_catalogue

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_SUPPLIER_DEPTH",
    "TRUST_FORMAT",
    "Check",
    "Decision",
    "Outcome",
    "TrustFile",
    "Verification",
    "VerifyOptions",
    "verification_time",
    "verify",
]

TRUST_FORMAT = "tmec-trust/1"


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What a verifier requires beyond authenticity (set in the trust file)."""

    require_disclosure: bool = False
    require_supplier_bundles: bool = False
    margin_tolerance: Decimal | None = None


@dataclass(frozen=True)
class TrustFile:
    """A trust file: the tlog policy (log key, witnesses, quorum, max age) and options.

    `did_web_host` is the did:web host (method-specific form, a port as ``%3A``) under
    which this log's parties may name themselves as token issuers
    (``did:web:<host>:parties:<party>``): the verifier trusts the log, not a web server,
    so the host is part of what it trusts for this log. None: only did:key issuers are
    accepted (a did:web token fails ``token.issuer``).
    """

    policy: Policy
    options: VerifyOptions = field(default_factory=VerifyOptions)
    did_web_host: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (``tmec-trust/1``); ``did_web_host`` only when there is one."""
        options: dict[str, Any] = {
            "require_disclosure": self.options.require_disclosure,
            "require_supplier_bundles": self.options.require_supplier_bundles,
            "margin_tolerance": (None if self.options.margin_tolerance is None
                                 else str(self.options.margin_tolerance)),
        }
        found: dict[str, Any] = {"format": TRUST_FORMAT, "policy": self.policy.to_json(),
                                 "verification": options}
        if self.did_web_host is not None:
            found["did_web_host"] = self.did_web_host
        return found

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, Any]) -> TrustFile:
        """Parse a trust file (raises `PolicyError` naming what is wrong)."""
        try:
            raw = parse_json(data) if isinstance(data, bytes | str) else data
        except EncodingError as exc:
            raise PolicyError(f"trust file: {exc}") from exc
        if not isinstance(raw, Mapping) or raw.get("format") != TRUST_FORMAT:
            raise PolicyError(f"a trust file is a JSON object with format {TRUST_FORMAT!r}")
        unknown = set(raw) - {"format", "policy", "verification", "did_web_host"}
        if unknown:
            raise PolicyError(f"trust file: unknown field {sorted(unknown)[0]!r}")
        policy = Policy.from_json(raw.get("policy") or {})
        options_raw = raw.get("verification") or {}
        if not isinstance(options_raw, Mapping):
            raise PolicyError("trust file: 'verification' must be an object")
        unknown = set(options_raw) - {"require_disclosure", "require_supplier_bundles",
                                      "margin_tolerance"}
        if unknown:
            raise PolicyError(f"trust file: unknown verification option {sorted(unknown)[0]!r}")
        tolerance = options_raw.get("margin_tolerance")
        margin: Decimal | None = None
        if tolerance is not None:
            try:
                margin = Decimal(str(tolerance)) if isinstance(tolerance, str) else None
            except InvalidOperation:
                margin = None
            if margin is None or not margin.is_finite() or margin < 0:
                raise PolicyError("trust file: margin_tolerance must be a decimal string of "
                                  "percentage points, e.g. \"1.5\"")
        flags = {}
        for name in ("require_disclosure", "require_supplier_bundles"):
            value = options_raw.get(name, False)
            if not isinstance(value, bool):
                raise PolicyError(f"trust file: {name} must be true or false")
            flags[name] = value
        host = raw.get("did_web_host")
        if host is not None:
            if not isinstance(host, str):
                raise PolicyError("trust file: did_web_host must be a string")
            try:
                check_host(host)
            except EncodingError as exc:
                raise PolicyError(f"trust file: did_web_host: {exc.message} (the host of "
                                  "did:web:<host>, a port written %3A)") from None
        return cls(policy, VerifyOptions(margin_tolerance=margin, **flags), host)


class Outcome(StrEnum):
    """The outcome of one check; a `StrEnum`, its JSON the plain string."""

    PASS = "pass"
    """Checked and satisfied."""
    WARN = "warn"
    """Authentic, but a person should look (stale, out of period, withheld): review."""
    FAIL = "fail"
    """Failed: the bundle is rejected."""
    SKIP = "skip"
    """Not checked, because the bundle does not carry it and the trust file does not
    require it (no disclosure, no margin tolerance, no time given)."""


class Decision(StrEnum):
    """The answer of a verification (ledger design s.8).

    A `StrEnum`: ``Decision.CLEAR == "clear"``, and its JSON is the plain string.
    """

    CLEAR = "clear"
    """Every check passed under the trust file's policy (or was skipped)."""
    REVIEW = "review"
    """Authentic, but something needs a person: at least one check warned, none failed."""
    REJECT = "reject"
    """An integrity, signature, key, proof, revocation or recomputation check failed."""

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Decision:
        """The decision that `outcomes` call for: any fail rejects, any warn asks for review.

        The one definition of the rule; `Verification.from_dict` holds a decision to it.
        """
        found = set(outcomes)
        if Outcome.FAIL in found:
            return cls.REJECT
        if Outcome.WARN in found:
            return cls.REVIEW
        return cls.CLEAR


_CHECK_FIELDS = frozenset({"name", "outcome", "detail"})
_VERIFICATION_FIELDS = frozenset({"decision", "tokenDigest", "shipmentId", "checks"})


@dataclass(frozen=True, slots=True)
class Check:
    """One check and its outcome, with a detail for the person reading the report."""

    name: str
    outcome: Outcome
    detail: str

    def to_dict(self) -> dict[str, str]:
        """JSON form: ``{"name", "outcome", "detail"}``, all strings."""
        return {"name": self.name, "outcome": self.outcome.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: object, where: str = "check") -> Check:
        """Read the JSON form back (strict, `ledger.shape`; `InputError` names the field)."""
        fields = shape.json_object(data, where, _CHECK_FIELDS, error=InputError)
        name = shape.text(fields, "name", where, error=InputError)
        if not name:
            raise InputError(f"{shape.at(where, 'name')} must not be empty")
        return cls(name, shape.choice(fields, "outcome", where, Outcome, error=InputError),
                   shape.text(fields, "detail", where, error=InputError))


@dataclass(frozen=True, slots=True)
class Verification:
    """The decision and every check behind it, in the order they ran.

    `token_digest` is None when the bundle is too malformed to name its token, and
    `shipment_id` too, or when the token's ``shipmentId`` is not text; it is the token's
    own text, to be shown as text, never interpreted.
    """

    decision: Decision
    checks: tuple[Check, ...]
    token_digest: str | None = None
    shipment_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``tmec verify --json``): decision, tokenDigest, shipmentId, checks."""
        return {"decision": self.decision.value, "tokenDigest": self.token_digest,
                "shipmentId": self.shipment_id,
                "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, data: object) -> Verification:
        """Read the JSON form back, strictly (`InputError` names the field).

        Besides fields and types, the decision must be the one its checks call for
        (`Decision.of`): a verification that says ``clear`` over a failed check is not one
        `verify` can have produced.
        """
        where = "verification"
        fields = shape.json_object(data, where, _VERIFICATION_FIELDS, error=InputError)
        decision = shape.choice(fields, "decision", where, Decision, error=InputError)
        digest = fields["tokenDigest"]
        if digest is not None:
            digest = shape.digest(fields, "tokenDigest", where, error=InputError)
        shipment = fields["shipmentId"]
        if shipment is not None:
            shipment = shape.text(fields, "shipmentId", where, error=InputError)
        listed = fields["checks"]
        if not isinstance(listed, list):
            raise InputError(f"{where}.checks must be an array of checks")
        checks = tuple(Check.from_dict(c, shape.at(f"{where}.checks", n))
                       for n, c in enumerate(listed))
        expected = Decision.of(c.outcome for c in checks)
        if decision is not expected:
            raise InputError(f"{where}.decision is {decision.value!r}, but its checks call "
                             f"for {expected.value!r}")
        return cls(decision, checks, digest, shipment)


class _Checks:
    def __init__(self) -> None:
        self.items: list[Check] = []

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        self.items.append(Check(name, outcome, detail))

    def run(self, name: str, action: Callable[[], str]) -> bool:
        """Run one check: its return value is the detail; an error makes it fail.

        A bundle is hostile input: besides our own errors, a value of the wrong type or
        shape deep inside it (a missing key, a malformed date) fails the check instead of
        escaping as an exception.
        """
        try:
            detail = action()
        except (LedgerError, OriginRulesError) as exc:
            self.add(name, Outcome.FAIL, str(exc))
            return False
        except _MALFORMED as exc:
            self.add(name, Outcome.FAIL, f"malformed value ({type(exc).__name__}: {exc})")
            return False
        self.add(name, Outcome.PASS, detail)
        return True

    def value(self, name: str, action: Callable[[], tuple[T, str]]) -> T | None:
        """Like `run`, for a check that also yields a value (None when it fails)."""
        result: list[T] = []

        def step() -> str:
            found, detail = action()
            result.append(found)
            return detail

        return result[0] if self.run(name, step) else None

    def guarded(self, name: str, action: Callable[[], None]) -> None:
        """Run a group of checks that add their own results; malformed data fails it."""
        try:
            action()
        except (LedgerError, OriginRulesError) as exc:
            self.add(name, Outcome.FAIL, str(exc))
        except _MALFORMED as exc:
            self.add(name, Outcome.FAIL, f"malformed value ({type(exc).__name__}: {exc})")

    def decision(self) -> Decision:
        return Decision.of(c.outcome for c in self.items)


T = TypeVar("T")
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError)
def verification_time(text: str, what: str = "the verification time") -> int:
    """POSIX seconds of an ISO 8601 time (``Z`` or an offset; none is read as UTC).

    What ``tmec verify --at`` and the API's ``?at=`` take; `InputError` names `what`.
    """
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what} must be an ISO 8601 time, got {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def verify(bundle: bytes | str | Mapping[str, Any] | Bundle, trust: TrustFile, *,
           now: int | None = None) -> Verification:
    """Verify a bundle offline under `trust`; `now` is POSIX seconds (None: no freshness).

    The bundle is its JSON text (bytes or str), the parsed object, or a `Bundle`.
    """
    if isinstance(bundle, Bundle):
        bundle = bundle.to_dict()
    if not isinstance(bundle, bytes | str):
        try:
            canonicalize(dict(bundle))  # one full type walk; parts are then known good
        except (LedgerError, TypeError, ValueError) as exc:
            failed = Check("bundle.format", Outcome.FAIL, str(exc))
            return Verification(Decision.REJECT, (failed,))
    with values_checked():
        return _verify(bundle, trust, now, depth=0)


def _verify(raw: bytes | str | Mapping[str, Any], trust: TrustFile, now: int | None, *,
            depth: int, members: Split | None = None) -> Verification:
    """Verify one bundle; `members` is its token's canonical split when the caller
    (`_suppliers`, which had to name the token first) already has them.
    """
    checks = _Checks()
    try:
        bundle = parse_json(raw) if isinstance(raw, bytes | str) else raw
        check_bundle_shape(bundle)
    except LedgerError as exc:
        checks.add("bundle.format", Outcome.FAIL, str(exc))
        return Verification(Decision.REJECT, tuple(checks.items))
    checks.add("bundle.format", Outcome.PASS, BUNDLE_FORMAT)
    token: Mapping[str, Any] = bundle["token"]
    log = bundle["log"]
    subject = token.get("credentialSubject")
    claimed = subject.get("shipmentId") if isinstance(subject, Mapping) else None
    # The report names a shipment only by text: a token claiming a number or an object
    # (which cannot verify as a well-formed token anyway) is reported without one.
    shipment = claimed if isinstance(claimed, str) else None
    digest: str | None = None
    try:
        # The token canonicalized once: the digest (with the proof) and the proof's
        # hash data (without it) are joined from the same bytes.
        if members is None:
            members = split_canonical(token, "proof")
        digest = token_digest_of(members)
    except LedgerError as exc:
        checks.add("token.digest", Outcome.FAIL, f"the token cannot be canonicalized: {exc}")
        return Verification(Decision.REJECT, tuple(checks.items))

    # 1. The checkpoint: log signature, quorum, freshness, nothing unknown.
    verified: VerifiedCheckpoint | None = None
    try:
        verified = verify_checkpoint(trust.policy, log["checkpoint"], now)
        checks.add("checkpoint.signatures", Outcome.PASS,
                   f"{verified.checkpoint.origin} size {verified.checkpoint.size}, cosigned by "
                   f"{', '.join(sorted(verified.cosignatures)) or 'nobody'}")
        if verified.freshness_checked:
            checks.add("checkpoint.freshness", Outcome.PASS,
                       f"the quorum cosigned within {trust.policy.max_age_seconds} s")
        else:
            checks.add("checkpoint.freshness", Outcome.SKIP,
                       "no time given or no maximum age in the trust policy")
    except StaleCheckpointError as exc:
        verified = exc.verified
        checks.add("checkpoint.signatures", Outcome.PASS,
                   f"{verified.checkpoint.origin} size {verified.checkpoint.size}")
        checks.add("checkpoint.freshness", Outcome.WARN, str(exc))
    except LedgerError as exc:
        checks.add("checkpoint.signatures", Outcome.FAIL, str(exc))
    if verified is not None and verified.unknown_signatures:
        names = ", ".join(sorted({s.name for s in verified.unknown_signatures}))
        checks.add("checkpoint.unknown_signatures", Outcome.FAIL,
                   f"signature lines from keys the trust policy does not name ({names}); a "
                   "bundle carries only signatures its verifier can check")
    if verified is None:
        return Verification(Decision.REJECT, tuple(checks.items), digest, shipment)
    checkpoint = verified.checkpoint

    # 2. Inclusion of the three statements under the checkpoint.
    def included(name: str) -> Callable[[], str]:
        def check() -> str:
            entry = log[name]
            leaf = merkle.leaf_hash(canonicalize(dict(entry["statement"])))
            merkle.verify_inclusion(leaf, entry["index"], checkpoint.size,
                                    decode_proof(entry["proof"]), checkpoint.root_hash)
            return f"entry {entry['index']} of {checkpoint.size}"
        return check

    for name in ("token", "key", "status"):
        checks.run(f"log.{name}.inclusion", included(name))

    statements: dict[str, Statement] = {}

    def parse(name: str, kind: StatementKind) -> Callable[[], str]:
        def check() -> str:
            statement = parse_statement(dict(log[name]["statement"]))
            if statement.kind is not kind:
                raise BundleError(f"log.{name} holds a {statement.kind.value} statement, "
                                  f"not a {kind.value} statement")
            statements[name] = statement
            return f"{kind.value} statement"
        return check

    for name, kind in (("token", StatementKind.TOKEN), ("key", StatementKind.KEY),
                       ("status", StatementKind.STATUS)):
        checks.run(f"log.{name}.statement", parse(name, kind))

    token_statement = statements.get("token")
    key_statement = statements.get("key")
    status = statements.get("status")
    token_index = log["token"]["index"]

    if token_statement is not None:
        def same_digest() -> str:
            assert token_statement is not None
            if token_statement.token_digest != digest:
                raise BundleError(f"the logged statement is for token "
                                  f"{token_statement.token_digest}, this token is {digest}")
            if token_statement.data["shipment"] != shipment_digest(str(claimed)):
                raise BundleError("the logged statement is for another shipment than the "
                                  "token's shipmentId")
            return digest or ""
        checks.run("token.digest", same_digest)

    # 3. The issuer key: logged before the token, signs the statement and the token.
    public_key: bytes | None = None
    if key_statement is not None:
        key_entry = key_statement

        def key_ok() -> tuple[bytes, str]:
            # The key statement's own signature only proves possession of the key, which
            # the registrar checked when it logged it; offline, what authenticates the
            # party-key binding is its inclusion under the witnessed checkpoint (above).
            key = key_entry.public_key
            if log["key"]["index"] >= token_index:
                raise BundleError(f"the key was logged at {log['key']['index']}, not before "
                                  f"the token at {token_index}")
            party = key_entry.data["party"]
            return key, f"{key_entry.data['kid']} of {party['name']} ({party['country']})"

        public_key = checks.value("key.statement", key_ok)
        if public_key is not None:
            _signatures(checks, token, token_statement, key_entry, public_key, trust,
                        members)

    # 4. The registrar's status of token and key, as of the status statement's position.
    if status is not None:
        def status_ok() -> str:
            assert status is not None
            # The registrar signs with the log key, the key that signed the checkpoint
            # over this very entry: inclusion under it carries the same authority.
            if status.signer != registrar_kid(checkpoint.origin):
                raise BundleError(f"the status is signed by {status.signer}, not the registrar "
                                  f"of {checkpoint.origin}")
            if status.token_digest != digest:
                raise BundleError("the status statement is about another token")
            status_index = log["status"]["index"]
            if status.data["coversSize"] != status_index or status_index <= token_index:
                raise BundleError("the status statement does not cover the log up to its "
                                  "own position after the token")
            if status_index != checkpoint.size - 1:
                raise BundleError(f"the status statement at entry {status_index} is not the "
                                  f"last entry under the checkpoint (size {checkpoint.size}): "
                                  "a later entry may revoke the token")
            return f"registrar status at entry {status_index}"
        if checks.run("status.statement", status_ok):
            token_state = status.data["token"]
            if token_state == TokenState.ACTIVE:
                checks.add("status.token", Outcome.PASS, "not revoked or superseded")
            else:
                extra = (f" by {status.data['supersededBy']}"
                         if status.data.get("supersededBy") else "")
                checks.add("status.token", Outcome.FAIL, f"the token is {token_state}{extra}")
            key_state = status.data["key"]
            checks.add("status.key", Outcome.PASS if key_state == KeyState.VALID else Outcome.FAIL,
                       f"the issuer key was {key_state} when the token was logged")
            _evidence_status(checks, status)

    # 5. Validity period, parents, disclosures, suppliers, margin.
    checks.guarded("token.validity", lambda: _validity(checks, token, now))
    if token_statement is not None:
        def parents() -> str:
            assert token_statement is not None
            linked = sorted(supplier_token_digests(token))
            if sorted(token_statement.data["parents"]) != linked:
                raise BundleError("the logged parents differ from the token's supplier links")
            return f"{len(linked)} supplier token(s)"
        checks.run("token.parents", parents)
    checks.guarded("disclosure.lines", lambda: _disclosures(checks, bundle, token, trust))
    checks.guarded("suppliers", lambda: _suppliers(checks, bundle, token, trust, now, depth,
                                                   token_index, checkpoint.origin))
    checks.guarded("determination.margin", lambda: _margin(checks, token, trust))
    return Verification(checks.decision(), tuple(checks.items), digest, shipment)


def _evidence_status(checks: _Checks, status: Statement) -> None:
    """The registrar's word on the supplier tokens this token rests on.

    A supplier's revocation (or a compromise of its key) after the token was logged voids
    the evidence: ``fail``. A supplier's correction (superseded) leaves the claim to be
    checked against the corrected token: ``warn``, a person reviews it.
    """
    state = status.data["evidence"]
    affected = ", ".join(d[:16] + "..." for d in status.data.get("evidenceAffected", []))
    if state == EvidenceState.ACTIVE:
        checks.add("status.evidence", Outcome.PASS,
                   "every supplier token it rests on is active")
    elif state == EvidenceState.SUPERSEDED:
        checks.add("status.evidence", Outcome.WARN,
                   f"supplier evidence was superseded by a correction since: {affected}")
    else:
        checks.add("status.evidence", Outcome.FAIL,
                   f"supplier evidence was revoked since: {affected}")


def did_web_issuer(token: Mapping[str, Any], key_statement: Statement, public_key: bytes,
                   trust: TrustFile) -> str:
    """The ``token.issuer`` check of a token whose issuer is a party's did:web.

    Offline, without fetching the DID document (which says only what holds *now*; the
    log keeps the history): the DID must parse (`ledger.did_web.parse_did_web`); its host
    must be the trust file's ``did_web_host`` for this log; its party segment must be the
    party the log's key statement binds the signing key to; the proof's verification
    method must be ``<issuer>#<publicKeyMultibase>`` of that key (the id the party's DID
    document gives it). That the key was valid when the token was logged is
    ``status.key``, as for a did:key token.

    Raises:
        IssuerError: naming which of these fails.
    """
    issuer = str(token.get("issuer"))
    proof = token.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise IssuerError("the token's proof names no verificationMethod")
    try:
        name, named = parse_party_method(method)
    except EncodingError as exc:
        raise IssuerError(f"proof.verificationMethod: {exc.message}") from None
    if name.did != issuer:
        raise IssuerError(f"the proof's verification method belongs to {name.did[:120]!r}, "
                          f"not to the issuer {issuer[:120]!r}")
    if trust.did_web_host is None:
        raise IssuerError(f"the token's issuer is {issuer[:120]}, but the trust file names "
                          "no did:web host for this log (did_web_host): only did:key "
                          "issuers can be checked under it")
    if name.host != trust.did_web_host:
        raise IssuerError(f"the issuer's did:web host is {name.host[:80]!r}; the trust file "
                          f"names {trust.did_web_host!r} for this log")
    party = key_statement.data["party"]["id"]
    if name.party != party:
        raise IssuerError(f"the issuer names party {name.party!r}, but the log binds the "
                          f"signing key to party {party!r}")
    if named != public_key:
        raise IssuerError("the verification method's fragment names another key than the "
                          "one the log binds to the party")
    return f"{DidWebName.of_party(trust.did_web_host, party).did}, the key's party on this log"


def _signatures(checks: _Checks, token: Mapping[str, Any], token_statement: Statement | None,
                key_statement: Statement, public_key: bytes, trust: TrustFile,
                members: Split | None = None) -> None:
    """The issuer key signed the logged statement and the token, as the same DID.

    The token's issuer is the key's did:key, or its party's did:web (``token.issuer``,
    `did_web_issuer`); the logged statement always names the key by its did:key.
    """
    kid = key_statement.data["kid"]
    if token_statement is not None:
        statement = token_statement

        def statement_signer() -> str:
            if statement.signer != kid:
                raise BundleError("the token statement is signed by another key than the "
                                  "bundle's issuer key")
            if statement.data["issuer"] != did_key(public_key):
                raise BundleError("the statement's issuer is not the key's DID")
            return "logged under the issuer key"

        checks.run("token.statement.signer", statement_signer)

    issuer = token.get("issuer")
    web = isinstance(issuer, str) and issuer.startswith(DID_WEB_PREFIX)
    if web:
        checks.run("token.issuer",
                   lambda: did_web_issuer(token, key_statement, public_key, trust))

    def token_signed() -> str:
        verify_token(token, public_key, members=members)
        if not web and token.get("proof", {}).get("verificationMethod") != kid:
            raise BundleError("the token's proof names another verification method")
        return "eddsa-jcs-2022 proof verifies"

    checks.run("token.signature", token_signed)


def _validity(checks: _Checks, token: Mapping[str, Any], now: int | None) -> None:
    if now is None:
        checks.add("token.validity", Outcome.SKIP, "no time given")
        return
    moment = datetime.fromtimestamp(now, UTC)

    def parse(name: str) -> datetime | None:
        value = token.get(name)
        if not isinstance(value, str):
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    start, end = parse("validFrom"), parse("validUntil")
    if start is not None and moment < start:
        checks.add("token.validity", Outcome.WARN,
                   f"the certification starts on {start.date()}")
    elif end is not None and moment > end:
        checks.add("token.validity", Outcome.WARN, f"the blanket period ended on {end.date()}")
    else:
        checks.add("token.validity", Outcome.PASS, "in force")


def _disclosures(checks: _Checks, bundle: Mapping[str, Any], token: Mapping[str, Any],
                 trust: TrustFile) -> None:
    subject = token["credentialSubject"]
    count = subject["partsCount"]
    disclosures = bundle.get("disclosures")
    if not disclosures:
        outcome = Outcome.WARN if trust.options.require_disclosure else Outcome.SKIP
        checks.add("disclosure.lines", outcome, f"no line disclosed (0 of {count})")
        return
    lines: list[int] = []

    def each() -> str:
        for disclosure in disclosures:
            check_disclosure_shape(disclosure)
            verify_disclosure(subject["partsRoot"], count, disclosure)
            lines.append(disclosure["line"])
        if len(set(lines)) != len(lines):
            raise BundleError("a line is disclosed twice")
        return f"{len(lines)} of {count} line(s) match partsRoot"

    if not checks.run("disclosure.lines", each):
        return
    if len(lines) < count:
        outcome = Outcome.WARN if trust.options.require_disclosure else Outcome.SKIP
        checks.add("determination.recompute", outcome,
                   f"{count - len(lines)} line(s) not disclosed: the RVC cannot be recomputed")
        return

    claimed = subject["determination"]
    rules = rule_book_of(claimed["ruleSet"])
    if rules is None and _is_scenario(claimed["ruleSet"]):
        checks.add("determination.recompute", Outcome.FAIL,
                   f"the token was determined under {claimed['ruleSet']!r}, a hypothetical "
                   "rule set (a what-if scenario): no origin token rests on one")
        return
    if rules is None:
        checks.add("determination.recompute", Outcome.WARN,
                   f"the token was determined under rule set {claimed['ruleSet']!r}, which "
                   "this verifier does not have: the RVC cannot be recomputed")
        return

    def recompute() -> str:
        by_line = sorted(disclosures, key=lambda d: d["line"])
        document = document_from_records([d["record"] for d in by_line])
        # Under the rule set the token names, never a later one: a token is judged by
        # the rules in force when it was issued (a new treaty text is a new rule set).
        determination = determine_origin(bom_from_dict(document), rules=rules)
        got = determination.to_dict()
        if got["originating"] != claimed["originating"] or got["criterion"] != claimed[
                "criterion"]:
            raise BundleError(f"recomputed: originating={got['originating']} criterion="
                              f"{got['criterion']}; the token claims "
                              f"{claimed['originating']} / {claimed['criterion']}")
        claimed_results = {r["method"]: r for r in claimed["results"]}
        for result in got["results"]:
            mine = claimed_results.get(result["method"])
            keys = ("base", "vnm", "rvc", "threshold", "pass")
            if mine is None or any(result[k] != mine[k] for k in keys):
                raise BundleError(f"recomputed {result['method']}: base {result['base']}, "
                                  f"VNM {result['vnm']}, RVC {result['rvc']} differ from the "
                                  "token's determination")
        if set(claimed_results) != {r["method"] for r in got["results"]}:
            raise BundleError("the token reports other methods than the recomputation")
        return (f"RVC recomputed from the disclosed BOM under rule set "
                f"{claimed['ruleSet']}: {got['results'][0]['rvc']} %")

    checks.run("determination.recompute", recompute)


def _suppliers(checks: _Checks, bundle: Mapping[str, Any], token: Mapping[str, Any],
               trust: TrustFile, now: int | None, depth: int, token_index: int,
               origin: str) -> None:
    """Nested supplier bundles: each one verified, for a linked token, at most once.

    Nothing unauthenticated may ride along: a bundle for a token that links no supplier
    may carry no supplier bundles at all, and each nested bundle must be a bundle for a
    token the (signed) token links, given once; anything else fails.
    """
    linked = set(supplier_token_digests(token))
    nested = bundle.get("suppliers") or []
    if not linked:
        if nested:
            checks.add("suppliers", Outcome.FAIL, f"{len(nested)} supplier bundle(s) attached "
                                                  "to a token that links no supplier token")
        else:
            checks.add("suppliers", Outcome.SKIP, "the token links no supplier token")
        return
    seen: set[str] = set()
    for child in nested:
        if depth >= MAX_SUPPLIER_DEPTH:
            checks.add("suppliers", Outcome.FAIL, "supplier bundles nested too deeply")
            return
        # Which token the child is for decides, cheaply, whether it may be here at all;
        # only a linked token's first bundle is verified in full.
        child_members = _bundle_token_members(child)
        child_digest = None if child_members is None else token_digest_of(child_members)
        name = f"supplier.{(child_digest or 'unknown')[:16]}"
        if child_digest not in linked:
            checks.add(name, Outcome.FAIL,
                       "this supplier bundle is not for a token the token links")
            continue
        if child_digest in seen:
            checks.add(name, Outcome.FAIL, "this supplier bundle is given twice")
            continue
        seen.add(child_digest)
        result = _verify(child, trust, now, depth=depth + 1, members=child_members)
        failed = [c.name for c in result.checks if c.outcome is Outcome.FAIL]
        if result.decision is Decision.REJECT:
            checks.add(name, Outcome.FAIL, f"supplier bundle rejected ({', '.join(failed)})")
            continue
        child_log = child["log"] if isinstance(child, Mapping) else {}
        child_origin = _origin_of(child_log.get("checkpoint"))
        if child_origin == origin and child_log["token"]["index"] >= token_index:
            checks.add(name, Outcome.FAIL,
                       "the supplier token was logged after the token that uses it")
            continue
        checks.add(name, Outcome.PASS if result.decision is Decision.CLEAR else Outcome.WARN,
                   f"supplier bundle {result.decision.value}")
    missing = linked - seen
    if missing:
        outcome = Outcome.WARN if trust.options.require_supplier_bundles else Outcome.SKIP
        checks.add("suppliers", outcome,
                   f"{len(missing)} supplier token(s) linked without a bundle")
    else:
        checks.add("suppliers", Outcome.PASS, f"{len(seen)} supplier bundle(s) verified")


def _bundle_token_members(bundle: Any) -> Split | None:
    """The canonical split around ``proof`` of the token a (nested) bundle carries (its
    digest is `token_digest_of` it), or None if it has none.
    """
    token = bundle.get("token") if isinstance(bundle, Mapping) else None
    if not isinstance(token, Mapping) or "proof" not in token:
        return None
    try:
        return split_canonical(token, "proof")
    except LedgerError:
        return None


def _origin_of(checkpoint: Any) -> str | None:
    if not isinstance(checkpoint, str):
        return None
    return checkpoint.split("\n", 1)[0]


def rule_book_of(rule_set: str, book: RuleBook | None = None) -> RuleBook | None:
    """The rule book holding only `rule_set` (by name), or None if `book` lacks it.

    A recomputation under it cannot fall through to another rule set: a good whose
    document date precedes the named set's start is an error, not a different verdict.
    """
    found = [rs for rs in (book or default_rule_book()).rule_sets if rs.rule_set == rule_set]
    return RuleBook(tuple(found)) if found else None


def _is_scenario(rule_set: str) -> bool:
    """Whether `rule_set` names a shipped scenario (`origin_rules.scenarios`), which
    `build_origin_token` refuses: a token that claims one was not made by this software.
    """
    return any(s.rule_set == rule_set for s in default_catalogue().scenarios)


def _margin(checks: _Checks, token: Mapping[str, Any], trust: TrustFile) -> None:
    tolerance = trust.options.margin_tolerance
    if tolerance is None:
        checks.add("determination.margin", Outcome.SKIP, "no margin tolerance configured")
        return
    results = token["credentialSubject"]["determination"]["results"]
    margins = [Decimal(r["rvc"]) - Decimal(r["threshold"]) for r in results if r["pass"]]
    if not margins:
        checks.add("determination.margin", Outcome.SKIP, "qualified without an RVC margin")
        return
    best = max(margins)
    outcome = Outcome.WARN if best < tolerance else Outcome.PASS
    checks.add("determination.margin", outcome,
               f"best RVC margin {best} points (tolerance {tolerance})")
