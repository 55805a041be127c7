"""Settings of the HTTP service, from the environment (read once, at start-up).

Besides the ledger's own (`ledger.config.Settings`: ``TMEC_HOME``, ``TMEC_DATABASE_URL``,
``TMEC_LOG_ORIGIN``):

* ``TMEC_API_MAX_BODY_BYTES`` — the largest request body accepted (413 beyond); default
  16 MiB, enough for a large Excel BOM or a bundle with its supplier bundles.
* ``TMEC_CHECKPOINT_EVERY`` — seconds between checkpoints while there are new entries
  (the sequencer's schedule); default 1.
* ``TMEC_STATUS_REFRESH`` — a bundle is served under the token's latest status statement
  while that statement is younger than this many seconds; older, a fresh status and
  checkpoint are written first; default 3600 (the trust file's maximum age is 24 h).
* ``TMEC_PUBLIC_URL`` — the service's public base URL (links in responses); default
  ``http://127.0.0.1:8000``.
* ``TMEC_KEY_ENCRYPTION_KEY`` (64 hex digits), or ``TMEC_KEY_ENCRYPTION_KEY_FILE`` (a file
  holding them) — the key that seals the signing keys the service holds for parties
  (`ledger.api.signing_keys`); unset, the service holds none and parties sign locally.
* ``TMEC_WEB_EXAMPLES`` — ``1``: the landing page lists the ledger's latest shipments with
  links to their verification pages (the demo); default off, since a public list would
  tell anyone who ships what.

Set by ``tmec serve`` for its workers, not by an operator: ``TMEC_SEQUENCER_SOCKET`` and
``TMEC_SEQUENCER_AUTHKEY``, where the server's one sequencer process listens
(`ledger.shared_sequencer`); unset, each worker sequences its own registrations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledger.config import Settings
from ledger.errors import InputError
from ledger.shared_sequencer import SequencerAddress

__all__ = ["ApiSettings"]

_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?\Z")


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    if _NUMBER.match(text) is None or float(text) < minimum:
        raise InputError(f"environment variable {name} must be a number of at least "
                         f"{minimum:g}, got {text[:40]!r}")
    return float(text)


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in ("", "0", "false", "no"):
        return False
    if text in ("1", "true", "yes"):
        return True
    raise InputError(f"environment variable {name} must be 1 or 0, got {text[:40]!r}")


_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}\Z")


def _key_encryption_key(env: Mapping[str, str]) -> bytes | None:
    text = env.get("TMEC_KEY_ENCRYPTION_KEY", "").strip()
    name = "TMEC_KEY_ENCRYPTION_KEY"
    path = env.get("TMEC_KEY_ENCRYPTION_KEY_FILE", "").strip()
    if not text and path:
        name = f"the file {path} (TMEC_KEY_ENCRYPTION_KEY_FILE)"
        try:
            text = Path(path).read_text("ascii")[:200].strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {name}: {exc}") from None
    if not text:
        return None
    if _HEX_KEY.match(text) is None:
        raise InputError(f"{name} must hold a key of 64 hex digits (32 random bytes)")
    return bytes.fromhex(text)


@dataclass(frozen=True)
class ApiSettings:
    """Everything the app factory needs; `from_env` is the only reader of the environment."""

    ledger: Settings
    max_body_bytes: int = 16 * 1024 * 1024
    checkpoint_every: float = 1.0
    status_refresh: float = 3600.0
    public_url: str = "http://127.0.0.1:8000"
    key_encryption_key: bytes | None = field(default=None, repr=False)
    web_examples: bool = False
    sequencer: SequencerAddress | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **ledger: str | None
                 ) -> ApiSettings:
        """Explicit ledger arguments (home, database_url, origin) win over the environment."""
        env = os.environ if env is None else env
        return cls(
            ledger=Settings.from_env(env, **ledger),
            max_body_bytes=int(_number(env, "TMEC_API_MAX_BODY_BYTES", 16 * 1024 * 1024,
                                       minimum=1024)),
            checkpoint_every=_number(env, "TMEC_CHECKPOINT_EVERY", 1.0, minimum=0.05),
            status_refresh=_number(env, "TMEC_STATUS_REFRESH", 3600.0, minimum=1),
            public_url=(env.get("TMEC_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            key_encryption_key=_key_encryption_key(env),
            web_examples=_flag(env, "TMEC_WEB_EXAMPLES"),
            sequencer=SequencerAddress.from_env(env),
        )
