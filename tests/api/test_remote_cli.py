"""`tmec remote`: the CLI's workflows against a running service, same outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.api.server import demo_key, free_port
from tests.conftest import ROOT, run_tmec


def test_register_issue_precheck_verify_and_export(served: tuple[str, Path],
                                                   tmp_path: Path) -> None:
    url, out = served
    sme = ["--server", url, "--api-key", demo_key(out, "frenos-bajio.producer")]
    workbook = str(ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx")
    qualified = run_tmec("remote", "rvc", workbook, *sme, "--json")
    assert qualified.exit_code == 0, qualified.stderr
    assert qualified.json()["originating"] is True
    csv = run_tmec("remote", "rvc", str(ROOT / "examples" / "tables" /
                                        "brake-caliper-mx.items.csv"), *sme)
    assert "ORIGINATING" in csv.stdout
    issued = run_tmec("remote", "issue", workbook, "--shipment", "REMOTE-1", *sme, "--json")
    assert issued.exit_code == 0, issued.stderr
    digest = issued.json()["tokenDigest"]
    again = run_tmec("remote", "issue", workbook, "--shipment", "REMOTE-1", *sme)
    assert again.exit_code == 7
    assert "error [ledger.conflict]" in again.stderr
    broker = ["--server", url, "--api-key", demo_key(out, "laredo-brokers.broker")]
    demo_token = json.loads((out / "bundles" / "steel-wheel-ca.json").read_text("utf-8"))
    from ledger.token import token_digest
    wheel = token_digest(demo_token["token"])
    assert run_tmec("remote", "precheck", wheel, *broker).exit_code == 0
    not_given = run_tmec("remote", "precheck", wheel, digest, *broker, "--json")
    assert not_given.exit_code == 1
    assert [s["go"] for s in not_given.json()["shipments"]] == [True, False]
    verified = run_tmec("remote", "verify", str(out / "bundles" / "steel-wheel-ca.json"),
                        "--server", url)
    assert verified.exit_code == 0
    assert "DECISION: CLEAR" in verified.stdout
    export = tmp_path / "frenos.jsonl"
    auditor = ["--server", url, "--api-key", demo_key(out, "norte-audit.auditor")]
    assert run_tmec("remote", "export", "--party", "frenos-bajio", "--out", str(export),
                    *auditor).exit_code == 0
    checked = run_tmec("audit", "verify", str(export), "--trust", str(out / "trust.json"))
    assert checked.exit_code == 0, checked.stdout
    before = tmp_path / "frenos-2025.jsonl"  # a period before any token: keys only
    assert run_tmec("remote", "export", "--party", "frenos-bajio", "--out", str(before),
                    "--to", "2025-12-31", *auditor).exit_code == 0
    lines = [json.loads(line) for line in before.read_text("utf-8").splitlines()]
    assert lines[0]["period"] == {"from": None, "to": "2025-12-31"}
    assert not [line for line in lines if line["type"] == "token"]
    checked = run_tmec("audit", "verify", str(before), "--trust", str(out / "trust.json"))
    assert checked.exit_code == 0, checked.stdout
    assert "period … to 2025-12-31" in checked.stdout


def test_refusals_are_one_line_errors_with_the_local_exit_codes(served: tuple[str, Path]
                                                                ) -> None:
    url, out = served
    workbook = str(ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx")
    no_key = run_tmec("remote", "rvc", workbook, "--server", url)
    assert no_key.exit_code == 7
    assert no_key.stderr.startswith("error [api.unauthenticated]")
    bad_bom = run_tmec("remote", "rvc", str(ROOT / "pyproject.toml"), "--server", url,
                       "--api-key", demo_key(out, "frenos-bajio.producer"))
    assert bad_bom.exit_code == 3
    assert bad_bom.stderr.startswith("error [rules.bom_invalid]")
    down = run_tmec("remote", "verify", str(out / "bundles" / "steel-wheel-ca.json"),
                    "--server", f"http://127.0.0.1:{free_port()}")
    assert down.exit_code == 4
    for result in (no_key, bad_bom, down):
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


def test_a_party_that_keeps_its_key_signs_here_and_the_service_logs_it(
        served: tuple[str, Path]) -> None:
    """`tmec remote issue --key`: determination and signature on the party's machine,
    the service checks token, statement and disclosure records and logs them; customs
    then clears the token like any other."""
    url, out = served
    sme = ["--server", url, "--api-key", demo_key(out, "frenos-bajio.producer")]
    bom = str(ROOT / "examples" / "brake-caliper-mx.json")
    key = str(out / "ledger" / "keys" / "frenos-bajio.json")
    issued = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-HERE-1", "--key", key,
                      *sme, "--json")
    assert issued.exit_code == 0, issued.stderr
    digest = issued.json()["tokenDigest"]
    verified = httpx.get(f"{url}/v1/verify/{digest}", timeout=30).json()
    assert verified["decision"] == "clear", verified
    assert verified["certificate"]["certifierRole"] == "producer"
    # The same shipment again: the log's one-active-token rule, as for held keys.
    again = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-HERE-1", "--key", key,
                     *sme)
    assert again.exit_code == 7
    assert "error [ledger.conflict]" in again.stderr
    # Another party's key under this account: refused before anything is logged.
    other = str(out / "ledger" / "keys" / "huron-powertrain.json")
    foreign = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-HERE-2", "--key", other,
                       *sme)
    assert foreign.exit_code == 7, foreign.stderr
    assert "not signed by a key of your party" in foreign.stderr


def test_a_party_that_keeps_its_key_signs_here_under_its_did_web(
        served: tuple[str, Path]) -> None:
    """`tmec remote issue --key --issuer-did`: the token names the party's did:web on the
    service's host; the service checks the DID against the log before logging it."""
    url, out = served
    sme = ["--server", url, "--api-key", demo_key(out, "frenos-bajio.producer")]
    bom = str(ROOT / "examples" / "brake-caliper-mx.json")
    key = str(out / "ledger" / "keys" / "frenos-bajio.json")
    host = url.removeprefix("http://").replace(":", "%3A")
    did = f"did:web:{host}:parties:frenos-bajio"
    issued = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-WEB-1", "--key", key,
                      "--issuer-did", did, *sme, "--json")
    assert issued.exit_code == 0, issued.stderr
    digest = issued.json()["tokenDigest"]
    verified = httpx.get(f"{url}/v1/verify/{digest}", timeout=30).json()
    assert verified["decision"] == "clear", verified
    assert {c["name"]: c["outcome"] for c in verified["checks"]}["token.issuer"] == "pass"
    token = httpx.get(f"{url}/v1/tokens/{digest}", timeout=30, headers={
        "Authorization": f"Bearer {demo_key(out, 'frenos-bajio.producer')}"}).json()
    assert token["issuer"] == did
    other = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-WEB-2", "--key", key,
                     "--issuer-did", did.replace("frenos-bajio", "huron-powertrain"), *sme)
    assert other.exit_code == 3, other.stderr
    assert "error [ledger.token_invalid.issuer]" in other.stderr
    alone = run_tmec("remote", "issue", bom, "--shipment", "SIGNED-WEB-3", "--issuer-did",
                     did, *sme)
    assert alone.exit_code == 3
    assert "PUT /v1/identity" in alone.stderr


