"""The derived tables of the SQL store: the ledger's index of keys and tokens, and tiles.

Five append-only tables (migration 0003), each row produced by one log entry and written in
the transaction that appends it (`ledger.state`, `ledger.tiles`):

* ``log_keys`` (kid, entry, party id, public key, party JSON) and ``log_key_events``
  (entry, kid, compromised since): a key's life is its row and its retirements.
* ``log_tokens`` (digest, entry, issuer key, party, shipment digest, supplier tokens) and
  ``log_token_events`` (entry, digest, revoked / superseded, by which token).
* ``log_tiles`` (level, index, 256 hashes, their root): full C2SP tlog-tiles only.

Every look-up here is by a primary key or an index (kid, party, digest, digest prefix,
(party, shipment), (level, index) ranges): reading the derived state never scans a table,
so opening and querying a ledger costs the same at 10 entries and at 10 million. The
writes are driver-level ``executemany`` statements, like the entries' (see `ledger.store.sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import TamperedError
from ledger.keys import KeyRecord
from ledger.state import (
    BatchState,
    DerivedRows,
    KeyEvent,
    KeyRow,
    TokenEvent,
    TokenEventKind,
    TokenRow,
    key_record,
)
from ledger.statements import parse_statement
from ledger.tiles import Tile, completed_tiles

__all__ = ["DERIVED_TABLES", "BoundIndex", "IndexTables", "backfill", "index_tables"]

DERIVED_TABLES = ("log_keys", "log_key_events", "log_tokens", "log_token_events", "log_tiles")
"""The derived tables, append-only like the log (migration 0003 guards them)."""

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _define(metadata: sa.MetaData) -> dict[str, sa.Table]:
    keys = sa.Table(
        "log_keys", metadata,
        sa.Column("kid", sa.String, primary_key=True),
        sa.Column("leaf_index", _BIGINT, nullable=False, unique=True),
        sa.Column("party_id", sa.String, nullable=False, index=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
    )
    key_events = sa.Table(
        "log_key_events", metadata,
        sa.Column("leaf_index", _BIGINT, primary_key=True, autoincrement=False),
        sa.Column("kid", sa.String, nullable=False, index=True),
        sa.Column("compromised_since", _BIGINT, nullable=True),
    )
    tokens = sa.Table(
        "log_tokens", metadata,
        sa.Column("digest", sa.String, primary_key=True),
        sa.Column("leaf_index", _BIGINT, nullable=False, unique=True),
        sa.Column("issuer_kid", sa.String, nullable=False),
        sa.Column("party_id", sa.String, nullable=False),
        sa.Column("shipment", sa.String, nullable=False),
        sa.Column("parents", sa.Text, nullable=False),  # digests, space-separated
        sa.Index("ix_log_tokens_party_id_shipment_leaf_index",
                 "party_id", "shipment", "leaf_index"),
        sa.Index("ix_log_tokens_party_id_leaf_index", "party_id", "leaf_index"),  # 0004
    )
    token_events = sa.Table(
        "log_token_events", metadata,
        sa.Column("leaf_index", _BIGINT, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String, nullable=False, index=True),
        sa.Column("event", sa.String, nullable=False),
        sa.Column("by_digest", sa.String, nullable=True),
    )
    tiles = sa.Table(
        "log_tiles", metadata,
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tile_index", _BIGINT, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
    )
    return {t.name: t for t in (keys, key_events, tokens, token_events, tiles)}


@dataclass(frozen=True)
class IndexTables:
    """The derived tables on one MetaData, with their inserts and look-ups."""

    tables: dict[str, sa.Table]
    marker: str  # the DB-API parameter marker: "?" (sqlite3) or "%s" (psycopg)

    # -- the look-ups a registration or a bundle runs many times, built once per table set
    # (building a statement and its cache key per call costs more than running it).

    @cached_property
    def _queries(self) -> _Queries:
        return _Queries.of(self.tables, postgres=self.marker == "%s")

    def _insert(self, name: str) -> str:
        table = self.tables[name]
        columns = [c.name for c in table.columns]
        return (f"INSERT INTO {name} ({', '.join(columns)}) "
                f"VALUES ({', '.join([self.marker] * len(columns))})")

    # -- writes (inside the append's transaction)

    def write(self, connection: Connection, derived: DerivedRows | None,
              tiles: Sequence[Tile]) -> None:
        """Insert a batch's derived rows and completed tiles."""
        batches: list[tuple[str, list[tuple[Any, ...]]]] = []
        if derived:
            batches += [
                ("log_keys", [(k.kid, k.index, k.party_id, k.public_key, k.party_json)
                              for k in derived.keys]),
                ("log_key_events", [(e.index, e.kid, e.compromised_since)
                                    for e in derived.key_events]),
                ("log_tokens", [(t.digest, t.index, t.issuer_kid, t.party_id, t.shipment,
                                 " ".join(t.parents)) for t in derived.tokens]),
                ("log_token_events", [(e.index, e.digest, e.kind.value, e.by)
                                      for e in derived.token_events]),
            ]
        batches.append(("log_tiles", [(t.level, t.index, t.hashes, t.root) for t in tiles]))
        for name, rows in batches:
            if rows:
                connection.exec_driver_sql(self._insert(name), rows)

    # -- reads

    def key(self, connection: Connection, kid: str) -> KeyRecord | None:
        """A key with its retirements."""
        row = connection.execute(self._queries.key, {"kid": kid}).first()
        if row is None:
            return None
        return key_record(_key_row(row), self._key_events(connection, [kid]).get(kid, []))

    def party_keys(self, connection: Connection, party_id: str) -> list[KeyRecord]:
        """A party's keys, oldest first."""
        keys = self.tables["log_keys"]
        rows = connection.execute(sa.select(keys).where(keys.c.party_id == party_id)
                                  .order_by(keys.c.leaf_index)).all()
        return self._records(connection, rows)

    def all_keys(self, connection: Connection) -> list[KeyRecord]:
        """Every key, oldest first."""
        keys = self.tables["log_keys"]
        rows = connection.execute(sa.select(keys).order_by(keys.c.leaf_index)).all()
        return self._records(connection, rows)

    def _records(self, connection: Connection, rows: Sequence[sa.Row[Any]]) -> list[KeyRecord]:
        events = self._key_events(connection, [row.kid for row in rows])
        return [key_record(_key_row(row), events.get(row.kid, [])) for row in rows]

    def _key_events(self, connection: Connection,
                    kids: Sequence[str]) -> dict[str, list[KeyEvent]]:
        if not kids:
            return {}
        found: dict[str, list[KeyEvent]] = {}
        for start in range(0, len(kids), 500):  # bounded IN lists
            chunk = {"kids": list(kids[start:start + 500])}
            for row in connection.execute(self._queries.key_events_in, chunk):
                found.setdefault(row.kid, []).append(_key_event(row))
        return found

    def keys_many(self, connection: Connection, kids: Sequence[str]) -> dict[str, KeyRecord]:
        """The keys among `kids` that exist, with their retirements."""
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(kids):
            rows += connection.execute(self._queries.keys_in, {"kids": list(chunk)}).all()
        return {record.kid: record for record in self._records(connection, rows)}

    def party_tokens(self, connection: Connection, party_id: str, after: int, limit: int
                     ) -> list[TokenRow]:
        """A party's tokens after entry `after`, in log order, at most `limit`."""
        tokens = self.tables["log_tokens"]
        query = (sa.select(tokens).where(tokens.c.party_id == party_id,
                                         tokens.c.leaf_index > after)
                 .order_by(tokens.c.leaf_index).limit(limit))
        return [_token_row(row) for row in connection.execute(query)]

    def token_rows_many(self, connection: Connection,
                        digests: Sequence[str]) -> dict[str, TokenRow]:
        """The token rows among `digests` that exist."""
        found: dict[str, TokenRow] = {}
        for chunk in _chunks(digests):
            for row in connection.execute(self._queries.tokens_in, {"digests": list(chunk)}):
                found[row.digest] = _token_row(row)
        return found

    def token_events_many(self, connection: Connection,
                          digests: Sequence[str]) -> dict[str, list[TokenEvent]]:
        """The events of each of `digests`, in log order."""
        found: dict[str, list[TokenEvent]] = {}
        for chunk in _chunks(digests):
            query, values = self._queries.token_events_in, {"digests": list(chunk)}
            for r in connection.execute(query, values):
                found.setdefault(r.digest, []).append(_token_event(r))
        return found

    def token_rows_before(self, connection: Connection, digests: Sequence[str],
                          before: int) -> dict[str, TokenRow]:
        """The token rows among `digests` logged at an index below `before`.

        The bound is in the query, so the rows at or after it (an audit asks a page of the
        log for its own, new, tokens) are never fetched, only looked up in the index.
        """
        found: dict[str, TokenRow] = {}
        for chunk in _chunks(digests):
            values = {"digests": list(chunk), "before": before}
            for row in connection.execute(self._queries.tokens_in_before, values):
                found[row.digest] = _token_row(row)
        return found

    def token_events_before(self, connection: Connection, digests: Sequence[str],
                            before: int) -> dict[str, list[TokenEvent]]:
        """The events below index `before` of each of `digests`, in log order."""
        found: dict[str, list[TokenEvent]] = {}
        for chunk in _chunks(digests):
            values = {"digests": list(chunk), "before": before}
            for r in connection.execute(self._queries.token_events_in_before, values):
                found.setdefault(r.digest, []).append(_token_event(r))
        return found

    def shipment_tokens_many(self, connection: Connection, pairs: Sequence[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
        """The last token of each (party, shipment) pair that has one."""
        by_party: dict[str, list[str]] = {}
        for party_id, shipment in pairs:
            by_party.setdefault(party_id, []).append(shipment)
        found: dict[tuple[str, str], tuple[int, str]] = {}
        for party_id, shipments in by_party.items():  # (party, shipment) index prefix
            for chunk in _chunks(shipments):
                values = {"party": party_id, "shipments": list(chunk)}
                for shipment, index, digest in connection.execute(
                        self._queries.shipment_tokens_in, values):
                    best = found.get((party_id, shipment))
                    if best is None or int(index) > best[0]:
                        found[party_id, shipment] = (int(index), str(digest))
        return {pair: digest for pair, (_, digest) in found.items()}

    def key_histories(self, connection: Connection, kids: Sequence[str]
                      ) -> dict[str, tuple[KeyRow, list[KeyEvent]]]:
        """Each existing key's row and raw events (for reading the state as of an entry)."""
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(kids):
            rows += connection.execute(self._queries.keys_in, {"kids": list(chunk)}).all()
        events = self._key_events(connection, [row.kid for row in rows])
        return {row.kid: (_key_row(row), events.get(row.kid, [])) for row in rows}

    def party_key_histories(self, connection: Connection, party_id: str
                            ) -> list[tuple[KeyRow, list[KeyEvent]]]:
        """A party's keys with their raw events, oldest first."""
        keys = self.tables["log_keys"]
        rows = connection.execute(sa.select(keys).where(keys.c.party_id == party_id)
                                  .order_by(keys.c.leaf_index)).all()
        events = self._key_events(connection, [row.kid for row in rows])
        return [(_key_row(row), events.get(row.kid, [])) for row in rows]

    def shipment_token_rows(self, connection: Connection, party_id: str,
                            shipments: Sequence[str], before: int) -> list[TokenRow]:
        """Every token a party logged for any of `shipments` below index `before`."""
        found: list[TokenRow] = []
        for chunk in _chunks(shipments):
            values = {"party": party_id, "shipments": list(chunk), "before": before}
            found += [_token_row(r) for r in connection.execute(
                self._queries.shipment_rows_in, values)]
        return found

    def derived_rows(self, connection: Connection, start: int, end: int) -> DerivedRows:
        """The rows entries start <= index < end produced, each list in index order."""
        def between(name: str) -> list[sa.Row[Any]]:
            table = self.tables[name]
            return list(connection.execute(
                sa.select(table).where(table.c.leaf_index >= start, table.c.leaf_index < end)
                .order_by(table.c.leaf_index)))

        return DerivedRows(keys=[_key_row(r) for r in between("log_keys")],
                           key_events=[_key_event(r) for r in between("log_key_events")],
                           tokens=[_token_row(r) for r in between("log_tokens")],
                           token_events=[_token_event(r) for r in between("log_token_events")])

    def token_row(self, connection: Connection, digest: str) -> TokenRow | None:
        """A token's row."""
        row = connection.execute(self._queries.token, {"digest": digest}).first()
        return None if row is None else _token_row(row)

    def token_events(self, connection: Connection, digest: str) -> list[TokenEvent]:
        """A token's events in log order."""
        rows = connection.execute(self._queries.token_events, {"digest": digest})
        return [_token_event(r) for r in rows]

    def shipment_token(self, connection: Connection, party_id: str,
                       shipment: str) -> str | None:
        """The last token of a party for a shipment."""
        value = connection.execute(self._queries.shipment_token, {
            "party": party_id, "shipment": shipment}).scalar_one_or_none()
        return None if value is None else str(value)

    def tokens_with_prefix(self, connection: Connection, prefix: str, limit: int) -> list[str]:
        """Digests starting with `prefix`: a range on the primary key (hex sorts as text)."""
        tokens = self.tables["log_tokens"]
        query = (sa.select(tokens.c.digest)
                 .where(tokens.c.digest >= prefix, tokens.c.digest < prefix + "g")
                 .order_by(tokens.c.digest).limit(limit))
        return [str(d) for d in connection.execute(query).scalars()]

    def tile(self, connection: Connection, level: int, index: int) -> bytes | None:
        """A full tile's hashes."""
        value = connection.execute(self._queries.tile, {
            "level": level, "index": index}).scalar_one_or_none()
        return None if value is None else bytes(value)

    def tile_roots(self, connection: Connection, level: int, start: int,
                   end: int) -> list[bytes]:
        """Roots of the full tiles in [start, end) at `level`, in order."""
        found = connection.execute(self._queries.tile_roots, {
            "level": level, "start": start, "end": end}).scalars().all()
        return [bytes(root) for root in found]


@dataclass(frozen=True)
class _Queries:
    """Prebuilt look-ups on the derived tables; values go in as bound parameters."""

    key: sa.Select[Any]
    keys_in: sa.Select[Any]
    key_events_in: sa.Select[Any]
    token: sa.Select[Any]
    tokens_in: sa.Select[Any]
    tokens_in_before: sa.Select[Any]
    token_events: sa.Select[Any]
    token_events_in: sa.Select[Any]
    token_events_in_before: sa.Select[Any]
    shipment_token: sa.Select[Any]
    shipment_tokens_in: sa.Select[Any]
    shipment_rows_in: sa.Select[Any]
    tile: sa.Select[Any]
    tile_roots: sa.Select[Any]

    @classmethod
    def of(cls, tables: dict[str, sa.Table], *, postgres: bool = False) -> _Queries:
        """The look-ups on `tables`. "Column among a list" is ``IN (...)`` with one bound
        parameter per item on SQLite, and ``= ANY(%s)`` with one array parameter on
        PostgreSQL: an ``IN`` list of 256 parameters cost ~8 ms per query through
        SQLAlchemy and psycopg (expanding and binding each), the array one parameter.
        """
        keys, key_events = tables["log_keys"], tables["log_key_events"]
        tokens, events, tiles = tables["log_tokens"], tables["log_token_events"], \
            tables["log_tiles"]

        def among(column: sa.Column[Any], name: str) -> sa.ColumnElement[bool]:
            if postgres:
                array = sa.bindparam(name, type_=sa.ARRAY(column.type))
                return column == sa.any_(array)
            return column.in_(sa.bindparam(name, expanding=True))

        party = tokens.c.party_id == sa.bindparam("party")
        shipments = among(tokens.c.shipment, "shipments")
        before: sa.BindParameter[int] = sa.bindparam("before")
        return cls(
            key=sa.select(keys).where(keys.c.kid == sa.bindparam("kid")),
            keys_in=sa.select(keys).where(among(keys.c.kid, "kids")),
            key_events_in=sa.select(key_events).where(among(key_events.c.kid, "kids"))
            .order_by(key_events.c.leaf_index),
            token=sa.select(tokens).where(tokens.c.digest == sa.bindparam("digest")),
            tokens_in=sa.select(tokens).where(among(tokens.c.digest, "digests")),
            tokens_in_before=sa.select(tokens).where(among(tokens.c.digest, "digests"),
                                                     tokens.c.leaf_index < before),
            token_events=sa.select(events).where(events.c.digest == sa.bindparam("digest"))
            .order_by(events.c.leaf_index),
            token_events_in=sa.select(events).where(among(events.c.digest, "digests"))
            .order_by(events.c.leaf_index),
            token_events_in_before=sa.select(events)
            .where(among(events.c.digest, "digests"), events.c.leaf_index < before)
            .order_by(events.c.leaf_index),
            shipment_token=sa.select(tokens.c.digest)
            .where(party, tokens.c.shipment == sa.bindparam("shipment"))
            .order_by(tokens.c.leaf_index.desc()).limit(1),
            shipment_tokens_in=sa.select(tokens.c.shipment, tokens.c.leaf_index,
                                         tokens.c.digest)
            .where(party, shipments),
            shipment_rows_in=sa.select(tokens).where(party, shipments,
                                                     tokens.c.leaf_index < before),
            tile=sa.select(tiles.c.hashes).where(tiles.c.level == sa.bindparam("level"),
                                                 tiles.c.tile_index == sa.bindparam("index")),
            tile_roots=sa.select(tiles.c.root)
            .where(tiles.c.level == sa.bindparam("level"),
                   tiles.c.tile_index >= sa.bindparam("start"),
                   tiles.c.tile_index < sa.bindparam("end"))
            .order_by(tiles.c.tile_index),
        )


def _chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """Bounded ``IN`` lists (SQLite's default limit on parameters is 32,766)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def _key_row(row: sa.Row[Any]) -> KeyRow:
    return KeyRow(row.kid, int(row.leaf_index), row.party_id, bytes(row.public_key), row.party)


def _key_event(row: sa.Row[Any]) -> KeyEvent:
    since = row.compromised_since
    return KeyEvent(int(row.leaf_index), row.kid, None if since is None else int(since))


# The two below take rows of ``select(table)``: columns in the table's order (`_define`),
# unpacked as a tuple, which costs a third of six look-ups by name (an audit builds one
# per token it reads back).

def _token_event(row: Sequence[Any]) -> TokenEvent:
    index, digest, event, by_digest = row
    return TokenEvent(int(index), digest, TokenEventKind(event), by_digest)


def _token_row(row: Sequence[Any]) -> TokenRow:
    digest, index, issuer_kid, party_id, shipment, parents = row
    return TokenRow(digest, int(index), issuer_kid, party_id, shipment, tuple(parents.split()))


def index_tables(metadata: sa.MetaData, marker: str = "?") -> IndexTables:
    """Define the derived tables on `metadata` (once) and return their accessor."""
    if "log_tiles" in metadata.tables:
        tables = {name: metadata.tables[name] for name in DERIVED_TABLES}
    else:
        tables = _define(metadata)
    return IndexTables(tables, marker)


class BoundIndex:
    """The derived tables read through one open connection (`StateReader`, `TileSource`).

    For work that must see its own uncommitted rows: the backfill of migration 0003, and
    any caller already inside a transaction.
    """

    def __init__(self, index: IndexTables, connection: Connection,
                 entries: sa.Table) -> None:
        self._index = index
        self._connection = connection
        self._entries = entries

    @property
    def connection(self) -> Connection:
        """The open connection (its read transaction), for a look-up in another table of
        the same database that must see the same state (the held signing keys).
        """
        return self._connection

    def key(self, kid: str) -> KeyRecord | None:
        """See `IndexTables.key`."""
        return self._index.key(self._connection, kid)

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """See `IndexTables.party_keys`."""
        return self._index.party_keys(self._connection, party_id)

    def token_row(self, digest: str) -> TokenRow | None:
        """See `IndexTables.token_row`."""
        return self._index.token_row(self._connection, digest)

    def token_events(self, digest: str) -> list[TokenEvent]:
        """See `IndexTables.token_events`."""
        return self._index.token_events(self._connection, digest)

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """See `IndexTables.shipment_token`."""
        return self._index.shipment_token(self._connection, party_id, shipment)

    def keys_many(self, kids: Sequence[str]) -> dict[str, KeyRecord]:
        """See `IndexTables.keys_many`."""
        return self._index.keys_many(self._connection, kids)

    def token_rows_many(self, digests: Sequence[str]) -> dict[str, TokenRow]:
        """See `IndexTables.token_rows_many`."""
        return self._index.token_rows_many(self._connection, digests)

    def token_events_many(self, digests: Sequence[str]) -> dict[str, list[TokenEvent]]:
        """See `IndexTables.token_events_many`."""
        return self._index.token_events_many(self._connection, digests)

    def shipment_tokens_many(self, pairs: Sequence[tuple[str, str]]
                             ) -> dict[tuple[str, str], str]:
        """See `IndexTables.shipment_tokens_many`."""
        return self._index.shipment_tokens_many(self._connection, pairs)

    def key_histories(self, kids: Sequence[str]) -> dict[str, tuple[KeyRow, list[KeyEvent]]]:
        """See `IndexTables.key_histories`."""
        return self._index.key_histories(self._connection, kids)

    def party_key_histories(self, party_id: str) -> list[tuple[KeyRow, list[KeyEvent]]]:
        """See `IndexTables.party_key_histories`."""
        return self._index.party_key_histories(self._connection, party_id)

    def shipment_token_rows(self, party_id: str, shipments: Sequence[str],
                            before: int) -> list[TokenRow]:
        """See `IndexTables.shipment_token_rows`."""
        return self._index.shipment_token_rows(self._connection, party_id, shipments, before)

    def token_rows_before(self, digests: Sequence[str], before: int) -> dict[str, TokenRow]:
        """See `IndexTables.token_rows_before`."""
        return self._index.token_rows_before(self._connection, digests, before)

    def token_events_before(self, digests: Sequence[str],
                            before: int) -> dict[str, list[TokenEvent]]:
        """See `IndexTables.token_events_before`."""
        return self._index.token_events_before(self._connection, digests, before)

    def size(self) -> int:
        """Entries in the log as this connection sees it."""
        entries = self._entries
        next_index = sa.func.coalesce(sa.func.max(entries.c.leaf_index) + 1, 0)
        return int(self._connection.execute(sa.select(next_index)).scalar_one())

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes of the entries start <= index < end."""
        entries = self._entries
        query = (sa.select(entries.c.leaf_hash)
                 .where(entries.c.leaf_index >= start, entries.c.leaf_index < end)
                 .order_by(entries.c.leaf_index))
        return [bytes(h) for h in self._connection.execute(query).scalars()]

    def tile(self, level: int, index: int) -> bytes | None:
        """See `IndexTables.tile`."""
        return self._index.tile(self._connection, level, index)

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        """See `IndexTables.tile_roots`."""
        return self._index.tile_roots(self._connection, level, start, end)


def backfill(connection: Connection, index: IndexTables, entries: sa.Table,
             batch: int = 10_000) -> int:
    """Derive the index and tiles of every entry already logged; return the entry count.

    Migration 0003 runs this once for a ledger written before the derived tables existed.
    It streams the log in batches (memory bounded by the batch, not the log), derives each
    statement's rows the way appends do (`ledger.state.derive`, over what earlier batches
    wrote) and writes the tiles each batch completes. Statements were authorised when they
    were logged; `tmec log audit` rechecks them and compares these rows with a replay.
    """
    bound = BoundIndex(index, connection, entries)
    done = 0
    while True:
        rows = connection.execute(
            sa.select(entries.c.leaf_index, entries.c.leaf_hash, entries.c.body)
            .where(entries.c.leaf_index >= done).order_by(entries.c.leaf_index)
            .limit(batch)).all()
        if not rows:
            return done
        state = BatchState(bound)
        leaves: list[bytes] = []
        for leaf_index, leaf, body in rows:
            if int(leaf_index) != done + len(leaves):
                raise TamperedError(f"log entry {done + len(leaves)} is missing: the "
                                    "derived tables cannot be built over a gap")
            state.apply(int(leaf_index), parse_statement(bytes(body)))
            leaves.append(bytes(leaf))
        index.write(connection, state.rows, completed_tiles(bound, done, leaves))
        done += len(leaves)
