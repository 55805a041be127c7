"""What only the SQL store promises: the database itself keeps the log append-only, the
migrations are safe to run again, driver errors arrive as the ledger's own, and a row
edited behind the ledger's back is found by recomputing its leaf hash.

Raw SQL goes through a *separate* connection (stdlib sqlite3, plain psycopg), so a refusal
proves the database's guard, not this package's code.
"""

from __future__ import annotations

import fcntl
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.api.accounts import AccountStore, IssuerMethod, Role
from ledger.api.signing_keys import KeyVault
from ledger.api.status_lists import StatusLists
from ledger.crypto import SigningKey
from ledger.errors import ConflictError, InputError, StoreUnavailableError, TamperedError
from ledger.merkle import leaf_hash
from ledger.state import DerivedRows, KeyEvent, KeyRow, TokenEvent, TokenEventKind, TokenRow
from ledger.store import NewEntry
from ledger.store.sql import APPEND_ONLY_TABLES, METADATA, VERSION_TABLE, SqlStore, find_tampered
from ledger.tiles import Tile
from ledger.web.credentials import CredentialStore

ROOT = Path(__file__).resolve().parents[2]


def entry(n: int) -> NewEntry:
    body = f'{{"seq":{n},"tokenDigest":"sha256:{n:064x}","type":"token"}}'.encode()
    return NewEntry(leaf_hash(body), body, "token", f"sha256:{n:064x}", "kid")


# One row of each derived table, as the ledger would write them with entries 0..2.
DERIVED = DerivedRows(
    keys=[KeyRow("did:key:z6Mk#a", 0, "frenos-bajio", b"\x01" * 32, '{"id":"frenos-bajio"}')],
    key_events=[KeyEvent(2, "did:key:z6Mk#a", compromised_since=1)],
    tokens=[TokenRow("aa" * 32, 1, "did:key:z6Mk#a", "frenos-bajio", "ff" * 32, ("bb" * 32,))],
    token_events=[TokenEvent(2, "aa" * 32, TokenEventKind.REVOKED)],
)
TILE = Tile(0, 0, b"\x02" * 8192, b"\x03" * 32)


def seeded(store: SqlStore) -> SqlStore:
    """One row in every append-only table."""
    store.append([entry(0), entry(1), entry(2)], derived=DERIVED, tiles=[TILE])
    store.put_blob("sha256:aa", b"token bytes")
    store.add_checkpoint(3, "checkpoint 3\n")
    store.put_disclosures("sha256:aa", b"salts and records")
    accounts = AccountStore(store.engine)
    account = accounts.create_account(Role.BROKER, "laredo-brokers", "Laredo")
    key = accounts.issue_key(account.account_id)
    accounts.revoke_key(key.key_id, "lost")
    accounts.grant("sha256:aa", "laredo-brokers", account.account_id)
    accounts.withdraw_grant("sha256:aa", "laredo-brokers", account.account_id)
    accounts.disclose("sha256:aa", "cbp", [0, 1], account.account_id)
    accounts.choose_identity("laredo-brokers", IssuerMethod.DID_WEB, account.account_id)
    lists = StatusLists(store.engine, "http://127.0.0.1:8000", block=2)
    index, _ = lists.allocate()
    with store.engine.begin() as connection:  # no longer written, but still guarded
        connection.execute(METADATA.tables["api_status_tokens"].insert(),
                           {"status_index": index, "token_digest": "sha256:aa"})
    KeyVault(store.engine, bytes(32)).hold(SigningKey(bytes([7]) * 32), {
        "id": "frenos-bajio", "name": "Frenos", "country": "MX", "address": "Celaya",
        "email": "a@b.example", "phone": "+52 461 555 0142"})
    credentials = CredentialStore(store.engine)
    credentials.set_password(account.account_id, "correct horse battery")
    credentials.end_session(credentials.start_session(account).secret)
    credentials.attempt(account.account_id, "correct horse battery", "192.0.2.7")
    return store


