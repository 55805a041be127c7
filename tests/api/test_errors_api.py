"""Every error is problem+json; bodies are bounded; no traceback ever reaches a caller."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import World, problem


def test_unknown_routes_and_methods(sqlite_world: World) -> None:
    problem(sqlite_world.client.get("/v1/nothing"), 404, "api.not_found")
    problem(sqlite_world.client.delete("/v1/verify"), 405, "api.method_not_allowed")


def test_a_body_over_the_limit_is_refused_by_its_length(sqlite_world: World) -> None:
    big = b"{" + b" " * (300 * 1024) + b"}"
    found = problem(sqlite_world.client.post(
        "/v1/verify", content=big, headers={"content-type": "application/json"}), 413,
        "api.too_large")
    assert "TMEC_API_MAX_BODY_BYTES" in found["detail"]


def test_a_streamed_body_over_the_limit_is_cut_off(sqlite_world: World) -> None:
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b" " * 4096

    response = sqlite_world.client.post(
        "/v1/verify", content=chunks(), headers={"content-type": "application/json"})
    problem(response, 413, "api.too_large")


def test_validation_errors_name_the_field(sqlite_world: World) -> None:
    found = problem(sqlite_world.client.post(
        "/v1/precheck", json={"shipments": "all"},
        headers=sqlite_world.auth("laredo-brokers.broker")), 422, "api.request_invalid")
    assert found["detail"].startswith("body.shipments")
    assert found["errors"][0]["where"] == "body.shipments"


def test_an_unexpected_failure_is_a_bare_500(sqlite_world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal state /etc/tmec/key")

    monkeypatch.setattr(sqlite_world.service, "verify", broken)
    response = sqlite_world.client.post("/v1/verify", content=b"{}",
                                        headers={"content-type": "application/json"})
    found = problem(response, 500, "internal")
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert found["title"] == "Internal Server Error"


def test_the_database_down_is_503_not_a_traceback(sqlite_world: World,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.errors import StoreUnavailableError

    def down() -> int:
        raise StoreUnavailableError("read the log size: the database is unavailable")

    monkeypatch.setattr(sqlite_world.service.ledger.store, "size", down)
    problem(sqlite_world.client.get("/readyz"), 503, "api.not_ready")
    assert sqlite_world.client.get("/healthz").json() == {"ok": True}
