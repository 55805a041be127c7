"""A real PostgreSQL for the store tests: a given server, or a throwaway cluster.

`postgres_server` (session) uses ``$TMEC_TEST_POSTGRES_URL`` when set (any database on a
server where the user may CREATE DATABASE). Otherwise it creates a cluster with the
server binaries found on PATH or under /usr/lib/postgresql/*/bin: ``initdb`` into a
temporary directory, ``pg_ctl start`` listening on a Unix socket in that directory only
(no TCP), on a free port number; as root both run as the ``postgres`` system user, since
PostgreSQL refuses to run as root. The cluster is stopped and deleted at session end.

No server and no way to start one is a test *failure* naming what to install, never a
silent skip: the contract suite promises to cover PostgreSQL, so it must.

`postgres_url` (per test) creates a fresh database and drops it afterwards.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger.service import Ledger
from ledger.store import LogStore, MemoryStore
from ledger.store.sql import SqlStore
from tests.ledger.world import LOG_KEY, ORIGIN, now

ENV_URL = "TMEC_TEST_POSTGRES_URL"
INSTALL_HINT = (
    "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; "
    "Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`) "
    f"or point {ENV_URL} at a server, e.g. "
    "postgresql+psycopg://user:password@localhost:5432/postgres"
)
_names = itertools.count()


@dataclass(frozen=True)
class PostgresServer:
    """A running server and an administrative URL on it."""

    admin_url: sa.URL

    def url_for(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)


def _normalise(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        pytest.fail(f"{ENV_URL} must be a PostgreSQL URL, not {parsed.drivername}")
    return parsed.set(drivername="postgresql+psycopg")


def _find_binaries() -> Path | None:
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(on_path):
        return Path(on_path[0]).parent  # type: ignore[arg-type]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    # Only the socket file name uses the port (no TCP listener), but a free TCP port keeps
    # the number unsurprising for anyone who later adds a listener.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Cluster:
    """A throwaway cluster in a temporary directory, owned by the server's user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            pytest.fail("running as root, PostgreSQL must run as another user, and "
                        "`runuser` (util-linux) is missing")
        # Not under pytest's tmp_path: that lives in a 0700 directory of root's, which
        # the postgres user could not enter.
        self.root = Path(tempfile.mkdtemp(prefix="tmec-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        if self.as_root:
            try:
                shutil.chown(self.root, user="postgres", group="postgres")
            except (LookupError, OSError) as e:
                shutil.rmtree(self.root, ignore_errors=True)
                pytest.fail(f"running as root needs a `postgres` system user to run the "
                            f"server ({e}); {INSTALL_HINT}")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120,
                               check=False, cwd=self.root)

    def start(self) -> sa.URL:
        initdb = self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U",
                           "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        if initdb.returncode != 0:
            self.remove()
            pytest.fail(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        settings = (
            "\n# tmec tests: Unix socket only, private directory; speed over durability\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{self.root}'\n"
            f"port = {self.port}\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 200\n"
        )
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)
        started = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                            str(self.log), "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            self.remove()
            pytest.fail(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{log}")
        return sa.URL.create("postgresql+psycopg", username="postgres", database="postgres",
                             query={"host": str(self.root), "port": str(self.port)})

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                  "-w", "stop")
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this session (see the module docstring)."""
    given = os.environ.get(ENV_URL)
    if given:
        yield PostgresServer(_normalise(given))
        return
    bin_dir = _find_binaries()
    if bin_dir is None:
        pytest.fail(f"no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under "
                    f"/usr/lib/postgresql/*/bin: {INSTALL_HINT}")
    cluster = _Cluster(bin_dir)
    url = cluster.start()
    try:
        yield PostgresServer(url)
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_admin(postgres_server: PostgresServer) -> Iterator[sa.Engine]:
    """An autocommit engine on the server's admin database (CREATE / DROP DATABASE)."""
    engine = sa.create_engine(postgres_server.admin_url, isolation_level="AUTOCOMMIT",
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as e:
        engine.dispose()
        pytest.fail(f"cannot connect to the test PostgreSQL at "
                    f"{postgres_server.admin_url!r}: {e.orig}; {INSTALL_HINT}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_admin: sa.Engine) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    name = f"tmec_test_{os.getpid()}_{next(_names)}"
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield postgres_server.url_for(name)
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------
# Stores: every ledger test runs on memory, SQLite and PostgreSQL


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], LogStore]]:
    """Opens the store under test (each call a new connection to the same log)."""
    opened: list[SqlStore] = []
    shared = MemoryStore()

    def open_() -> LogStore:
        if store_url == "memory":
            return shared
        store = SqlStore.open(store_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def ledger(open_store: Callable[[], LogStore]) -> Ledger:
    return Ledger(open_store(), LOG_KEY, origin=ORIGIN, now=now)


@pytest.fixture
def sql_ledger(sql_url: str) -> Iterator[Ledger]:
    store = SqlStore.open(sql_url)
    yield Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
    store.close()