# What to try on each table: a harmless-looking edit of an existing row.
UPDATES = {
    "log_entries": "UPDATE log_entries SET kind = 'revoked' WHERE leaf_index = 0",
    "log_blobs": "UPDATE log_blobs SET digest = 'sha256:bb'",
    "log_checkpoints": "UPDATE log_checkpoints SET tree_size = 99",
    "log_disclosures": "UPDATE log_disclosures SET data = 'x'",
    "log_keys": "UPDATE log_keys SET party_id = 'impostor'",
    "log_key_events": "UPDATE log_key_events SET compromised_since = NULL",
    "log_tokens": "UPDATE log_tokens SET parents = ''",
    "log_token_events": "UPDATE log_token_events SET event = 'superseded'",
    "log_tiles": "UPDATE log_tiles SET root = hashes",
    "api_accounts": "UPDATE api_accounts SET role = 'registrar'",
    "api_keys": "UPDATE api_keys SET account_id = 'registrar.registrar'",
    "api_key_revocations": "UPDATE api_key_revocations SET revoked_at = '2099-01-01'",
    "api_grants": "UPDATE api_grants SET grantee_party = 'someone-else'",
    "api_party_keys": "UPDATE api_party_keys SET party_id = 'impostor'",
    "api_disclosures": "UPDATE api_disclosures SET authority = 'cbsa'",
    "api_status_indices": "UPDATE api_status_indices SET allocated_at = 'never'",
    "api_status_tokens": "UPDATE api_status_tokens SET token_digest = 'sha256:bb'",
    "web_passwords": "UPDATE web_passwords SET password_hash = 'plain text'",
    "web_sessions": "UPDATE web_sessions SET expires_at = '2999-01-01T00:00:00Z'",
    "web_session_ends": "UPDATE web_session_ends SET reason = 'never happened'",
    "web_signin_attempts": "UPDATE web_signin_attempts SET client = '198.51.100.1'",
    "web_signin_successes": "UPDATE web_signin_successes SET succeeded_at = 'never'",
    "api_party_identities": "UPDATE api_party_identities SET method = 'did:key'",
    "api_grant_changes": "UPDATE api_grant_changes SET change = 'granted'",
}
COUNT = "SELECT count(*) FROM {table}"


# ---------------------------------------------------------------------------------------
# SQLite


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[SqlStore]:
    store = SqlStore.open(f"sqlite:///{sqlite_path}")
    yield store
    store.close()


@pytest.fixture
def raw_sqlite(sqlite_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(sqlite_path, isolation_level=None, timeout=5)
    yield connection
    connection.close()


def test_sqlite_connections_are_durable_wal(sqlite_store: SqlStore,
                                            raw_sqlite: sqlite3.Connection) -> None:
    assert raw_sqlite.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with sqlite_store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 30_000


class TestSqliteRefusesChanges:
    @pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
    @pytest.mark.parametrize("statement", ["update", "delete", "delete_all", "replace"])
    def test_refused(self, sqlite_store: SqlStore, raw_sqlite: sqlite3.Connection,
                     table: str, statement: str) -> None:
        seeded(sqlite_store)
        before = raw_sqlite.execute(f"SELECT * FROM {table}").fetchall()
        sql = {
            "update": UPDATES[table],
            "delete": f"DELETE FROM {table} WHERE rowid = (SELECT min(rowid) FROM {table})",
            "delete_all": f"DELETE FROM {table}",  # no truncate optimisation with triggers
            "replace": f"INSERT OR REPLACE INTO {table} SELECT * FROM {table}",
        }[statement]
        with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
            raw_sqlite.execute(sql)
        assert raw_sqlite.execute(f"SELECT * FROM {table}").fetchall() == before

    def test_an_upsert_is_an_update_and_refused(self, sqlite_store: SqlStore,
                                                raw_sqlite: sqlite3.Connection) -> None:
        seeded(sqlite_store)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw_sqlite.execute("INSERT INTO log_blobs VALUES ('sha256:aa', x'00') "
                               "ON CONFLICT (digest) DO UPDATE SET data = excluded.data")
        assert sqlite_store.get_blob("sha256:aa") == b"token bytes"


def test_sqlite_writer_section_holds_a_cross_process_lock(sqlite_store: SqlStore,
                                                          sqlite_path: Path) -> None:
    def try_lock() -> bool:
        with Path(f"{sqlite_path}-writer.lock").open("ab") as other:  # another description
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other.fileno(), fcntl.LOCK_UN)
            return True

    with sqlite_store.writer():
        assert not try_lock()
        with sqlite_store.writer():  # re-entrant
            sqlite_store.append([entry(0)])
        assert not try_lock()
    assert try_lock()


