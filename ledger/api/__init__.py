"""The HTTP API of the ledger (FastAPI): `create_app` and the settings it reads.

An adapter over `ledger` and `origin_rules` (design/architecture.md): it holds no logic of
its own beyond who may call what (`ledger.api.access`) and how errors look
(`ledger.api.problems`). Served by ``tmec serve`` and ``make run``.
"""

from ledger.api.app import create_app
from ledger.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
