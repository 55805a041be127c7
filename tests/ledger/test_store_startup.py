"""Opening a current ledger imports neither Alembic nor an ORM (issue 7, start-up time).

`SqlStore.migrate` recognises a schema at head with one query and only then imports
Alembic; the head revision is read from the migration files' source (`_head_revision`), so
these tests check that it is the head Alembic itself computes, and that a ledger below head
is still upgraded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from ledger.store.sql import VERSION_TABLE, SqlStore, _alembic_config, _head_revision

ROOT = Path(__file__).resolve().parents[2]


def _versions(store: SqlStore) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(
            sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def test_the_head_read_from_the_files_is_alembics_head(tmp_path: Path) -> None:
    with SqlStore(f"sqlite:///{tmp_path / 'ledger.db'}") as store, \
            store.engine.connect() as connection:
        script = ScriptDirectory.from_config(_alembic_config(connection))
        assert _head_revision() == script.get_current_head()
    assert _head_revision() is not None


def test_opening_a_current_ledger_imports_no_alembic_and_no_orm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    SqlStore.open(url).close()  # creates the schema (this process imported Alembic)
    script = (
        "import sys\n"
        "from ledger.store.sql import SqlStore\n"
        "SqlStore.open(sys.argv[1], create=False).close()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'sqlmodel', 'pydantic') or m.startswith('sqlalchemy.orm'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("url_kind", ["sqlite", "postgresql"])
def test_a_ledger_below_head_is_still_upgraded(url_kind: str, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'ledger.db'}" if url_kind == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    with SqlStore(url) as old, old.engine.connect() as connection:
        # What an older release left behind: the schema at the first revision only.
        with connection.begin():
            command.upgrade(_alembic_config(connection), "0001")
        assert _versions(old) == ["0001"]
    with SqlStore.open(url, create=False) as store:
        assert _versions(store) == [_head_revision()]
        assert store.size() == 0
