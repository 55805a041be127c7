"""What the ledger derives from its log: keys, tokens and their standing, as stored rows.

The log is the truth; this is its index. Every row here is produced by exactly one log
entry and carries that entry's index, so the derived state at any position ``t`` is the
rows with index below ``t`` and a status change is a new row, never an update (the same
append-only rule and triggers as the entries). The ledger writes a batch's rows in the
transaction that appends the batch, so the index can never be ahead of or behind the log.

* `KeyRow` — a key added (first key of a party, rotation, or registrar admission);
  `KeyEvent` — a key retired at an index (rotated away or revoked), possibly compromised
  since an earlier index. A key's `KeyRecord` (ledger/keys.py) is its row plus its events.
* `TokenRow` — a token logged: where, by which key, for which party and shipment, citing
  which supplier tokens; `TokenEvent` — a token revoked or superseded (by which token).

`StateReader` is what the ledger's checks ask; the store answers it from its tables
(indexed look-ups, nothing proportional to the log), and `BatchState` layers a batch in
progress over any reader: the checks of statement ``n`` of a batch see statements
``0..n-1``, and the rows the batch produces are collected for the store. An audit runs the
same layer page by page over the stored state before each page (`AsOf`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ledger.canonical import canonicalize
from ledger.keys import KeyRecord
from ledger.statements import REGISTRAR_KID_PREFIX, Statement, StatementKind

__all__ = [
    "AsOf",
    "BatchState",
    "BulkStateReader",
    "CachedReader",
    "DerivedRows",
    "KeyEvent",
    "KeyRow",
    "StateReader",
    "TokenEvent",
    "TokenEventKind",
    "TokenRow",
    "TokenStanding",
    "derive",
    "key_record",
    "with_events",
]


class TokenStanding(StrEnum):
    """A token's standing in the log (ledger design s.5)."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class TokenEventKind(StrEnum):
    """What a token event records."""

    REVOKED = "revoked"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key the log added at `index`, with the party it speaks for."""

    kid: str
    index: int
    party_id: str
    public_key: bytes
    party_json: str  # the party object of the key statement, canonical JSON

    @property
    def party(self) -> dict[str, Any]:
        """The party object as logged."""
        value: dict[str, Any] = json.loads(self.party_json)
        return value


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """Key `kid` retired at `index` (rotation or revocation), perhaps compromised since."""

    index: int
    kid: str
    compromised_since: int | None = None


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A token logged at `index` by key `issuer_kid` of `party_id` for one shipment."""

    digest: str
    index: int
    issuer_kid: str
    party_id: str
    shipment: str
    parents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """Token `digest` revoked, or superseded by `by`, at `index`."""

    index: int
    digest: str
    kind: TokenEventKind
    by: str | None = None


@dataclass
class DerivedRows:
    """The rows one batch of entries adds to the derived tables."""

    keys: list[KeyRow] = field(default_factory=list)
    key_events: list[KeyEvent] = field(default_factory=list)
    tokens: list[TokenRow] = field(default_factory=list)
    token_events: list[TokenEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.keys or self.key_events or self.tokens or self.token_events)


def key_record(row: KeyRow, events: Sequence[KeyEvent]) -> KeyRecord:
    """A key's life from its row and its events."""
    return with_events(KeyRecord(row.kid, row.public_key, row.party, row.index), events)


def with_events(record: KeyRecord, events: Sequence[KeyEvent]) -> KeyRecord:
    """A copy of `record` after `events`.

    The first retirement counts and the earliest compromise wins (ledger design s.6).
    """
    record = dataclasses.replace(record)
    for event in sorted(events, key=lambda e: e.index):
        if record.retired_at is None:
            record.retired_at = event.index
        since = event.compromised_since
        if since is not None and (record.compromised_since is None
                                  or since < record.compromised_since):
            record.compromised_since = since
    return record


class StateReader(Protocol):
    """The derived state the ledger's checks read (committed, or a batch over it)."""

    def key(self, kid: str) -> KeyRecord | None:
        """The key `kid` with its retirements, if the log added it."""
        ...

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        ...

    def token_row(self, digest: str) -> TokenRow | None:
        """Where and by whom token `digest` was logged, if it was."""
        ...

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The revocations and supersessions of token `digest`, in log order."""
        ...

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The token a party logged last for a shipment (digest), if any."""
        ...


