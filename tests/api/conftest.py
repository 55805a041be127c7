"""The API under test: the real demo ledger (`tmec demo`'s code) behind the real app.

`world` builds the demo (four parties, four tokens, one API account per role with its key
in ``api-keys.json``) on SQLite and on a real PostgreSQL server, and serves it through the
app's lifespan (migrations, checkpointer) with Starlette's test client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cli.demo import run_demo
from ledger.api import ApiSettings, create_app
from ledger.api.context import Service
from ledger.config import DEFAULT_ORIGIN, Settings
from tests.ledger.conftest import postgres_admin, postgres_server, postgres_url  # noqa: F401


@dataclass
class World:
    app: FastAPI
    client: TestClient
    service: Service
    home: Path
    out: Path
    keys: dict[str, str]  # account id -> API key
    tokens: dict[str, str]  # example name -> token digest

    def auth(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[account]}"}

    def bundle_bytes(self, name: str) -> bytes:
        return (self.out / "bundles" / f"{name}.json").read_bytes()


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'demo' / 'ledger' / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _database(request, tmp_path)


def build_world(tmp_path: Path, database_url: str) -> Iterator[World]:
    out = tmp_path / "demo"
    results = run_demo(out, database_url=database_url)
    keys_file = json.loads((out / "api-keys.json").read_text("utf-8"))
    keys = {k["account"]: k["apiKey"] for k in keys_file["keys"]}
    kek = bytes.fromhex((out / "key-encryption.key").read_text("ascii").strip())
    settings = ApiSettings(ledger=Settings(out / "ledger", database_url, DEFAULT_ORIGIN),
                           max_body_bytes=256 * 1024, checkpoint_every=0.2,
                           key_encryption_key=kek, web_examples=True)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        tokens = {r.bundle.stem: r.digest for r in results
                  if not r.bundle.stem.endswith(".customs")}
        yield World(app, client, app.state.service, out / "ledger", out, keys, tokens)


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    yield from build_world(tmp_path, database_url)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    """The same world on SQLite only (for checks whose store makes no difference)."""
    yield from build_world(tmp_path, f"sqlite:///{tmp_path / 'demo' / 'ledger' / 'ledger.db'}")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:tmec:problem:{code}"
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`tmec demo` served by a real `tmec serve --workers 2`, for a module: (url, out)."""
    from tests.api.server import serve_demo

    with serve_demo(tmp_path_factory.mktemp("served") / "demo") as running:
        yield running
