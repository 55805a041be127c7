"""The ASGI entry point uvicorn imports in each worker: ``ledger.api.asgi:app_factory``.

Each worker process builds its own app from the environment (``tmec serve`` sets
``TMEC_HOME`` and friends before starting the workers), so nothing is shared in memory.
"""

from __future__ import annotations

from fastapi import FastAPI

from ledger.api.app import create_app

__all__ = ["app_factory"]


def app_factory() -> FastAPI:
    """A new app over the ledger the environment names."""
    return create_app()
