"""What an adversarial user broke (issue "Hardening"), each tried again through the real CLI.

Every test here failed before the fix it names: a hostile shipment id painted a CLEAR over
a REJECT; a revoked supplier token still served as evidence; anyone could register a key
for an existing party and revoke its tokens; a ``kill -9`` stranded a logged token without
its disclosure records; unauthenticated supplier data rode in a clear bundle; supersede
had no rules; the audit checked one checkpoint and a mistyped workspace was created anew;
and a handful of wrong words and exit codes. The exit codes are the README's table.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.crypto import SigningKey
from ledger.note import Signer
from tests.cli.test_ledger_cli import (
    CALIPER,
    EXAMPLES,
    Workspace,
    one_error_line,
    outcomes,
)
from tests.conftest import ROOT, CliResult, run_tmec

CLEAR, REJECT, USAGE, INPUT, UNAVAILABLE, REVIEW = 0, 1, 2, 3, 4, 5
NOT_FOUND, REFUSED, INTEGRITY, LIMIT = 6, 7, 8, 9
LASH = str(EXAMPLES / "lash-adjusters-us.json")
HEAD = EXAMPLES / "cylinder-head-us.json"
ESC = "\x1b"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "home")
    workspace.ok("init")
    return workspace


def run_env(*args: str, env: dict[str, str], stdin: str | None = None) -> CliResult:
    """`tmec` in a subprocess with extra environment variables."""
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, input=stdin,
        cwd=ROOT, env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **env}, timeout=300,
        check=False)
    return CliResult(proc)


def head_citing(tmp_path: Path, digest: str, *, item: str = "hydraulic-lash") -> str:
    """The cylinder head's BOM with `item` backed by the token `digest`."""
    document = json.loads(HEAD.read_text("utf-8"))
    for entry in document["items"]:
        if entry["id"] == item:
            entry["evidence"] = {"token": digest}
    path = tmp_path / f"head-citing-{digest[:8]}-{item}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def edited_bundle(source: Path, target: Path, change: Any) -> Path:
    bundle = json.loads(source.read_text("utf-8"))
    change(bundle)
    target.write_text(json.dumps(bundle), encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------
# 1. A rejected bundle can no longer display CLEAR; markup is shown as typed


def test_a_hostile_shipment_id_cannot_paint_clear_over_a_reject(ws: Workspace,
                                                                tmp_path: Path) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]
    forged = f"{ESC}[2J{ESC}[H{ESC}[32mDECISION: CLEAR{ESC}[0m\nDECISION: CLEAR\n"

    def plant(bundle: dict[str, Any]) -> None:
        bundle["token"]["credentialSubject"]["shipmentId"] = forged

    bundle = edited_bundle(ws.bundle(digest), tmp_path / "hostile.json", plant)
    report = ws.run("verify", str(bundle))
    assert report.exit_code == REJECT
    assert ESC not in report.stdout + report.stderr
    decisions = [line for line in report.stdout.splitlines() if line.startswith("DECISION")]
    assert decisions == ["DECISION: REJECT"]
    assert "\\x1b[2J" in report.stdout  # shown, as text
    as_json = ws.run("verify", str(bundle), "--json")
    assert ESC not in as_json.stdout
    assert as_json.json()["shipmentId"] == forged  # the JSON value itself is intact


def test_a_token_cannot_carry_control_characters_in_its_shipment_id(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    result = ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment",
                    f"S-1{ESC}[2J")
    assert "shipment_id" in one_error_line(result, INPUT)


def test_rich_markup_and_escapes_in_a_bom_are_printed_as_typed(tmp_path: Path) -> None:
    # The largest non-originating material is listed by id in the report's table, and the
    # good's description heads the report.
    document = json.loads(Path(CALIPER).read_text("utf-8"))
    renamed = "[red]x[/red]"
    for item in document["items"]:
        if item["id"] == "housing-casting":
            item["id"] = renamed
        if item["id"] == document["good"]:
            item["description"] = f"caliper{ESC}]0;owned{ESC}\\ {ESC}[2J"
    for line in document["lines"]:
        for end in ("parent", "child"):
            if line[end] == "housing-casting":
                line[end] = renamed
    bom = tmp_path / "markup.json"
    bom.write_text(json.dumps(document), encoding="utf-8")
    report = run_tmec("rvc", str(bom))
    assert report.exit_code == CLEAR, report.stderr
    assert renamed in report.stdout
    assert ESC not in report.stdout
    assert "\\x1b[2J" in report.stdout


