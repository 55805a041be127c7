"""`SqlStore`: the ledger's `LogStore` on SQLite (the default) or PostgreSQL (by URL).

The same tables serve both engines; the database URL chooses one:

* ``sqlite:///path/ledger.db`` — one local file, nothing to install. Every connection runs
  in WAL mode with ``synchronous=FULL`` (a commit is on disk when `append` returns; WAL with
  NORMAL would only be safe against a crash of the process, not of the machine), foreign
  keys on and a busy timeout, so a second process waits for the lock instead of failing.
* ``postgresql+psycopg://user@host/db`` (``postgresql://`` means the same) — for anyone who
  outgrows one machine: many stateless API workers, one sequencer elected by an advisory
  lock.

`SqlStore.open(url)` brings the schema to the newest Alembic revision (the migration
environment ships inside the package, `ledger/store/sql_migrations/`, and runs without an
``alembic.ini``) and returns the store; `SqlStore(url)` skips the migration, for processes
that must not run DDL. Alembic is imported only when a migration has to run: a schema
already at head is recognised with one query (`migrate`), which keeps Alembic's import
(a third of a CLI command's start-up) off every command but the first.

**No ORM at all.** The `*Row` names are SQLAlchemy Core tables (`sa.Table`) on `METADATA`:
the schema in one place, for Alembic and any admin tooling (``sa.select(LogEntryRow)``).
They were SQLModel classes, whose import (SQLModel, Pydantic, the SQLAlchemy ORM) added to
every command's start-up (bench/RESULTS.md, "Start-up time") while nothing used them as
objects. `append` is one driver-level ``executemany`` INSERT per batch
(``exec_driver_sql``) in one transaction, and reads are Core selects streamed in
key-ordered pages. Measured on this project: the ORM unit of work costs about
ten times a Core executemany, and Core's per-row parameter processing in turn about as
much CPU as SQLite's own insert work, hence the driver level.

**Single writer.** Indices are assigned as the current size inside the writer section, and
the primary key on ``leaf_index`` refuses any reuse, so the log stays dense even if two
sequencers ever raced. How the section is made exclusive:

* PostgreSQL: `writer()` pins one connection to the calling thread and holds the session
  advisory lock ``pg_advisory_lock(_SEQUENCER_LOCK)`` on it until the section ends (several
  transactions — append, then record the checkpoint — can run inside). An `append` outside
  a section takes ``pg_advisory_xact_lock`` on the same key for its own transaction; inside
  a section it runs on the pinned connection, where the lock is re-entrant. Other processes
  and threads wait for the lock; a crashed sequencer's session ends and frees it.
* SQLite: `writer()` takes a re-entrant in-process lock plus an exclusive ``flock`` on a
  side file ``<database>-writer.lock`` (held across several transactions, which SQLite's own
  lock cannot be without keeping a write transaction open and so delaying durability), and
  every write transaction starts with ``BEGIN IMMEDIATE``: the database write lock is taken
  *before* the size is read, so a writer that ignores the side file still cannot
  interleave. pysqlite's implicit transactions are switched off for this (we emit ``BEGIN``
  ourselves, which also makes Alembic's DDL transactional on SQLite). Where ``fcntl`` is
  missing (Windows) only the in-process lock and ``BEGIN IMMEDIATE`` remain.

**Append-only in the database, not only in this code.** No code path here updates or
deletes. The initial migration adds triggers that refuse UPDATE and DELETE on
``log_entries``, ``log_blobs`` and ``log_checkpoints`` (and TRUNCATE on PostgreSQL, where
they are also ``ENABLE ALWAYS`` so ``session_replication_role = replica`` does not silence
them; on SQLite a BEFORE INSERT trigger also refuses ``INSERT OR REPLACE`` over an
existing row, which would otherwise delete it without firing the DELETE trigger). Every
refusal names the table and says it is append-only.

**Errors** are mapped at this boundary: integrity violations become `ConflictError`,
connection and operational failures (server down, "database is locked", deadlock, lock
timeout) `StoreUnavailableError`, both raised ``from`` the driver error. Anything else is
a bug and propagates as is.

**Tamper evidence.** The store keeps each entry's canonical statement bytes, so an audit
can recompute every leaf hash; `find_tampered` does exactly that through the protocol. To
simulate a rogue DBA (as the tests do), drop the guard and edit a row::

    -- SQLite
    DROP TRIGGER log_entries_no_update;
    UPDATE log_entries SET body = CAST('{}' AS BLOB) WHERE leaf_index = 1;
    -- PostgreSQL
    DROP TRIGGER log_entries_no_update_delete ON log_entries;
    UPDATE log_entries SET body = convert_to('{}', 'UTF8') WHERE leaf_index = 1;

after which ``find_tampered(store) == [1]``. An edit that also rewrites ``leaf_hash``
passes this check but changes the Merkle root, which signed checkpoints and witnesses catch.
A deleted row makes `entries` and `leaf_hashes` raise `TamperedError` rather than silently
shift every later entry; `iter_entries` skips it so an audit can go on and report it.

What this module does not do: verify leaf hashes on append (the core computes them), judge
whether a new checkpoint text only adds cosignatures (the core's checkpoint logic does), or
support in-memory SQLite (a ``:memory:`` database is private to one connection; use
`MemoryStore` or a file under a temporary directory).
"""

from __future__ import annotations

