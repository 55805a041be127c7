"""The ledger's use cases: register keys, issue tokens, append, checkpoint, prove, revoke,
bundle and audit. One code path for the CLI, the API and the demo.

`Ledger` holds a `LogStore` and derives everything else by replaying the log: the Merkle
tree, the key registry, where each token was logged, and which tokens were revoked or
superseded. Appends go through `append()`, which, under the store's single-writer section,
catches up with entries other writers may have added, checks every statement against the
state it would join (signature, key validity at that index, referenced tokens logged
before), writes the batch durably, and only then extends the tree. A batch is all or
nothing: a bad statement rejects the batch and nothing is written.

The clock is injected (`now`); witnesses are objects with `latest_size(origin)` and
`add_checkpoint(signed, old_size, proof, now)` (see `ledger.witness.Witness`), so the
same service runs with in-process witnesses in tests and the demo, and remote ones later.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import merkle
from ledger.canonical import canonicalize, parse_json, values_checked
from ledger.checkpoint import Checkpoint, add_cosignatures, open_checkpoint, sign_checkpoint
from ledger.crypto import SigningKey, sha256, verify_signature
from ledger.errors import (
    ConflictError,
    InputError,
    LedgerError,
    NotFoundError,
    SignatureError,
    TamperedError,
)
from ledger.evidence import check_evidence, cited_tokens
from ledger.keys import KeyRegistry
from ledger.merkle import MerkleTree
from ledger.multikey import did_key, encode_public_key, verification_method_id
from ledger.note import Signer, Verifier
from ledger.statements import (
    EVIDENCE_STATES,
    REGISTRAR_KID_PREFIX,
    Statement,
    StatementKind,
    encode_statement,
    parse_statement,
    registrar_kid,
    sign_statement,
    signature_bytes,
    signing_bytes,
    verify_possession,
    verify_statement_signature,
)
from ledger.store.base import EntryRecord, LogStore, NewEntry
from ledger.token import (
    Certification,
    IssuedToken,
    PartsCommitment,
    build_origin_token,
    decode_commitment,
    disclose,
    encode_commitment,
    parse_token,
    shipment_digest,
    supplier_token_digests,
    token_digest,
)
from ledger.verify import BUNDLE_FORMAT
from origin_rules import BillOfMaterials, determine_origin

__all__ = ["AuditReport", "IssueResult", "Ledger", "WitnessClient", "utc_now"]

log = logging.getLogger(__name__)



#: Shortest token digest prefix accepted for a token (32 bits: unique in any real log,
#: and an ambiguous prefix is refused, never guessed).
MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")

#: Batches at least this large have their signatures checked on a thread pool.
_PARALLEL_BATCH = 16
_POOL: list[ThreadPoolExecutor] = []


def _signature_pool() -> ThreadPoolExecutor:
    """One pool per process, as many threads as cores (created on first use)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                        thread_name_prefix="tmec-verify"))
    return _POOL[0]


