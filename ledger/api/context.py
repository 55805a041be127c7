"""What every route works with: the ledger, the accounts, the trust policy, and who sees what.

One `Service` per worker process, built at start-up from `ApiSettings` and shared by every
request thread: `Ledger` and `AccountStore` are safe to share (their state is in the
database, each call its own transaction), and the trust file is read once.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.api.access import Caller
from ledger.api.accounts import SME_ROLES, AccountStore, IssuerMethod, Role
from ledger.api.dids import ServiceDids
from ledger.api.problems import ApiProblem
from ledger.api.settings import ApiSettings
from ledger.api.signing_keys import HeldKey, KeyVault
from ledger.api.status_lists import StatusLists
from ledger.api.vc_issuer import ServiceIssuer
from ledger.errors import ConflictError, IssuerError, NotFoundError, StoreUnavailableError
from ledger.installation import Workspace
from ledger.sequencer import Sequencer
from ledger.service import IssueResult, Ledger, PreparedToken
from ledger.shared_sequencer import SequencerClient
from ledger.store.sql import SqlStore
from ledger.verify import TrustFile, Verification, verify

__all__ = ["CERTIFICATE_ELEMENTS", "Service", "Verified", "VerifiedCache", "certificate"]

#: The subject fields a certification of origin prints (Annex 5-A's nine data elements):
#: 1 certifier role, 2 certifier, 3 exporter, 4 producer, 5 importer, 6 the good
#: (description, HS subheading, invoice), 7 origin criterion, 8 blanket period,
#: 9 authorised signature and date. Nothing else of a token is public.
CERTIFICATE_ELEMENTS = ("certifierRole", "certifier", "exporter", "producer", "importer",
                        "good", "originCriterion", "blanketPeriod", "authorizedSignature")

#: Roles that may read any token (customs verify, auditors audit, the registrar admits).
_READ_ANY = frozenset({Role.CUSTOMS, Role.AUDITOR, Role.REGISTRAR})


def certificate(token: Mapping[str, Any]) -> dict[str, Any]:
    """The nine data elements of a token, as a certificate prints them (and nothing else)."""
    subject = token.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return {}
    shown = {name: subject[name] for name in CERTIFICATE_ELEMENTS if name in subject}
    if isinstance(subject.get("shipmentId"), str):
        shown["shipmentId"] = subject["shipmentId"]
    return shown


def _age_seconds(iso: object) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return time.time() - moment.timestamp()


@dataclass(frozen=True, slots=True)
class Verified:
    """A logged token's bundle and its verification, as of one standing of the log."""

    bundle: dict[str, Any]
    verification: Verification
    watermark: int
    until: float  # time.monotonic() after which it is built again
    public_answer: bytes  # what GET /v1/verify/{digest} sends: checks and certificate

    @staticmethod
    def answer_of(bundle: Mapping[str, Any], verification: Verification) -> bytes:
        """The public answer: the verification and the certificate's nine data elements."""
        return json.dumps({**verification.to_dict(), "certificate": certificate(
            bundle["token"])}, ensure_ascii=False, allow_nan=False,
            separators=(",", ":")).encode("utf-8")


class VerifiedCache:
    """Verifications of logged tokens, valid while the log's standing watermark holds.

    A bundle and its verification only change when some token's or key's standing does
    (`LogStore.standing_watermark`: a revocation, supersession, key rotation, revocation
    or compromise anywhere in the log), or with time (status age, checkpoint age). So an
    entry is reused while the watermark is unchanged and for at most `ttl` seconds; any
    such event anywhere invalidates every entry at the next request, in every worker.
    Bounded (least recently used out); safe between threads.
    """

    def __init__(self, ttl: float = 60.0, capacity: int = 10_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._entries: OrderedDict[str, Verified] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, tuple[threading.Lock, int]] = {}

    def get(self, digest: str, watermark: int) -> Verified | None:
        """The entry for `digest` if it still holds at `watermark`."""
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            if found.watermark != watermark or time.monotonic() > found.until:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return found

    @contextlib.contextmanager
    def building(self, digest: str) -> Iterator[None]:
        """Hold the build of `digest`'s entry (single flight per token in a worker)."""
        with self._lock:
            lock, users = self._building.get(digest, (threading.Lock(), 0))
            self._building[digest] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._building[digest]
                if users == 1:
                    del self._building[digest]
                else:
                    self._building[digest] = (lock, users - 1)

    def put(self, digest: str, entry: Verified) -> None:
        """Keep `entry`, dropping the least recently used beyond `capacity`."""
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