class BulkStateReader(StateReader, Protocol):
    """A `StateReader` that also answers many items per query (what `prefetch` asks)."""

    def keys_many(self, kids: Sequence[str]) -> dict[str, KeyRecord]:
        """The keys among `kids` that exist."""
        ...

    def token_rows_many(self, digests: Sequence[str]) -> dict[str, TokenRow]:
        """The token rows among `digests` that exist."""
        ...

    def token_events_many(self, digests: Sequence[str]) -> dict[str, list[TokenEvent]]:
        """The events of each of `digests`, in log order."""
        ...

    def shipment_tokens_many(self, pairs: Sequence[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
        """The last token of each (party, shipment) pair that has one."""
        ...


def derive(index: int, statement: Statement, state: StateReader) -> DerivedRows:
    """The rows the (already authorised) `statement` at `index` adds to `state`."""
    rows = DerivedRows()
    data = statement.data
    kind = statement.kind
    if kind is StatementKind.KEY:
        party = data["party"]
        rows.keys.append(KeyRow(str(data["kid"]), index, str(party["id"]),
                                statement.public_key, canonicalize(party).decode("utf-8")))
        if data["action"] == "rotate":
            rows.key_events.append(KeyEvent(index, str(data["replaces"])))
    elif kind is StatementKind.TOKEN:
        digest = str(data["tokenDigest"])
        signer = statement.signer
        known = None if signer.startswith(REGISTRAR_KID_PREFIX) else state.key(signer)
        party_id = known.party_id if known is not None else signer
        rows.tokens.append(TokenRow(digest, index, signer, party_id, str(data["shipment"]),
                                    tuple(data["parents"])))
        replaced = data.get("supersedes")
        if replaced is not None:
            rows.token_events.append(TokenEvent(index, str(replaced),
                                                TokenEventKind.SUPERSEDED, digest))
    elif kind is StatementKind.REVOKE:
        if data["target"] == "token":
            rows.token_events.append(TokenEvent(index, str(data["tokenDigest"]),
                                                TokenEventKind.REVOKED))
        else:
            rows.key_events.append(KeyEvent(index, str(data["kid"]),
                                            data.get("compromisedSince")))
    elif kind is StatementKind.SUPERSEDE:
        rows.token_events.append(TokenEvent(index, str(data["tokenDigest"]),
                                            TokenEventKind.SUPERSEDED,
                                            str(data["newTokenDigest"])))
    return rows


_MISSING: Any = object()


class CachedReader:
    """A `StateReader` that asks its base once per item, and in bulk when it can.

    Under the writer section nothing but the batch itself changes the state, and the batch
    is layered above (`BatchState`), so every answer of the committed state can be kept for
    the whole batch. `prefetch` asks the base for everything a batch's statements name in a
    few bulk queries (`BulkStateReader`: the SQL store answers each with one ``IN`` query
    per 500 items) instead of a few round trips per statement.
    """

    def __init__(self, base: BulkStateReader) -> None:
        self.base = base
        self._keys: dict[str, KeyRecord | None] = {}
        self._party_keys: dict[str, list[KeyRecord]] = {}
        self._rows: dict[str, TokenRow | None] = {}
        self._events: dict[str, list[TokenEvent]] = {}
        self._shipments: dict[tuple[str, str], str | None] = {}

    def key(self, kid: str) -> KeyRecord | None:
        """The base's key (once)."""
        found = self._keys.get(kid, _MISSING)
        if found is _MISSING:
            found = self._keys[kid] = self.base.key(kid)
        return found  # type: ignore[no-any-return]

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """The base's keys of a party (once)."""
        found = self._party_keys.get(party_id)
        if found is None:
            found = self._party_keys[party_id] = self.base.party_keys(party_id)
        return found

    def token_row(self, digest: str) -> TokenRow | None:
        """The base's token row (once)."""
        found = self._rows.get(digest, _MISSING)
        if found is _MISSING:
            found = self._rows[digest] = self.base.token_row(digest)
        return found  # type: ignore[no-any-return]

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The base's token events (once)."""
        found = self._events.get(digest)
        if found is None:
            found = self._events[digest] = self.base.token_events(digest)
        return found

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The base's last token of a shipment (once)."""
        found = self._shipments.get((party_id, shipment), _MISSING)
        if found is _MISSING:
            found = self._shipments[party_id, shipment] = self.base.shipment_token(
                party_id, shipment)
        return found  # type: ignore[no-any-return]

    def assume_unlogged(self, digests: Iterable[str]) -> None:
        """Answer "no such token" for `digests` without asking the base: the caller knows
        none of them is in the state it reads (an audit, for the tokens the page itself
        logs). Their events are not asked either (a token has none before its row).
        """
        for digest in digests:
            self._rows.setdefault(digest, None)

    def _fetch_keys(self, kids: set[str]) -> None:
        wanted = sorted(kids - self._keys.keys())
        if wanted:
            found = self.base.keys_many(wanted)
            for kid in wanted:
                self._keys[kid] = found.get(kid)

    def _fetch_tokens(self, digests: set[str]) -> list[TokenRow]:
        wanted = sorted(digests - self._rows.keys())
        if wanted:
            found = self.base.token_rows_many(wanted)
            for digest in wanted:
                self._rows[digest] = found.get(digest)
            existing = [d for d in wanted if found.get(d) is not None]
            events = self.base.token_events_many(existing) if existing else {}
            for digest in existing:
                self._events[digest] = events.get(digest, [])
        return [r for d in digests if (r := self._rows.get(d)) is not None]

    def prefetch(self, statements: Sequence[Statement]) -> None:
        """Read in bulk what checking `statements` will ask (answers are then cached)."""
        kids: set[str] = set()
        digests: set[str] = set()
        for statement in statements:
            data = statement.data
            if not statement.signer.startswith(REGISTRAR_KID_PREFIX):
                kids.add(statement.signer)
            for name in ("kid", "replaces"):
                if isinstance(data.get(name), str):
                    kids.add(data[name])
            for name in ("tokenDigest", "supersedes", "newTokenDigest"):
                if isinstance(data.get(name), str):
                    digests.add(data[name])
            if statement.kind is StatementKind.TOKEN:
                digests.update(str(p) for p in data["parents"])
        self._fetch_keys(kids)
        rows = self._fetch_tokens(digests)
        self._fetch_keys({row.issuer_kid for row in rows})
        # The party of each signer: logged before, or added by a key statement of the batch.
        parties = {str(s.data["kid"]): str(s.data["party"]["id"])
                   for s in statements if s.kind is StatementKind.KEY}
        pairs: set[tuple[str, str]] = set()
        for statement in statements:
            if statement.kind is StatementKind.TOKEN:
                record = self._keys.get(statement.signer)
                party = (record.party_id if isinstance(record, KeyRecord)
                         else parties.get(statement.signer))
                if party is not None:
                    pairs.add((party, str(statement.data["shipment"])))
        wanted = sorted(pairs - self._shipments.keys())
        if wanted:
            found = self.base.shipment_tokens_many(wanted)
            for pair in wanted:
                self._shipments[pair] = found.get(pair)
            current = self._fetch_tokens({d for d in found.values() if d})
            self._fetch_keys({row.issuer_kid for row in current})


class History(Protocol):
    """Raw derived rows, for reading the state as it was before some entry."""

    def key_histories(self, kids: Sequence[str]) -> dict[str, tuple[KeyRow, list[KeyEvent]]]:
        """Each existing key's row and raw events."""
        ...

    def party_key_histories(self, party_id: str) -> list[tuple[KeyRow, list[KeyEvent]]]:
        """A party's keys with their raw events, oldest first."""
        ...

    def token_rows_before(self, digests: Sequence[str], before: int) -> dict[str, TokenRow]:
        """The token rows among `digests` logged at an index below `before`."""
        ...

    def token_events_before(self, digests: Sequence[str],
                            before: int) -> dict[str, list[TokenEvent]]:
        """The events below index `before` of each of `digests` that has some, in order."""
        ...

    def shipment_token_rows(self, party_id: str, shipments: Sequence[str],
                            before: int) -> list[TokenRow]:
        """Every token a party logged for any of `shipments` at an index below `before`."""
        ...


class AsOf:
    """The stored derived state as it was before entry `position` (a `StateReader`).

    Every row carries the index of the entry that produced it, so the state before
    ``position`` is the rows below it. The audit reads each page of the log against the
    stored state before that page and compares what the page derives with what is stored
    for it: memory stays bounded by the page, and the first row that differs is named.
    """

    def __init__(self, rows: History, position: int) -> None:
        self.rows = rows
        self.position = position

    def _record(self, history: tuple[KeyRow, list[KeyEvent]] | None) -> KeyRecord | None:
        if history is None or history[0].index >= self.position:
            return None
        row, events = history
        return key_record(row, [e for e in events if e.index < self.position])

    def keys_many(self, kids: Sequence[str]) -> dict[str, KeyRecord]:
        """The keys among `kids` added before the position, with earlier events only."""
        found = self.rows.key_histories(kids)
        return {kid: r for kid in kids if (r := self._record(found.get(kid))) is not None}

    def key(self, kid: str) -> KeyRecord | None:
        """See `keys_many`."""
        return self.keys_many([kid]).get(kid)

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """The party's keys added before the position."""
        return [r for h in self.rows.party_key_histories(party_id)
                if (r := self._record(h)) is not None]

    def token_rows_many(self, digests: Sequence[str]) -> dict[str, TokenRow]:
        """The tokens among `digests` logged before the position (the bound is the
        store's, so a page's own new tokens are never fetched).
        """
        return self.rows.token_rows_before(digests, self.position)

    def token_row(self, digest: str) -> TokenRow | None:
        """See `token_rows_many`."""
        return self.token_rows_many([digest]).get(digest)

    def token_events_many(self, digests: Sequence[str]) -> dict[str, list[TokenEvent]]:
        """The events before the position of each of `digests`."""
        return self.rows.token_events_before(digests, self.position)

    def token_events(self, digest: str) -> list[TokenEvent]:
        """See `token_events_many`."""
        return self.token_events_many([digest]).get(digest, [])

    def shipment_tokens_many(self, pairs: Sequence[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
        """The last token before the position of each (party, shipment) pair."""
        by_party: dict[str, list[str]] = {}
        for party_id, shipment in pairs:
            by_party.setdefault(party_id, []).append(shipment)
        best: dict[tuple[str, str], TokenRow] = {}
        for party_id, shipments in by_party.items():
            for row in self.rows.shipment_token_rows(party_id, shipments, self.position):
                key = (party_id, row.shipment)
                if key not in best or row.index > best[key].index:
                    best[key] = row
        return {pair: row.digest for pair, row in best.items()}

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """See `shipment_tokens_many`."""
        return self.shipment_tokens_many([(party_id, shipment)]).get((party_id, shipment))


class BatchState:
    """A batch of entries in progress, layered over a `StateReader`.

    `apply` records the rows of an authorised statement; reads see the base plus those
    rows. `rows` is what to write with the batch. Not shared between threads (one per
    append, under the writer section).
    """

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.rows = DerivedRows()
        self._keys: dict[str, KeyRow] = {}
        self._key_events: dict[str, list[KeyEvent]] = {}
        self._tokens: dict[str, TokenRow] = {}
        self._token_events: dict[str, list[TokenEvent]] = {}
        self._shipments: dict[tuple[str, str], str] = {}
        self._party_new_keys: dict[str, list[str]] = {}
        self._records: dict[str, KeyRecord | None] = {}  # kid -> merged record, on demand

    def apply(self, index: int, statement: Statement) -> DerivedRows:
        """Record the rows of `statement` (already authorised) at `index`."""
        rows = derive(index, statement, self)
        for key in rows.keys:
            self._keys[key.kid] = key
            self._party_new_keys.setdefault(key.party_id, []).append(key.kid)
            self._records.pop(key.kid, None)
        for event in rows.key_events:
            self._key_events.setdefault(event.kid, []).append(event)
            self._records.pop(event.kid, None)
        for token in rows.tokens:
            self._tokens[token.digest] = token
            self._shipments[token.party_id, token.shipment] = token.digest
        for token_event in rows.token_events:
            self._token_events.setdefault(token_event.digest, []).append(token_event)
        self.rows.keys += rows.keys
        self.rows.key_events += rows.key_events
        self.rows.tokens += rows.tokens
        self.rows.token_events += rows.token_events
        return rows

    def key(self, kid: str) -> KeyRecord | None:
        """The base's record with this batch's retirements, or a key this batch added.

        Merged records are kept until this batch changes that key (a new record then:
        records handed out earlier never change under their holder).
        """
        if kid in self._records:
            return self._records[kid]
        record = self._merged(kid)
        self._records[kid] = record
        return record

    def _merged(self, kid: str) -> KeyRecord | None:
        events = self._key_events.get(kid, [])
        row = self._keys.get(kid)
        if row is not None:
            return key_record(row, events)
        record = self.base.key(kid)
        if record is None or not events:
            return record
        return with_events(record, events)

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """The base's keys of the party and the ones this batch added, oldest first."""
        kids = [r.kid for r in self.base.party_keys(party_id)]
        kids += self._party_new_keys.get(party_id, [])
        records = [self.key(kid) for kid in kids]
        return [r for r in records if r is not None]

    def token_row(self, digest: str) -> TokenRow | None:
        """This batch's token row, or the base's."""
        row = self._tokens.get(digest)
        return row if row is not None else self.base.token_row(digest)

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The base's events of the token, then this batch's."""
        return [*self.base.token_events(digest), *self._token_events.get(digest, [])]

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The last token of a party for a shipment, this batch's first."""
        latest = self._shipments.get((party_id, shipment))
        return latest if latest is not None else self.base.shipment_token(party_id, shipment)