def test_error_messages_quoting_a_document_are_one_escaped_line(tmp_path: Path) -> None:
    document = json.loads(Path(CALIPER).read_text("utf-8"))
    bought = next(i for i in document["items"] if i["kind"] == "bought")
    bought["unit_value"] = f"{ESC}[2J" + "9" * 2_000_000
    bom = tmp_path / "hostile.json"
    bom.write_text(json.dumps(document), encoding="utf-8")
    result = run_tmec("rvc", str(bom))
    line = one_error_line(result, INPUT)
    assert ESC not in line
    assert len(line) < 1000


# ---------------------------------------------------------------------------------------
# 2. Revoked or unrelated supplier evidence


def supplier_and_maker(ws: Workspace) -> tuple[dict[str, Any], dict[str, Any]]:
    return ws.new_key("lakeshore", country="US"), ws.new_key("huron", country="US")


def test_a_token_citing_revoked_supplier_evidence_is_refused(ws: Workspace,
                                                             tmp_path: Path) -> None:
    lakeshore, huron = supplier_and_maker(ws)
    lash = ws.issue(lakeshore["keyFile"], "LSV-1", bom=LASH)["tokenDigest"]
    ws.ok("revoke", lash, "--key", lakeshore["keyFile"], "--reason", "wrong heat treatment")
    result = ws.run("token", "issue", head_citing(tmp_path, lash), "--key", huron["keyFile"],
                    "--shipment", "HPC-1")
    assert "revoked" in one_error_line(result, REFUSED)


def test_a_later_revocation_of_evidence_shows_in_status_and_verdict(ws: Workspace,
                                                                    tmp_path: Path) -> None:
    lakeshore, huron = supplier_and_maker(ws)
    lash = ws.issue(lakeshore["keyFile"], "LSV-1", bom=LASH)["tokenDigest"]
    head = ws.issue(huron["keyFile"], "HPC-1", bom=head_citing(tmp_path, lash))["tokenDigest"]
    code, report = ws.verify(ws.bundle(head, "--no-suppliers"))
    assert (code, outcomes(report)["status.evidence"]) == (CLEAR, "pass")

    ws.ok("revoke", lash, "--key", lakeshore["keyFile"], "--reason", "wrong heat treatment")
    status = ws.ok("token", "show", head, "--json").json()["status"]
    assert (status["token"], status["evidence"], status["evidenceAffected"]) == (
        "active", "revoked", [lash])
    assert "evidence revoked" in ws.ok("token", "show", head).stdout
    code, report = ws.verify(ws.bundle(head, "--no-suppliers"))
    assert (code, report["decision"], outcomes(report)["status.evidence"]) == (
        REJECT, "reject", "fail")


def test_a_superseded_supplier_token_sends_dependents_to_review(ws: Workspace,
                                                                tmp_path: Path) -> None:
    lakeshore, huron = supplier_and_maker(ws)
    lash = ws.issue(lakeshore["keyFile"], "LSV-1", bom=LASH)["tokenDigest"]
    head = ws.issue(huron["keyFile"], "HPC-1", bom=head_citing(tmp_path, lash))["tokenDigest"]
    ws.issue(lakeshore["keyFile"], "LSV-1", "--supersedes", lash, bom=LASH)
    code, report = ws.verify(ws.bundle(head, "--no-suppliers"))
    assert (code, outcomes(report)["status.evidence"]) == (REVIEW, "warn")
    # ... and citing the superseded token is refused, naming its replacement.
    result = ws.run("token", "issue", head_citing(tmp_path, lash), "--key", huron["keyFile"],
                    "--shipment", "HPC-2")
    assert "cite the token that replaces it" in one_error_line(result, REFUSED)