class Service:
    """The ledger behind the API, and the rules of who may see which token."""

    def __init__(self, settings: ApiSettings, workspace: Workspace, ledger: Ledger,
                 accounts: AccountStore, trust: TrustFile, vault: KeyVault) -> None:
        self.settings = settings
        self.workspace = workspace
        self.ledger = ledger
        self.accounts = accounts
        self.trust = trust
        self.vault = vault
        self.verified = VerifiedCache(ttl=min(60.0, settings.status_refresh))
        #: The worker's sequencer (set by the app's lifespan): registrations in flight
        #: are appended together, one transaction and one fsync per batch.
        self.sequencer: Sequencer | SequencerClient | None = None
        store = ledger.store
        assert isinstance(store, SqlStore)
        self.status_lists = StatusLists(store.engine, settings.public_url)
        self._vc_issuer = (None if settings.key_encryption_key is None
                           else ServiceIssuer.from_secret(settings.key_encryption_key))
        #: did:web documents of the service and its parties (`ledger.api.dids`).
        self.dids = ServiceDids(self)
        # The host the parties' did:web identities live at is part of what a verifier
        # trusts for this log: the trust file names it (``did_web_host``); one written
        # before that field existed gets the service's own host (TMEC_PUBLIC_URL), and
        # the ledger checks every did:web token it logs against the same host.
        if trust.did_web_host is None and self.dids.host is not None:
            self.trust = replace(trust, did_web_host=self.dids.host)
        ledger.did_web_host = self.trust.did_web_host if self.trust.did_web_host == \
            self.dids.host else None

    @classmethod
    def open(cls, settings: ApiSettings) -> Service:
        """Open the workspace's ledger (migrating its database) and the account tables."""
        workspace = Workspace(settings.ledger)
        ledger = workspace.open_ledger()
        store = ledger.store
        if not isinstance(store, SqlStore):  # pragma: no cover - open_ledger opens SQL
            raise NotFoundError("the HTTP service needs a SQL ledger")
        return cls(settings, workspace, ledger, AccountStore(store.engine), workspace.trust(),
                   KeyVault(store.engine, settings.key_encryption_key))

    def close(self) -> None:
        """Release the database connections."""
        store = self.ledger.store
        if isinstance(store, SqlStore):
            store.close()

    # -- who sees a token

    def issuer_party(self, digest: str) -> str:
        """The party that logged token `digest` (`NotFoundError` if it is not logged)."""
        row = self.ledger.store.token_row(digest)
        if row is None:
            raise NotFoundError(f"token {digest} is not in the ledger")
        return row.party_id

    def may_read(self, caller: Caller, digest: str) -> bool:
        """The issuer's own accounts, brokers it was given to, customs, auditors, registrar."""
        account = caller.require()
        party = self.issuer_party(digest)
        if account.role in _READ_ANY:
            return True
        if account.role in SME_ROLES:
            return account.party_id == party
        if account.role is Role.BROKER:
            return self.accounts.granted(digest, account.party_id)
        return False  # pragma: no cover - every role is named above

    def readable_of(self, caller: Caller, digests: Sequence[str]) -> set[str]:
        """Which of the logged tokens `digests` `caller` may read (`may_read` for many,
        in two queries whatever their number: a broker's pre-check names fifty).
        """
        account = caller.require()
        with self.ledger.store.snapshot() as view:
            rows = view.token_rows_many(list(dict.fromkeys(digests)))
        if account.role in _READ_ANY:
            return set(rows)
        if account.role in SME_ROLES:
            return {d for d, row in rows.items() if row.party_id == account.party_id}
        if account.role is Role.BROKER:
            return self.accounts.granted_among(list(rows), account.party_id)
        return set()  # pragma: no cover - every role is named above

    def readable(self, caller: Caller, ref: str) -> str:
        """The full digest of token `ref` (digest or prefix), if `caller` may read it."""
        digest = self.ledger.resolve_token(ref)
        self.require_read(caller, digest)
        return digest

    def issued_by(self, caller: Caller, ref: str) -> str:
        """The full digest of token `ref`, if `caller` acts for the party that issued it."""
        digest = self.ledger.resolve_token(ref)
        self.require_issuer(caller, digest)
        return digest

    def require_read(self, caller: Caller, digest: str) -> None:
        """Raise 403 unless `caller` may read token `digest` (404 if it is not logged)."""
        if not self.may_read(caller, digest):
            raise ApiProblem("api.forbidden", f"token {digest[:16]}... is not yours and was "
                             "not given to your account")

    def require_issuer(self, caller: Caller, digest: str) -> None:
        """Raise 403 unless `caller` acts for the party that issued token `digest`."""
        account = caller.require()
        if account.role not in SME_ROLES or self.issuer_party(digest) != account.party_id:
            raise ApiProblem("api.forbidden", f"only the party that issued token "
                             f"{digest[:16]}... may do this")

    def held_key(self, caller: Caller) -> HeldKey:
        """The signing key the service holds for the caller's party, valid now."""
        held, _ = self._held_key(caller.require().party_id, with_identity=False)
        return held

    def _held_key(self, party: str, *, with_identity: bool
                  ) -> tuple[HeldKey, IssuerMethod | None]:
        # The size, the held keys, their log records (and the party's identity) in one
        # read transaction.
        store = self.ledger.store
        assert isinstance(store, SqlStore)  # the service runs on a SQL store (__init__)
        with store.snapshot() as view:
            held = self.vault.current(party, view, view.size(), connection=view.connection)
            method = (self.accounts.identity(party, connection=view.connection)
                      if with_identity else None)
        return held, method

    def issuing_as(self, caller: Caller) -> tuple[HeldKey, str | None]:
        """The caller's party's held key and the ``issuer`` its next token names (None:
        the key's did:key), read in the one snapshot a registration needs.

        Raises:
            NotFoundError: the service holds no valid key for the party.
            IssuerError: as `issuer_did`.
        """
        party = caller.require().party_id
        held, method = self._held_key(party, with_identity=True)
        return held, self.issuer_did(party, method)

    def did_web_problem(self) -> str | None:
        """Why this service's parties cannot issue as did:web, or None when they can."""
        if self.dids.host is None:
            return ("did:web needs TMEC_PUBLIC_URL at the root of an http(s) host (now "
                    f"{self.settings.public_url[:80]!r}); issue under did:key, or set it")
        if self.trust.did_web_host != self.dids.host:
            return (f"the trust file names did:web host {self.trust.did_web_host!r}, but "
                    f"TMEC_PUBLIC_URL gives {self.dids.host!r}: verifiers would refuse "
                    "these tokens; make them agree")
        return None

    def choose_identity(self, caller: Caller, method: IssuerMethod) -> str:
        """Record the identity the caller's party issues as; its issuer DID from now on.

        Raises:
            IssuerError: did:web chosen where the service has no did:web host.
        """
        account = caller.require()
        if method is IssuerMethod.DID_WEB:
            problem = self.did_web_problem()
            if problem is not None:
                raise IssuerError(problem)
        self.accounts.choose_identity(account.party_id, method, account.account_id)
        return self.issuer_did(account.party_id, method) or "did:key (the signing key's)"

    def issuer_did(self, party_id: str, method: IssuerMethod | None = None) -> str | None:
        """The ``issuer`` the party's next token names: its did:web DID, or None for the
        signing key's did:key (`ledger.token.token_issuer`).

        Raises:
            IssuerError: the party chose did:web and the service can no longer name it
                (its public URL or trust file changed since).
        """
        method = self.accounts.identity(party_id) if method is None else method
        if method is IssuerMethod.DID_KEY:
            return None
        problem = self.did_web_problem()
        if problem is not None:
            raise IssuerError(f"party {party_id} issues as did:web, but {problem}")
        return self.ledger.party_did(party_id)

    def vc_issuer(self) -> ServiceIssuer:
        """The VC-API issuer (`ledger.api.vc_issuer`); 503 when no key-encryption key."""
        return self._vc_issuer or ServiceIssuer.from_secret(None)

    # -- bundles and verification

    def bundle(self, digest: str, *, with_suppliers: bool = True,
               disclose_lines: list[int] | None = None) -> dict[str, Any]:
        """The token's bundle under its latest status, written afresh when needed.

        A pure read while the latest status statement still says what the log says and is
        younger than `status_refresh`; otherwise the sequencer's on-demand step
        (`Ledger.refresh_status`) logs a fresh status and checkpoint first. Supplier
        bundles are nested the same way, recursively. `disclose_lines` adds those BOM
        lines' salted records (for the customs authority they were disclosed to).
        """
        row = self.ledger.store.token_row(digest)
        if row is None:
            raise NotFoundError(f"token {digest} is not in the ledger")
        suppliers = None
        if with_suppliers:  # the supplier tokens it cites, from its row: no document read
            suppliers = {d: self.bundle(d) for d in row.parents} or None
        options: dict[str, Any] = {"suppliers": suppliers}
        if disclose_lines:
            options["disclose_lines"] = disclose_lines
        made: dict[str, Any] | None = None
        # No status under a checkpoint yet, or it changed since: a fresh one is written.
        with contextlib.suppress(NotFoundError, ConflictError):
            made = self.ledger.bundle(digest, **options)
        if made is not None:
            age = _age_seconds(made["log"]["status"]["statement"].get("time"))
            if age is not None and age <= self.settings.status_refresh:
                return made
        self.ledger.refresh_status(digest)
        return self.ledger.bundle(digest, **options)

    def log_prepared(self, prepared: PreparedToken) -> IssueResult:
        """Append a prepared token through the sequencer (batched with the registrations
        in flight), or directly when there is none; returns once it is durable.
        """
        if self.sequencer is None:
            (index,) = self.ledger.append([prepared.statement], blobs=prepared.blobs,
                                          disclosures=prepared.disclosures)
            return prepared.logged(index)
        try:
            index = self.sequencer.submit(prepared.statement, blobs=prepared.blobs,
                                          disclosures=prepared.disclosures).result()
        except StoreUnavailableError:
            # The server's sequencer process died with the statement in flight: it is
            # either committed or not at all. Look, and submit it once more if not (the
            # client waits for the restarted sequencer).
            found = self._logged_index(prepared.digest)
            if found is None:
                try:
                    found = self.sequencer.submit(
                        prepared.statement, blobs=prepared.blobs,
                        disclosures=prepared.disclosures).result()
                except (StoreUnavailableError, ConflictError):
                    found = self._logged_index(prepared.digest)
                    if found is None:
                        raise
            index = found
        return prepared.logged(index)

    def _logged_index(self, digest: str) -> int | None:
        try:
            return self.ledger.token_index(digest)
        except NotFoundError:
            return None

    def cached_verification(self, digest: str, watermark: int) -> Verified | None:
        """The cached verification of `digest` if it holds at `watermark` (no I/O)."""
        return self.verified.get(digest, watermark)

    def verify_logged(self, digest: str, watermark: int | None = None) -> Verified:
        """The bundle of a logged token and its verification now, reused while it holds.

        One query (the standing watermark) when the cache has it; the full bundle and
        verification otherwise. The watermark is read before the bundle is built, so a
        revocation logged meanwhile leaves the entry stale, never the other way round.
        """
        if watermark is None:  # a caller checking many tokens reads it once for all
            watermark = self.ledger.store.standing_watermark()
        found = self.verified.get(digest, watermark)
        if found is not None:
            return found
        # One build per token at a time in this worker: the request threads asking for
        # the same token (a broker's pre-check, a QR code scanned twice) wait for the
        # first one's answer instead of each writing a fresh status and checkpoint.
        with self.verified.building(digest):
            found = self.verified.get(digest, watermark)
            if found is not None:
                return found
            bundle = self.bundle(digest)
            verification = self.verify(bundle)
            entry = Verified(bundle, verification, watermark,
                             time.monotonic() + self.verified.ttl,
                             Verified.answer_of(bundle, verification))
            self.verified.put(digest, entry)
            return entry

    def verify(self, bundle: bytes | Mapping[str, Any], *, at: int | None = None
               ) -> Verification:
        """The offline `verify()` under the service's trust file, as of `at` (default now)."""
        return verify(bundle, self.trust, now=int(time.time()) if at is None else at)