import ast
import hashlib
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ledger.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OutOfRangeError,
    StoreUnavailableError,
    TamperedError,
)
from ledger.keys import KeyRecord
from ledger.merkle import leaf_hash
from ledger.state import DerivedRows, TokenEvent, TokenRow
from ledger.store.base import EntryRecord, LogStore, NewEntry
from ledger.store.sql_accounts import (
    GRANT_CHANGE_TABLES,
    IDENTITY_TABLES,
    account_tables,
    grant_change_tables,
    identity_tables,
)
from ledger.store.sql_index import DERIVED_TABLES, BoundIndex, index_tables
from ledger.store.sql_web import SIGNIN_TABLES, WEB_TABLES, signin_tables, web_tables
from ledger.tiles import Tile

if sys.platform != "win32":  # POSIX: a cross-process writer lock for SQLite files.
    import fcntl

if TYPE_CHECKING:  # Alembic is imported only when a migration has to run (`migrate`).
    from alembic.config import Config

__all__ = [
    "ACCOUNT_TABLES",
    "APPEND_ONLY_TABLES",
    "METADATA",
    "VERSION_TABLE",
    "BlobRow",
    "CheckpointRow",
    "DisclosureRow",
    "LogEntryRow",
    "SqlStore",
    "create_ledger_engine",
    "find_tampered",
    "lock_for_migration",
    "store_errors",
    "transaction",
]

# Advisory lock keys (64-bit, fixed): ASCII "tmec_log" and "tmec_mig". Fixed so that every
# process of every version agrees on them; distinct so a migration never waits on appends.
_SEQUENCER_LOCK: Final = 0x746D_6563_5F6C_6F67
_MIGRATION_LOCK: Final = 0x746D_6563_5F6D_6967

# Execution option read by the SQLite "begin" hook: which BEGIN to emit.
_SQLITE_BEGIN: Final = "ledger_sqlite_begin"

VERSION_TABLE: Final = "ledger_alembic_version"
"""Alembic's bookkeeping table, named for the ledger so it can share a database."""

ACCOUNT_TABLES: Final = ("api_accounts", "api_keys", "api_key_revocations", "api_grants",
                         "api_party_keys", "api_disclosures", "api_status_indices",
                         "api_status_tokens")
"""The HTTP API's accounts, keys, grants and held signing keys (migration 0004), and the
parties' issuer identities (migration 0007)."""

APPEND_ONLY_TABLES: Final = ("log_entries", "log_blobs", "log_checkpoints", "log_disclosures",
                             *DERIVED_TABLES, *ACCOUNT_TABLES, *WEB_TABLES,
                             *SIGNIN_TABLES, *IDENTITY_TABLES, *GRANT_CHANGE_TABLES)
"""The tables whose rows the database itself refuses to change or remove."""

_MIGRATIONS: Final = "ledger.store:sql_migrations"
_VERSIONS: Final = Path(__file__).with_name("sql_migrations") / "versions"

# Alembic's `context` and `op` are module-level proxies: two threads of one process must not
# run migrations at the same time (other processes are kept out by `lock_for_migration`).
_MIGRATING = threading.Lock()

METADATA: Final = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
})
"""The ledger's own MetaData, so its tables never mix with another app's tables."""

# INTEGER on SQLite makes the key the rowid (the table is clustered on it, and an omitted
# value autoincrements); BIGINT elsewhere, since a log outgrows 2**31 entries.
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


LogEntryRow: Final = sa.Table(
    "log_entries", METADATA,
    sa.Column("leaf_index", _BIGINT, primary_key=True, autoincrement=False),
    sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("kind", sa.String, nullable=False, index=True),
    sa.Column("token_digest", sa.String, nullable=True, index=True),
    sa.Column("key_id", sa.String, nullable=True, index=True),
)
"""One row per log entry: the canonical statement bytes, their leaf hash and lookup keys."""