def test_evidence_must_be_a_token_for_the_material_it_backs(ws: Workspace,
                                                            tmp_path: Path) -> None:
    frenos, huron = ws.new_key("frenos-bajio"), ws.new_key("huron", country="US")
    caliper = ws.issue(frenos["keyFile"], "FBA-1")["tokenDigest"]  # HS 8708.30
    result = ws.run("token", "issue", head_citing(tmp_path, caliper), "--key",
                    huron["keyFile"], "--shipment", "HPC-1")
    line = one_error_line(result, INPUT)
    assert "HS 8708.30" in line
    assert "8409.91" in line
    # A non-originating material cannot be backed by an origin token either.
    lakeshore = ws.new_key("lakeshore", country="US")
    lash = ws.issue(lakeshore["keyFile"], "LSV-1", bom=LASH)["tokenDigest"]
    result = ws.run("token", "issue", head_citing(tmp_path, lash, item="valves"), "--key",
                    huron["keyFile"], "--shipment", "HPC-2")
    assert "non_originating" in one_error_line(result, INPUT)


# ---------------------------------------------------------------------------------------
# 3. Nobody speaks for an existing party


def impostor(ws: Workspace, party_id: str, out: Path) -> CliResult:
    return ws.run("keys", "new", "--party-id", party_id, "--name", "Impostor S.A.",
                  "--country", "MX", "--address", "Calle Falsa 123", "--email",
                  "x@impostor.example", "--phone", "+52 55 5555 0000", "--out", str(out))


def test_nobody_can_register_a_second_key_for_an_existing_party(ws: Workspace,
                                                                tmp_path: Path) -> None:
    real = ws.new_key("frenos-bajio")
    digest = ws.issue(real["keyFile"], "FBA-1")["tokenDigest"]
    other = tmp_path / "other.json"
    assert "already registered" in one_error_line(impostor(ws, "frenos-bajio", other),
                                                  REFUSED)
    assert not other.exists()
    assert [k["party"] for k in ws.ok("keys", "list", "--json").json()] == ["frenos-bajio"]
    assert ws.ok("token", "show", digest, "--json").json()["status"]["token"] == "active"


@pytest.mark.parametrize("party_id", ["../../evil", "a/b", "Frenos", "x-", "x" * 65, ""])
def test_a_party_id_is_a_safe_slug(ws: Workspace, tmp_path: Path, party_id: str) -> None:
    result = ws.run("keys", "new", "--party-id", party_id, "--name", "Evil", "--country", "MX",
                    "--address", "A 1", "--email", "e@evil.example", "--phone", "+52 1 555 0000")
    one_error_line(result, INPUT)
    assert not (tmp_path / "evil.json").exists()
    assert not list(ws.home.glob("keys/*"))


@pytest.mark.parametrize(("option", "value", "word"), [
    ("--country", "ZZ", "country"), ("--country", "mexico", "country"),
    ("--email", "not-an-email", "email"), ("--phone", "call me", "phone"),
    ("--name", f"Frenos{ESC}[2J", "name"), ("--address", " ", "address"),
])
def test_registration_validates_the_party_profile(ws: Workspace, option: str, value: str,
                                                  word: str) -> None:
    fields = {"--party-id": "frenos-bajio", "--name": "Frenos del Bajío", "--country": "MX",
              "--address": "Av. Industrial 410", "--email": "c@frenos.example",
              "--phone": "+52 461 555 0142", option: value}
    result = ws.run("keys", "new", *[part for pair in fields.items() for part in pair])
    assert word in one_error_line(result, INPUT)
    assert ws.ok("keys", "list", "--json").json() == []


