"""Settings of a ledger installation, read from the environment at the edge.

The core takes every setting as an argument; this module is where the CLI (and later the
API) turn environment variables into those arguments:

* ``TMEC_HOME`` — the ledger's working directory (keys, witness state, tokens, trust file,
  and the SQLite database by default); default ``./var/ledger``.
* ``TMEC_DATABASE_URL`` — a SQLAlchemy URL; default ``sqlite:///$TMEC_HOME/ledger.db``;
  ``postgresql+psycopg://user@host/db`` for PostgreSQL.
* ``TMEC_LOG_ORIGIN`` — the checkpoint origin line naming the log; default
  ``tmec.example/ledger``.
* ``TMEC_TOKEN_CONTEXT`` — the ``@context`` URL new tokens name for our terms: the
  operator's host serving ``/ns/origin-token/v1`` (``tmec serve`` does); default the
  placeholder ``https://tmec-ledger.example/ns/origin-token/v1``.
* ``TMEC_WITNESS_URLS`` — witnesses reached over HTTP (C2SP tlog-witness), as
  ``name=url`` pairs separated by commas (``cbp=https://witness.cbp.example,...``); a
  witness not named here is the workspace's own file witness (the demo's default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InputError

__all__ = ["DEFAULT_ORIGIN", "Settings"]

DEFAULT_ORIGIN = "tmec.example/ledger"
DEFAULT_TOKEN_CONTEXT = "https://tmec-ledger.example/ns/origin-token/v1"


@dataclass(frozen=True)
class Settings:
    """Where the ledger lives and what it is called."""

    home: Path
    database_url: str
    origin: str
    witness_urls: tuple[tuple[str, str], ...] = ()
    token_context: str = DEFAULT_TOKEN_CONTEXT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, home: str | None = None,
                 database_url: str | None = None, origin: str | None = None) -> Settings:
        """Explicit arguments win over the environment, which wins over the defaults."""
        env = os.environ if env is None else env
        home_path = Path(home or env.get("TMEC_HOME") or "var/ledger")
        url = database_url or env.get("TMEC_DATABASE_URL") or (
            f"sqlite:///{(home_path / 'ledger.db').as_posix()}")
        context = env.get("TMEC_TOKEN_CONTEXT", "").strip() or DEFAULT_TOKEN_CONTEXT
        if not context.startswith(("https://", "http://")) or not context.endswith(
                "/ns/origin-token/v1"):
            raise InputError(f"TMEC_TOKEN_CONTEXT must be http(s)://<host>/ns/origin-token/v1, "
                             f"got {context[:80]!r}")
        return cls(home_path, url, origin or env.get("TMEC_LOG_ORIGIN") or DEFAULT_ORIGIN,
                   _witness_urls(env.get("TMEC_WITNESS_URLS", "")), context)


def _witness_urls(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, equals, url = item.partition("=")
        if not equals or not name.strip() or not url.strip():
            raise InputError(f"TMEC_WITNESS_URLS: {item[:80]!r} is not name=url")
        pairs.append((name.strip(), url.strip()))
    return tuple(pairs)
