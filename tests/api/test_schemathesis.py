"""schemathesis against the served OpenAPI: no 5xx, every response as documented.

The real server (`tmec serve`, two workers, the demo ledger) is driven with requests that
schemathesis generates from ``/v1/openapi.json``, each operation under a bounded example
budget, once with each of three keys (registrar, producer, broker: every keyed route
either accepts the caller or answers a documented problem). The checks: no server error;
status codes, content types and bodies conforming to the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture(scope="module")
def served_api(served: tuple[str, Path]) -> tuple[str, dict[str, str]]:
    url, out = served
    keys = json.loads((out / "api-keys.json").read_text("utf-8"))["keys"]
    return url, {k["role"]: k["apiKey"] for k in keys}


@pytest.fixture(scope="module")
def api_schema(served_api: tuple[str, dict[str, str]]) -> schemathesis.BaseSchema:
    url, _ = served_api
    return schemathesis.openapi.from_url(f"{url}/v1/openapi.json")


@pytest.mark.parametrize("role", ["registrar", "producer", "broker"])
def test_the_served_api_keeps_its_openapi_promises(api_schema: schemathesis.BaseSchema,
                                                   served_api: tuple[str, dict[str, str]],
                                                   role: str) -> None:
    headers = {"Authorization": f"Bearer {served_api[1][role]}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=checks, timeout=30)

        run()
