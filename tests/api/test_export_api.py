"""A party's records, exported over HTTP and checked offline by `tmec audit verify`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.audit_export import verify_export
from ledger.verify import TrustFile
from tests.api.conftest import World, problem
from tests.conftest import ROOT, run_tmec


def _export(world: World, party: str, account: str) -> bytes:
    response = world.client.get(f"/v1/parties/{party}/export", headers=world.auth(account))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    return response.content


def _trust(world: World) -> TrustFile:
    return TrustFile.from_json(world.client.get("/v1/trust").content)


def test_an_auditor_exports_a_party_and_it_verifies_offline(world: World,
                                                            tmp_path: Path) -> None:
    head = world.tokens["cylinder-head-us"]
    world.service.ledger.revoke_token(head, signer=None, reason="audit finding")
    world.service.ledger.publish_checkpoint()
    data = _export(world, "huron-powertrain", "norte-audit.auditor")
    lines = data.decode().splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds[0] == "header"
    assert kinds[-1] == "end"
    report = verify_export(lines, _trust(world))
    assert report.ok, report.problem
    assert report.tokens == 1
    statements = [json.loads(line)["statement"] for line in lines
                  if json.loads(line)["type"] == "entry"]
    assert {s["type"] for s in statements} >= {"key", "token", "revoke", "status"}
    path = tmp_path / "huron.jsonl"
    path.write_bytes(data)
    trust = tmp_path / "trust.json"
    trust.write_bytes(world.client.get("/v1/trust").content)
    checked = run_tmec("audit", "verify", str(path), "--trust", str(trust))
    assert checked.exit_code == 0, checked.stderr
    assert "export verified" in checked.stdout


@pytest.mark.parametrize("damage", ["drop an entry", "edit a statement", "edit a token",
                                    "truncate", "swap a checkpoint", "break consistency"])
def test_a_damaged_export_names_the_failing_line(sqlite_world: World, tmp_path: Path,
                                                 damage: str) -> None:
    lines = _export(sqlite_world, "frenos-bajio", "norte-audit.auditor").decode().splitlines()
    objects = [json.loads(line) for line in lines]
    where = next(n for n, o in enumerate(objects) if o["type"] == "entry")
    if damage == "drop an entry":
        del objects[where]
    elif damage == "edit a statement":
        objects[where]["statement"]["time"] = "2020-01-01T00:00:00Z"
    elif damage == "edit a token":
        token = next(o for o in objects if o["type"] == "token")
        token["token"]["credentialSubject"]["originCriterion"] = "A"
    elif damage == "truncate":
        objects = objects[:-1]
    elif damage == "swap a checkpoint":
        checkpoints = [n for n, o in enumerate(objects) if o["type"] == "checkpoint"]
        objects[checkpoints[0]]["text"] = objects[checkpoints[1]]["text"]
    else:
        consistency = next(o for o in objects if o["type"] == "consistency")
        consistency["proof"][0] = "A" * 43 + "="  # 32 zero bytes instead of a real hash
    damaged = [json.dumps(o) for o in objects]
    report = verify_export(damaged, _trust(sqlite_world))
    assert not report.ok
    assert report.line is not None
    assert report.problem
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(damaged) + "\n", encoding="utf-8")
    trust = tmp_path / "trust.json"
    trust.write_bytes(sqlite_world.client.get("/v1/trust").content)
    checked = run_tmec("audit", "verify", str(path), "--trust", str(trust))
    assert checked.exit_code == 8
    assert f"line {report.line}" in checked.stdout


def test_who_may_export(sqlite_world: World) -> None:
    world = sqlite_world
    assert world.client.get("/v1/parties/frenos-bajio/export",
                            headers=world.auth("frenos-bajio.producer")).status_code == 200
    problem(world.client.get("/v1/parties/frenos-bajio/export",
                             headers=world.auth("huron-powertrain.producer")), 403,
            "api.forbidden")
    problem(world.client.get("/v1/parties/frenos-bajio/export",
                             headers=world.auth("laredo-brokers.broker")), 403,
            "api.forbidden.role")
    problem(world.client.get("/v1/parties/nobody/export",
                             headers=world.auth("norte-audit.auditor")), 404,
            "ledger.not_found")


def test_the_cli_exports_what_the_api_exports(sqlite_world: World, tmp_path: Path) -> None:
    out = tmp_path / "frenos.jsonl"
    made = run_tmec("audit", "export", "--party", "frenos-bajio", "--out", str(out),
                    "--home", str(sqlite_world.home))
    assert made.exit_code == 0, made.stderr
    report = verify_export(out.read_bytes().splitlines(), _trust(sqlite_world))
    assert report.ok, report.problem


def _issue_on(world: World, moment: datetime, shipment: str) -> str:
    """A token of frenos-bajio logged at `moment` (the ledger's clock set back)."""
    ledger = world.service.ledger
    clock = ledger.now
    ledger.now = lambda: moment
    try:
        document = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
        issued = world.client.post("/v1/tokens", headers=world.auth("frenos-bajio.producer"),
                                   json={"shipmentId": shipment, "bom": document})
    finally:
        ledger.now = clock
    assert issued.status_code == 201, issued.text
    return str(issued.json()["tokenDigest"])


def _tokens_of(data: bytes) -> set[str]:
    return {json.loads(line)["digest"] for line in data.decode().splitlines()
            if json.loads(line)["type"] == "token"}


def test_an_export_of_a_period_holds_the_tokens_logged_in_it(sqlite_world: World,
                                                             tmp_path: Path) -> None:
    world = sqlite_world
    winter = _issue_on(world, datetime(2026, 2, 10, 12, tzinfo=UTC), "FBA-Q1-0001")
    spring = _issue_on(world, datetime(2026, 5, 20, 9, tzinfo=UTC), "FBA-Q2-0001")
    world.service.ledger.revoke_token(winter, signer=None, reason="found in the audit")
    world.service.ledger.publish_checkpoint()
    today = world.tokens["brake-caliper-mx"]
    auditor = world.auth("norte-audit.auditor")

    def export(**period: str) -> bytes:
        response = world.client.get("/v1/parties/frenos-bajio/export", headers=auditor,
                                    params=period)
        assert response.status_code == 200, response.text
        return response.content

    q1 = export(**{"from": "2026-01-01", "to": "2026-03-31"})
    assert _tokens_of(q1) == {winter}
    header = json.loads(q1.decode().splitlines()[0])
    assert header["period"] == {"from": "2026-01-01", "to": "2026-03-31"}
    report = verify_export(q1.splitlines(), _trust(world))
    assert report.ok, report.problem
    assert report.period is not None
    assert report.period.to_dict() == header["period"]
    kinds = {json.loads(line).get("statement", {}).get("type")
             for line in q1.decode().splitlines()}
    assert {"key", "token", "revoke"} <= kinds  # the revocation after the period is in
    later = export(**{"from": "2026-04-01"})
    assert _tokens_of(later) == {spring, today}
    assert verify_export(later.splitlines(), _trust(world)).ok
    everything = export()
    assert _tokens_of(everything) == {winter, spring, today}
    assert "period" not in json.loads(everything.decode().splitlines()[0])
    empty = export(to="2025-12-31")
    assert _tokens_of(empty) == set()
    assert verify_export(empty.splitlines(), _trust(world)).ok
    # The export names its period in its file name.
    response = world.client.get("/v1/parties/frenos-bajio/export", headers=auditor,
                                params={"from": "2026-01-01", "to": "2026-03-31"})
    assert ('filename="frenos-bajio.2026-01-01_2026-03-31.tmec-export.jsonl"'
            in response.headers["content-disposition"])

    # A header claiming another period than its tokens' is caught.
    lines = q1.decode().splitlines()
    claimed = json.loads(lines[0])
    claimed["period"] = {"from": "2026-03-01", "to": "2026-03-31"}
    relabelled = [json.dumps(claimed), *lines[1:]]
    report = verify_export(relabelled, _trust(world))
    assert not report.ok
    assert "outside the export's period" in (report.problem or "")
    claimed["period"] = {"from": "March", "to": None}
    report = verify_export([json.dumps(claimed), *lines[1:]], _trust(world))
    assert report.line == 1
    assert "period" in (report.problem or "")

    # The CLI exports the same period, and says it when it verifies.
    out = tmp_path / "q1.jsonl"
    made = run_tmec("audit", "export", "--party", "frenos-bajio", "--out", str(out),
                    "--from", "2026-01-01", "--to", "2026-03-31", "--home", str(world.home))
    assert made.exit_code == 0, made.stderr
    assert _tokens_of(out.read_bytes()) == {winter}
    trust = tmp_path / "trust.json"
    trust.write_bytes(world.client.get("/v1/trust").content)
    checked = run_tmec("audit", "verify", str(out), "--trust", str(trust))
    assert checked.exit_code == 0, checked.stderr
    assert "period 2026-01-01 to 2026-03-31" in checked.stdout


def test_a_period_that_is_not_one_is_refused(sqlite_world: World) -> None:
    world = sqlite_world
    auditor = world.auth("norte-audit.auditor")
    problem(world.client.get("/v1/parties/frenos-bajio/export", headers=auditor,
                             params={"from": "2026-04-01", "to": "2026-03-01"}), 422,
            "ledger.input_invalid")
    problem(world.client.get("/v1/parties/frenos-bajio/export", headers=auditor,
                             params={"from": "last spring"}), 422, "api.request_invalid")
    bad = run_tmec("audit", "export", "--party", "frenos-bajio", "--out", "x.jsonl",
                   "--from", "20260101", "--home", str(world.home))
    assert bad.exit_code == 3
    assert "--from must be a date" in bad.stderr
