"""Storage of the ledger: a protocol, an in-memory fake and a SQL store.

`base.LogStore` is what the ledger core needs; `memory.MemoryStore` implements it for tests
and examples; `sql.SqlStore` (SQLite by default, PostgreSQL by URL) for real use. Import
`ledger.store.sql` explicitly: it loads SQLAlchemy, which the core must not.
"""

from ledger.store.base import BlobRecord, EntryRecord, LogStore, NewEntry
from ledger.store.memory import MemoryStore

__all__ = ["BlobRecord", "EntryRecord", "LogStore", "MemoryStore", "NewEntry"]