def test_a_party_whose_key_was_revoked_is_readmitted_by_the_registrar(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    ws.ok("revoke", "--key-id", key["kid"], "--reason", "laptop stolen")
    refused = ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment", "S-1")
    one_error_line(refused, REFUSED)
    admitted = ws.ok("keys", "admit", "--party-id", "frenos-bajio", "--name",
                     "Frenos del Bajío S.A. de C.V.", "--country", "MX", "--address",
                     "Av. Industrial 410, Celaya", "--email", "c@frenos.example", "--phone",
                     "+52 461 555 0142", "--json").json()
    assert admitted["keyFile"] == key["keyFile"]  # the revoked key file was moved aside
    assert Path(key["keyFile"]).with_suffix(".1.json").is_file()
    ws.issue(admitted["keyFile"], "S-1")
    listed = ws.ok("keys", "list", "--json").json()
    assert [(k["party"], k["status"]) for k in listed] == [("frenos-bajio", "retired"),
                                                           ("frenos-bajio", "valid")]


# ---------------------------------------------------------------------------------------
# 4-5. Bounded input, no tracebacks (the BOM readers' cases are in test_reader_hardening)


def test_verify_of_an_endless_file_stops_at_the_limit(ws: Workspace) -> None:
    result = run_env("verify", "/dev/zero", "--home", str(ws.home),
                     env={"TMEC_MAX_BUNDLE_BYTES": "1000000"})
    line = one_error_line(result, LIMIT)
    assert "max_bundle_bytes" in line


def test_verify_of_lone_surrogates_and_huge_integers_is_a_reject(ws: Workspace,
                                                                 tmp_path: Path) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]
    text = ws.bundle(digest).read_text("utf-8")
    for name, hostile in (("surrogate", text.replace('"FBA-1"', '"FBA-\\ud800"')),
                          ("integer", text.replace('"index": 1', '"index": 1' + "0" * 5000))):
        bundle = tmp_path / f"{name}.json"
        bundle.write_text(hostile, encoding="utf-8")
        result = ws.run("verify", str(bundle), "--json")
        assert "Traceback" not in result.stderr, result.stderr[-500:]
        assert result.exit_code == REJECT
        detail = result.json()["checks"][0]["detail"]
        assert "set_int_max_str_digits" not in detail
        assert len(detail) < 300


def test_a_blanket_period_in_the_last_year_of_the_calendar_is_no_traceback(
        ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    result = ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment", "B-1",
                    "--blanket-from", "9999-01-01", "--blanket-to", "9999-12-31", "--json")
    assert result.exit_code == CLEAR, result.stderr
    digest = result.json()["tokenDigest"]
    code, report = ws.verify(ws.bundle(digest))
    assert (code, outcomes(report)["token.validity"]) == (REVIEW, "warn")


# ---------------------------------------------------------------------------------------
# 6. A crash cannot strand a token; one active token per shipment


def test_a_second_token_for_the_same_shipment_is_refused_and_corrections_supersede(
        ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    first = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]
    again = ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment", "FBA-1")
    assert first in one_error_line(again, REFUSED)
    fixed = ws.issue(key["keyFile"], "FBA-1", "--supersedes", first[:16])
    assert fixed["supersedes"] == first
    status = ws.ok("token", "show", first, "--json").json()["status"]
    assert (status["token"], status["supersededBy"]) == ("superseded", fixed["tokenDigest"])


