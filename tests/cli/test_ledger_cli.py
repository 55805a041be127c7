"""The ledger through the real `tmec` command line (`python -m cli` in a subprocess).

`tmec demo --out DIR` builds a ledger whose bundles verify clear offline with the trust
file it writes; a byte changed in a bundle rejects it; two days later the checkpoint is
stale and the bundle needs review. In a workspace of its own (``--home``) each test then
walks a party through keys, tokens (single and blanket), bundles with disclosed lines,
checkpoints, inclusion and consistency proofs (checked here with `ledger.merkle`),
revocations of tokens and keys, key rotation and the audit of a tampered database.

Exit codes of `tmec verify`: 0 clear, 5 review, 1 reject. Any other failure prints one
line ``error [code]: message`` on stderr, exit 3 for input errors, never a traceback.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.checkpoint import Checkpoint
from ledger.merkle import leaf_hash, node_hash, verify_consistency, verify_inclusion
from tests.conftest import ROOT, CliResult, run_tmec

EXAMPLES = ROOT / "examples"
CALIPER = str(EXAMPLES / "brake-caliper-mx.json")
WHEEL = str(EXAMPLES / "steel-wheel-ca.json")
CLEAR, REJECT, INPUT_ERROR, REVIEW = 0, 1, 3, 5
NOT_FOUND, REFUSED, INTEGRITY = 6, 7, 8
ERROR_LINE = re.compile(r"error \[[a-z_.]+\]: \S")


def one_error_line(result: CliResult, exit_code: int = INPUT_ERROR) -> str:
    """The single ``error [code]: message`` line a failed command prints."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert ERROR_LINE.match(lines[0]), lines[0]
    assert result.exit_code == exit_code, (result.exit_code, lines[0])
    return lines[0]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def checkpoint_of(signed: str) -> Checkpoint:
    return Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n")


# ---------------------------------------------------------------------------------------
# tmec demo


