"""A party's records, exported over HTTP and checked offline by `tmec audit verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.audit_export import verify_export
from ledger.verify import TrustFile
from tests.api.conftest import World, problem
from tests.conftest import run_tmec


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