def test_a_kill_during_token_issue_never_strands_a_logged_token(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    command = [sys.executable, "-m", "cli", "token", "issue", CALIPER, "--key",
               key["keyFile"], "--home", str(ws.home), "--json"]
    # Kill at moments spread over the command's life (start-up takes most of it).
    delays = (0.6, 0.8, 1.0, 1.2, 1.5, 1.9)
    for n, delay in enumerate(delays):
        proc = subprocess.Popen([*command, "--shipment", f"K-{n}"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    tokens = {entry["statement"]["tokenDigest"] for entry in _token_entries(ws)}
    assert ws.ok("log", "audit", "--json").json()["ok"]
    for digest in tokens:  # every logged token can still be disclosed, line by line
        _code, report = ws.verify(ws.bundle(digest, "--disclose", "all"))
        assert outcomes(report)["determination.recompute"] == "pass", digest
    # A retry of each shipment either issues the token or names the one already active.
    for n in range(len(delays)):
        retry = ws.run("token", "issue", CALIPER, "--key", key["keyFile"], "--shipment",
                       f"K-{n}", "--json")
        assert retry.exit_code in (CLEAR, REFUSED), retry.stderr
        if retry.exit_code == REFUSED:
            assert any(d in retry.stderr for d in tokens)


def _token_entries(ws: Workspace) -> list[dict[str, Any]]:
    raw = sqlite3.connect(ws.database)
    try:
        rows = raw.execute("SELECT body FROM log_entries WHERE kind = 'token'").fetchall()
    finally:
        raw.close()
    return [{"statement": json.loads(bytes(body))} for (body,) in rows]


# ---------------------------------------------------------------------------------------
# 7. Nothing unauthenticated in a clear bundle


@pytest.mark.parametrize("suppliers", [[{"note": "EVIL"}, "anything", 42], [{}] * 10_000])
def test_supplier_bundles_for_a_token_that_links_none_reject(ws: Workspace, tmp_path: Path,
                                                             suppliers: list[Any]) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]

    def attach(bundle: dict[str, Any]) -> None:
        bundle["suppliers"] = suppliers

    bundle = edited_bundle(ws.bundle(digest), tmp_path / "extra.json", attach)
    code, report = ws.verify(bundle)
    assert (code, outcomes(report)["suppliers"]) == (REJECT, "fail")


def test_a_supplier_bundle_given_twice_rejects(ws: Workspace, tmp_path: Path) -> None:
    lakeshore, huron = supplier_and_maker(ws)
    lash = ws.issue(lakeshore["keyFile"], "LSV-1", bom=LASH)["tokenDigest"]
    head = ws.issue(huron["keyFile"], "HPC-1", bom=head_citing(tmp_path, lash))["tokenDigest"]

    def double(bundle: dict[str, Any]) -> None:
        bundle["suppliers"] = bundle["suppliers"] * 2

    bundle = edited_bundle(ws.bundle(head), tmp_path / "twice.json", double)
    code, report = ws.verify(bundle)
    assert code == REJECT
    assert "fail" in {o for n, o in outcomes(report).items() if n.startswith("supplier.")}


# ---------------------------------------------------------------------------------------
# 8. Supersede has rules


def test_supersede_needs_the_issuers_party_active_tokens_and_goes_forward(
        ws: Workspace) -> None:
    frenos, other = ws.new_key("frenos-bajio"), ws.new_key("frenos-norte")
    x = ws.issue(frenos["keyFile"], "X")["tokenDigest"]
    y = ws.issue(frenos["keyFile"], "Y")["tokenDigest"]
    theirs = ws.issue(other["keyFile"], "T")["tokenDigest"]
    revoked = ws.issue(frenos["keyFile"], "R")["tokenDigest"]
    ws.ok("revoke", revoked, "--key", frenos["keyFile"])

    for old, new, signer, word in (
            (theirs, x, frenos, "not issued by party"),       # another party's token
            (x, theirs, frenos, "not issued by party"),       # ... or by another's token
            (x, y, other, "not issued by party"),             # signed by another party
            (x, revoked, frenos, "revoked"),                  # by a revoked token
            (y, x, frenos, "logged before")):                 # backwards in the log
        result = ws.run("supersede", old, new, "--key", signer["keyFile"])
        assert word in one_error_line(result, REFUSED), (old, new)
    ws.ok("supersede", x, y, "--key", frenos["keyFile"])
    back = ws.run("supersede", y, x, "--key", frenos["keyFile"])
    assert "superseded" in one_error_line(back, REFUSED)  # X -> Y then Y -> X


# ---------------------------------------------------------------------------------------
# 9. The audit checks every checkpoint; reading never creates


def test_audit_names_a_forged_checkpoint_row(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    ws.issue(key["keyFile"], "FBA-1")
    ws.issue(key["keyFile"], "FBA-2")
    assert ws.ok("log", "audit", "--json").json()["ok"]
    forger = Signer("tmec.example/ledger", SigningKey(bytes([9]) * 32))
    forged = sign_checkpoint(Checkpoint("tmec.example/ledger", 1, bytes(32)), forger)
    raw = sqlite3.connect(ws.database, isolation_level=None)
    try:
        raw.execute("INSERT INTO log_checkpoints (tree_size, text, text_sha256) VALUES "
                    "(?, ?, ?)", (1, forged, hashlib.sha256(forged.encode()).digest()))
    finally:
        raw.close()
    audit = ws.run("log", "audit", "--json")
    assert audit.exit_code == INTEGRITY
    assert any(p.startswith("checkpoint 1:") for p in audit.json()["problems"])


@pytest.mark.parametrize("command", [
    ("log", "audit"), ("keys", "list"), ("token", "show", "ab" * 32), ("log", "checkpoint"),
    ("token", "issue", CALIPER, "--key", "k.json", "--shipment", "S"),
])
def test_a_mistyped_workspace_is_not_found_and_not_created(tmp_path: Path,
                                                           command: tuple[str, ...]) -> None:
    typo = tmp_path / "var" / "ledgr"
    result = run_tmec(*command, "--home", str(typo))
    assert "tmec init" in one_error_line(result, NOT_FOUND)
    assert not typo.exists()


def test_a_workspace_without_its_database_is_not_found(ws: Workspace) -> None:
    ws.database.unlink()
    one_error_line(ws.run("keys", "list"), NOT_FOUND)
    assert not ws.database.exists()


# ---------------------------------------------------------------------------------------
# 10. Words and exit codes a user meets


def test_disclosing_a_line_the_token_does_not_have_names_the_lines(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]
    result = ws.run("token", "bundle", digest, "--out", str(ws.home / "b.json"),
                    "--disclose", "99")
    line = one_error_line(result, INPUT)
    assert "line 99 is not a line of token" in line
    assert "numbered 0 to" in line
    assert "leaf index" not in line


def test_a_checkpoint_after_the_verification_time_is_not_minus_seconds_old(
        ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    bundle = ws.bundle(ws.issue(key["keyFile"], "FBA-1")["tokenDigest"])
    result = ws.run("verify", str(bundle), "--at", "1998-01-01T00:00:00Z", "--json")
    assert result.exit_code == REVIEW
    freshness = next(c for c in result.json()["checks"] if c["name"] == "checkpoint.freshness")
    assert "after the verification time" in freshness["detail"]
    assert " -" not in freshness["detail"]


def test_token_commands_take_the_prefixes_the_demo_prints(ws: Workspace) -> None:
    key = ws.new_key("frenos-bajio")
    digest = ws.issue(key["keyFile"], "FBA-1")["tokenDigest"]
    assert ws.ok("token", "show", digest[:16], "--json").json()["tokenDigest"] == digest
    assert json.loads(ws.ok("log", "prove", digest[:8]).stdout)["statement"][
        "tokenDigest"] == digest
    assert "8 hex digits" in one_error_line(ws.run("token", "show", digest[:6]), INPUT)
    one_error_line(ws.run("token", "show", "ffffffff"), NOT_FOUND)


def test_our_own_reports_keep_their_line_breaks(ws: Workspace) -> None:
    # Escaping applies to document text; the report's own layout stays as it is.
    shown = ws.ok("keys", "new", "--party-id", "frenos-bajio", "--name", "Frenos",
                  "--country", "MX", "--address", "Av. 1", "--email", "c@frenos.example",
                  "--phone", "+52 461 555 0142").stdout
    assert "\\n" not in shown
    assert shown.splitlines()[1].startswith("  at log index 0")


def test_version_and_help_without_bool_placeholders() -> None:
    version = run_tmec("--version")
    assert version.exit_code == CLEAR
    assert version.stdout.startswith("tmec 0.")
    assert "usmca/2020-07-01" in version.stdout
    for command in (("rvc",), ("verify",), ("token", "issue"), ("keys", "new")):
        shown = run_tmec(*command, "--help")
        assert shown.exit_code == CLEAR
        assert "<bool>" not in shown.stdout, command


def test_an_unknown_option_is_a_usage_error() -> None:
    assert run_tmec("rvc", CALIPER, "--no-such-option").exit_code == USAGE
