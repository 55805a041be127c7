"""The pages under test: the real demo ledger behind the real app (tests/api/conftest.py).

`Pages` wraps a `World` with what page tests need: the demo's passwords, a browser-like
client per visitor (its own cookie jar), signing in through the real form, and the CSRF
token a page carries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.web.i18n import catalogue
from tests.api.conftest import World, build_world

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def words(language: str, key: str, **values: object) -> str:
    """A message as the page writes it (HTML-escaped like the templates do)."""
    from markupsafe import escape

    text = catalogue(language)[key]
    return str(escape(text.format_map(values) if values else text))


@dataclass
class Pages:
    world: World
    passwords: dict[str, str]  # account id -> password

    def visitor(self) -> TestClient:
        """A new browser: its own cookies, the same running app."""
        return TestClient(self.world.app, raise_server_exceptions=False,
                          follow_redirects=False)

    def signed_in(self, account: str) -> TestClient:
        """A browser signed in as `account` through the sign-in form."""
        client = self.visitor()
        form = client.get("/signin")
        response = client.post("/signin", data={
            "csrf": csrf_of(form.text), "account": account,
            "password": self.passwords[account], "next": ""})
        assert response.status_code == 303, response.text
        return client

    def token(self, example: str) -> str:
        return self.world.tokens[example]


def demo_passwords(out: Path) -> dict[str, str]:
    """Account id -> password, of the demo written to `out`."""
    keys = json.loads((out / "api-keys.json").read_text("utf-8"))["keys"]
    return {k["account"]: k["password"] for k in keys}


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[Pages]:
    """The demo on SQLite behind the app (the store makes no difference to the pages)."""
    for world in build_world(tmp_path, f"sqlite:///{tmp_path / 'demo' / 'ledger' / 'ledger.db'}"):
        yield Pages(world, demo_passwords(world.out))