BlobRow: Final = sa.Table(
    "log_blobs", METADATA,
    sa.Column("digest", sa.String, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
"""Content-addressed documents (origin tokens), each stored once under its digest."""

CheckpointRow: Final = sa.Table(
    "log_checkpoints", METADATA,
    sa.Column("seq", _BIGINT, primary_key=True, autoincrement=True),
    sa.Column("tree_size", _BIGINT, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_sha256", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("tree_size", "text_sha256"),
    sa.Index("ix_log_checkpoints_tree_size_seq", "tree_size", "seq"),
)
"""Signed checkpoint texts by tree size; `seq` orders the texts recorded for one size.

A size gets a new row each time its checkpoint gains cosignatures; the earlier texts stay.
``text_sha256`` makes a text recorded twice for the same size a no-op without an index
over the (unbounded) text itself.
"""

DisclosureRow: Final = sa.Table(
    "log_disclosures", METADATA,
    sa.Column("token_digest", sa.String, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
"""The issuer's disclosure records of each token (salts and line records; private)."""


index_tables(METADATA)  # the derived tables (ledger.store.sql_index) join the schema
account_tables(METADATA)  # and the API's accounts (ledger.store.sql_accounts)
web_tables(METADATA)  # and the web pages' passwords and sessions (ledger.store.sql_web)
signin_tables(METADATA)  # and their sign-in attempts (ledger.store.sql_web, migration 0006)
identity_tables(METADATA)  # and the parties' issuer identities (sql_accounts, migration 0007)
grant_change_tables(METADATA)  # and brokers' grants withdrawn or renewed (migration 0008)

_ENTRIES: Final = METADATA.tables["log_entries"]
_WATERMARK: Final = (  # {} is max (SQLite's two-argument form) or GREATEST (PostgreSQL)
    "SELECT {}(coalesce((SELECT max(leaf_index) FROM log_token_events), -1), "
    "coalesce((SELECT max(leaf_index) FROM log_key_events), -1))")
_DISCLOSURES: Final = METADATA.tables["log_disclosures"]
_BLOBS: Final = METADATA.tables["log_blobs"]
_CHECKPOINTS: Final = METADATA.tables["log_checkpoints"]
_ENTRY_COLUMNS: Final = (
    _ENTRIES.c.leaf_index, _ENTRIES.c.leaf_hash, _ENTRIES.c.body, _ENTRIES.c.kind,
    _ENTRIES.c.token_digest, _ENTRIES.c.key_id,
)

# The statements a registration, a bundle or a verification runs many times, built once.
# SQLAlchemy compiles a statement once per shape, but building one and computing its cache
# key costs several hundred microseconds each time (measured: a size read 1.2 ms built per
# call, 0.5 ms prebuilt); the values travel as bound parameters instead.
_SIZE_QUERY: Final = sa.select(sa.func.coalesce(sa.func.max(_ENTRIES.c.leaf_index) + 1, 0))
_BLOB_QUERY: Final = sa.select(_BLOBS.c.data).where(_BLOBS.c.digest == sa.bindparam("digest"))
_BLOBS_IN: Final = _BLOBS.c.digest.in_(sa.bindparam("digests", expanding=True))
_BLOBS_QUERY: Final = sa.select(_BLOBS.c.digest, _BLOBS.c.data).where(_BLOBS_IN)
_BLOB_DIGESTS_QUERY: Final = sa.select(_BLOBS.c.digest).where(_BLOBS_IN)
# PostgreSQL: one array parameter instead of an IN list of one parameter per digest (see
# `ledger.store.sql_index._Queries.of`); an append's blob check runs one per batch.
_BLOBS_ANY: Final = _BLOBS.c.digest == sa.any_(
    sa.bindparam("digests", type_=sa.ARRAY(sa.String)))
_PG_BLOBS_QUERY: Final = sa.select(_BLOBS.c.digest, _BLOBS.c.data).where(_BLOBS_ANY)
_PG_BLOB_DIGESTS_QUERY: Final = sa.select(_BLOBS.c.digest).where(_BLOBS_ANY)
_DISCLOSURE_QUERY: Final = sa.select(_DISCLOSURES.c.data).where(
    _DISCLOSURES.c.token_digest == sa.bindparam("digest"))
_ENTRIES_AT_QUERY: Final = sa.select(*_ENTRY_COLUMNS).where(
    _ENTRIES.c.leaf_index.in_(sa.bindparam("indices", expanding=True)))
_LEAF_HASHES_QUERY: Final = (
    sa.select(_ENTRIES.c.leaf_hash)
    .where(_ENTRIES.c.leaf_index >= sa.bindparam("start"),
           _ENTRIES.c.leaf_index < sa.bindparam("end"))
    .order_by(_ENTRIES.c.leaf_index))
_LATEST_STATUS_QUERY: Final = (
    sa.select(*_ENTRY_COLUMNS)
    .where(_ENTRIES.c.token_digest == sa.bindparam("digest"), _ENTRIES.c.kind == "status",
           _ENTRIES.c.leaf_index < sa.bindparam("below"))
    .order_by(_ENTRIES.c.leaf_index.desc()).limit(1))
_CHECKPOINT_QUERY: Final = (
    sa.select(_CHECKPOINTS.c.text).where(_CHECKPOINTS.c.tree_size == sa.bindparam("size"))
    .order_by(_CHECKPOINTS.c.seq.desc()).limit(1))
_LATEST_CHECKPOINT_QUERY: Final = (
    sa.select(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.text)
    .order_by(_CHECKPOINTS.c.tree_size.desc(), _CHECKPOINTS.c.seq.desc()).limit(1))


# ---------------------------------------------------------------------------------------
# Engines


def create_ledger_engine(url: str | sa.URL, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for `url` configured the way the store relies on.

    Args:
        url: ``sqlite:///path`` (a file) or ``postgresql[+psycopg]://...``.
        busy_timeout: seconds a SQLite connection waits for another writer's lock before
            failing with "database is locked" (then `StoreUnavailableError`).

    Raises:
        InputError: an unsupported URL (other engine or driver, in-memory SQLite).
    """
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as e:
        raise InputError(f"not a database URL: {e}") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, busy_timeout)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise InputError("PostgreSQL URLs must use psycopg 3: postgresql+psycopg://...")
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        return sa.create_engine(parsed.set(drivername="postgresql+psycopg"),
                                pool_pre_ping=True, connect_args=connect_args)
    raise InputError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _sqlite_engine(url: sa.URL, busy_timeout: float) -> Engine:
    database = url.database
    if url.get_driver_name() != "pysqlite":
        raise InputError("SQLite URLs must use the standard driver: sqlite:///path")
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise InputError("in-memory SQLite is private to one connection; "
                         "use a file (sqlite:///path/ledger.db) or MemoryStore")
    # An absolute path: the database and its writer-lock side file must not move with cwd.
    url = url.set(database=str(Path(database).expanduser().resolve()))
    engine = sa.create_engine(
        url, connect_args={"timeout": busy_timeout, "check_same_thread": False})
    busy_ms = int(busy_timeout * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions away from pysqlite (it would BEGIN lazily and only before DML):
        # `on_begin` emits them, so BEGIN IMMEDIATE and transactional DDL are possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin)
    return engine


def lock_for_migration(connection: Connection) -> None:
    """Serialise schema migrations across processes (called by the migration env).

    On PostgreSQL a transaction-scoped advisory lock; on SQLite the ``BEGIN IMMEDIATE``
    the connection was opened with already holds the database's write lock. Either way a
    second process starting at the same moment waits, then finds the schema at head.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))


def _immediate(connection: Connection) -> Connection:
    """Mark `connection` so its next transaction begins with ``BEGIN IMMEDIATE`` (SQLite)."""
    return connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})


@contextmanager
def transaction(engine: Engine, action: str, *, write: bool) -> Iterator[Connection]:
    """One short transaction on `engine` for the service's own tables, errors translated.

    A transaction that writes begins ``IMMEDIATE`` on SQLite. A deferred one that reads
    first and then writes fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
    which the busy timeout does not wait on) whenever another connection committed between
    its read and its write; taking the write lock up front makes it wait its turn instead.
    Reads stay deferred: WAL readers never block and are never blocked.
    """
    with store_errors(action), engine.connect() as connection, \
            (_immediate(connection) if write else connection).begin():
        yield connection


def _alembic_config(connection: Connection) -> Config:
    """An Alembic config built in code: the package's migrations, `connection` to run on."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _revision_fields(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, down revisions) of one migration file, read as source, not imported.

    Importing it would import Alembic (``from alembic import op``), which is what this is
    for avoiding. Only plain literal assignments count; anything else gives None.
    """
    fields: dict[str, object] = {}
    try:
        body = ast.parse(path.read_bytes(), str(path)).body
    except SyntaxError:
        return None  # Alembic will report it
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                fields[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError):
                return None
    revision, down = fields.get("revision"), fields.get("down_revision")
    if not isinstance(revision, str):
        return None
    downs = (down,) if isinstance(down, str) else () if down is None else down
    if not isinstance(downs, tuple) or not all(isinstance(d, str) for d in downs):
        return None
    return revision, downs


@cache
def _head_revision() -> str | None:
    """The newest migration's revision id, found without importing Alembic.

    Opening a ledger whose schema is already current (every command but the first) then
    costs one query instead of Alembic's import and script scan, about a third of a CLI
    command's start-up. The files are the ones Alembic loads (`_VERSIONS`, ``*.py``);
    None when they do not form one chain with a single head, and Alembic decides.
    """
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted(_VERSIONS.glob("*.py")):
        if path.name == "__init__.py":
            continue
        fields = _revision_fields(path)
        if fields is None or fields[0] in revisions:
            return None
        revisions[fields[0]] = fields[1]
    heads = set(revisions) - {down for downs in revisions.values() for down in downs}
    return heads.pop() if len(heads) == 1 else None


# ---------------------------------------------------------------------------------------
# Errors


def _reason(error: sa_exc.SQLAlchemyError) -> str:
    """The driver's own first line, without SQLAlchemy's statement and parameter dump."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Turn driver errors into the ledger's error tree (the only place this happens)."""
    try:
        yield
    except sa_exc.IntegrityError as e:
        raise ConflictError(f"{action}: the database refused the write ({_reason(e)})") from e
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
            sa_exc.DisconnectionError) as e:
        raise StoreUnavailableError(
            f"{action}: the database is unavailable ({_reason(e)})") from e


# ---------------------------------------------------------------------------------------
# The store


def _missing(index: int) -> TamperedError:
    return TamperedError(f"log entry {index} is missing from the store "
                         "(deleted behind the ledger's back)")


def _record(row: Sequence[Any]) -> EntryRecord:
    index, hash_, body, kind, token_digest, key_id = row
    return EntryRecord(int(index), bytes(hash_), bytes(body), kind, token_digest, key_id)


class _SqlView(BoundIndex):
    """`StoreView` of the SQL store: the index's look-ups plus entries, statuses,
    checkpoints and blobs, all on one connection (one read transaction).
    """

    def entries_at(self, indices: Sequence[int]) -> dict[int, EntryRecord]:
        """The entries at `indices` (`TamperedError` for one that has no row)."""
        wanted = sorted(set(indices))
        rows = self._connection.execute(_ENTRIES_AT_QUERY, {"indices": wanted}).all()
        found = {record.index: record for record in map(_record, rows)}
        for index in wanted:
            if index not in found:
                raise _missing(index)
        return found

    def latest_status(self, digest: str, below: int) -> EntryRecord | None:
        """The last status statement about token `digest` at an index below `below`."""
        row = self._connection.execute(_LATEST_STATUS_QUERY,
                                       {"digest": digest, "below": below}).first()
        return None if row is None else _record(row)

    def size(self) -> int:
        """Entries in the log as this view's transaction sees it."""
        return int(self._connection.execute(_SIZE_QUERY).scalar_one())

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes of the entries start <= index < end."""
        values = {"start": start, "end": end}
        return [bytes(h) for h in self._connection.execute(_LEAF_HASHES_QUERY, values).scalars()]

    def checkpoint(self, size: int) -> str | None:
        """The most recently recorded checkpoint text for tree `size`, if any."""
        text = self._connection.execute(_CHECKPOINT_QUERY, {"size": size}).scalar_one_or_none()
        return None if text is None else str(text)

    def get_blob(self, digest: str) -> bytes | None:
        """The blob stored under `digest`, if any."""
        data = self._connection.execute(_BLOB_QUERY, {"digest": digest}).scalar_one_or_none()
        return None if data is None else bytes(data)


class SqlStore:
    """`LogStore` on SQLAlchemy Core over the tables of this module.

    Safe to share between threads: each call checks a connection out of the engine's pool
    (a thread inside `writer()` on PostgreSQL uses its pinned one). Create it after a fork,
    not before. `close()` (or ``with SqlStore.open(url) as store:``) releases the pool.
    """

    def __init__(self, url: str | sa.URL, *, busy_timeout: float = 30.0) -> None:
        """Connect lazily to `url` without touching the schema (see `open`)."""
        self._engine = create_ledger_engine(url, busy_timeout=busy_timeout)
        self._postgres = self._engine.dialect.name == "postgresql"
        marker = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        self._index = index_tables(METADATA, marker)
        self._insert_entry = (
            f"INSERT INTO {_ENTRIES.name} ({', '.join(c.name for c in _ENTRY_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(_ENTRY_COLUMNS))})")
        # A registration's blob and disclosure records, written in its append: driver-level
        # statements (building and compiling a Core statement per call cost more than
        # running it; a one-element IN list is compiled anew on every execution).
        self._blob_data = f"SELECT data FROM {_BLOBS.name} WHERE digest = {marker}"
        # `_pages`: a page of entry columns (driver level: an audit reads every entry).
        self._page_of = (f"SELECT leaf_index, {{}} FROM {_ENTRIES.name} "
                         f"WHERE leaf_index >= {marker} AND leaf_index < {marker} "
                         f"ORDER BY leaf_index LIMIT {marker}")
        self._insert_blob = f"INSERT INTO {_BLOBS.name} (digest, data) VALUES ({marker}, {marker})"
        self._disclosure_data = (f"SELECT data FROM {_DISCLOSURES.name} "
                                 f"WHERE token_digest = {marker}")
        self._insert_disclosure = (f"INSERT INTO {_DISCLOSURES.name} (token_digest, data) "
                                   f"VALUES ({marker}, {marker})")
        # SQLite writer section: one thread of this process, then one process (flock).
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_file: IO[bytes] | None = None
        # PostgreSQL writer section: the pinned connection and nesting depth, per thread.
        self._local = threading.local()

    @classmethod
    def open(cls, url: str | sa.URL, *, busy_timeout: float = 30.0,
             create: bool = True) -> SqlStore:
        """Open the store at `url`, bringing its schema to the newest migration first.

        With ``create=False`` the ledger must already exist: a SQLite file that is not
        there, or a database without the ledger's schema, is a `NotFoundError` instead of
        a new, empty ledger (a mistyped path must not look like a log with 0 entries).

        Raises:
            InputError: the URL names no supported database.
            NotFoundError: ``create=False`` and there is no ledger at `url`.
            StoreUnavailableError: the database cannot be reached or is locked.
        """
        store = cls(url, busy_timeout=busy_timeout)
        try:
            if not create:
                store._require_ledger()
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    def _require_ledger(self) -> None:
        """Raise `NotFoundError` unless `url` already holds a ledger schema."""
        database = self._engine.url.database
        if not self._postgres and database and not Path(database).is_file():
            raise NotFoundError(f"no ledger database {database}")
        with store_errors("open the ledger"), self._engine.connect() as connection:
            present = sa.inspect(connection).has_table(VERSION_TABLE)
        if not present:
            raise NotFoundError(f"the database {self._engine.url.render_as_string()} holds "
                                "no ledger")

    def migrate(self) -> None:
        """Run the Alembic migrations to head, in one transaction, serialised across processes.

        A schema already at head (read with one query) is left alone without importing
        Alembic at all; anything else (no schema, an older or unknown revision) goes to
        Alembic, which upgrades or refuses as before.
        """
        if self._schema_is_current():
            return
        from alembic import command

        with _MIGRATING, store_errors("migrate the ledger schema"), \
                self._engine.connect() as connection, _immediate(connection).begin():
            command.upgrade(_alembic_config(connection), "head")

    def _schema_is_current(self) -> bool:
        """Whether the version table holds exactly the head revision of `_VERSIONS`."""
        head = _head_revision()
        if head is None:
            return False
        with store_errors("read the ledger schema version"), self._engine.connect() as connection:
            if not sa.inspect(connection).has_table(VERSION_TABLE):
                return False
            versions = connection.execute(
                sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        return list(versions) == [head]

    @property
    def is_local(self) -> bool:
        """True for SQLite (a file on this machine), False for a PostgreSQL server."""
        return not self._postgres

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for health checks and administration, not for writes)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections and the writer lock file."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A short read transaction (deferred on SQLite: WAL readers never block)."""
        with self._engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that holds the database write lock from its first statement."""
        with self._engine.connect() as connection, _immediate(connection).begin():
            yield connection

    @contextmanager
    def _append_transaction(self) -> Iterator[Connection]:
        """The transaction of one append, inside the writer section."""
        if self._postgres:
            pinned: Connection | None = getattr(self._local, "connection", None)
            source: AbstractContextManager[Connection] = (
                nullcontext(pinned) if pinned is not None else self._engine.connect())
            with source as connection, connection.begin():
                if pinned is None:  # not inside writer(): lock for this transaction only
                    connection.execute(
                        sa.select(sa.func.pg_advisory_xact_lock(_SEQUENCER_LOCK)))
                yield connection
        else:
            with self._sqlite_writer(), self._write() as connection:
                yield connection

    # -- LogStore -------------------------------------------------------------------

    @staticmethod
    def _size(connection: Connection) -> int:
        # MAX + 1 walks the primary key's index; COUNT(*) would scan the table. Equal,
        # because indices are dense.
        return int(connection.execute(_SIZE_QUERY).scalar_one())

    def size(self) -> int:
        """Number of entries in the log."""
        with store_errors("read the log size"), self._read() as connection:
            return self._size(connection)

    def append(self, entries: Sequence[NewEntry], *, require_blobs: Sequence[str] = (),
               derived: DerivedRows | None = None, tiles: Sequence[Tile] = (),
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> int:
        """Append `entries` in one transaction, durably; return the index of the first.

        The indices are the log size read under the writer lock, so they are dense; the
        rows go in as one driver-level ``executemany`` (the ORM is kept off this path).
        `require_blobs` are checked in the same transaction (`NotFoundError` for the first
        missing one): one query, no second round trip.
        """
        with store_errors("append to the log"), self._append_transaction() as connection:
            if blobs:
                self._insert_blobs(connection, blobs)
            for digest, records in disclosures:
                self._insert_disclosures(connection, digest, records)
            # A token stored by this very transaction (a registration's) is there: only
            # the others are looked up.
            stored = {digest for digest, _ in blobs}
            wanted = [d for d in dict.fromkeys(require_blobs) if d not in stored]
            if wanted:
                missing = set(wanted) - set(self._existing_blobs(connection, wanted,
                                                                 data=False))
                if missing:
                    raise NotFoundError(f"token {sorted(missing)[0]} is not stored in the "
                                        "ledger: an entry is logged only after its token")
            first = self._size(connection)
            if entries:
                connection.exec_driver_sql(self._insert_entry, [
                    (first + n, e.leaf_hash, e.body, e.kind, e.token_digest, e.key_id)
                    for n, e in enumerate(entries)
                ])
            self._index.write(connection, derived, tiles)
            return first

    # -- derived state and tiles (ledger.store.sql_index) -------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[_SqlView]:
        """One read transaction for many look-ups (a consistent view of committed rows)."""
        with store_errors("read the ledger"), self._read() as connection:
            yield _SqlView(self._index, connection, _ENTRIES)

    def key(self, kid: str) -> KeyRecord | None:
        """The key `kid` with its retirements, if the log added it."""
        with store_errors("read a key"), self._read() as connection:
            return self._index.key(connection, kid)

    def party_keys(self, party_id: str) -> list[KeyRecord]:
        """Every key of a party, oldest first."""
        with store_errors("read a party's keys"), self._read() as connection:
            return self._index.party_keys(connection, party_id)

    def all_keys(self) -> list[KeyRecord]:
        """Every key, oldest first."""
        with store_errors("list the keys"), self._read() as connection:
            return self._index.all_keys(connection)

    def token_row(self, digest: str) -> TokenRow | None:
        """Where and by whom token `digest` was logged."""
        with store_errors("read a token"), self._read() as connection:
            return self._index.token_row(connection, digest)

    def token_events(self, digest: str) -> list[TokenEvent]:
        """The revocations and supersessions of a token, in log order."""
        with store_errors("read a token's events"), self._read() as connection:
            return self._index.token_events(connection, digest)

    def shipment_token(self, party_id: str, shipment: str) -> str | None:
        """The token a party logged last for a shipment."""
        with store_errors("read a shipment"), self._read() as connection:
            return self._index.shipment_token(connection, party_id, shipment)

    def tokens_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` token digests starting with `prefix`."""
        with store_errors("look up a token prefix"), self._read() as connection:
            return self._index.tokens_with_prefix(connection, prefix, limit)

    def derived_rows(self, start: int, end: int) -> DerivedRows:
        """The derived rows of entries start <= index < end, in index order."""
        with store_errors("read derived rows"), self._read() as connection:
            return self._index.derived_rows(connection, start, end)

    def latest_status(self, digest: str, below: int) -> EntryRecord | None:
        """The last status statement about token `digest` at an index below `below`."""
        with self.snapshot() as view:
            return view.latest_status(digest, below)

    def tile(self, level: int, index: int) -> bytes | None:
        """A full tile's 8,192 bytes, if complete."""
        with store_errors("read a tile"), self._read() as connection:
            return self._index.tile(connection, level, index)

    def tile_roots(self, level: int, start: int, end: int) -> list[bytes]:
        """Roots of the full tiles in [start, end) at `level`."""
        with store_errors("read tile roots"), self._read() as connection:
            return self._index.tile_roots(connection, level, start, end)

    def _check_range(self, start: int, end: int) -> None:
        size = self.size()
        if not 0 <= start <= end <= size:
            raise OutOfRangeError(f"entries {start}..{end} are outside a log of size {size}")

    def _pages(self, columns: Sequence[sa.Column[Any]], start: int, end: int,
               batch: int, *, dense: bool) -> Iterator[Sequence[Any]]:
        """Rows start <= leaf_index < end, fetched in key-ordered pages of `batch`.

        Each page is its own short transaction (no server-side cursor or snapshot held
        open while the caller works); the rows below `end` never change, so the pages join
        up into one consistent range. With `dense`, a missing index (a row deleted behind
        the ledger's back) raises `TamperedError` instead of shifting every later entry.
        """
        query = self._page_of.format(", ".join(c.name for c in columns))
        position = start
        while position < end:
            with store_errors("read log entries"), self._read() as connection:
                rows = connection.exec_driver_sql(query, (position, end, batch)).all()
            if not rows:
                break
            for row in rows:
                if dense and row[0] != position:
                    raise _missing(position)
                yield row[1:]
                position = int(row[0]) + 1
        if dense and position < end:
            raise _missing(position)

    def entries(self, start: int, end: int) -> list[EntryRecord]:
        """Entries with start <= index < end (`OutOfRangeError` beyond the size).

        Raises:
            OutOfRangeError: the range is not inside the log.
            TamperedError: an index in the range has no row.
        """
        self._check_range(start, end)
        return [_record(row)
                for row in self._pages(_ENTRY_COLUMNS, start, end, 10_000, dense=True)]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes with start <= index < end (errors as for `entries`)."""
        self._check_range(start, end)
        return [bytes(row[0]) for row in
                self._pages((_ENTRIES.c.leaf_hash,), start, end, 50_000, dense=True)]

    def find(self, *, token_digest: str | None = None, key_id: str | None = None,
             kind: str | None = None) -> list[EntryRecord]:
        """Entries matching every given criterion, in log order (all of them if none)."""
        criteria = [column == value for column, value in (
            (_ENTRIES.c.token_digest, token_digest), (_ENTRIES.c.key_id, key_id),
            (_ENTRIES.c.kind, kind)) if value is not None]
        query = sa.select(*_ENTRY_COLUMNS).where(*criteria).order_by(_ENTRIES.c.leaf_index)
        with store_errors("search the log"), self._read() as connection:
            return [_record(row) for row in connection.execute(query)]

    def iter_entries(self, batch: int = 10_000, *, start: int = 0,
                     end: int | None = None) -> Iterator[EntryRecord]:
        """Entries start <= index < end (default: the size when iteration starts) in log
        order, `batch` at a time.

        A row deleted behind the ledger's back is skipped, not raised: an audit sees the
        jump in `index` and goes on to report everything else.
        """
        if batch < 1:
            raise InputError(f"batch must be positive, not {batch}")
        if end is None:
            end = self.size()
        for row in self._pages(_ENTRY_COLUMNS, start, end, batch, dense=False):
            yield _record(row)

    def shared_url(self) -> str:
        """This store's URL with its password (a SQLite path is absolute already)."""
        return self._engine.url.render_as_string(hide_password=False)

    def _blob(self, connection: Connection, digest: str) -> bytes | None:
        data = connection.execute(_BLOB_QUERY, {"digest": digest}).scalar_one_or_none()
        return None if data is None else bytes(data)

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store a blob once; the same bytes again are fine, other bytes a `ConflictError`."""
        data = bytes(data)
        with store_errors(f"store blob {digest}"):
            try:
                with self._write() as connection:
                    existing = self._blob(connection, digest)
                    if existing is None:
                        connection.execute(_BLOBS.insert(), {"digest": digest, "data": data})
                        return
            except sa_exc.IntegrityError:
                # PostgreSQL (read committed): another writer stored it after our read.
                with self._read() as connection:
                    existing = self._blob(connection, digest)
                if existing is None:
                    raise
        if existing != data:
            raise ConflictError(f"a different document is already stored as {digest}")

    def get_blob(self, digest: str) -> bytes | None:
        """The blob stored under `digest`, if any."""
        with store_errors(f"read blob {digest}"), self._read() as connection:
            return self._blob(connection, digest)

    def get_blobs(self, digests: Sequence[str]) -> dict[str, bytes]:
        """The blobs stored under any of `digests` (one query per 500)."""
        with store_errors("read blobs"), self._read() as connection:
            return self._existing_blobs(connection, list(dict.fromkeys(digests)))

    def put_blobs(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Store several blobs in one transaction (same rules as `put_blob`, all or none)."""
        wanted = {digest: bytes(data) for digest, data in blobs}
        if not wanted:
            return
        with store_errors("store blobs"), self._write() as connection:
            self._insert_blobs(connection, blobs)

    def _insert_blobs(self, connection: Connection, blobs: Sequence[tuple[str, bytes]]) -> None:
        wanted = {digest: bytes(data) for digest, data in blobs}
        if len(wanted) == 1:  # a registration's token: two driver-level statements
            ((digest, data),) = wanted.items()
            row = connection.exec_driver_sql(self._blob_data, (digest,)).first()
            if row is None:
                connection.exec_driver_sql(self._insert_blob, (digest, data))
            elif bytes(row[0]) != data:
                raise ConflictError(f"a different document is already stored as {digest}")
            return
        existing = self._existing_blobs(connection, list(wanted))
        for digest, data in existing.items():
            if data != wanted[digest]:
                raise ConflictError(f"a different document is already stored as {digest}")
        new = [{"digest": d, "data": data} for d, data in wanted.items() if d not in existing]
        if new:
            connection.execute(_BLOBS.insert(), new)

    def _insert_disclosures(self, connection: Connection, digest: str, data: bytes) -> None:
        row = connection.exec_driver_sql(self._disclosure_data, (digest,)).first()
        existing = None if row is None else row[0]
        if existing is None:
            connection.exec_driver_sql(self._insert_disclosure, (digest, bytes(data)))
        elif bytes(existing) != bytes(data):
            raise ConflictError(f"other disclosure records are already stored for {digest}")

    @staticmethod
    def _existing_blobs(connection: Connection, digests: list[str], *,
                        data: bool = True) -> dict[str, bytes]:
        """The stored blobs among `digests` (with ``data=False``: digests only, b"")."""
        found: dict[str, bytes] = {}
        if connection.dialect.name == "postgresql":
            query = _PG_BLOBS_QUERY if data else _PG_BLOB_DIGESTS_QUERY
        else:
            query = _BLOBS_QUERY if data else _BLOB_DIGESTS_QUERY
        for start in range(0, len(digests), 500):  # bounded IN lists
            for row in connection.execute(query, {"digests": digests[start:start + 500]}):
                found[str(row[0])] = bytes(row[1]) if data else b""
        return found


    def put_disclosures(self, digest: str, data: bytes) -> None:
        """Store a token's disclosure records once (same bytes again: fine; others: conflict)."""
        data = bytes(data)
        known, value = _DISCLOSURE_QUERY, {"digest": digest}
        with store_errors(f"store the disclosure records of {digest}"):
            try:
                with self._write() as connection:
                    existing = connection.execute(known, value).scalar_one_or_none()
                    if existing is None:
                        connection.execute(_DISCLOSURES.insert(),
                                           {"token_digest": digest, "data": data})
                        return
            except sa_exc.IntegrityError:
                with self._read() as connection:
                    existing = connection.execute(known, value).scalar_one_or_none()
                if existing is None:
                    raise
        if bytes(existing) != data:
            raise ConflictError(f"other disclosure records are already stored for {digest}")

    def get_disclosures(self, digest: str) -> bytes | None:
        """The disclosure records stored for token `digest`, if any."""
        with store_errors(f"read the disclosure records of {digest}"), self._read() as connection:
            data = connection.execute(_DISCLOSURE_QUERY, {"digest": digest}).scalar_one_or_none()
        return None if data is None else bytes(data)

    def iter_checkpoints(self, batch: int = 1_000) -> Iterator[tuple[int, str]]:
        """Every recorded checkpoint text as (size, text), in the order recorded."""
        position = 0
        while True:
            query = (sa.select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.tree_size,
                               _CHECKPOINTS.c.text)
                     .where(_CHECKPOINTS.c.seq > position).order_by(_CHECKPOINTS.c.seq)
                     .limit(batch))
            with store_errors("read checkpoints"), self._read() as connection:
                rows = connection.execute(query).all()
            if not rows:
                return
            for seq, size, text in rows:
                yield int(size), str(text)
                position = int(seq)

    def add_checkpoint(self, size: int, text: str) -> None:
        """Record `text` for tree `size` as a new row; a text already recorded is a no-op."""
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        known = (sa.select(_CHECKPOINTS.c.seq)
                 .where(_CHECKPOINTS.c.tree_size == size, _CHECKPOINTS.c.text_sha256 == digest))
        with store_errors(f"record the checkpoint for size {size}"):
            try:
                with self._write() as connection:
                    if connection.execute(known).first() is None:
                        connection.execute(_CHECKPOINTS.insert(), {
                            "tree_size": size, "text": text, "text_sha256": digest})
            except sa_exc.IntegrityError:
                # A concurrent writer recorded the same text first: nothing left to do.
                with self._read() as connection:
                    if connection.execute(known).first() is None:
                        raise

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """(size, text) of the largest checkpoint, its most recently recorded text."""
        with store_errors("read the latest checkpoint"), self._read() as connection:
            row = connection.execute(_LATEST_CHECKPOINT_QUERY).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def party_tokens(self, party_id: str, after: int = -1, limit: int = 1_000
                     ) -> list[TokenRow]:
        """A party's tokens after entry `after`, in log order (index (party, entry))."""
        with store_errors("list a party's tokens"), self._read() as connection:
            return self._index.party_tokens(connection, party_id, after, limit)

    def standing_watermark(self) -> int:
        """One past the last token or key event, else 0 (two primary-key maxima)."""
        # Every cached verification asks this once per request, so it skips SQLAlchemy's
        # connection and transaction wrappers (~150 us) for the pooled driver connection
        # (~30 us on SQLite): one statement reads a consistent snapshot by itself.
        query = _WATERMARK.format("GREATEST" if self._postgres else "max")
        dbapi_error = self._engine.dialect.loaded_dbapi.Error
        with store_errors("read the standing watermark"):
            try:
                raw = self._engine.raw_connection()
            except dbapi_error as e:  # pragma: no cover - the pool wraps its own failures
                raise sa_exc.OperationalError(query, None, e) from e
            try:
                cursor = raw.cursor()
                cursor.execute(query)
                row = cursor.fetchone()
                cursor.close()
            except dbapi_error as e:
                raise sa_exc.OperationalError(query, None, e) from e
            finally:
                raw.close()  # back to the pool (rolled back there on PostgreSQL)
        value = row[0] if row is not None else None
        return int(value if value is not None else -1) + 1

    def checkpoint(self, size: int) -> str | None:
        """The most recently recorded checkpoint text for tree `size`, if any."""
        with self.snapshot() as view:
            return view.checkpoint(size)

    # -- writer section ---------------------------------------------------------------

    def writer(self) -> AbstractContextManager[None]:
        """Exclusive writer section across threads and processes (re-entrant per thread).

        PostgreSQL: a session advisory lock on a connection pinned to this thread.
        SQLite: an in-process lock plus ``flock`` on ``<database>-writer.lock``.
        """
        return self._postgres_writer() if self._postgres else self._sqlite_writer()

    @contextmanager
    def _postgres_writer(self) -> Iterator[None]:
        local = self._local
        if getattr(local, "connection", None) is not None:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        with store_errors("take the sequencer lock"):
            connection = self._engine.connect()
            try:
                connection.execute(sa.select(sa.func.pg_advisory_lock(_SEQUENCER_LOCK)))
                connection.commit()
            except BaseException:
                connection.close()
                raise
        local.connection, local.depth = connection, 1
        try:
            yield
        finally:
            local.connection = None
            try:
                if connection.in_transaction():
                    connection.rollback()
                connection.execute(sa.select(sa.func.pg_advisory_unlock(_SEQUENCER_LOCK)))
                connection.commit()
            except sa_exc.DBAPIError:
                # Could not unlock (connection lost): discard the session; its end frees
                # the lock on the server.
                connection.invalidate()
            finally:
                connection.close()

    @contextmanager
    def _sqlite_writer(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._lock_process()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock_process()

    def _lock_process(self) -> None:
        if sys.platform == "win32":  # pragma: no cover - no flock: in-process lock only
            return
        if self._lock_file is None:
            database = self._engine.url.database
            assert database is not None  # checked by create_ledger_engine
            try:
                self._lock_file = Path(f"{database}-writer.lock").open("ab")  # noqa: SIM115
            except OSError as e:
                raise StoreUnavailableError(f"cannot open the writer lock file: {e}") from e
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)

    def _unlock_process(self) -> None:
        if sys.platform != "win32" and self._lock_file is not None:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------
# Audit


def find_tampered(store: LogStore, *, batch: int = 10_000) -> list[int]:
    """Indices whose stored body no longer hashes to the stored leaf hash.

    Uses only the `LogStore` protocol, so it audits any store: a row edited behind the
    ledger's back (triggers dropped, file patched) shows up here. An edit that rewrites the
    leaf hash too is not visible row by row; it changes the tree root, which the signed
    checkpoints and the witnesses' cosignatures pin.
    """
    return [entry.index for entry in store.iter_entries(batch)
            if leaf_hash(entry.body) != entry.leaf_hash]