def test_sqlite_busy_database_is_store_unavailable(sqlite_path: Path, sqlite_store: SqlStore,
                                                   raw_sqlite: sqlite3.Connection) -> None:
    impatient = SqlStore(f"sqlite:///{sqlite_path}", busy_timeout=0.2)
    raw_sqlite.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        with pytest.raises(StoreUnavailableError, match="locked") as caught:
            impatient.append([entry(0)])
        assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
        raw_sqlite.execute("ROLLBACK")
        assert impatient.append([entry(0)]) == 0  # the lock is gone: works again
    finally:
        if raw_sqlite.in_transaction:
            raw_sqlite.execute("ROLLBACK")
        impatient.close()


# Each write of the service's own tables that reads before it writes.
READ_THEN_WRITE: dict[str, Callable[[SqlStore], object]] = {
    "create an account": lambda store: AccountStore(store.engine).create_account(
        Role.BROKER, "laredo-brokers", "Laredo"),
    "revoke an API key": lambda store: AccountStore(store.engine).revoke_key(
        AccountStore(store.engine).issue_key("registrar.registrar").key_id, "lost"),
    "grant a token": lambda store: AccountStore(store.engine).grant(
        "sha256:aa", "laredo-brokers", "registrar.registrar"),
    "record disclosures": lambda store: AccountStore(store.engine).disclose(
        "sha256:aa", "cbp", [0], "registrar.registrar"),
    "hold a signing key": lambda store: KeyVault(store.engine, bytes(32)).hold(
        SigningKey(bytes([7]) * 32), {
            "id": "frenos-bajio", "name": "Frenos", "country": "MX", "address": "Celaya",
            "email": "a@b.example", "phone": "+52 461 555 0142"}),
    "end a session": lambda store: CredentialStore(store.engine).end_session("s" * 43),
}


@pytest.mark.parametrize("action", READ_THEN_WRITE)
def test_sqlite_a_write_waits_for_a_writer_that_commits(sqlite_store: SqlStore,
                                                        sqlite_path: Path, action: str) -> None:
    """A read-then-write waits for another process's write, it does not fail on it.

    A deferred transaction that has read when another connection commits cannot write
    (SQLite answers "database is locked" at once, without its busy timeout); the service's
    writes take the write lock first so they queue like the log's appends do.
    """
    AccountStore(sqlite_store.engine).create_account(Role.REGISTRAR, "registrar", "Registrar")
    holding, done = threading.Event(), threading.Event()

    def other_process_writes() -> None:
        other = sqlite3.connect(sqlite_path, isolation_level=None, timeout=5)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO api_accounts VALUES "
                          "('cbp.customs', 'customs', 'cbp', 'CBP', '2026-12-01T00:00:00Z')")
            holding.set()
            time.sleep(0.3)
            other.execute("COMMIT")
        finally:
            other.close()
            done.set()

    writer = threading.Thread(target=other_process_writes)
    writer.start()
    assert holding.wait(5)
    READ_THEN_WRITE[action](sqlite_store)  # raised StoreUnavailableError before the fix
    writer.join()
    assert done.is_set()
    assert AccountStore(sqlite_store.engine).account("cbp.customs").name == "CBP"


def test_sqlite_missing_directory_is_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError):
        SqlStore.open(f"sqlite:///{tmp_path / 'missing' / 'ledger.db'}")


# ---------------------------------------------------------------------------------------
# PostgreSQL


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SqlStore]:
    store = SqlStore.open(postgres_url)
    yield store
    store.close()


@pytest.fixture
def raw_pg(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    libpq = sa.make_url(postgres_url).set(drivername="postgresql")
    connection = psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True)
    yield connection
    connection.close()