def utc_now() -> datetime:
    """The wall clock, for callers at the edge (the core never calls it by itself)."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class WitnessClient(Protocol):
    """What the ledger needs from a witness (C2SP tlog-witness add-checkpoint)."""

    def latest_size(self, origin: str) -> int:
        """Size of the last checkpoint of `origin` this witness cosigned (0 if none)."""
        ...

    def add_checkpoint(self, signed_checkpoint: str | bytes, old_size: int,
                       consistency_proof: Sequence[bytes], now: int) -> str:
        """Check and cosign; return the cosignature line."""
        ...


@dataclass(frozen=True, slots=True)
class IssueResult:
    """A token logged by the ledger."""

    token: dict[str, Any]
    digest: str
    index: int
    commitment: PartsCommitment


@dataclass
class AuditReport:
    """What `Ledger.audit` checked and what it found (empty `problems`: all good)."""

    size: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.problems


@dataclass
class _State:
    """What the ledger derives from the log by replaying it."""

    tree: MerkleTree = field(default_factory=MerkleTree)
    keys: KeyRegistry = field(default_factory=KeyRegistry)
    tokens: dict[str, int] = field(default_factory=dict)  # digest -> index
    token_issuer: dict[str, str] = field(default_factory=dict)  # digest -> kid
    token_parents: dict[str, tuple[str, ...]] = field(default_factory=dict)  # digest -> parents
    key_entry: dict[str, int] = field(default_factory=dict)  # kid -> index of add/rotate
    revoked: dict[str, int] = field(default_factory=dict)  # digest -> index of revoke
    superseded: dict[str, tuple[int, str]] = field(default_factory=dict)  # old -> (index, new)
    # (issuer party, shipment digest) -> the one active token; digest -> its shipment key
    active_shipments: dict[tuple[str, str], str] = field(default_factory=dict)
    token_shipment: dict[str, tuple[str, str]] = field(default_factory=dict)

    def party_of(self, signer: str) -> str:
        """The party a signer acts for (the registrar acts for itself)."""
        if signer.startswith(REGISTRAR_KID_PREFIX):
            return signer
        return self.keys.get(signer).party_id

    def end_shipment(self, digest: str) -> None:
        """`digest` is no longer the active token of its shipment (revoked, superseded)."""
        shipment = self.token_shipment.get(digest)
        if shipment is not None and self.active_shipments.get(shipment) == digest:
            del self.active_shipments[shipment]

    def standing(self, digest: str) -> str:
        """``active``, ``superseded`` or ``revoked`` (also: signed by a key compromised at
        the time, which voids the token just as a revocation does).
        """
        if digest in self.revoked:
            return "revoked"
        kid = self.token_issuer[digest]
        if self.keys.get(kid).status_at(self.tokens[digest]) != "valid":
            return "revoked"
        if digest in self.superseded:
            return "superseded"
        return "active"


class Ledger:
    """The origin ledger over one log (one origin, one log key)."""

    def __init__(self, store: LogStore, log_key: SigningKey, *, origin: str,
                 now: Callable[[], datetime] = utc_now,
                 witnesses: Sequence[WitnessClient] = ()) -> None:
        self.store = store
        self.origin = origin
        self.log_key = log_key
        self.signer = Signer(origin, log_key)
        self.registrar = registrar_kid(origin)
        self.now = now
        self.witnesses = list(witnesses)
        self._state = _State()

    # ------------------------------------------------------------------------ replay

    @property
    def size(self) -> int:
        """Entries known to this ledger object (after `sync`)."""
        return self._state.tree.size

    def sync(self) -> None:
        """Catch up with entries appended to the store (by this or another process)."""
        stored = self.store.size()
        state = self._state
        if stored == state.tree.size:
            return
        for entry in self.store.entries(state.tree.size, stored):
            statement = parse_statement(entry.body)
            self._apply(state, entry.index, statement)
            state.tree.append(entry.leaf_hash)

    def _reset(self) -> None:
        self._state = _State()

    def _apply(self, state: _State, index: int, statement: Statement) -> None:
        """Update the derived state with an entry already checked (or already logged)."""
        data = statement.data
        kind = statement.kind
        if kind is StatementKind.KEY:
            kid = str(data["kid"])
            state.keys.add(kid, statement.public_key, data["party"], index)
            state.key_entry[kid] = index
            if data["action"] == "rotate":
                state.keys.retire(str(data["replaces"]), index)
        elif kind is StatementKind.TOKEN:
            digest = str(data["tokenDigest"])
            state.tokens[digest] = index
            state.token_issuer[digest] = statement.signer
            state.token_parents[digest] = tuple(data["parents"])
            replaced = data.get("supersedes")
            if replaced is not None:
                state.superseded.setdefault(str(replaced), (index, digest))
                state.end_shipment(str(replaced))
            shipment = (state.party_of(statement.signer), str(data["shipment"]))
            state.token_shipment[digest] = shipment
            state.active_shipments[shipment] = digest
        elif kind is StatementKind.REVOKE:
            if data["target"] == "token":
                digest = str(data["tokenDigest"])
                state.revoked.setdefault(digest, index)
                state.end_shipment(digest)
            else:
                state.keys.retire(str(data["kid"]), index,
                                  compromised_since=data.get("compromisedSince"))
        elif kind is StatementKind.SUPERSEDE:
            digest = str(data["tokenDigest"])
            state.superseded.setdefault(digest, (index, str(data["newTokenDigest"])))
            state.end_shipment(digest)

    # ------------------------------------------------------------------------ checks

    def _public_key_for(self, state: _State, kid: str, index: int) -> bytes:
        if kid == self.registrar:
            return self.log_key.public_key
        return state.keys.require_valid(kid, index).public_key

    def _check(self, state: _State, index: int, statement: Statement,
               checked: bytes | None = None) -> None:
        """Authorise `statement` as the entry at `index` (raises `LedgerError`).

        `checked` is the public key under which `_presign` already verified the
        statement's signature; it is verified here when any other key is called for.
        """
        data = statement.data
        kind = statement.kind
        signer = statement.signer

        def signed_by(public: bytes) -> None:
            if checked is None or checked != public:
                verify_statement_signature(data, public)

        if kind is StatementKind.KEY:
            self._check_key(state, index, statement, signed_by)
            return
        if kind is StatementKind.STATUS:
            if signer != self.registrar:
                raise SignatureError("status statements are signed by the registrar")
            signed_by(self.log_key.public_key)
            return
        if kind is StatementKind.TOKEN and signer == self.registrar:
            raise SignatureError("the registrar issues no origin tokens: a token statement "
                                 "is signed by its issuer's key")
        public = self._public_key_for(state, signer, index)
        signed_by(public)
        if kind is StatementKind.TOKEN:
            if data["issuer"] != did_key(public):
                raise InputError("the token statement's issuer is not the signing key's DID")
            self._check_token(state, statement)
        elif kind is StatementKind.REVOKE and data["target"] == "key":
            target = state.keys.get(str(data["kid"]))
            since = data.get("compromisedSince")
            if since is not None and since > index:
                raise InputError(f"compromisedSince {since} is after this revocation")
            self._require_same_party(state, signer, target.party_id)
        elif kind is StatementKind.REVOKE:
            digest = self._require_logged(state, str(data["tokenDigest"]), "token")
            if digest in state.revoked:
                raise ConflictError(f"token {digest} is already revoked")
            issuer = state.keys.get(state.token_issuer[digest])
            self._require_same_party(state, signer, issuer.party_id)
        else:
            self._check_supersede(state, statement)

    def _check_key(self, state: _State, index: int, statement: Statement,
                   signed_by: Callable[[bytes], None]) -> None:
        """Key statements (ledger design s.6): who may add a key for which party.

        * A party the log does not know yet registers its first key itself (self-signed:
          proof of possession).
        * A known party gets a new key only by rotation, signed by a key of that party valid
          at this index (plus the new key's possession signature), or by the registrar's
          admission (registrar-signed, plus possession): the way back for a party whose keys
          are all revoked or lost. Anyone else claiming the party id is refused, so no one
          can register a key for a party and then revoke its tokens and keys.
        """
        data = statement.data
        kid = str(data["kid"])
        party_id = str(data["party"]["id"])
        if kid in state.keys.keys:
            raise ConflictError(f"key {kid} is already registered")
        if data["action"] == "rotate":
            old = state.keys.require_valid(str(data["replaces"]), index)
            if old.party_id != party_id:
                raise InputError("a key can only be rotated to a key of the same party")
            signed_by(old.public_key)
        elif statement.signer == self.registrar:
            signed_by(self.log_key.public_key)
        else:
            known = state.keys.party_keys(party_id)
            if known:
                raise ConflictError(
                    f"party {party_id} is already registered (key {known[-1].kid} at entry "
                    f"{known[-1].added_at}): a new key for it must be a rotation signed by "
                    "its current key, or an admission by the registrar")
            signed_by(statement.public_key)
            return
        verify_possession(data, statement.public_key)

    def _check_token(self, state: _State, statement: Statement) -> None:
        """Token statements: logged once, evidence still standing, one per shipment.

        The supplier tokens a token cites must be logged before it and be active at its
        position (not revoked, not superseded, their key not compromised): a revoked
        certification is no evidence. A party has at most one active token per shipment:
        a second one must name the token it `supersedes` (a correction), which must be an
        active token of the same party.
        """
        data = statement.data
        digest = str(data["tokenDigest"])
        if digest in state.tokens:
            raise ConflictError(f"token {digest} is already logged at index "
                                f"{state.tokens[digest]}")
        for parent in data["parents"]:
            if parent not in state.tokens:
                raise NotFoundError(f"supplier token {parent} is not in the ledger")
            standing = state.standing(parent)
            if standing == "superseded":
                at, new = state.superseded[parent]
                raise ConflictError(f"supplier token {parent} was superseded by {new} at "
                                    f"entry {at}: cite the token that replaces it")
            if standing == "revoked":
                raise ConflictError(f"supplier token {parent} is revoked (or its key was "
                                    "compromised): it is no evidence of origin any more")
        party = state.party_of(statement.signer)
        replaced = data.get("supersedes")
        if replaced is not None:
            replaced = self._require_logged(state, str(replaced), "superseded token")
            self._require_active(state, replaced)
            if state.party_of(state.token_issuer[replaced]) != party:
                raise SignatureError(f"token {replaced} was issued by another party: only "
                                     "its issuer's party may correct it")
        current = state.active_shipments.get((party, str(data["shipment"])))
        if current is not None and current != replaced and state.standing(current) == "active":
            raise ConflictError(
                f"party {party} already has an active token {current} for this shipment "
                f"(entry {state.tokens[current]}): a correction must supersede it, or revoke "
                "it first")

    def _check_supersede(self, state: _State, statement: Statement) -> None:
        """Supersede statements: the issuer replaces its own active token by a later one.

        Only a key of the party that issued both tokens may say that one corrects the
        other (the registrar revokes, but makes no claims of origin); the old token must be
        active, the new one active and logged after it (so corrections cannot loop).
        """
        data = statement.data
        old = self._require_logged(state, str(data["tokenDigest"]), "token")
        new = self._require_logged(state, str(data["newTokenDigest"]), "new token")
        if statement.signer == self.registrar:
            raise SignatureError("the registrar may revoke a token but not supersede it: a "
                                 "correction is its issuer's claim")
        party = state.party_of(statement.signer)
        for digest in (old, new):
            if state.party_of(state.token_issuer[digest]) != party:
                raise SignatureError(f"token {digest} was not issued by party {party}: a "
                                     "party supersedes only its own tokens")
        self._require_active(state, old)
        self._require_active(state, new)
        if state.tokens[new] < state.tokens[old]:
            raise ConflictError(f"the new token {new} (entry {state.tokens[new]}) was logged "
                                f"before the token it would replace (entry "
                                f"{state.tokens[old]}): a correction comes later")

    @staticmethod
    def _require_logged(state: _State, digest: str, what: str) -> str:
        if digest not in state.tokens:
            raise NotFoundError(f"the {what} {digest} is not in the ledger")
        return digest

    @staticmethod
    def _require_active(state: _State, digest: str) -> None:
        standing = state.standing(digest)
        if standing == "superseded":
            raise ConflictError(f"token {digest} is already superseded by "
                                f"{state.superseded[digest][1]}")
        if standing == "revoked":
            raise ConflictError(f"token {digest} is revoked")

    def _presign(self, state: _State, parsed: Sequence[Statement]) -> list[bytes | None]:
        """Verify the batch's signatures in parallel, ahead of the ordered checks.

        Ed25519 verification is the costliest step of an append and PyNaCl releases the
        GIL, so the signatures of a large batch are checked on every core. Each signature
        is checked under the key its signer id names now (or adds earlier in the batch);
        `_check` verifies again whenever the key it finally requires differs, so this only
        ever saves work and never decides anything.
        """
        keys: dict[str, bytes] = {}
        jobs: list[tuple[int, bytes]] = []
        for n, statement in enumerate(parsed):
            signer = statement.signer
            public: bytes | None
            if signer == self.registrar:
                public = self.log_key.public_key
            elif statement.kind is StatementKind.KEY and statement.data["action"] == "add":
                public = statement.public_key
            else:
                record = state.keys.keys.get(signer)
                public = record.public_key if record is not None else keys.get(signer)
            if statement.kind is StatementKind.KEY:
                keys[str(statement.data["kid"])] = statement.public_key
            if public is not None:
                jobs.append((n, public))
        results: list[bytes | None] = [None] * len(parsed)
        # Messages are built here, on this thread: canonical JSON holds the GIL, while the
        # pool threads only run Ed25519 (which releases it).
        tasks: list[tuple[int, bytes, bytes, bytes]] = []
        with values_checked():  # encode_statement has already type-checked every value
            for n, public in jobs:
                data = parsed[n].data
                try:
                    signature = signature_bytes(data)
                except LedgerError:
                    continue
                tasks.append((n, public, signing_bytes(data), signature))

        def run(chunk: list[tuple[int, bytes, bytes, bytes]]) -> list[tuple[int, bytes | None]]:
            checked: list[tuple[int, bytes | None]] = []
            for n, public, message, signature in chunk:
                try:
                    verify_signature(public, message, signature)
                except LedgerError:
                    checked.append((n, None))  # left to _check, which raises the precise error
                else:
                    checked.append((n, public))
            return checked

        # One contiguous chunk per core, the first on this thread: a future per signature
        # would cost a fifth of the signature itself.
        cores = os.cpu_count() or 1
        size = max(1, -(-len(tasks) // cores))
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        pool = _signature_pool() if len(chunks) > 1 else None
        futures = [pool.submit(run, chunk) for chunk in chunks[1:]] if pool else []
        for done in [run(chunks[0]) if chunks else [], *(f.result() for f in futures)]:
            for n, public in done:
                results[n] = public
        return results

    def _require_same_party(self, state: _State, signer: str, party_id: str) -> None:
        if signer == self.registrar:
            return
        if state.keys.get(signer).party_id != party_id:
            raise SignatureError(f"key {signer} does not belong to party {party_id}")

    # ------------------------------------------------------------------------ append

    def append(self, statements: Sequence[Mapping[str, Any]]) -> list[int]:
        """Check and durably append signed statements as one batch; return their indices."""
        parsed = [parse_statement(dict(s)) for s in statements]
        encoded = [encode_statement(s.data) for s in parsed]
        # No entry may point at a token the ledger cannot produce: the store checks that
        # every token of the batch is stored, in the transaction that appends it.
        tokens = [s.token_digest for s in parsed
                  if s.kind is StatementKind.TOKEN and s.token_digest]
        with self.store.writer():
            self.sync()
            state = self._state
            first = state.tree.size
            try:
                checked = (self._presign(state, parsed) if len(parsed) >= _PARALLEL_BATCH
                           else [None] * len(parsed))
                for offset, statement in enumerate(parsed):
                    self._check(state, first + offset, statement, checked[offset])
                    self._apply(state, first + offset, statement)
                entries = [
                    NewEntry(leaf, body, s.kind.value, s.token_digest, s.key_id)
                    for s, (body, leaf) in zip(parsed, encoded, strict=True)
                ]
                start = self.store.append(entries, require_blobs=tokens)
            except Exception:
                self._reset()  # derived state may be ahead of the store: replay next time
                raise
            if start != first:  # pragma: no cover - the writer section forbids this
                self._reset()
                raise ConflictError(f"log grew under the writer lock ({start} != {first})")
            state.tree.extend(leaf for _, leaf in encoded)
        return list(range(first, first + len(parsed)))

    # ------------------------------------------------------------------------ keys

    def register_key(self, key: SigningKey, party: Mapping[str, str]) -> tuple[str, int]:
        """Log the first key of a new party (self-signed); return (key id, index).

        A party the log already knows is refused (`ConflictError`): its next key comes by
        `rotate_key` or by the registrar's `admit_key`.
        """
        kid = verification_method_id(key.public_key)
        (index,) = self.append([sign_statement(self._key_add(key, party), key, kid)])
        return kid, index

    def admit_key(self, key: SigningKey, party: Mapping[str, str]) -> tuple[str, int]:
        """The registrar admits `key` for `party`, known or new; return (key id, index).

        The way back for a party whose keys were all revoked or lost (ledger design s.6):
        the registrar, having checked who asks, signs the key statement with the log key
        and the new key proves possession.
        """
        statement = sign_statement(self._key_add(key, party), self.log_key, self.registrar,
                                   possession=key)
        (index,) = self.append([statement])
        return verification_method_id(key.public_key), index

    def _key_add(self, key: SigningKey, party: Mapping[str, str]) -> dict[str, Any]:
        return {"v": 1, "type": "key", "action": "add", "time": _iso(self.now()),
                "kid": verification_method_id(key.public_key),
                "publicKeyMultibase": encode_public_key(key.public_key), "party": dict(party)}

    def rotate_key(self, old: SigningKey, new: SigningKey) -> tuple[str, int]:
        """Log a rotation from `old` to `new` (signed by old, possession by new)."""
        self.sync()
        old_kid = verification_method_id(old.public_key)
        party = self._state.keys.get(old_kid).party
        kid = verification_method_id(new.public_key)
        statement = {"v": 1, "type": "key", "action": "rotate", "time": _iso(self.now()),
                     "kid": kid, "publicKeyMultibase": encode_public_key(new.public_key),
                     "party": dict(party), "replaces": old_kid}
        (index,) = self.append([sign_statement(statement, old, old_kid, possession=new)])
        return kid, index

    def revoke_key(self, kid: str, *, signer: SigningKey | None, reason: str,
                   compromised_since: int | None = None) -> int:
        """Log a key revocation, by a key of the same party or (signer None) the registrar."""
        statement: dict[str, Any] = {"v": 1, "type": "revoke", "target": "key",
                                     "time": _iso(self.now()), "kid": kid, "reason": reason}
        if compromised_since is not None:
            statement["compromisedSince"] = compromised_since
        (index,) = self.append([self._sign(statement, signer)])
        return index

    def _sign(self, statement: Mapping[str, Any], key: SigningKey | None) -> dict[str, Any]:
        if key is None:
            return sign_statement(statement, self.log_key, self.registrar)
        return sign_statement(statement, key, verification_method_id(key.public_key))

    def keys(self) -> KeyRegistry:
        """The key registry as of the latest entry."""
        self.sync()
        return self._state.keys

    # ------------------------------------------------------------------------ tokens

    def issue_token(self, bom: BillOfMaterials, certification: Certification, *,
                    shipment_id: str, key: SigningKey,
                    salts: Sequence[bytes] | None = None,
                    supersedes: str | None = None) -> IssueResult:
        """Determine origin, sign the token, store it with its disclosure records, log it.

        Before anything is written: the key must be valid, the good originating, and every
        supplier token the BOM cites must be in the ledger and back the material citing it
        (`ledger.evidence`). Then, in this order, each step durable before the next: the
        disclosure records (salts and line records), the token, its log statement. A crash
        anywhere leaves at most unlogged records, never a logged token that cannot be
        disclosed; a retry after a crash is refused while the first token is the active
        one of the shipment (`supersedes` names it to correct it instead).
        """
        self.sync()
        kid = verification_method_id(key.public_key)
        self._state.keys.require_valid(kid, self.size)
        determination = determine_origin(bom)
        issued: IssuedToken = build_origin_token(  # checks every Annex 5-A element too
            bom, determination, certification, shipment_id=shipment_id, key=key,
            created=_iso(self.now()), salts=salts)
        check_evidence(bom, {digest: self.token(digest, what="supplier token")
                             for digest in cited_tokens(bom)})
        parents = sorted(supplier_token_digests(issued.token))
        statement: dict[str, Any] = {
            "v": 1, "type": "token", "time": _iso(self.now()), "tokenDigest": issued.digest,
            "issuer": did_key(key.public_key), "parents": parents,
            "blanket": "validUntil" in issued.token,
            "shipment": shipment_digest(shipment_id)}
        if supersedes is not None:
            statement["supersedes"] = supersedes
        signed = sign_statement(statement, key, kid)
        self.store.put_disclosures(issued.digest, encode_commitment(issued.commitment))
        self.store.put_blob(issued.digest, canonicalize(issued.token))
        (index,) = self.append([signed])
        return IssueResult(issued.token, issued.digest, index, issued.commitment)

    def token(self, digest: str, *, what: str = "token") -> dict[str, Any]:
        """The stored token with this digest (checked against its digest)."""
        data = self.store.get_blob(digest)
        if data is None:
            raise NotFoundError(f"no {what} {digest} in the ledger")
        token = parse_token(data)
        if token_digest(token) != digest:
            raise TamperedError(f"the stored token {digest} no longer matches its digest")
        return token

    def commitment(self, digest: str) -> PartsCommitment:
        """The issuer's disclosure records of a token: what `disclose` needs.

        Raises:
            NotFoundError: no records for `digest` (not issued through this ledger).
            TamperedError: the records no longer reproduce the token's ``partsRoot``.
        """
        data = self.store.get_disclosures(digest)
        if data is None:
            raise NotFoundError(f"no disclosure records for token {digest}: only a token "
                                "issued through this ledger can have its lines disclosed")
        try:
            commitment = decode_commitment(data)
        except LedgerError as exc:
            raise TamperedError(f"the disclosure records of {digest} are unreadable: "
                                f"{exc}") from exc
        if commitment.root_hex != self.token(digest)["credentialSubject"]["partsRoot"]:
            raise TamperedError(f"the disclosure records of {digest} do not reproduce its "
                                "partsRoot")
        return commitment

    def resolve_token(self, ref: str) -> str:
        """The full digest of a logged token named by its digest or a unique prefix.

        Prefixes of at least 8 hex digits are accepted, as `tmec demo` prints 16.
        """
        text = ref.strip().lower()
        if _HEX.fullmatch(text) is None:
            raise InputError(f"{ref[:80]!r} is not a token digest (hex digits)")
        if len(text) == 64:
            return text
        if len(text) < MIN_PREFIX:
            raise InputError(f"a token digest prefix needs at least {MIN_PREFIX} hex "
                             f"digits, got {len(text)}")
        self.sync()
        matches = [d for d in self._state.tokens if d.startswith(text)]
        if not matches:
            raise NotFoundError(f"no token in the ledger starts with {text}")
        if len(matches) > 1:
            raise InputError(f"{len(matches)} tokens start with {text}: give more digits")
        return matches[0]

    def token_index(self, digest: str) -> int:
        """Where the token's statement is in the log."""
        self.sync()
        index = self._state.tokens.get(digest)
        if index is None:
            raise NotFoundError(f"token {digest} is not in the ledger")
        return index

    def token_status(self, digest: str) -> dict[str, Any]:
        """Active / revoked / superseded; the issuer key's state at the token's index; and
        the state of the supplier evidence it rests on.

        ``evidence`` is the worst standing among the supplier tokens it cites, directly or
        through their own evidence (``revoked`` over ``superseded`` over ``active``), and
        ``evidenceAffected`` lists the ones that are not active: a supplier's revocation
        after the token was logged shows in the status of every token that relied on it.
        """
        index = self.token_index(digest)
        state = self._state
        status: dict[str, Any] = {"token": "active"}
        if digest in state.revoked:
            status = {"token": "revoked", "revocation": state.revoked[digest]}
        elif digest in state.superseded:
            at, new = state.superseded[digest]
            status = {"token": "superseded", "supersededBy": new, "revocation": at}
        kid = state.token_issuer[digest]
        status["key"] = state.keys.get(kid).status_at(index)
        status["kid"] = kid
        status["index"] = index
        evidence, affected = self._evidence(digest)
        status["evidence"] = evidence
        if affected:
            status["evidenceAffected"] = affected
        return status

    def _evidence(self, digest: str) -> tuple[str, list[str]]:
        """(worst standing, not-active tokens) over every token `digest` rests on."""
        state = self._state
        rank = {standing: n for n, standing in enumerate(EVIDENCE_STATES)}
        worst = "active"
        affected: set[str] = set()
        seen: set[str] = set()
        stack = list(state.token_parents.get(digest, ()))
        while stack:
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            standing = state.standing(parent)
            if standing != "active":
                affected.add(parent)
                worst = max(worst, standing, key=rank.__getitem__)
            stack.extend(state.token_parents.get(parent, ()))
        return worst, sorted(affected)

    def revoke_token(self, digest: str, *, signer: SigningKey | None, reason: str) -> int:
        """Log the revocation of a token (by its issuer's party or the registrar)."""
        statement = {"v": 1, "type": "revoke", "target": "token", "time": _iso(self.now()),
                     "tokenDigest": digest, "reason": reason}
        (index,) = self.append([self._sign(statement, signer)])
        return index

    def supersede_token(self, old: str, new: str, *, signer: SigningKey, reason: str) -> int:
        """Log that token `new` replaces token `old` (both logged, same issuer party)."""
        statement = {"v": 1, "type": "supersede", "time": _iso(self.now()),
                     "tokenDigest": old, "newTokenDigest": new, "reason": reason}
        (index,) = self.append([self._sign(statement, signer)])
        return index

    # ------------------------------------------------------------------------ checkpoints

    def publish_checkpoint(self) -> str:
        """Sign a checkpoint of the current tree, gather witness cosignatures, record it."""
        with self.store.writer():
            self.sync()
            size = self.size
            root = self._state.tree.root()
        checkpoint = Checkpoint(self.origin, size, root)
        signed = sign_checkpoint(checkpoint, self.signer)
        lines = []
        now = int(self.now().timestamp())
        for witness in self.witnesses:
            old = witness.latest_size(self.origin)
            if old > size:
                raise ConflictError(f"a witness has cosigned size {old}, beyond this log's "
                                    f"{size}: the log was rolled back or forked")
            proof = self._state.tree.consistency_proof(old, size) if old else []
            lines.append(witness.add_checkpoint(signed, old, proof, now))
        if lines:
            signed = add_cosignatures(signed, lines)
        self.store.add_checkpoint(size, signed)
        return signed

    def latest_checkpoint(self) -> tuple[int, str]:
        """The latest recorded checkpoint (publishing one if none exists)."""
        latest = self.store.latest_checkpoint()
        if latest is None or latest[0] < self.store.size():
            signed = self.publish_checkpoint()
            return Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n").size, signed
        return latest

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size`."""
        self.sync()
        return self._state.tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        self.sync()
        return self._state.tree.consistency_proof(size1, size2)

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of `size` (default: all entries)."""
        self.sync()
        return self._state.tree.root(size)

    def entry(self, index: int) -> EntryRecord:
        """The stored entry at `index`."""
        self.sync()
        (record,) = self.store.entries(index, index + 1)
        return record

    # ------------------------------------------------------------------------ bundles

    def status_statement(self, digest: str) -> int:
        """Log the registrar's status of a token as of now; return its index."""
        with self.store.writer():
            self.sync()
            status = self.token_status(digest)
            covers = self.size
        statement: dict[str, Any] = {"v": 1, "type": "status", "time": _iso(self.now()),
                                     "tokenDigest": digest, "coversSize": covers,
                                     "token": status["token"], "key": status["key"],
                                     "evidence": status["evidence"]}
        if "supersededBy" in status:
            statement["supersededBy"] = status["supersededBy"]
        if "evidenceAffected" in status:
            statement["evidenceAffected"] = status["evidenceAffected"]
        (index,) = self.append([self._sign(statement, None)])
        if index != covers:
            # Another writer slipped in between: the statement covers less than its own
            # position. Rare; log a fresh one that does.
            return self.status_statement(digest)
        return index

    def bundle(self, digest: str, *, commitment: PartsCommitment | None = None,
               disclose_lines: Iterable[int] | None = None,
               suppliers: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """The offline verification bundle of a token (ledger design s.7).

        Logs a fresh status statement and publishes a checkpoint covering it, then writes
        the token, its statement, its issuer's key statement and the status statement, each
        with an inclusion proof under that checkpoint. `disclose_lines` adds salted line
        disclosures (from `commitment`, by default the records stored at issuance);
        `suppliers` nests supplier bundles by digest. Nothing else travels: no empty
        lists, nothing a signature or hash does not cover.
        """
        token = self.token(digest)
        token_index = self.token_index(digest)
        disclosures = self._disclosures(digest, token, commitment, disclose_lines)
        # No other writer may append between the status and the checkpoint over it.
        with self.store.writer():
            status_index = self.status_statement(digest)
            checkpoint_text = self.publish_checkpoint()
        size = Checkpoint.parse(checkpoint_text.split("\n\n", 1)[0] + "\n").size
        kid = self._state.token_issuer[digest]
        key_index = self._state.key_entry[kid]

        def proven(index: int) -> dict[str, Any]:
            entry = self.entry(index)
            return {"index": index, "statement": parse_json(entry.body),
                    "proof": [_b64(h) for h in self.inclusion_proof(index, size)]}

        bundle: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "token": token,
            "log": {
                "checkpoint": checkpoint_text,
                "token": proven(token_index),
                "key": proven(key_index),
                "status": proven(status_index),
            },
        }
        if disclosures:
            bundle["disclosures"] = disclosures
        if suppliers:
            wanted = set(supplier_token_digests(token))
            extra = set(suppliers) - wanted
            if extra:
                raise InputError(f"supplier bundle(s) {sorted(extra)} are not evidence of this "
                                 "token")
            bundle["suppliers"] = [dict(suppliers[d]) for d in sorted(suppliers)]
        return bundle

    def _disclosures(self, digest: str, token: Mapping[str, Any],
                     commitment: PartsCommitment | None,
                     lines: Iterable[int] | None) -> list[dict[str, Any]]:
        """The line disclosures a bundle carries (checked before anything is logged)."""
        if lines is None:
            return []
        wanted = sorted(set(lines))
        if not wanted:
            return []
        if commitment is None:
            commitment = self.commitment(digest)
        if commitment.root_hex != token["credentialSubject"]["partsRoot"]:
            raise InputError("the parts commitment is not the one this token commits to")
        outside = [n for n in wanted if not 0 <= n < commitment.count]
        if outside:
            raise InputError(f"line {outside[0]} is not a line of token {digest[:16]}...: "
                             f"it commits {commitment.count} lines, numbered 0 to "
                             f"{commitment.count - 1}")
        return [disclose(commitment, n) for n in wanted]

    # ------------------------------------------------------------------------ audit

    def audit(self, verifiers: Iterable[Verifier] = ()) -> AuditReport:
        """Recheck everything the store holds against what the log committed to.

        Every entry's stored leaf hash must be the hash of its stored statement bytes; every
        statement must parse and be authorised against the log before it (replayed from
        scratch); **every** recorded checkpoint text, not only the latest, must carry the
        log's signature and the root of the replayed tree at the size it is recorded under
        (a forged row inserted among them is named); with the witnesses' `verifiers`, their
        cosignatures must verify and no other signature line may appear; every token blob
        must match its digest. Problems are listed, naming the entry index, checkpoint size
        or token digest.
        """
        report = AuditReport()
        state = _State()
        for entry in self.store.iter_entries():
            report.size = entry.index + 1
            if merkle.leaf_hash(entry.body) != entry.leaf_hash:
                report.problems.append(f"entry {entry.index}: stored statement does not match "
                                       "its leaf hash (edited after it was logged)")
            statement: Statement | None = None
            try:
                statement = parse_statement(entry.body)
                self._check(state, entry.index, statement)
                self._apply(state, entry.index, statement)
            except LedgerError as exc:
                report.problems.append(f"entry {entry.index}: {exc}")
            state.tree.append(entry.leaf_hash)
            if (statement is not None and statement.kind is StatementKind.TOKEN
                    and statement.token_digest):
                data = self.store.get_blob(statement.token_digest)
                if data is None:
                    report.problems.append(f"entry {entry.index}: token "
                                           f"{statement.token_digest} is missing")
                elif sha256(data).hex() != statement.token_digest:  # blobs are JCS bytes
                    report.problems.append(f"entry {entry.index}: stored token "
                                           f"{statement.token_digest} was altered")
        witnesses = list(verifiers)
        for size, text in self.store.iter_checkpoints():
            report.checkpoints += 1
            try:
                opened = open_checkpoint(text, self.signer.verifier, witnesses)
            except LedgerError as exc:
                report.problems.append(f"checkpoint {size}: {exc}")
                continue
            if opened.checkpoint.size != size:
                report.problems.append(f"checkpoint {size}: recorded under size {size} but "
                                       f"signed for size {opened.checkpoint.size}")
            elif opened.checkpoint.size > state.tree.size:
                report.problems.append(f"checkpoint {size}: covers more entries than stored")
            elif state.tree.root(opened.checkpoint.size) != opened.checkpoint.root_hash:
                report.problems.append(f"checkpoint {size}: root differs from the stored "
                                       "entries (an entry was changed or removed)")
            if witnesses:
                strangers = {sig.name for sig in opened.note.unverified}
                if strangers:
                    report.problems.append(f"checkpoint {size}: signature lines from keys "
                                           f"that are not the log's or its witnesses' "
                                           f"({', '.join(sorted(strangers))})")
        return report


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