@dataclass(frozen=True)
class Demo:
    out: Path

    @property
    def trust(self) -> Path:
        return self.out / "trust.json"

    @property
    def bundles(self) -> list[Path]:
        return sorted((self.out / "bundles").glob("*.json"))

    def verify(self, bundle: Path, *args: str) -> CliResult:
        return run_tmec("verify", str(bundle), "--trust", str(self.trust), *args)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    result = run_tmec("demo", "--out", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    return Demo(out)


def test_demo_writes_bundles_and_a_trust_file(demo: Demo) -> None:
    assert [b.name for b in demo.bundles] == [
        "brake-caliper-mx.customs.json", "brake-caliper-mx.json", "cylinder-head-us.json",
        "lash-adjusters-us.json", "steel-wheel-ca.json"]
    trust = json.loads(demo.trust.read_text("utf-8"))
    assert trust["format"] == "tmec-trust/1"
    assert trust["policy"]["quorum"] == "customs"


@pytest.mark.parametrize("name", ["brake-caliper-mx", "brake-caliper-mx.customs",
                                  "cylinder-head-us", "lash-adjusters-us", "steel-wheel-ca"])
def test_every_demo_bundle_verifies_clear_offline(demo: Demo, name: str) -> None:
    bundle = demo.out / "bundles" / f"{name}.json"
    report = demo.verify(bundle)
    assert report.exit_code == CLEAR, report.stdout + report.stderr
    assert "DECISION: CLEAR" in report.stdout

    as_json = demo.verify(bundle, "--json")
    assert as_json.exit_code == CLEAR
    data = as_json.json()
    assert data["decision"] == "clear"
    assert data["checks"][0] == {"name": "bundle.format", "outcome": "pass",
                                 "detail": "tmec-bundle/1"}
    assert all(set(c) == {"name", "outcome", "detail"} for c in data["checks"])
    assert {c["outcome"] for c in data["checks"]} <= {"pass", "skip"}
    assert data["tokenDigest"] == json.loads(bundle.read_text("utf-8"))["log"]["token"][
        "statement"]["tokenDigest"]


def test_the_customs_bundle_recomputes_the_determination(demo: Demo) -> None:
    data = demo.verify(demo.out / "bundles" / "brake-caliper-mx.customs.json", "--json").json()
    outcomes = {c["name"]: c["outcome"] for c in data["checks"]}
    assert outcomes["disclosure.lines"] == "pass"
    assert outcomes["determination.recompute"] == "pass"


def test_the_cylinder_head_bundle_carries_its_supplier_bundle(demo: Demo) -> None:
    data = demo.verify(demo.out / "bundles" / "cylinder-head-us.json", "--json").json()
    outcomes = {c["name"]: c["outcome"] for c in data["checks"]}
    assert outcomes["suppliers"] == "pass"
    assert [o for n, o in outcomes.items() if n.startswith("supplier.")] == ["pass"]


def test_a_byte_edited_bundle_is_rejected(demo: Demo, tmp_path: Path) -> None:
    original = (demo.out / "bundles" / "brake-caliper-mx.json").read_bytes()
    position = original.index(b'"partsRoot": "') + len(b'"partsRoot": "')
    digit = original[position:position + 1]
    edited = tmp_path / "edited.json"
    edited.write_bytes(original[:position] + (b"1" if digit != b"1" else b"2")
                       + original[position + 1:])

    report = demo.verify(edited)
    assert report.exit_code == REJECT
    assert "DECISION: REJECT" in report.stdout
    data = demo.verify(edited, "--json").json()
    assert data["decision"] == "reject"
    assert any(c["outcome"] == "fail" for c in data["checks"])


def test_a_truncated_bundle_is_rejected_not_an_error(demo: Demo, tmp_path: Path) -> None:
    original = (demo.out / "bundles" / "brake-caliper-mx.json").read_bytes()
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(original[: len(original) // 2])
    result = demo.verify(truncated, "--json")
    assert result.exit_code == REJECT
    assert [(c["name"], c["outcome"]) for c in result.json()["checks"]] == [
        ("bundle.format", "fail")]


def test_two_days_later_the_checkpoint_is_stale_and_needs_review(demo: Demo) -> None:
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bundle = demo.out / "bundles" / "lash-adjusters-us.json"
    report = demo.verify(bundle, "--at", later)
    assert report.exit_code == REVIEW, report.stdout
    assert "DECISION: REVIEW" in report.stdout
    data = demo.verify(bundle, "--at", later, "--json").json()
    assert data["decision"] == "review"
    outcomes = {c["name"]: c["outcome"] for c in data["checks"]}
    assert outcomes["checkpoint.freshness"] == "warn"
    assert "fail" not in outcomes.values()


def test_a_malformed_at_time_is_an_input_error(demo: Demo) -> None:
    result = demo.verify(demo.bundles[0], "--at", "next tuesday")
    assert "--at" in one_error_line(result)


def test_the_demo_refuses_an_existing_ledger(demo: Demo) -> None:
    one_error_line(run_tmec("demo", "--out", str(demo.out)))


# ---------------------------------------------------------------------------------------
# A workspace of one's own


class Workspace:
    """`tmec ... --home HOME` for one test."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.database = home / "ledger.db"

    def run(self, *args: str) -> CliResult:
        return run_tmec(*args, "--home", str(self.home))

    def ok(self, *args: str) -> CliResult:
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    def new_key(self, party_id: str, *, country: str = "MX") -> dict[str, Any]:
        return self.ok("keys", "new", "--party-id", party_id, "--name", f"{party_id} S.A.",
                       "--country", country, "--address", "Av. Industrial 410, Celaya",
                       "--email", f"trade@{party_id}.example", "--phone", "+52 461 555 0142",
                       "--json").json()

    def issue(self, key_file: str, shipment: str, *extra: str, bom: str = CALIPER
              ) -> dict[str, Any]:
        return self.ok("token", "issue", bom, "--key", key_file, "--shipment", shipment,
                       *extra, "--json").json()

    def bundle(self, digest: str, *extra: str) -> Path:
        out = self.home / "out" / f"{digest[:12]}-{len(list(self.home.glob('out/*')))}.json"
        self.ok("token", "bundle", digest, "--out", str(out), *extra)
        return out

    def verify(self, bundle: Path) -> tuple[int, dict[str, Any]]:
        result = self.run("verify", str(bundle), "--json")
        assert "Traceback" not in result.stderr, result.stderr
        return result.exit_code, result.json()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "home")
    workspace.ok("init")
    return workspace


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in report["checks"]}


def test_keys_new_registers_the_key_in_the_log(ws: Workspace) -> None:
    first = ws.new_key("frenos-bajio")
    second = ws.new_key("great-lakes", country="CA")
    assert first["kid"].startswith("did:key:z6Mk")
    assert (first["index"], second["index"]) == (0, 1)
    key_file = Path(first["keyFile"])
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(key_file.read_text("utf-8"))["kid"] == first["kid"]
    listed = ws.ok("keys", "list", "--json").json()
    assert [(k["party"], k["status"]) for k in listed] == [("frenos-bajio", "valid"),
                                                           ("great-lakes", "valid")]


def test_a_second_key_for_the_same_party_is_refused(ws: Workspace) -> None:
    ws.new_key("frenos-bajio")
    result = ws.run("keys", "new", "--party-id", "frenos-bajio", "--name", "X", "--country",
                    "MX", "--address", "A", "--email", "e@x.example", "--phone",
                    "+52 461 555 0100")
    line = one_error_line(result, REFUSED)
    assert "keys rotate" in line
    assert "keys admit" in line


def test_token_issue_show_and_a_disclosed_bundle_verify_clear(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    issued = ws.issue(key["keyFile"], "FBA-PED-26-0001", "--invoice", "F-1187")
    digest = issued["tokenDigest"]
    assert issued["index"] == 1
    assert checkpoint_of(issued["checkpoint"]).size == 2
    assert Path(issued["token"]).is_file()
    assert "parts" not in issued  # the disclosure records are in the ledger's database

    shown = ws.ok("token", "show", digest, "--json").json()
    assert shown["tokenDigest"] == digest
    assert shown["status"] == {"token": "active", "key": "valid", "kid": key["kid"],
                               "index": 1, "evidence": "active"}
    subject = shown["token"]["credentialSubject"]
    assert subject["shipmentId"] == "FBA-PED-26-0001"
    assert subject["good"]["invoiceNumber"] == "F-1187"
    assert "validUntil" not in shown["token"]
    text = ws.ok("token", "show", digest).stdout
    assert "shipment: FBA-PED-26-0001" in text
    assert "token active, key valid, evidence active" in text
    # The token file itself can be shown too.
    assert ws.ok("token", "show", issued["token"], "--json").json()["tokenDigest"] == digest

    code, report = ws.verify(ws.bundle(digest, "--disclose", "all"))
    assert (code, report["decision"]) == (CLEAR, "clear")
    assert outcomes(report)["disclosure.lines"] == "pass"
    assert outcomes(report)["determination.recompute"] == "pass"

    code, report = ws.verify(ws.bundle(digest, "--disclose", "0,2"))
    assert (code, report["decision"]) == (CLEAR, "clear")
    assert outcomes(report)["determination.recompute"] == "skip"


def test_a_blanket_token_spans_at_most_twelve_months(ws: Workspace) -> None:
    key = ws.new_key("great-lakes", country="CA")
    issued = ws.issue(key["keyFile"], "GLWW-BLANKET", "--blanket-from", "2026-01-01",
                      "--blanket-to", "2026-12-31", bom=WHEEL)
    token = ws.ok("token", "show", issued["tokenDigest"], "--json").json()["token"]
    assert token["credentialSubject"]["blanketPeriod"] == {"start": "2026-01-01",
                                                           "end": "2026-12-31"}
    assert (token["validFrom"], token["validUntil"]) == ("2026-01-01T00:00:00Z",
                                                         "2026-12-31T23:59:59Z")
    size = ws.ok("log", "checkpoint", "--json").json()["size"]

    too_long = ws.run("token", "issue", WHEEL, "--key", key["keyFile"], "--shipment", "LONG",
                      "--blanket-from", "2026-01-01", "--blanket-to", "2027-01-01")
    assert "12 months" in one_error_line(too_long, INPUT_ERROR)
    half = ws.run("token", "issue", WHEEL, "--key", key["keyFile"], "--shipment", "HALF",
                  "--blanket-from", "2026-01-01")
    assert "--blanket-to" in one_error_line(half, INPUT_ERROR)
    bad_date = ws.run("token", "issue", WHEEL, "--key", key["keyFile"], "--shipment", "BAD",
                      "--blanket-from", "2026-13-01", "--blanket-to", "2026-12-31")
    one_error_line(bad_date, INPUT_ERROR)
    assert ws.ok("log", "checkpoint", "--json").json()["size"] == size  # nothing logged


def test_log_prove_gives_an_inclusion_proof_under_the_printed_root(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digests = [ws.issue(key["keyFile"], f"S-{n}")["tokenDigest"] for n in range(3)]
    checkpoint = ws.ok("log", "checkpoint", "--json").json()
    assert checkpoint["size"] == 4
    signed = checkpoint_of(checkpoint["checkpoint"])
    assert signed.origin == "tmec.example/ledger"
    assert checkpoint["checkpoint"].count("\u2014 ") == 4  # the log and three witnesses

    for index, digest in enumerate(digests, start=1):
        proof = json.loads(ws.ok("log", "prove", digest).stdout)
        assert (proof["index"], proof["treeSize"]) == (index, 4)
        assert proof["statement"]["tokenDigest"] == digest
        assert b64(proof["rootHash"]) == signed.root_hash
        assert checkpoint_of(proof["checkpoint"]).root_hash == signed.root_hash
        verify_inclusion(b64(proof["leafHash"]), proof["index"], proof["treeSize"],
                         [b64(h) for h in proof["proof"]], b64(proof["rootHash"]))

    by_index = json.loads(ws.ok("log", "prove", "--index", "0").stdout)
    assert by_index["statement"]["type"] == "key"
    verify_inclusion(b64(by_index["leafHash"]), 0, 4, [b64(h) for h in by_index["proof"]],
                     signed.root_hash)
    older = json.loads(ws.ok("log", "prove", digests[0], "--size", "2").stdout)
    assert older["checkpoint"] is None
    verify_inclusion(b64(older["leafHash"]), 1, 2, [b64(h) for h in older["proof"]],
                     b64(older["rootHash"]))


def test_log_consistency_proves_the_log_only_grew(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    first = checkpoint_of(ws.issue(key["keyFile"], "S-1")["checkpoint"])
    ws.issue(key["keyFile"], "S-2")
    last = checkpoint_of(ws.issue(key["keyFile"], "S-3")["checkpoint"])

    proof = json.loads(ws.ok("log", "consistency", str(first.size)).stdout)
    assert (proof["oldSize"], proof["newSize"]) == (first.size, last.size)
    assert b64(proof["oldRoot"]) == first.root_hash
    assert b64(proof["newRoot"]) == last.root_hash
    verify_consistency(first.size, last.size, [b64(h) for h in proof["proof"]],
                       first.root_hash, last.root_hash)
    explicit = json.loads(ws.ok("log", "consistency", "1", str(first.size)).stdout)
    verify_consistency(1, first.size, [b64(h) for h in explicit["proof"]],
                       b64(explicit["oldRoot"]), first.root_hash)


def test_a_revoked_token_bundled_afterwards_is_rejected(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    before = ws.bundle(digest)
    assert ws.verify(before)[0] == CLEAR

    revoked = ws.ok("revoke", digest, "--key", key["keyFile"], "--reason", "recall")
    assert "revoked token" in revoked.stdout
    code, report = ws.verify(ws.bundle(digest))
    assert (code, report["decision"]) == (REJECT, "reject")
    assert outcomes(report)["status.token"] == "fail"
    assert ws.ok("token", "show", digest, "--json").json()["status"]["token"] == "revoked"
    # Revoking again is refused with one line.
    one_error_line(ws.run("revoke", digest, "--key", key["keyFile"]), REFUSED)


def test_a_token_cannot_be_revoked_by_another_party(ws: Workspace) -> None:
    frenos = ws.new_key("frenos-bajio")
    other = ws.new_key("great-lakes", country="CA")
    digest = ws.issue(frenos["keyFile"], "S-1")["tokenDigest"]
    result = ws.run("revoke", digest, "--key", other["keyFile"])
    assert "does not belong" in one_error_line(result, REFUSED)


def test_a_key_compromised_since_an_index_voids_later_tokens_only(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    early = ws.issue(key["keyFile"], "S-1")
    late = ws.issue(key["keyFile"], "S-2")
    ws.ok("revoke", "--key-id", key["kid"], "--compromised-since", str(late["index"]),
          "--reason", "key stolen")

    code, report = ws.verify(ws.bundle(late["tokenDigest"]))
    assert (code, outcomes(report)["status.key"]) == (REJECT, "fail")
    code, report = ws.verify(ws.bundle(early["tokenDigest"]))
    assert (code, report["decision"]) == (CLEAR, "clear")
    listed = ws.ok("keys", "list", "--json").json()
    assert listed[0]["compromisedSince"] == late["index"]
    assert listed[0]["status"] == "compromised"
    # The key can sign nothing any more.
    one_error_line(ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment",
                          "S-3"), REFUSED)


def test_compromised_since_applies_to_keys_only(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    one_error_line(ws.run("revoke", digest, "--compromised-since", "1"))
    one_error_line(ws.run("revoke"))


def test_keys_rotate_replaces_the_key_and_retires_the_old_one(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    before = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    rotated = ws.ok("keys", "rotate", "--key", key["keyFile"], "--json").json()
    assert rotated["replaces"] == key["kid"]
    assert rotated["kid"] != key["kid"]
    assert rotated["keyFile"] == key["keyFile"]  # the new key takes the old file name
    old_file = Path(key["keyFile"]).with_suffix(".1.json")
    assert json.loads(old_file.read_text("utf-8"))["kid"] == key["kid"]

    after = ws.issue(rotated["keyFile"], "S-2")["tokenDigest"]
    assert ws.verify(ws.bundle(after))[0] == CLEAR
    assert ws.verify(ws.bundle(before))[0] == CLEAR  # signed before the rotation
    refused = ws.run("token", "issue", CALIPER, "--key", str(old_file), "--shipment", "S-3")
    assert "revoked" in one_error_line(refused, REFUSED)


def test_log_audit_is_ok_then_names_an_entry_edited_in_the_database(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    issued = ws.issue(key["keyFile"], "S-1")
    ws.issue(key["keyFile"], "S-2")
    audit = ws.ok("log", "audit")
    assert "OK" in audit.stdout
    # Every recorded checkpoint is audited, not only the latest (one per token issued).
    assert ws.ok("log", "audit", "--json").json() == {"ok": True, "size": 3, "checkpoints": 2,
                                                      "problems": []}

    index = issued["index"]
    raw = sqlite3.connect(ws.database, isolation_level=None)
    try:
        raw.execute("DROP TRIGGER log_entries_no_update")
        (body,) = raw.execute("SELECT body FROM log_entries WHERE leaf_index = ?",
                              (index,)).fetchone()
        raw.execute("UPDATE log_entries SET body = ? WHERE leaf_index = ?",
                    (bytes(body).replace(b'"blanket":false', b'"blanket":true'), index))
    finally:
        raw.close()

    tampered = ws.run("log", "audit")
    assert tampered.exit_code == INTEGRITY
    assert "Traceback" not in tampered.stderr
    assert f"PROBLEM entry {index}:" in tampered.stdout
    report = ws.run("log", "audit", "--json").json()
    assert report["ok"] is False
    assert any(p.startswith(f"entry {index}:") for p in report["problems"])
    assert ws.run("log", "audit", "--processes", "1", "--json").json() == report
    assert ws.run("log", "audit", "--processes", "0").exit_code == 2  # usage


# ---------------------------------------------------------------------------------------
# Malformed input: one line, exit 3, no traceback


def test_a_missing_key_file_is_an_input_error(ws: Workspace, tmp_path: Path) -> None:
    missing = str(tmp_path / "nobody.json")
    line = one_error_line(ws.run("token", "issue", CALIPER, "--key", missing, "--shipment",
                                 "S-1"), NOT_FOUND)
    assert "nobody.json" in line
    one_error_line(ws.run("keys", "rotate", "--key", missing), NOT_FOUND)
    one_error_line(ws.run("revoke", "--key-id", "did:key:z6Mk", "--key", missing), NOT_FOUND)


def test_a_file_that_is_not_a_key_file_is_an_input_error(ws: Workspace) -> None:
    one_error_line(ws.run("token", "issue", CALIPER, "--key", CALIPER, "--shipment", "S-1"))


def test_an_unknown_digest_is_an_input_error(ws: Workspace) -> None:
    unknown = "ab" * 32
    assert unknown in one_error_line(ws.run("token", "show", unknown), NOT_FOUND)
    one_error_line(ws.run("token", "bundle", unknown, "--out", str(ws.home / "b.json")),
                   NOT_FOUND)
    one_error_line(ws.run("log", "prove", unknown), NOT_FOUND)
    one_error_line(ws.run("revoke", unknown), NOT_FOUND)


def test_a_missing_bundle_file_is_an_input_error(ws: Workspace) -> None:
    assert "no bundle file" in one_error_line(ws.run("verify", str(ws.home / "none.json")),
                                              NOT_FOUND)


@pytest.mark.parametrize("content", [
    "not json", "[]", '{"format": "tmec-trust/2"}',
    '{"format": "tmec-trust/1", "policy": {}}',
    '{"format": "tmec-trust/1", "policy": {"log": "nonsense", "quorum": "none"}}',
])
def test_a_bad_trust_file_is_an_input_error(demo: Demo, tmp_path: Path, content: str) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(content, encoding="utf-8")
    result = run_tmec("verify", str(demo.bundles[0]), "--trust", str(trust), "--home",
                      str(tmp_path / "home"))
    one_error_line(result, INPUT_ERROR)


def test_a_missing_trust_file_is_an_input_error(demo: Demo, tmp_path: Path) -> None:
    result = run_tmec("verify", str(demo.bundles[0]), "--trust", str(tmp_path / "none.json"),
                      "--home", str(tmp_path / "home"))
    assert "no trust file" in one_error_line(result, NOT_FOUND)


def test_a_trust_file_from_another_log_rejects_the_bundle(demo: Demo, ws: Workspace) -> None:
    # A verifier trusting another ledger: the bundle is authentic, but not for this trust.
    result = run_tmec("verify", str(demo.bundles[0]), "--trust", str(ws.home / "trust.json"),
                      "--json")
    assert result.exit_code == REJECT
    assert outcomes(result.json())["checkpoint.signatures"] == "fail"


def test_a_bundle_with_a_huge_number_is_rejected_without_a_traceback(demo: Demo,
                                                                     tmp_path: Path) -> None:
    bundle = tmp_path / "huge.json"
    bundle.write_text("1" * 5000, encoding="utf-8")
    result = demo.verify(bundle, "--json")
    assert "Traceback" not in result.stderr, result.stderr[-400:]
    assert result.exit_code == REJECT
    assert result.json()["decision"] == "reject"


def test_a_bad_bom_is_an_input_error(ws: Workspace, tmp_path: Path) -> None:
    key = ws.new_key("frenos-bajio")
    bom = tmp_path / "bom.json"
    bom.write_text('{"format": "tmec-bom/1"}', encoding="utf-8")
    one_error_line(ws.run("token", "issue", str(bom), "--key", key["keyFile"], "--shipment",
                          "S-1"))


def test_disclose_needs_all_or_line_numbers(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    result = ws.run("token", "bundle", digest, "--out", str(ws.home / "b.json"),
                    "--disclose", "first")
    assert "--disclose" in one_error_line(result)


def test_disclosure_records_live_in_the_ledger_not_in_local_files(ws: Workspace,
                                                                   tmp_path: Path) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    shutil.rmtree(ws.home / "tokens")  # the local copies are only copies
    bundle = ws.bundle(digest, "--disclose", "all")
    code, report = ws.verify(bundle)
    assert (code, outcomes(report)["determination.recompute"]) == (CLEAR, "pass")


def test_log_tiles_writes_the_static_layout_of_the_latest_checkpoint(ws: Workspace,
                                                                     tmp_path: Path) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "S-1")["tokenDigest"]
    out = tmp_path / "tiles"
    report = ws.ok("log", "tiles", "--out", str(out), "--json").json()
    assert (report["size"], report["tiles"], report["entryBundles"]) == (2, 1, 1)
    checkpoint = checkpoint_of((out / "checkpoint").read_text("utf-8"))
    leaves = (out / "tile/0/000.p/2").read_bytes()
    bundle = (out / "tile/entries/000.p/2").read_bytes()
    entries, at = [], 0
    while at < len(bundle):  # big-endian uint16 length, then the entry
        length = int.from_bytes(bundle[at:at + 2], "big")
        entries.append(bundle[at + 2:at + 2 + length])
        at += 2 + length
    assert [leaf_hash(e) for e in entries] == [leaves[:32], leaves[32:]]
    assert json.loads(entries[1])["tokenDigest"] == digest
    assert node_hash(leaves[:32], leaves[32:]) == checkpoint.root_hash


def test_log_tiles_without_a_checkpoint_is_not_found(ws: Workspace, tmp_path: Path) -> None:
    result = ws.run("log", "tiles", "--out", str(tmp_path / "t"))
    assert "no checkpoint" in one_error_line(result, NOT_FOUND)
