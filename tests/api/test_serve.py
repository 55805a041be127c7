"""`tmec serve` for real: the demo ledger behind uvicorn with two worker processes.

What `make run` does, on a free port: `tmec demo` builds the ledger and the API keys,
`tmec serve --workers 2` serves it; requests go over TCP with keep-alive. Both workers
share the SQLite ledger: a key revoked through one is refused by the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.api.server import demo_key
from tests.conftest import ROOT, run_tmec


def test_make_run_s_server_verifies_and_prechecks(served: tuple[str, Path]) -> None:
    url, out = served
    with httpx.Client(base_url=url, timeout=30) as client:  # one keep-alive connection
        for name in ("brake-caliper-mx", "cylinder-head-us", "steel-wheel-ca"):
            data = (out / "bundles" / f"{name}.json").read_bytes()
            result = client.post("/v1/verify", content=data,
                                 headers={"content-type": "application/json"}).json()
            assert result["decision"] == "clear", name
            again = client.get(f"/v1/verify/{result['tokenDigest']}").json()
            assert again["decision"] == "clear", name
        digest = result["tokenDigest"]
        broker = {"Authorization": f"Bearer {demo_key(out, 'laredo-brokers.broker')}"}
        answer = client.post("/v1/precheck", headers=broker,
                             json={"shipments": [{"token": digest}]}).json()
        assert answer["go"] == 1
        assert client.get("/checkpoint").status_code == 200
        docs = client.get("/v1/openapi.json").json()
        assert "/v1/verify/{digest}" in docs["paths"]


def test_a_key_revoked_through_one_worker_is_refused_by_all(served: tuple[str, Path]) -> None:
    url, out = served
    auth = {"Authorization": f"Bearer {demo_key(out, 'huron-powertrain.producer')}"}
    fresh = httpx.post(f"{url}/v1/accounts/huron-powertrain.producer/keys", headers=auth,
                       json={"label": "temp"}).json()
    temp = {"Authorization": f"Bearer {fresh['apiKey']}"}
    assert httpx.get(f"{url}/v1/me", headers=temp).status_code == 200
    assert httpx.post(f"{url}/v1/keys/{fresh['keyId']}/revoke", headers=auth,
                      json={"reason": "done"}).status_code == 200
    # New connections land on either worker: every one refuses the key.
    for _ in range(8):
        assert httpx.get(f"{url}/v1/me", headers=temp).status_code == 401


def test_serve_without_a_workspace_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_tmec("serve", "--home", str(tmp_path / "nowhere"), "--port", "1")
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_an_sme_uploads_the_excel_bom_and_customs_clears_its_token(served: tuple[str, Path]
                                                                   ) -> None:
    url, out = served
    auth = {"Authorization": f"Bearer {demo_key(out, 'frenos-bajio.producer')}"}
    workbook = (ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx").read_bytes()
    with httpx.Client(base_url=url, timeout=30) as client:
        qualified = client.post("/v1/determinations", headers=auth, files={
            "bom": ("caliper.xlsx", workbook)}).json()
        assert qualified["originating"] is True
        issued = client.post("/v1/tokens", headers=auth, files={
            "bom": ("caliper.xlsx", workbook),
            "issue": (None, json.dumps({"shipmentId": "FBA-SERVE-1"}))})
        assert issued.status_code == 201, issued.text
        digest = issued.json()["tokenDigest"]
        assert client.get(f"/v1/verify/{digest}").json()["decision"] == "clear"
        bundle = client.get(f"/v1/tokens/{digest}/bundle", headers=auth)
        path = out / "served-bundle.json"
        path.write_bytes(bundle.content)
        assert run_tmec("verify", str(path), "--trust", str(out / "trust.json")).exit_code == 0
