"""`tmec` signing locally under a party's did:web identity (issue 12).

``tmec init --public-url`` puts the service's did:web host in the workspace's trust file;
``tmec token issue --issuer-did did:web:<host>:parties:<party>`` signs under it, and the
offline ``tmec verify`` of the bundle binds the DID to the log. A DID of another party or
host, or one where the trust file names no host, is refused before anything is logged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_ledger_cli import CLEAR, INPUT_ERROR, Workspace, one_error_line, outcomes

HOST = "ledger.example%3A8443"
PARTY_DID = f"did:web:{HOST}:parties:frenos-bajio"


@pytest.fixture
def web(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "home")
    workspace.ok("init", "--public-url", "https://ledger.example:8443/")
    return workspace


def test_a_token_signed_here_under_did_web_verifies_offline(web: Workspace) -> None:
    trust = json.loads((web.home / "trust.json").read_text("utf-8"))
    assert trust["did_web_host"] == HOST
    key = web.new_key("frenos-bajio")
    issued = web.issue(key["keyFile"], "FBA-WEB-1", "--issuer-did", PARTY_DID)
    token = json.loads(Path(issued["token"]).read_text("utf-8"))
    assert token["issuer"] == PARTY_DID
    multibase = key["kid"].partition("#")[2]
    assert token["proof"]["verificationMethod"] == f"{PARTY_DID}#{multibase}"
    code, report = web.verify(web.bundle(issued["tokenDigest"], "--disclose", "all"))
    assert (code, report["decision"]) == (CLEAR, "clear"), report
    assert outcomes(report)["token.issuer"] == "pass"
    # The default stays did:key, with no token.issuer check (nothing to bind).
    plain = web.issue(key["keyFile"], "FBA-KEY-1")
    code, report = web.verify(web.bundle(plain["tokenDigest"]))
    assert code == CLEAR
    assert "token.issuer" not in outcomes(report)


def test_a_did_web_of_another_party_or_host_is_refused(web: Workspace) -> None:
    key = web.new_key("frenos-bajio")
    web.new_key("great-lakes", country="CA")
    for issuer, words in ((f"did:web:{HOST}:parties:great-lakes", "another party"),
                          ("did:web:elsewhere.example:parties:frenos-bajio", "another host"),
                          (f"did:web:{HOST}", "not a party's did:web"),
                          ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                           "another key's did:key")):
        result = web.run("token", "issue", str(Path(__file__).parents[2] / "examples" /
                                               "brake-caliper-mx.json"),
                         "--key", key["keyFile"], "--shipment", "FBA-WEB-X",
                         "--issuer-did", issuer)
        line = one_error_line(result, INPUT_ERROR)
        assert "ledger.token_invalid.issuer" in line, line
        assert words in line, line
    assert web.ok("keys", "list", "--json").json()[-1]["added"] == 1  # nothing logged


def test_without_a_did_web_host_only_did_key_is_issued(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "home")
    ws.ok("init")
    trust = json.loads((ws.home / "trust.json").read_text("utf-8"))
    assert "did_web_host" not in trust
    key = ws.new_key("frenos-bajio")
    result = ws.run("token", "issue", str(Path(__file__).parents[2] / "examples" /
                                          "brake-caliper-mx.json"), "--key", key["keyFile"],
                    "--shipment", "FBA-NO-HOST", "--issuer-did", PARTY_DID)
    assert "no did:web host" in one_error_line(result, INPUT_ERROR)
    bad = Workspace(ws.home.parent / "other")
    assert "--public-url" in one_error_line(
        bad.run("init", "--public-url", "https://ledger.example/ledger"), INPUT_ERROR)