class TestPostgresRefusesChanges:
    @pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
    @pytest.mark.parametrize("statement", ["update", "delete", "truncate"])
    def test_refused(self, pg_store: SqlStore, raw_pg: psycopg.Connection[Any], table: str,
                     statement: str) -> None:
        seeded(pg_store)
        before = raw_pg.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        sql = {"update": UPDATES[table], "delete": f"DELETE FROM {table}",
               "truncate": f"TRUNCATE {table} CASCADE"}[statement]
        with pytest.raises(psycopg.errors.RestrictViolation,
                           match=f"{table} is append-only: {statement.upper()} refused"):
            raw_pg.execute(sql)
        assert raw_pg.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == before

    def test_an_upsert_is_an_update_and_refused(self, pg_store: SqlStore,
                                                raw_pg: psycopg.Connection[Any]) -> None:
        seeded(pg_store)
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            raw_pg.execute("INSERT INTO log_blobs VALUES ('sha256:aa', '\\x00') "
                           "ON CONFLICT (digest) DO UPDATE SET data = excluded.data")
        assert pg_store.get_blob("sha256:aa") == b"token bytes"

    def test_replication_role_does_not_silence_the_guards(
            self, pg_store: SqlStore, raw_pg: psycopg.Connection[Any]) -> None:
        superuser = raw_pg.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not superuser or not superuser[0]:
            pytest.skip("SET session_replication_role needs a superuser on this server")
        seeded(pg_store)
        raw_pg.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            raw_pg.execute("DELETE FROM log_entries")
        assert pg_store.size() == 3


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def _waiting_on(raw: psycopg.Connection[Any], lock: str) -> bool:
    """Whether some session of this database waits for a lock of type `lock`."""
    row = raw.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND wait_event_type = 'Lock' AND wait_event = %s", (lock,)).fetchone()
    return bool(row and row[0])


def test_postgres_writer_excludes_another_process(postgres_url: str, pg_store: SqlStore,
                                                  raw_pg: psycopg.Connection[Any]) -> None:
    other = SqlStore(postgres_url)  # its own pool: as good as another process
    result: list[int] = []
    try:
        with pg_store.writer():
            pg_store.append([entry(0), entry(1)])
            blocked = threading.Thread(target=lambda: result.append(other.append([entry(9)])))
            blocked.start()
            _wait_for(lambda: _waiting_on(raw_pg, "advisory"), "the second sequencer")
            assert pg_store.append([entry(2)]) == 2  # still ours alone
        blocked.join(timeout=30)
        assert result == [3]
    finally:
        other.close()


def test_postgres_rogue_writer_meets_the_primary_key(pg_store: SqlStore, postgres_url: str,
                                                     raw_pg: psycopg.Connection[Any]) -> None:
    pg_store.append([entry(0)])
    rogue = psycopg.connect(raw_pg.info.dsn)  # ignores the advisory lock, transaction open
    outcome: list[BaseException] = []

    def append() -> None:
        try:
            pg_store.append([entry(1)])
        except BaseException as e:  # handed to the test thread
            outcome.append(e)

    try:
        new = entry(1)
        rogue.execute("INSERT INTO log_entries VALUES (1, %s, %s, 'token', NULL, NULL)",
                      (new.leaf_hash, b"rogue"))
        worker = threading.Thread(target=append)
        worker.start()
        _wait_for(lambda: _waiting_on(raw_pg, "transactionid"),
                  "the append to wait on the rogue row")
        rogue.commit()
        worker.join(timeout=30)
    finally:
        rogue.close()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    assert isinstance(outcome[0].__cause__, sa.exc.IntegrityError)


def test_unreachable_postgres_is_store_unavailable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/ledger?connect_timeout=3"
    with pytest.raises(StoreUnavailableError) as caught:
        SqlStore.open(url)
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    lazy = SqlStore(url)  # no migration: fails on first use instead
    with pytest.raises(StoreUnavailableError):
        lazy.size()
    lazy.close()


