"""Upgrade path: a ledger written before the derived tables (revision 0002) opens and
audits clean after migration 0003 has built its index and tiles from the entries.

The old ledger is made the way the old code made it: the schema at revision 0002, and the
entries, blobs, disclosures and checkpoints of a real history written without any derived
row. Opening it with today's `SqlStore.open` migrates; the result must answer exactly what
a ledger that was written with derived tables from the start answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from ledger.service import Ledger
from ledger.store import MemoryStore
from ledger.store.sql import SqlStore, _alembic_config, _immediate
from tests.ledger.test_service import populated
from tests.ledger.world import FRENOS, FRENOS_KEY, LOG_KEY, ORIGIN, issue, now


def old_ledger(url: str, history: MemoryStore) -> None:
    """The schema at 0002 and `history`'s rows, as the code before 0003 stored them."""
    store = SqlStore(url)
    with store.engine.connect() as connection, _immediate(connection).begin():
        command.upgrade(_alembic_config(connection), "0002")
    with store.engine.begin() as connection:
        entries = history.entries(0, history.size())
        connection.execute(sa.text(
            "INSERT INTO log_entries (leaf_index, leaf_hash, body, kind, token_digest, key_id)"
            " VALUES (:i, :h, :b, :k, :t, :kid)"),
            [{"i": e.index, "h": e.leaf_hash, "b": e.body, "k": e.kind, "t": e.token_digest,
              "kid": e.key_id} for e in entries])
        for entry in entries:
            if entry.kind == "token" and entry.token_digest:
                digest = entry.token_digest
                connection.execute(sa.text("INSERT INTO log_blobs VALUES (:d, :data)"),
                                   {"d": digest, "data": history.get_blob(digest)})
                records = history.get_disclosures(digest)
                if records is not None:
                    connection.execute(sa.text("INSERT INTO log_disclosures VALUES (:d, :r)"),
                                       {"d": digest, "r": records})
    store.close()
    with SqlStore(url) as raw:
        for size, text in history.iter_checkpoints():
            raw.add_checkpoint(size, text)


def test_a_ledger_from_before_the_derived_tables_upgrades_and_audits_clean(
        sql_url: str) -> None:
    history = MemoryStore()
    reference = Ledger(history, LOG_KEY, origin=ORIGIN, now=now)
    tokens = populated(reference)
    reference.register_key(FRENOS_KEY, FRENOS)
    extra = [issue(reference, FRENOS_KEY, FRENOS) for _ in range(300)]  # crosses a tile
    reference.publish_checkpoint()
    old_ledger(sql_url, history)

    with SqlStore.open(sql_url) as store:
        upgraded = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        report = upgraded.audit()
        assert report.ok, report.problems
        assert report.size == history.size() == 306
        assert store.tile(0, 0) is not None  # the backfill wrote the full tiles
        assert store.derived_rows(0, 306) == history.derived_rows(0, 306)
        for token in [*tokens.values(), extra[0], extra[-1]]:
            assert upgraded.token_status(token.digest) == reference.token_status(token.digest)
        assert upgraded.root() == reference.root()
        assert upgraded.inclusion_proof(5, 300) == reference.inclusion_proof(5, 300)
        # and it goes on as a ledger of today
        more = issue(upgraded, FRENOS_KEY, FRENOS)
        assert upgraded.token_index(more.digest) == 306
        assert upgraded.audit().ok
