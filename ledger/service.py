"""The ledger's use cases: register keys, issue tokens, append, checkpoint, prove, revoke,
bundle and audit. One code path for the CLI, the API and the demo.

`Ledger` holds a `LogStore` and nothing derived from the log: the key registry, where
each token was logged and its standing (`ledger.state`) and the Merkle tree as C2SP
tlog-tiles (`ledger.tiles`) are tables of the store, written in the transaction of the
entries they derive from. Appends go through `append()`, which, under the store's
single-writer section, checks every statement against the committed state plus the batch
before it (signature, key validity at that index, referenced tokens logged before), and
writes entries, derived rows and completed tiles at once. A batch is all or nothing: a bad
statement rejects the batch and nothing is written. Reads (`token_status`, proofs,
`bundle`) never write; status statements and checkpoints are written by the sequencer's
side (`refresh_status`, `publish_checkpoint`), witnesses outside the writer section.

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
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import merkle
from ledger.canonical import canonicalize, parse_json, values_checked
from ledger.checkpoint import Checkpoint, add_cosignatures, open_checkpoint, sign_checkpoint
from ledger.crypto import SigningKey, sha256, verify_signature
from ledger.did_web import DidWebName, parse_did_web
from ledger.errors import (
    CheckpointSupersededError,
    ConflictError,
    EncodingError,
    InputError,
    IssuerError,
    LedgerError,
    NotFoundError,
    OutOfRangeError,
    SignatureError,
    StoreUnavailableError,
    TamperedError,
    WitnessSizeConflictError,
)
from ledger.evidence import check_evidence, cited_tokens
from ledger.keys import KeyDirectory, KeyRecord, require_key, require_valid
from ledger.multikey import (
    decode_verification_method,
    did_key,
    encode_public_key,
    verification_method_id,
)
from ledger.note import Signer, Verifier
from ledger.state import (
    AsOf,
    BatchState,
    CachedReader,
    DerivedRows,
    StateReader,
    TokenEvent,
    TokenEventKind,
    TokenRow,
    TokenStanding,
)
from ledger.statements import (
    EVIDENCE_STATES,
    REGISTRAR_KID_PREFIX,
    Statement,
    StatementKind,
    UsualStatement,
    encode_statement,
    logged_signing_bytes,
    parse_statement,
    read_usual_statement,
    registrar_kid,
    sign_statement,
    signature_bytes,
    signing_bytes,
    verify_possession,
    verify_statement_signature,
)
from ledger.status import TokenStatus
from ledger.store.base import EntryRecord, LogStore, NewEntry, StoreView
from ledger.tiles import (
    MAX_ENTRY_BYTES,
    TILE_HEIGHT,
    TILE_WIDTH,
    EdgeLeaves,
    Tile,
    TiledTree,
    TileSource,
    completed_tiles,
)
from ledger.token import (
    TOKEN_CONTEXT,
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
    token_issuer,
    token_public_key,
    verify_token,
)
from ledger.verify import BUNDLE_FORMAT, MAX_SUPPLIER_DEPTH
from origin_rules import BillOfMaterials, determine_origin

__all__ = ["AuditReport", "IssueResult", "Ledger", "PreparedToken", "WitnessClient", "sign_token",
           "utc_now"]

log = logging.getLogger(__name__)



#: How often `refresh_status` writes a newer status when other publishers' checkpoints
#: keep reaching the witnesses first.
_REFRESH_ATTEMPTS = 8

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


def _verify_tasks(chunk: Sequence[tuple[int, bytes, bytes, bytes]]
                  ) -> list[tuple[int, bytes | None]]:
    """Verify (position, key, message, signature) tasks: (position, key) where the
    signature verifies, (position, None) where not (left to `Ledger._check`, which raises
    the precise error).
    """
    checked: list[tuple[int, bytes | None]] = []
    for n, public, message, signature in chunk:
        try:
            verify_signature(public, message, signature)
        except LedgerError:
            checked.append((n, None))
        else:
            checked.append((n, public))
    return checked


def _per_core(tasks: list[tuple[int, bytes, bytes, bytes]]
              ) -> list[list[tuple[int, bytes, bytes, bytes]]]:
    """`tasks` in one contiguous chunk per core."""
    size = max(1, -(-len(tasks) // (os.cpu_count() or 1)))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


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


@dataclass(frozen=True)
class PreparedToken:
    """A signed token and its log statement, checked and ready to append (`prepare_token`).

    `blobs` and `disclosures` are what `Ledger.append` (or `Sequencer.submit`) writes in
    the statement's own transaction: the token document and its disclosure records.
    """

    token: dict[str, Any]
    digest: str
    commitment: PartsCommitment
    statement: dict[str, Any]
    blobs: tuple[tuple[str, bytes], ...]
    disclosures: tuple[tuple[str, bytes], ...]

    def logged(self, index: int) -> IssueResult:
        """The result once the statement is durable at `index`."""
        return IssueResult(self.token, self.digest, index, self.commitment)


def sign_token(bom: BillOfMaterials, certification: Certification, *, shipment_id: str,
               key: SigningKey, created: str, salts: Sequence[bytes] | None = None,
               supersedes: str | None = None,
               credential_status: Mapping[str, Any] | None = None,
               context: str = TOKEN_CONTEXT, issuer: str | None = None) -> PreparedToken:
    """Determine origin, sign the token and its log statement: no ledger needed.

    What a party that keeps its key does on its own machine (`tmec remote issue --key`)
    before it submits the result (`Ledger.log_signed_token`); `Ledger.prepare_token` does
    the same with the key checked against the log first. `issuer` is the token's
    (`ledger.token.token_issuer`: the key's did:key by default, or the party's did:web);
    the log statement always names the key by its did:key, as every statement does, and
    the token's digest in it binds the token's issuer to that key.
    """
    determination = determine_origin(bom)
    issued: IssuedToken = build_origin_token(  # checks every Annex 5-A element too
        bom, determination, certification, shipment_id=shipment_id, key=key,
        created=created, salts=salts, credential_status=credential_status, context=context,
        issuer=issuer)
    statement: dict[str, Any] = {
        "v": 1, "type": "token", "time": created, "tokenDigest": issued.digest,
        "issuer": did_key(key.public_key),
        "parents": sorted(supplier_token_digests(issued.token)),
        "blanket": "validUntil" in issued.token, "shipment": shipment_digest(shipment_id)}
    if supersedes is not None:
        statement["supersedes"] = supersedes
    signed = sign_statement(statement, key, verification_method_id(key.public_key))
    # Appended in one transaction, one fsync: the disclosure records, the token and its
    # statement land together or not at all (never a logged token that cannot be
    # disclosed).
    return PreparedToken(
        issued.token, issued.digest, issued.commitment, signed,
        blobs=((issued.digest, issued.canonical or canonicalize(issued.token)),),
        disclosures=((issued.digest, encode_commitment(issued.commitment)),))


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


def _first_event(events: Sequence[TokenEvent], kind: TokenEventKind) -> TokenEvent | None:
    return next((e for e in events if e.kind is kind), None)


class _Rules:
    """The log's rules read against a `StateReader` (committed state, or a batch over it)."""

    def __init__(self, state: StateReader) -> None:
        self.state = state

    def key(self, kid: str) -> KeyRecord:
        return require_key(self.state.key(kid), kid)

    def party_of(self, signer: str) -> str:
        """The party a signer acts for (the registrar acts for itself)."""
        if signer.startswith(REGISTRAR_KID_PREFIX):
            return signer
        return self.key(signer).party_id

    def token(self, digest: str, what: str = "token") -> TokenRow:
        row = self.state.token_row(digest)
        if row is None:
            raise NotFoundError(f"the {what} {digest} is not in the ledger")
        return row

    def superseded(self, digest: str) -> TokenEvent | None:
        return _first_event(self.state.token_events(digest), TokenEventKind.SUPERSEDED)

    def revoked(self, digest: str) -> TokenEvent | None:
        return _first_event(self.state.token_events(digest), TokenEventKind.REVOKED)

    def standing(self, digest: str) -> TokenStanding:
        """Active, superseded or revoked (also: signed by a key compromised at the time,
        which voids the token just as a revocation does).
        """
        row = self.token(digest)
        events = self.state.token_events(digest)
        if _first_event(events, TokenEventKind.REVOKED) is not None:
            return TokenStanding.REVOKED
        if self.key(row.issuer_kid).status_at(row.index) != "valid":
            return TokenStanding.REVOKED
        if _first_event(events, TokenEventKind.SUPERSEDED) is not None:
            return TokenStanding.SUPERSEDED
        return TokenStanding.ACTIVE

    def require_active(self, digest: str) -> None:
        standing = self.standing(digest)
        if standing is TokenStanding.SUPERSEDED:
            event = self.superseded(digest)
            raise ConflictError(f"token {digest} is already superseded by "
                                f"{event.by if event else '?'}")
        if standing is TokenStanding.REVOKED:
            raise ConflictError(f"token {digest} is revoked")

    def evidence(self, digest: str) -> tuple[str, list[str]]:
        """(worst standing, not-active tokens) over every token `digest` rests on."""
        rank = {standing: n for n, standing in enumerate(EVIDENCE_STATES)}
        worst = "active"
        affected: set[str] = set()
        seen: set[str] = set()
        stack = list(self.token(digest).parents)
        while stack:
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            standing = self.standing(parent).value
            if standing != "active":
                affected.add(parent)
                worst = max(worst, standing, key=rank.__getitem__)
            stack.extend(self.token(parent).parents)
        return worst, sorted(affected)