# ---------------------------------------------------------------------------------------
# Both engines: migrations, tampering, the append path


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _schema(store: SqlStore) -> tuple[list[str], set[str], list[tuple[str, ...]]]:
    inspector = sa.inspect(store.engine)
    with store.engine.connect() as connection:
        version = [row[0] for row in connection.execute(
            sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))]
        if store.engine.dialect.name == "sqlite":
            triggers = connection.exec_driver_sql(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1")
        else:
            triggers = connection.exec_driver_sql(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal ORDER BY 1")
        return version, set(inspector.get_table_names()), [tuple(t) for t in triggers]


def test_migrations_are_idempotent(url: str) -> None:
    with SqlStore.open(url) as first:
        seeded(first)
        schema = _schema(first)
    with SqlStore.open(url) as second:
        assert _schema(second) == schema
        assert second.size() == 3
    version, tables, triggers = schema
    assert version == ["0008"]
    assert set(APPEND_ONLY_TABLES) | {VERSION_TABLE} <= tables
    guarded = {table for _, table in triggers}
    assert guarded == set(APPEND_ONLY_TABLES)


def test_concurrent_opens_migrate_once(url: str) -> None:
    """Workers starting together (threads here, processes there) all get a usable store."""
    stores: list[SqlStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(SqlStore.open(url))
        except BaseException as e:  # handed to the test thread
            errors.append(e)

    script = "import sys; from ledger.store.sql import SqlStore; SqlStore.open(sys.argv[1]).close()"
    processes = [subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in processes]
    try:
        assert errors == []
        assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
        assert len(stores) == 3
        assert _schema(stores[0])[0] == ["0008"]
        assert stores[1].append([entry(0)]) == 0
    finally:
        for store in stores:
            store.close()


def test_the_migrated_schema_matches_the_models(url: str) -> None:
    with SqlStore.open(url) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(context, METADATA) == []


def _drop_guard_and_edit(url: str, index: int, body: bytes) -> None:
    """What a rogue DBA does: remove the UPDATE guard, rewrite a statement in place."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        lite = sqlite3.connect(parsed.database or "", isolation_level=None)
        try:
            lite.execute("DROP TRIGGER log_entries_no_update")
            lite.execute("UPDATE log_entries SET body = ? WHERE leaf_index = ?", (body, index))
        finally:
            lite.close()
    else:
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as raw:
            raw.execute("DROP TRIGGER log_entries_no_update_delete ON log_entries")
            raw.execute("UPDATE log_entries SET body = %s WHERE leaf_index = %s", (body, index))


def test_an_edited_row_no_longer_matches_its_leaf_hash(url: str) -> None:
    with SqlStore.open(url) as store:
        seeded(store)
        assert find_tampered(store) == []
        original = store.entries(1, 2)[0]

        _drop_guard_and_edit(url, 1, original.body.replace(b'"token"', b'"revoke"'))

        edited = store.entries(1, 2)[0]
        assert edited.leaf_hash == original.leaf_hash  # the hash column was left alone
        assert edited.leaf_hash != leaf_hash(edited.body)
        assert find_tampered(store, batch=2) == [1]


def test_an_append_is_one_insert_statement(url: str) -> None:
    statements: list[tuple[str, bool]] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
               executemany: bool) -> None:
        statements.append((statement.split()[0].upper(), executemany))

    with SqlStore.open(url) as store:
        sa.event.listen(store.engine, "before_cursor_execute", record)
        store.append([entry(n) for n in range(256)])
        inserts = [s for s in statements if s[0] == "INSERT"]
        assert len(inserts) == 1
        assert store.size() == 256


@pytest.mark.parametrize("bad", [
    "sqlite://", "sqlite:///:memory:", "mysql://user@host/db",
    "postgresql+psycopg2://user@host/db", "not a url",
])
def test_unsupported_urls_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError):
        SqlStore(bad)


def _drop_guard_and_delete(url: str, index: int) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        lite = sqlite3.connect(parsed.database or "", isolation_level=None)
        try:
            lite.execute("DROP TRIGGER log_entries_no_delete")
            lite.execute("DELETE FROM log_entries WHERE leaf_index = ?", (index,))
        finally:
            lite.close()
    else:
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as raw:
            raw.execute("DROP TRIGGER log_entries_no_update_delete ON log_entries")
            raw.execute("DELETE FROM log_entries WHERE leaf_index = %s", (index,))


def test_a_deleted_row_is_named_not_skipped(url: str) -> None:
    with SqlStore.open(url) as store:
        store.append([entry(n) for n in range(6)])
        _drop_guard_and_delete(url, 2)

        with pytest.raises(TamperedError, match="entry 2 is missing"):
            store.entries(0, 6)
        with pytest.raises(TamperedError, match="entry 2 is missing"):
            store.leaf_hashes(1, 3)
        assert [e.index for e in store.entries(3, 6)] == [3, 4, 5]
        # The audit path keeps going and shows the jump.
        assert [e.index for e in store.iter_entries(batch=2)] == [0, 1, 3, 4, 5]


def test_the_initial_schema_cannot_be_downgraded(tmp_path: Path) -> None:
    """Undoing the first migration would drop the log: Alembic is refused, the log stays."""
    from alembic import command

    from ledger.errors import ConflictError
    from ledger.store.sql import _alembic_config

    store = SqlStore.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with store.engine.connect() as connection, pytest.raises(ConflictError,
                                                                  match="cannot be downgraded"):
            command.downgrade(_alembic_config(connection), "base")
        assert store.size() == 0  # the tables are still there
    finally:
        store.close()