def test_a_party_chooses_did_web_for_the_tokens_the_service_signs(
        served: tuple[str, Path]) -> None:
    """`tmec remote identity`: shown, chosen, and then named by the next held-key token."""
    url, out = served
    sme = ["--server", url, "--api-key", demo_key(out, "frenos-bajio.producer")]
    host = url.removeprefix("http://").replace(":", "%3A")
    did = f"did:web:{host}:parties:frenos-bajio"
    shown = run_tmec("remote", "identity", *sme, "--json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json() == {"party": "frenos-bajio", "method": "did:key", "issuer": None}
    try:
        chosen = run_tmec("remote", "identity", "did:web", *sme)
        assert chosen.exit_code == 0, chosen.stderr
        assert chosen.stdout.strip() == f"frenos-bajio issues as did:web: {did}"
        issued = run_tmec("remote", "issue", str(ROOT / "examples" / "brake-caliper-mx.json"),
                          "--shipment", "HELD-WEB-1", *sme, "--json")
        assert issued.exit_code == 0, issued.stderr
        digest = issued.json()["tokenDigest"]
        token = httpx.get(f"{url}/v1/tokens/{digest}", timeout=30, headers={
            "Authorization": f"Bearer {demo_key(out, 'frenos-bajio.producer')}"}).json()
        assert token["issuer"] == did
        verified = httpx.get(f"{url}/v1/verify/{digest}", timeout=30).json()
        assert verified["decision"] == "clear", verified
    finally:
        back = run_tmec("remote", "identity", "did:key", *sme)
    assert back.exit_code == 0, back.stderr
    assert "issues as did:key: each token names the did:key" in back.stdout
    wrong = run_tmec("remote", "identity", "did:example", *sme)
    assert wrong.exit_code == 3
    assert wrong.stderr.startswith("error [ledger.input_invalid]")
    assert "did:key or did:web, not 'did:example'" in wrong.stderr
    refused = run_tmec("remote", "identity", "--server", url)  # no key: who would it be?
    assert refused.exit_code == 7
    assert refused.stderr.startswith("error [api.unauthenticated]")