class Ledger:
    """The origin ledger over one log (one origin, one log key).

    **State lives in the store.** A `Ledger` holds a store, the log key and its witnesses,
    and nothing derived from the log: every answer is read from the store's entries,
    derived tables and tiles, so opening one costs nothing proportional to the log and
    it is never stale, whoever appended.

    **Thread and process safety.** One `Ledger` may be used by many threads at once, and
    many processes may each have their own over one database. Reads take no lock: they
    fix a tree size (the latest checkpoint's, or the log's size when they start) and read
    what is below it, which never changes in an append-only log, so each read is a
    consistent snapshot. Writes (`append` and what calls it) run in the store's writer
    section, one at a time across threads and processes, and authorise each statement
    against the committed state plus the batch before it. Witnesses are called outside
    that section (`publish_checkpoint`), with a timeout each.
    """

    def __init__(self, store: LogStore, log_key: SigningKey, *, origin: str,
                 now: Callable[[], datetime] = utc_now,
                 witnesses: Sequence[WitnessClient] = (),
                 witness_timeout: float = 10.0, token_context: str = TOKEN_CONTEXT,
                 did_web_host: str | None = None) -> None:
        self.store = store
        self.token_context = token_context
        #: The did:web host this log's parties are named under (the trust file's
        #: ``did_web_host``; the service's ``TMEC_PUBLIC_URL``), None when it has none:
        #: then only did:key tokens are issued and logged (`check_issuer`).
        self.did_web_host = did_web_host
        self.origin = origin
        self.log_key = log_key
        self.signer = Signer(origin, log_key)
        self.registrar = registrar_kid(origin)
        self.now = now
        self.witnesses = list(witnesses)
        self.witness_timeout = witness_timeout
        # The last partial tile's leaf hashes, committed data kept between appends.
        self._edge = EdgeLeaves()

    # ------------------------------------------------------------------------ reading

    @property
    def size(self) -> int:
        """Entries in the log now."""
        return self.store.size()

    def tree(self, size: int | None = None) -> TiledTree:
        """The Merkle tree of the first `size` entries (default: all), read from tiles."""
        current = self.store.size()
        if size is None:
            size = current
        if not 0 <= size <= current:
            raise OutOfRangeError(f"tree size {size} is outside 0..{current}")
        return TiledTree(self.store, size)

    # ------------------------------------------------------------------------ checks

    def _public_key_for(self, rules: _Rules, kid: str, index: int) -> bytes:
        if kid == self.registrar:
            return self.log_key.public_key
        return require_valid(rules.state.key(kid), kid, index).public_key

    def _check(self, rules: _Rules, index: int, statement: Statement,
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
            self._check_key(rules, index, statement, signed_by)
            return
        if kind is StatementKind.STATUS:
            if signer != self.registrar:
                raise SignatureError("status statements are signed by the registrar")
            signed_by(self.log_key.public_key)
            return
        if kind is StatementKind.TOKEN and signer == self.registrar:
            raise SignatureError("the registrar issues no origin tokens: a token statement "
                                 "is signed by its issuer's key")
        public = self._public_key_for(rules, signer, index)
        signed_by(public)
        if kind is StatementKind.TOKEN:
            if data["issuer"] != did_key(public):
                raise InputError("the token statement's issuer is not the signing key's DID")
            self._check_token(rules, statement)
        elif kind is StatementKind.REVOKE and data["target"] == "key":
            target = rules.key(str(data["kid"]))
            since = data.get("compromisedSince")
            if since is not None and since > index:
                raise InputError(f"compromisedSince {since} is after this revocation")
            self._require_same_party(rules, signer, target.party_id)
        elif kind is StatementKind.REVOKE:
            digest = str(data["tokenDigest"])
            row = rules.token(digest)
            if rules.revoked(digest) is not None:
                raise ConflictError(f"token {digest} is already revoked")
            self._require_same_party(rules, signer, rules.key(row.issuer_kid).party_id)
        else:
            self._check_supersede(rules, statement)

    def _check_key(self, rules: _Rules, index: int, statement: Statement,
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
        if rules.state.key(kid) is not None:
            raise ConflictError(f"key {kid} is already registered")
        if data["action"] == "rotate":
            replaced = str(data["replaces"])
            old = require_valid(rules.state.key(replaced), replaced, index)
            if old.party_id != party_id:
                raise InputError("a key can only be rotated to a key of the same party")
            signed_by(old.public_key)
        elif statement.signer == self.registrar:
            signed_by(self.log_key.public_key)
        else:
            known = rules.state.party_keys(party_id)
            if known:
                raise ConflictError(
                    f"party {party_id} is already registered (key {known[-1].kid} at entry "
                    f"{known[-1].added_at}): a new key for it must be a rotation signed by "
                    "its current key, or an admission by the registrar")
            signed_by(statement.public_key)
            return
        verify_possession(data, statement.public_key)

    def _check_token(self, rules: _Rules, statement: Statement) -> None:
        """Token statements: logged once, evidence still standing, one per shipment.

        The supplier tokens a token cites must be logged before it and be active at its
        position (not revoked, not superseded, their key not compromised): a revoked
        certification is no evidence. A party has at most one active token per shipment:
        a second one must name the token it `supersedes` (a correction), which must be an
        active token of the same party.
        """
        data = statement.data
        digest = str(data["tokenDigest"])
        existing = rules.state.token_row(digest)
        if existing is not None:
            raise ConflictError(f"token {digest} is already logged at index {existing.index}")
        for parent in data["parents"]:
            if rules.state.token_row(parent) is None:
                raise NotFoundError(f"supplier token {parent} is not in the ledger")
            standing = rules.standing(parent)
            if standing is TokenStanding.SUPERSEDED:
                event = rules.superseded(parent)
                assert event is not None
                raise ConflictError(f"supplier token {parent} was superseded by {event.by} "
                                    f"at entry {event.index}: cite the token that replaces it")
            if standing is TokenStanding.REVOKED:
                raise ConflictError(f"supplier token {parent} is revoked (or its key was "
                                    "compromised): it is no evidence of origin any more")
        party = rules.party_of(statement.signer)
        replaced = data.get("supersedes")
        if replaced is not None:
            replaced_row = rules.token(str(replaced), "superseded token")
            replaced = replaced_row.digest
            rules.require_active(replaced)
            if rules.party_of(replaced_row.issuer_kid) != party:
                raise SignatureError(f"token {replaced} was issued by another party: only "
                                     "its issuer's party may correct it")
        current = rules.state.shipment_token(party, str(data["shipment"]))
        if (current is not None and current != replaced
                and rules.standing(current) is TokenStanding.ACTIVE):
            raise ConflictError(
                f"party {party} already has an active token {current} for this shipment "
                f"(entry {rules.token(current).index}): a correction must supersede it, or "
                "revoke it first")

    def _check_supersede(self, rules: _Rules, statement: Statement) -> None:
        """Supersede statements: the issuer replaces its own active token by a later one.

        Only a key of the party that issued both tokens may say that one corrects the
        other (the registrar revokes, but makes no claims of origin); the old token must be
        active, the new one active and logged after it (so corrections cannot loop).
        """
        data = statement.data
        old = rules.token(str(data["tokenDigest"]))
        new = rules.token(str(data["newTokenDigest"]), "new token")
        if statement.signer == self.registrar:
            raise SignatureError("the registrar may revoke a token but not supersede it: a "
                                 "correction is its issuer's claim")
        party = rules.party_of(statement.signer)
        for row in (old, new):
            if rules.party_of(row.issuer_kid) != party:
                raise SignatureError(f"token {row.digest} was not issued by party {party}: "
                                     "a party supersedes only its own tokens")
        rules.require_active(old.digest)
        rules.require_active(new.digest)
        if new.index < old.index:
            raise ConflictError(f"the new token {new.digest} (entry {new.index}) was logged "
                                f"before the token it would replace (entry {old.index}): a "
                                "correction comes later")

    def _presign(self, state: StateReader, parsed: Sequence[Statement],
                 bodies: Sequence[bytes] | None = None) -> list[bytes | None]:
        """Verify the batch's signatures in parallel, ahead of the ordered checks.

        Ed25519 verification is the costliest step of an append and PyNaCl releases the
        GIL, so the signatures of a large batch are checked on every core. Each signature
        is checked under the key its signer id names now (or adds earlier in the batch);
        `_check` verifies again whenever the key it finally requires differs, so this only
        ever saves work and never decides anything.
        """
        tasks = self._signature_tasks(state, parsed, bodies)
        # One contiguous chunk per core, the first on this thread: a future per signature
        # would cost a fifth of the signature itself.
        chunks = _per_core(tasks)
        pool = _signature_pool() if len(chunks) > 1 else None
        futures = [pool.submit(_verify_tasks, chunk) for chunk in chunks[1:]] if pool else []
        results: list[bytes | None] = [None] * len(parsed)
        for done in [_verify_tasks(chunks[0]) if chunks else [],
                     *(f.result() for f in futures)]:
            for n, public in done:
                results[n] = public
        return results

    def _signature_tasks(self, state: StateReader, parsed: Sequence[Statement],
                         bodies: Sequence[bytes] | None = None,
                         cut: Sequence[UsualStatement | None] = ()
                         ) -> list[tuple[int, bytes, bytes, bytes]]:
        """(position, public key, signed bytes, signature) of each statement whose key
        `_presign` can guess (see there); `bodies` are the statements' canonical bytes
        when known (parsed from the log, or just encoded for it): `logged_signing_bytes`
        then cuts the signed bytes out of them instead of encoding each statement again.
        `cut` has, by position, the signed bytes and signature of the statements read by
        their usual shape (`read_usual_statement`), which need neither.
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
            elif signer in keys:
                public = keys[signer]
            else:
                record = state.key(signer)
                public = record.public_key if record is not None else None
                if public is not None:
                    keys[signer] = public
            if statement.kind is StatementKind.KEY:
                keys[str(statement.data["kid"])] = statement.public_key
            if public is not None:
                jobs.append((n, public))

        # Messages are built here, on this thread: canonical JSON holds the GIL, while the
        # pool threads only run Ed25519 (which releases it).
        tasks: list[tuple[int, bytes, bytes, bytes]] = []
        with values_checked():  # encode_statement has already type-checked every value
            for n, public in jobs:
                usual = cut[n] if cut else None
                if usual is not None:
                    tasks.append((n, public, usual.signed, usual.signature))
                    continue
                data = parsed[n].data
                try:
                    signature = signature_bytes(data)
                except LedgerError:
                    continue
                message = (signing_bytes(data) if bodies is None
                           else logged_signing_bytes(data, bodies[n]))
                tasks.append((n, public, message, signature))
        return tasks

    def _require_same_party(self, rules: _Rules, signer: str, party_id: str) -> None:
        if signer == self.registrar:
            return
        if rules.key(signer).party_id != party_id:
            raise SignatureError(f"key {signer} does not belong to party {party_id}")

    # ------------------------------------------------------------------------ append

    def append(self, statements: Sequence[Mapping[str, Any]], *,
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> list[int]:
        """Check and durably append signed statements as one batch; return their indices.

        Inside the writer section: read the size, authorise each statement against the
        committed state plus the batch before it (`ledger.state.BatchState`), then write
        the entries, their derived rows and the tiles they complete in one transaction.
        A bad statement rejects the batch and nothing is written; nothing is kept in
        memory either way.
        """
        parsed = [parse_statement(dict(s)) for s in statements]
        encoded = [encode_statement(s.data) for s in parsed]
        for body, _ in encoded:
            if len(body) > MAX_ENTRY_BYTES:
                raise InputError(f"a statement of {len(body)} bytes is too large for the log "
                                 f"(at most {MAX_ENTRY_BYTES}, the tlog-tiles entry limit)")
        # No entry may point at a token the ledger cannot produce: the store checks that
        # every token of the batch is stored, in the transaction that appends it.
        tokens = [s.token_digest for s in parsed
                  if s.kind is StatementKind.TOKEN and s.token_digest]
        with self.store.writer():
            # One read snapshot for the checks: committed state cannot move while we hold
            # the writer section, so it is read once, in bulk, and cached for the batch.
            with self.store.snapshot() as view:
                first = view.size()
                committed = CachedReader(view)
                committed.prefetch(parsed)
                batch = BatchState(committed)
                rules = _Rules(batch)
                checked = (self._presign(batch, parsed, [body for body, _ in encoded])
                           if len(parsed) >= _PARALLEL_BATCH else [None] * len(parsed))
                for offset, statement in enumerate(parsed):
                    self._check(rules, first + offset, statement, checked[offset])
                    batch.apply(first + offset, statement)
                leaves = [leaf for _, leaf in encoded]
                tiles = completed_tiles(self._edge.source(view), first, leaves)
            entries = [
                NewEntry(leaf, body, s.kind.value, s.token_digest, s.key_id)
                for s, (body, leaf) in zip(parsed, encoded, strict=True)
            ]
            start = self.store.append(entries, require_blobs=tokens, derived=batch.rows,
                                      tiles=tiles, blobs=blobs, disclosures=disclosures)
            if start != first:  # pragma: no cover - the writer section forbids this
                raise ConflictError(f"log grew under the writer lock ({start} != {first})")
            self._edge.appended(first, leaves)  # committed: the next append reads fewer
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
        old_kid = verification_method_id(old.public_key)
        party = self.keys().get(old_kid).party
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

    def keys(self) -> KeyDirectory:
        """Every key the log recorded, looked up in the store on each call."""
        return KeyDirectory(self.store, self.store.all_keys)

    # ------------------------------------------------------------------------ tokens

    def issue_token(self, bom: BillOfMaterials, certification: Certification, *,
                    shipment_id: str, key: SigningKey,
                    salts: Sequence[bytes] | None = None,
                    supersedes: str | None = None,
                    credential_status: Mapping[str, Any] | None = None,
                    issuer: str | None = None) -> IssueResult:
        """Determine origin, sign the token, store it with its disclosure records, log it.

        Before anything is written: the key must be valid, the good originating, and every
        supplier token the BOM cites must be in the ledger and back the material citing it
        (`ledger.evidence`). Then the disclosure records (salts and line records), the token
        and its log statement are written in one transaction (one fsync): a crash leaves
        all three or none, never a logged token that cannot be disclosed; a retry after a
        crash is refused while the first token is the active one of the shipment
        (`supersedes` names it to correct it instead).
        """
        prepared = self.prepare_token(bom, certification, shipment_id=shipment_id, key=key,
                                      salts=salts, supersedes=supersedes,
                                      credential_status=credential_status, issuer=issuer)
        (index,) = self.append([prepared.statement], blobs=prepared.blobs,
                               disclosures=prepared.disclosures)
        return prepared.logged(index)

    def prepare_token(self, bom: BillOfMaterials, certification: Certification, *,
                      shipment_id: str, key: SigningKey,
                      salts: Sequence[bytes] | None = None,
                      supersedes: str | None = None,
                      credential_status: Mapping[str, Any] | None = None,
                      issuer: str | None = None,
                      key_checked: bool = False) -> PreparedToken:
        """Everything `issue_token` does before the append, so that a caller with many
        registrations in flight can append them together (`ledger.sequencer.Sequencer`:
        one transaction and one fsync per batch). Nothing is written; the append checks
        the log's rules again under the writer section, against the batch before it.

        The key's validity is read first, so that a revoked key fails before the work of
        signing; `key_checked` says the caller has just read it as valid in its own read
        (the service's held key, `ledger.api.context.Service.held_key`), which saves the
        two reads. Either way the append's check under the writer section is the one that
        decides (ledger design s.6: a key is valid for entries logged before its
        revocation).
        """
        kid = verification_method_id(key.public_key)
        if not key_checked:
            self.keys().require_valid(kid, self.size)
        if issuer is not None:
            self.check_issuer(issuer, kid)
        prepared = sign_token(bom, certification, shipment_id=shipment_id, key=key,
                              created=_iso(self.now()), salts=salts, supersedes=supersedes,
                              credential_status=credential_status,
                              context=self.token_context, issuer=issuer)
        check_evidence(bom, {digest: self.token(digest, what="supplier token")
                             for digest in cited_tokens(bom)})
        return prepared

    def party_did(self, party_id: str) -> str:
        """The party's did:web identifier on this log's host.

        Raises:
            IssuerError: this ledger has no did:web host (``TMEC_PUBLIC_URL`` at the root of
                a host for the service; ``did_web_host`` in a workspace's trust file).
        """
        if self.did_web_host is None:
            raise IssuerError("this ledger has no did:web host, so its parties have no "
                              "did:web identity: set TMEC_PUBLIC_URL to the root of an "
                              "http(s) host (or did_web_host in the trust file), or issue "
                              "under did:key")
        try:
            return DidWebName.of_party(self.did_web_host, party_id).did
        except EncodingError:
            raise IssuerError(f"party id {party_id[:80]!r} is not a did:web path segment "
                              "(lowercase letters, digits and inner hyphens): this party "
                              "issues under did:key") from None

    def check_issuer(self, issuer: str, kid: str) -> None:
        """A token's ``issuer`` must be the key's did:key or its party's did:web here.

        What `ledger.verify` checks offline, checked before a token is logged, so the log
        never holds a token whose issuer a verifier of this log must refuse: the did:web
        host is this ledger's and the party segment is the party the log bound `kid` to.

        Raises:
            IssuerError: any other identifier.
            UnknownKeyError: `kid` is not in the log.
        """
        public = decode_verification_method(kid)
        if issuer == did_key(public):
            return
        token_issuer(issuer, public)  # a party's did:web, or IssuerError
        name = parse_did_web(issuer)
        expected = self.party_did(self.keys().get(kid).party_id)
        if issuer != expected:
            what = ("host" if name.host != self.did_web_host else "party")
            raise IssuerError(f"issuer {issuer[:120]!r} names another {what} than this "
                              f"log's: the key {kid[:60]}... is {expected}'s")

    def log_signed_token(self, token: Mapping[str, Any], statement: Mapping[str, Any],
                         records: bytes) -> IssueResult:
        """Log a token its party signed itself (its key never left it), with the token's
        statement and disclosure records (`encode_commitment`), as `issue_token` would.

        Checked before anything is written: the token's shape and eddsa-jcs-2022 proof
        by its issuer; that the statement is a token statement for exactly this token
        (digest, issuer, shipment, signed by the key that signed the token); that the
        records are the ones the token commits to (its ``partsRoot`` and ``partsCount``,
        so the lines can be disclosed later). The append then checks the log's rules
        (key valid, one active token per shipment, cited supplier tokens logged and
        standing) as for every statement.

        Raises:
            TokenError, SignatureError, EncodingError: the token itself.
            InputError: the statement or records do not belong to the token.
        """
        parsed = parse_token(dict(token))
        signer_key = token_public_key(parsed)
        verify_token(parsed, signer_key)
        digest = token_digest(parsed)
        entry = parse_statement(dict(statement))
        subject = parsed["credentialSubject"]
        if entry.kind is not StatementKind.TOKEN:
            raise InputError(f"a {entry.kind.value} statement does not log a token")
        kid = verification_method_id(signer_key)
        expected = {"tokenDigest": digest, "issuer": did_key(signer_key),
                    "shipment": shipment_digest(subject["shipmentId"]),
                    "blanket": "validUntil" in parsed,
                    "parents": sorted(supplier_token_digests(parsed))}
        wrong = [name for name, value in expected.items() if entry.data.get(name) != value]
        if wrong:
            raise InputError(f"the token statement does not describe this token "
                             f"({', '.join(wrong)} differ)")
        if entry.signer != kid:
            raise InputError("the token statement is signed by another key than the token")
        self.check_issuer(parsed["issuer"], kid)
        try:
            commitment = decode_commitment(records)
        except LedgerError as exc:
            raise InputError(f"the disclosure records: {exc}") from None
        if (commitment.root_hex, commitment.count) != (subject["partsRoot"],
                                                       subject["partsCount"]):
            raise InputError("the disclosure records are not the ones the token commits to "
                             "(partsRoot / partsCount)")
        (index,) = self.append([dict(statement)], blobs=[(digest, canonicalize(parsed))],
                               disclosures=[(digest, records)])
        return IssueResult(parsed, digest, index, commitment)

    def token(self, digest: str, *, what: str = "token") -> dict[str, Any]:
        """The stored token with this digest (checked against its digest)."""
        return _checked_token(self.store.get_blob(digest), digest, what)

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
        matches = self.store.tokens_with_prefix(text, 2)
        if not matches:
            raise NotFoundError(f"no token in the ledger starts with {text}")
        if len(matches) > 1:
            raise InputError(f"{len(matches)} tokens start with {text}: give more digits")
        return matches[0]

    def token_index(self, digest: str) -> int:
        """Where the token's statement is in the log."""
        row = self.store.token_row(digest)
        if row is None:
            raise NotFoundError(f"token {digest} is not in the ledger")
        return row.index

    def token_status(self, digest: str) -> dict[str, Any]:
        """Active / revoked / superseded; the issuer key's state at the token's index; and
        the state of the supplier evidence it rests on.

        ``evidence`` is the worst standing among the supplier tokens it cites, directly or
        through their own evidence (``revoked`` over ``superseded`` over ``active``), and
        ``evidenceAffected`` lists the ones that are not active: a supplier's revocation
        after the token was logged shows in the status of every token that relied on it.
        """
        with self.store.snapshot() as view:
            return self._token_status(_Rules(view), digest)

    def status(self, digest: str) -> TokenStatus:
        """`token_status` as the typed `TokenStatus` the API documents (enums, strict)."""
        return TokenStatus.from_dict(self.token_status(digest))

    @staticmethod
    def _token_status(rules: _Rules, digest: str) -> dict[str, Any]:
        row = rules.state.token_row(digest)
        if row is None:
            raise NotFoundError(f"token {digest} is not in the ledger")
        index = row.index
        status: dict[str, Any] = {"token": "active"}
        revoked = rules.revoked(digest)
        superseded = rules.superseded(digest)
        if revoked is not None:
            status = {"token": "revoked", "revocation": revoked.index}
        elif superseded is not None:
            status = {"token": "superseded", "supersededBy": superseded.by,
                      "revocation": superseded.index}
        kid = row.issuer_kid
        status["key"] = rules.key(kid).status_at(index)
        status["kid"] = kid
        status["index"] = index
        evidence, affected = rules.evidence(digest)
        status["evidence"] = evidence
        if affected:
            status["evidenceAffected"] = affected
        return status

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
        """Sign a checkpoint of the log as it is now, gather cosignatures, record it.

        The sequencer's job (on a schedule, and on demand): it reads the size and root from
        the tiles without taking the writer section, so appends go on while witnesses
        answer, each within `witness_timeout` seconds. A witness that does not answer in time
        or cannot be reached is logged and left out of this checkpoint (its cosignature
        comes with a later one); a witness that *refuses* (a fork, a rollback, a bad
        signature) raises, as that is evidence against the log, never to be skipped.
        """
        return self._record_checkpoint(self._sign_checkpoint(self.store.size()))

    def _sign_checkpoint(self, size: int) -> tuple[int, str]:
        root = self.tree(size).root()
        return size, sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)

    def _record_checkpoint(self, signed_at: tuple[int, str]) -> str:
        size, signed = signed_at
        lines = self._cosign(signed, size)
        if lines:
            signed = add_cosignatures(signed, lines)
        self.store.add_checkpoint(size, signed)
        return signed

    def _cosign(self, signed: str, size: int) -> list[str]:
        """Every witness's cosignature line, asked in parallel, each within its timeout."""
        if not self.witnesses:
            return []
        now = int(self.now().timestamp())
        tree = self.tree(size)

        def beyond(cosigned: int) -> LedgerError:
            # A later checkpoint of ours reached the witness first (another publisher),
            # unless the log no longer has that many entries: then it was rolled back.
            if cosigned <= self.store.size():
                return CheckpointSupersededError(
                    f"a witness has already cosigned size {cosigned} of this log, after "
                    f"checkpoint {size} was signed: a newer checkpoint supersedes it")
            return ConflictError(f"a witness has cosigned size {cosigned}, beyond this log's "
                                 f"{size}: the log was rolled back or forked")

        def ask(witness: WitnessClient) -> str:
            old = witness.latest_size(self.origin)
            if old > size:
                raise beyond(old)
            proof = tree.consistency_proof(old, size) if old else []
            try:
                return witness.add_checkpoint(signed, old, proof, now)
            except WitnessSizeConflictError as exc:  # the witness moved on: once more
                if exc.latest_size > size:
                    raise beyond(exc.latest_size) from None
                if exc.latest_size < 0:
                    raise
                proof = tree.consistency_proof(exc.latest_size, size) if exc.latest_size else []
                return witness.add_checkpoint(signed, exc.latest_size, proof, now)

        lines: list[str] = []
        # Not a `with` block: its exit would wait for a witness that hangs past its timeout.
        pool = ThreadPoolExecutor(max_workers=len(self.witnesses),
                                  thread_name_prefix="tmec-witness")
        try:
            futures = [pool.submit(ask, w) for w in self.witnesses]
            for witness, future in zip(self.witnesses, futures, strict=True):
                try:
                    lines.append(future.result(timeout=self.witness_timeout))
                except TimeoutError:
                    log.warning("witness %r did not answer within %s s; checkpoint %d "
                                "goes without its cosignature", witness,
                                self.witness_timeout, size)
                except (OSError, StoreUnavailableError) as exc:
                    log.warning("witness %r is unreachable (%s); checkpoint %d goes "
                                "without its cosignature", witness, exc, size)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return lines

    def latest_checkpoint(self) -> tuple[int, str]:
        """The latest recorded checkpoint (a pure read; `NotFoundError` if none yet)."""
        latest = self.store.latest_checkpoint()
        if latest is None:
            raise NotFoundError("the log has no checkpoint yet: the sequencer publishes one "
                                "after the first entries")
        return latest

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size`."""
        return self.tree(size).inclusion_proof(index)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        return self.tree(size2).consistency_proof(size1)

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of `size` (default: all entries)."""
        return self.tree(size).root()

    def entry(self, index: int) -> EntryRecord:
        """The stored entry at `index`."""
        (record,) = self.store.entries(index, index + 1)
        return record

    # ------------------------------------------------------------------------ bundles

    def _status_of(self, digest: str, covers: int,
                   rules: _Rules | None = None) -> dict[str, Any]:
        status = (self.token_status(digest) if rules is None
                  else self._token_status(rules, digest))
        statement: dict[str, Any] = {"v": 1, "type": "status", "time": _iso(self.now()),
                                     "tokenDigest": digest, "coversSize": covers,
                                     "token": status["token"], "key": status["key"],
                                     "evidence": status["evidence"]}
        if "supersededBy" in status:
            statement["supersededBy"] = status["supersededBy"]
        if "evidenceAffected" in status:
            statement["evidenceAffected"] = status["evidenceAffected"]
        return statement

    def status_statement(self, digest: str) -> int:
        """Log the registrar's status of a token as of now; return its index (a write)."""
        with self.store.writer():
            covers = self.size
            (index,) = self.append([self._sign(self._status_of(digest, covers), None)])
        return index

    def refresh_status(self, digest: str) -> tuple[int, str]:
        """The write side of a bundle: a status statement and a checkpoint ending at it.

        What the sequencer does on demand (and `tmec token bundle` before it reads): in the
        writer section, log the registrar's status of the token and sign the checkpoint of
        the log up to and including it; then, outside the section, gather the witnesses'
        cosignatures and record the checkpoint. Returns (status index, checkpoint text).
        """
        for _ in range(_REFRESH_ATTEMPTS):
            with self.store.writer():
                index = self.status_statement(digest)
                signed_at = self._sign_checkpoint(index + 1)
            try:
                return index, self._record_checkpoint(signed_at)
            except CheckpointSupersededError:
                # Another publisher's later checkpoint reached a witness first; the
                # verifier needs the status to be the last entry under its checkpoint,
                # so a new status at the log's end, and its own checkpoint.
                continue
        raise CheckpointSupersededError(
            f"token {digest[:16]}...: {_REFRESH_ATTEMPTS} fresh statuses in a row were "
            "overtaken by other checkpoints; retry")

    def bundle(self, digest: str, *, commitment: PartsCommitment | None = None,
               disclose_lines: Iterable[int] | None = None,
               suppliers: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """The offline verification bundle of a token (ledger design s.7): a pure read.

        Under the checkpoint that ends at the token's latest status statement: the token,
        its statement, its issuer's key statement and that status statement, each with an
        inclusion proof. The status must still say what the log says now; when it does
        not (revoked, superseded or evidence changed since), or there is none, the bundle
        is refused with `ConflictError` / `NotFoundError` and `refresh_status` writes a
        new one. `disclose_lines` adds salted line disclosures (from `commitment`, by
        default the records stored at issuance); `suppliers` nests supplier bundles by
        digest. Nothing else travels: no empty lists, nothing a signature or hash does not
        cover.
        """
        with self.store.snapshot() as view:  # one read transaction: a consistent view
            token = _checked_token(view.get_blob(digest), digest)
            # The token's row, events and key are asked again by the status check and the
            # proofs: one read each (each a round trip on PostgreSQL).
            state = CachedReader(view)
            row = state.token_row(digest)
            if row is None:
                raise NotFoundError(f"token {digest} is not in the ledger")
            disclosures = self._disclosures(digest, token, commitment, disclose_lines)
            status_entry = view.latest_status(digest, view.size())
            checkpoint_text = (None if status_entry is None
                               else view.checkpoint(status_entry.index + 1))
            if status_entry is None or checkpoint_text is None:
                raise NotFoundError(f"token {digest[:16]}... has no status statement under "
                                    "a checkpoint yet: the sequencer writes one on demand")
            rules = _Rules(state)
            logged = parse_statement(status_entry.body).data
            current = self._status_of(digest, status_entry.index, rules)
            changed = [name for name in ("token", "key", "evidence", "supersededBy",
                                         "evidenceAffected")
                       if logged.get(name) != current.get(name)]
            if changed:
                raise ConflictError(f"the status of token {digest[:16]}... changed since "
                                    f"entry {status_entry.index} ({', '.join(changed)}): the "
                                    "sequencer must log a fresh one")
            tree = TiledTree(view, status_entry.index + 1)
            logged_at = {"token": row.index, "key": rules.key(row.issuer_kid).added_at,
                         "status": status_entry.index}
            entries = view.entries_at(sorted(set(logged_at.values())))
            proven = {name: {"index": index, "statement": parse_json(entries[index].body),
                             "proof": [_b64(h) for h in tree.inclusion_proof(index)]}
                      for name, index in logged_at.items()}

        bundle: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "token": token,
            "log": {"checkpoint": checkpoint_text, **proven},
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

    def fresh_bundle(self, digest: str, *, with_suppliers: bool = False,
                     **options: Any) -> dict[str, Any]:
        """`refresh_status`, then `bundle`: what `tmec token bundle` does in one process
        that is its own sequencer (a service leaves the write to its sequencer).

        `with_suppliers` nests a fresh bundle of every supplier token cited, recursively,
        down to the verifier's `MAX_SUPPLIER_DEPTH`.
        """
        if with_suppliers and "suppliers" not in options:
            options["suppliers"] = self._supplier_bundles(digest, 0) or None
        self.refresh_status(digest)
        return self.bundle(digest, **options)

    def _supplier_bundles(self, digest: str, depth: int) -> dict[str, dict[str, Any]]:
        if depth >= MAX_SUPPLIER_DEPTH:
            return {}
        return {supplier: self.fresh_bundle(
                    supplier, suppliers=self._supplier_bundles(supplier, depth + 1) or None)
                for supplier in supplier_token_digests(self.token(digest))}

    def inclusion_document(self, index: int, size: int,
                           checkpoint: str | None = None) -> dict[str, Any]:
        """An entry's inclusion proof as JSON (`tmec log prove`, the API's proof route)."""
        entry = self.entry(index)
        tree = self.tree(size)
        return {"index": index, "treeSize": size, "leafHash": _b64(entry.leaf_hash),
                "rootHash": _b64(tree.root()),
                "proof": [_b64(h) for h in tree.inclusion_proof(index)],
                "statement": parse_json(entry.body), "checkpoint": checkpoint}

    def consistency_document(self, old: int, new: int | None = None) -> dict[str, Any]:
        """A consistency proof between two tree sizes as JSON (`tmec log consistency`)."""
        tree = self.tree(new)
        return {"oldSize": old, "newSize": tree.size, "oldRoot": _b64(tree.root(old)),
                "newRoot": _b64(tree.root()),
                "proof": [_b64(h) for h in tree.consistency_proof(old)]}

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

    def audit(self, verifiers: Iterable[Verifier] = (), *,
              processes: int | None = None) -> AuditReport:
        """Recheck everything the store holds against what the log committed to.

        Every entry's stored leaf hash must be the hash of its stored statement bytes; every
        statement must parse and be authorised against the log before it (replayed from
        scratch); **every** recorded checkpoint text, not only the latest, must carry the
        log's signature and the root of the replayed tree at the size it is recorded under
        (a forged row inserted among them is named); with the witnesses' `verifiers`, their
        cosignatures must verify and no other signature line may appear; every token blob
        must match its digest. Problems are listed, naming the entry index, checkpoint size
        or token digest.

        A long log on a store other processes can open (`LogStore.shared_url`) is split
        into one range per core (`processes`, default the cores this process may use),
        each audited by `audit_range` in its own process (`ledger.audit_worker`), this one
        included: Ed25519 verification and the replay are CPU-bound Python, so threads
        would share one core's worth of interpreter. Below `_PROCESS_AUDIT_MIN` entries, or
        with ``processes=1``, the whole log is one range here, its signatures on threads.
        """
        report = AuditReport()
        size = self.store.size()
        count = _usable_cores() if processes is None else processes
        if count < 1:
            raise InputError(f"an audit needs at least one process, not {count}")
        url = self.store.shared_url()
        if url is None or count == 1 or (processes is None and size < _PROCESS_AUDIT_MIN):
            ranges = [self.audit_range(0, size, pipelined=True)]
        else:
            from ledger.audit_worker import audit_in_processes
            lead = _AUDIT_LEAD if size >= _PROCESS_AUDIT_MIN else 0
            ranges = audit_in_processes(self, url, audit_ranges(size, count, lead))
        edge = size  # the audited entries: up to the first one missing
        for done in ranges:
            report.problems.extend(done.problems)
            report.size = max(report.size, done.seen)
            if done.missing is not None:
                edge = min(edge, done.missing)
        self._audit_checkpoints(edge, list(verifiers), report)
        return report

    def audit_range(self, start: int, end: int, *, pipelined: bool = False) -> RangeAudit:
        """Audit entries start <= index < end: `audit`'s work on one range of the log.

        `start` is a multiple of the tile width, so the right edge of the tree there is
        read from the stored tiles; it and the derived state before `start` (`AsOf`) are
        what the range's checks and tiles build on, and they are checked in turn by the
        range that derives them (the one before, down to entry 0, rebuilt from nothing),
        so the ranges together check what one pass from scratch would. An entry missing
        from the range (deleted behind the ledger's back) is named.

        The range is read in pages (`_AUDIT_PAGE` entries, memory bounded by two pages).
        With `pipelined` a page's Ed25519 signatures are verified on the pool's threads
        (PyNaCl releases the GIL) while this thread reads the next page and checks the one
        before; without, one page at a time on this thread (a process per range).
        """
        if start % TILE_WIDTH or not 0 <= start <= end:
            raise OutOfRangeError(f"an audit range starts on a tile boundary, not "
                                  f"{start}..{end}")
        done = RangeAudit(start, end)
        frontier = _Frontier.at(self.store, start)
        parallel = _PARALLEL_BATCH if pipelined else 1 << 62
        page: list[EntryRecord] = []
        inflight: list[_AuditPage] = []  # prepared, not finished: at most two
        expected = start
        try:
            for entry in self.store.iter_entries(start=start, end=end):
                if entry.index != expected:
                    done.note_missing(expected)
                expected = entry.index + 1
                done.seen = expected
                page.append(entry)
                if len(page) == _AUDIT_PAGE:
                    inflight.append(self._audit_prepare(page, parallel))
                    page = []
                    if len(inflight) == 2 or not pipelined:
                        self._audit_finish(inflight.pop(0), frontier, done.problems)
            if page:
                inflight.append(self._audit_prepare(page, parallel))
            while inflight:
                self._audit_finish(inflight.pop(0), frontier, done.problems)
        finally:
            for unfinished in inflight:
                unfinished.views.close()
        if expected < end:
            done.note_missing(expected)
        return done

    def _audit_checkpoints(self, edge: int, witnesses: list[Verifier],
                           report: AuditReport) -> None:
        """Every recorded checkpoint against the tree of the audited entries (`edge` of
        them, whose tiles the ranges checked), into `report`.
        """
        problems = report.problems
        tree = self.tree(edge)
        for size, text in self.store.iter_checkpoints():
            report.checkpoints += 1
            try:
                opened = open_checkpoint(text, self.signer.verifier, witnesses)
            except LedgerError as exc:
                problems.append(f"checkpoint {size}: {exc}")
                continue
            if opened.checkpoint.size != size:
                problems.append(f"checkpoint {size}: recorded under size {size} but "
                                f"signed for size {opened.checkpoint.size}")
            elif opened.checkpoint.size > tree.size:
                problems.append(f"checkpoint {size}: covers more entries than stored")
            elif tree.root(opened.checkpoint.size) != opened.checkpoint.root_hash:
                problems.append(f"checkpoint {size}: root differs from the stored "
                                "entries (an entry was changed or removed)")
            if witnesses:
                strangers = {sig.name for sig in opened.note.unverified}
                if strangers:
                    problems.append(f"checkpoint {size}: signature lines from keys "
                                    f"that are not the log's or its witnesses' "
                                    f"({', '.join(sorted(strangers))})")

    def _audit_prepare(self, entries: list[EntryRecord], parallel: int) -> _AuditPage:
        """The first half of auditing a page: what needs no signature result.

        Check each entry's leaf hash and parse it; open a snapshot and read in bulk the
        *stored* derived state as it was before the page (`AsOf`) that its checks will
        ask; and hand its signatures to the pool (under the keys that state names; `_check`
        verifies again under any other key it finally requires).
        """
        page = _AuditPage(entries)
        try:
            self._audit_read(page, parallel)
        except BaseException:
            page.views.close()
            raise
        return page

    def _audit_read(self, page: _AuditPage, parallel: int) -> None:
        """`_audit_prepare`'s work on `page` (whose snapshot the caller closes on error)."""
        entries = page.entries
        cut: list[UsualStatement | None] = []  # by position among the parsed statements
        for entry in entries:
            if merkle.leaf_hash(entry.body) != entry.leaf_hash:
                page.problems.append(f"entry {entry.index}: stored statement does not "
                                     "match its leaf hash (edited after it was logged)")
            usual = read_usual_statement(entry.body)
            if usual is not None:
                page.parsed.append((entry, usual.statement))
                cut.append(usual)
                continue
            try:
                page.parsed.append((entry, parse_statement(entry.body)))
                cut.append(None)
            except LedgerError as exc:
                page.problems.append(f"entry {entry.index}: {exc}")
                page.parsed.append((entry, None))
        good = [statement for _, statement in page.parsed if statement is not None]
        bodies = [entry.body for entry, statement in page.parsed if statement is not None]
        page.count = len(good)
        start, end = entries[0].index, entries[-1].index + 1
        page.stored = self.store.derived_rows(start, end)
        view = page.views.enter_context(self.store.snapshot())
        page.view = view
        committed = CachedReader(AsOf(view, start))
        # A token the store has a row for in this page has none before it: the digest is
        # the rows' key, and any row added behind that (at an index before the page) is
        # named by the page of its own index, which compares all its stored rows.
        committed.assume_unlogged(row.digest for row in page.stored.tokens)
        committed.prefetch(good)
        page.replay = BatchState(committed)
        tasks = self._signature_tasks(page.replay, good, bodies, cut)
        if len(good) >= parallel:
            pool = _signature_pool()
            page.futures = [pool.submit(_verify_tasks, chunk) for chunk in _per_core(tasks)]
        else:  # here and now, still with the signed bytes cut out of the logged ones
            page.verified = _verify_tasks(tasks)

    def _audit_finish(self, page: _AuditPage, frontier: _Frontier,
                      found: list[str]) -> None:
        """The second half: replay the page's checks over the state before it (with the
        pool's signature results), derive its rows, and compare them, its tiles and its
        token blobs with what the store holds. The page's problems go to `found` in
        entry order.
        """
        assert page.replay is not None
        assert page.view is not None
        replay, rules = page.replay, _Rules(page.replay)
        problems = page.problems
        entries = page.entries
        start = entries[0].index
        tokens: list[tuple[int, str]] = []
        with page.views:
            presigned: list[bytes | None] = [None] * page.count
            for n, public in page.verified:
                presigned[n] = public
            for future in page.futures:
                for n, public in future.result():
                    presigned[n] = public
            checked = iter(presigned)
            for entry, statement in page.parsed:
                if statement is None:
                    continue
                try:
                    self._check(rules, entry.index, statement, next(checked))
                    replay.apply(entry.index, statement)
                except LedgerError as exc:
                    problems.append(f"entry {entry.index}: {exc}")
                if statement.kind is StatementKind.TOKEN and statement.token_digest:
                    tokens.append((entry.index, statement.token_digest))
            view = page.view
            for tile in completed_tiles(frontier, frontier.size, [e.leaf_hash for e in entries]):
                frontier.complete(tile)
                if (view.tile(tile.level, tile.index) != tile.hashes
                        or view.tile_roots(tile.level, tile.index, tile.index + 1)
                        != [tile.root]):
                    problems.append(f"tile {tile.level}/{tile.index}: stored tile differs "
                                    "from the entries' leaf hashes")
        frontier.extend([e.leaf_hash for e in entries])
        blobs = self.store.get_blobs([digest for _, digest in tokens])
        for index, digest in tokens:
            data = blobs.get(digest)
            if data is None:
                problems.append(f"entry {index}: token {digest} is missing")
            elif sha256(data).hex() != digest:  # blobs are JCS bytes
                problems.append(f"entry {index}: stored token {digest} was altered")
        stored = page.stored
        assert stored is not None
        for what, mine, theirs in (("key", replay.rows.keys, stored.keys),
                                   ("key event", replay.rows.key_events, stored.key_events),
                                   ("token", replay.rows.tokens, stored.tokens),
                                   ("token event", replay.rows.token_events,
                                    stored.token_events)):
            if list(mine) != list(theirs):
                differ: set[int] = {r.index for r in [*mine, *theirs]
                                    if (r in mine) != (r in theirs)} or {start}
                problems.append(f"entry {min(differ)}: the stored {what} row differs "
                                "from a replay of the log")
        found.extend(sorted(problems, key=_entry_of))


def _checked_token(data: bytes | None, digest: str, what: str = "token") -> dict[str, Any]:
    """The stored token bytes `data` of `digest`, parsed and checked against the digest."""
    if data is None:
        raise NotFoundError(f"no {what} {digest} in the ledger")
    token = parse_token(data)
    if token_digest(token) != digest:
        raise TamperedError(f"the stored token {digest} no longer matches its digest")
    return token


_AUDIT_PAGE = 4_096

#: Logs at least this long are audited by one process per core: a worker's start-up
#: (~0.5 s, mostly imports) is then a small part of its range.
_PROCESS_AUDIT_MIN = 16 * _AUDIT_PAGE
#: What this process audits while a worker starts, so the ranges end about together.
_AUDIT_LEAD = _AUDIT_PAGE


@dataclass
class RangeAudit:
    """What `Ledger.audit_range` found in entries start <= index < end: its problems in
    entry order, ``seen`` (one past the last entry read, 0 if none) and ``missing`` (the
    first index absent from the store, if any).
    """

    start: int
    end: int
    problems: list[str] = field(default_factory=list)
    seen: int = 0
    missing: int | None = None

    def note_missing(self, index: int) -> None:
        """Entry `index` is not in the store: the first such is named, once."""
        if self.missing is None:
            self.missing = index
            self.problems.append(f"entry {index}: missing from the store (deleted after "
                                 "it was logged)")


def audit_ranges(size: int, parts: int, lead: int = 0) -> list[tuple[int, int]]:
    """A log of `size` entries cut into at most `parts` ranges, each starting on a tile
    boundary (`Ledger.audit_range`): the first `lead` entries longer than the others
    (which are about the same length), since its process has no interpreter to start.
    """
    step = -(-max(size - lead, parts) // parts)
    starts = sorted({start for k in range(1, parts)
                     if 0 < (start := (size - step * k) // TILE_WIDTH * TILE_WIDTH) < size})
    return list(zip([0, *starts], [*starts, size], strict=True))


def _usable_cores() -> int:
    """The cores this process may run on (its affinity, where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _AuditPage:
    """One page of an audit between its two halves (`Ledger._audit_prepare`, `_finish`):
    its entries and parsed statements, its problems so far, the open snapshot its checks
    read, and the futures of its signatures on the pool.
    """

    entries: list[EntryRecord]
    parsed: list[tuple[EntryRecord, Statement | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    count: int = 0  # statements that parsed (what the futures' positions index)
    views: ExitStack = field(default_factory=ExitStack)
    view: StoreView | None = None
    replay: BatchState | None = None
    futures: list[Future[list[tuple[int, bytes | None]]]] = field(default_factory=list)
    verified: list[tuple[int, bytes | None]] = field(default_factory=list)  # without a pool
    stored: DerivedRows | None = None  # the rows the store holds for the page's entries
_ENTRY_PROBLEM = re.compile(r"entry (\d+): ")


def _entry_of(problem: str) -> int:
    """The entry index a problem names (problems about tiles sort last)."""
    match = _ENTRY_PROBLEM.match(problem)
    return int(match.group(1)) if match else 1 << 62


class _Frontier:
    """The right edge of the tree an audit rebuilds: the partial tile of each level.

    A `TileSource` for `completed_tiles` holding at most 255 hashes per level, so an audit
    keeps O(log n) hashes however long the log (full tiles are compared with the stored
    ones as they complete, then forgotten).
    """

    def __init__(self) -> None:
        self.size = 0
        self.levels: list[list[bytes]] = []  # level -> hashes of its partial tile

    @classmethod
    def at(cls, source: TileSource, size: int) -> _Frontier:
        """The edge of the tree of the first `size` entries (a multiple of the tile width),
        read from `source`'s tiles: at each level above the leaves, the roots of the full
        tiles below since the last full tile of that level.
        """
        frontier = cls()
        frontier.size = size
        level = 1
        while size >> (TILE_HEIGHT * level):
            count = size >> (TILE_HEIGHT * level)  # full tiles of level - 1
            partial = count % TILE_WIDTH
            frontier._level(level)[:] = source.tile_roots(level - 1, count - partial, count)
            level += 1
        return frontier

    def _level(self, level: int) -> list[bytes]:
        while len(self.levels) <= level:
            self.levels.append([])
        return self.levels[level]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        hashes = self._level(0)
        base = self.size - len(hashes)
        return hashes[start - base:end - base]

    def tile(self, level: int, index: int) -> bytes | None:  # noqa: ARG002
        return None  # full tiles are never kept: partial ones are rebuilt from the edge

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        above = self._level(level + 1)
        base = (self.size >> (TILE_HEIGHT * (level + 1))) - len(above)
        return above[start - base:end - base]

    def complete(self, tile: Tile) -> None:
        """Tile `tile` is full: it leaves its level's list, its root joins the level above.

        Level 0's list holds only the leaves before the page (the page's own come with
        `extend`); a higher level's list starts on a tile boundary, so the completed tile
        is its first 256 hashes (roots appended for the next tile stay).
        """
        if tile.level == 0:
            self._level(0).clear()
        else:
            del self._level(tile.level)[:TILE_WIDTH]
        self._level(tile.level + 1).append(tile.root)

    def extend(self, leaves: list[bytes]) -> None:
        """The page's leaves join the level-0 partial tile (after its tiles completed)."""
        level0 = self._level(0)
        self.size += len(leaves)
        keep = self.size % TILE_WIDTH
        level0[:] = (level0 + leaves)[-keep:] if keep else []


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
