"""What-if through the real entry point (issue 10): `tmec rvc --rules`, `tmec rules list` and
`tmec portfolio`, as a separate process (``python -m cli``), what a user runs.

Known answer: the cylinder head of `tests.origin_rules.test_scenarios.core_part` (Table
A.1, net cost RVC 80 %) is originating under the 75 % in force (SOR/2020-155 s.14(13)) with
a headroom of 5.00 per unit, and not under scenario rvc-82 (82 %): -2.00, a change of -7.00.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.origin_rules.test_scenarios import core_part

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SHIPPED = ["rvc-82", "steel-melted-poured-now", "us-content-50"]
TERMINAL = {"COLUMNS": "200", "NO_COLOR": "1", "PATH": ""}


def tmec(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env=TERMINAL, check=False)


def one_error_line(run: subprocess.CompletedProcess[str], code: str) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error [{code}]: "), lines[0]
    return lines[0]


@pytest.fixture
def head(tmp_path: Path) -> Path:
    path = tmp_path / "head.json"
    path.write_text(json.dumps(core_part()), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- tmec rvc


def test_rvc_under_a_scenario_is_marked_hypothetical(head: Path) -> None:
    run = tmec("rvc", head, "--rules", "rvc-82", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["hypothetical"] is True
    assert data["rule_set"] == "usmca/scenario/rvc-82"
    assert data["originating"] is False
    assert data["results"][0]["threshold"] == "82"
    assert data["results"][0]["headroom"] == "-2.00"
    assert data["explanation"][0].startswith("HYPOTHETICAL")
    text = tmec("rvc", head, "--rules", "rvc-82")
    assert text.returncode == 0, text.stderr
    assert "WHAT-IF (hypothetical rule set) - not an origin determination" in text.stdout
    assert "NOT ORIGINATING  (HYPOTHETICAL: scenario rvc-82, not the rules in force)" in (
        text.stdout)


def test_rvc_by_default_and_by_the_name_in_force_is_the_same_real_determination(
        head: Path) -> None:
    default = json.loads(tmec("rvc", head, "--json").stdout)
    named = json.loads(tmec("rvc", head, "--json", "--rules", "usmca/2020-07-01").stdout)
    assert default == named
    assert default["hypothetical"] is False
    assert default["scenario"] is None
    assert default["originating"] is True
    assert default["results"][0]["headroom"] == "5.00"
    assert "HYPOTHETICAL" not in tmec("rvc", head).stdout


def test_rvc_with_an_unknown_rule_set_names_the_available_ones(head: Path) -> None:
    run = tmec("rvc", head, "--rules", "rvc-99")
    assert run.returncode == 3
    line = one_error_line(run, "rules.unknown_rule_set")
    assert "unknown rule set 'rvc-99'" in line
    for name in ("usmca/2020-07-01 (in force from 2020-07-01)", *SHIPPED):
        assert name in line


# --------------------------------------------------------------------- tmec rules list


def test_rules_list_shows_status_effective_date_and_sources() -> None:
    text = tmec("rules", "list")
    assert text.returncode == 0, text.stderr
    assert re.search(r"usmca/2020-07-01\s.*in force\s.*from 2020-07-01", text.stdout)
    for name in SHIPPED:
        assert re.search(rf"{name}\s.*HYPOTHETICAL\s.*what-if", text.stdout), name
    assert "https://tradefacts.io/" in text.stdout
    data = json.loads(tmec("rules", "list", "--json").stdout)["rule_sets"]
    assert [r["name"] for r in data] == ["usmca/2020-07-01", *SHIPPED]
    assert [r["status"] for r in data] == ["in_force"] + ["hypothetical"] * 3
    assert data[0]["effective_from"] == "2020-07-01"
    assert all(r["sources"] and r["data_file"].endswith(".toml") for r in data)
    assert all(r["based_on"] == "usmca/2020-07-01" for r in data[1:])


# ---------------------------------------------------------------------- tmec portfolio


@pytest.fixture
def folder(tmp_path: Path, head: Path) -> Path:
    """A JSON core part, the brake caliper as a CSV pair and as a workbook, and a note."""
    folder = tmp_path / "boms"
    folder.mkdir()
    shutil.copy(head, folder / "head.json")
    for name in ("brake-caliper-mx.items.csv", "brake-caliper-mx.lines.csv",
                 "brake-caliper-mx.document.csv", "brake-caliper-mx.xlsx"):
        shutil.copy(EXAMPLES / "tables" / name, folder / name)
    (folder / "README.txt").write_text("not a BOM", encoding="utf-8")
    return folder


def rows_of(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_portfolio_table_and_csv(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "what-if.csv"
    run = tmec("portfolio", folder, "--csv", out)
    assert run.returncode == 0, run.stderr + run.stdout
    assert re.search(r"head\.json\s.*rvc-82\s.*originating B\s.*not originating\s.*lost\s"
                     r".*5\.00\s.*-2\.00\s.*-7\.00\s.*USD", run.stdout), run.stdout
    assert "3 BOM(s) compared under the rules in force and 3 hypothetical scenario(s)" in (
        run.stdout)
    assert "1 other file(s) in the folder ignored" in run.stdout
    rows = rows_of(out)
    goods = [r for r in rows if r["row"] == "good"]
    assert {(r["file"], r["scenario"]) for r in goods} == {
        (f, s) for f in ("head.json", "brake-caliper-mx.items.csv", "brake-caliper-mx.xlsx")
        for s in SHIPPED}
    lost = next(r for r in goods if r["file"] == "head.json" and r["scenario"] == "rvc-82")
    assert lost["originating_in_force"] == "true"
    assert lost["originating_scenario"] == "false"
    assert (lost["change"], lost["headroom_in_force"], lost["headroom_scenario"],
            lost["headroom_change"]) == ("lost", "5.00", "-2.00", "-7.00")
    assert lost["in_force_rule_set"] == "usmca/2020-07-01"
    assert lost["currency"] == "USD"
    totals = {(r["scenario"], r["currency"]): r for r in rows if r["row"] == "total"}
    assert set(totals) == {(s, c) for s in SHIPPED for c in ("MXN", "USD")}
    usd = totals[("rvc-82", "USD")]
    assert (usd["goods"], usd["lost"], usd["gained"], usd["errors"]) == ("1", "1", "0", "0")
    assert usd["headroom_change"] == "-7.00"
    # the caliper (Table B) keeps its origin through the tariff-shift alternative
    # (SOR/2020-155 s.14(14)) under the raised RVC: no RVC headroom to compare
    caliper = next(r for r in goods if r["file"] == "brake-caliper-mx.xlsx"
                   and r["scenario"] == "rvc-82")
    assert (caliper["change"], caliper["headroom_scenario"]) == ("unchanged", "")


def test_portfolio_only_the_scenarios_named_and_csv_on_stdout(folder: Path) -> None:
    run = tmec("portfolio", folder, "--scenario", "rvc-82", "--csv", "-")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert {r["scenario"] for r in rows} == {"rvc-82"}
    assert "What if" not in run.stdout  # the CSV alone


def test_portfolio_with_bad_boms_reports_each_as_a_row_and_exits_10(folder: Path,
                                                                      tmp_path: Path) -> None:
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "orphan.lines.csv").write_text("parent,child,qty\n", encoding="utf-8")
    (folder / "notes.csv").write_text("a,b\n", encoding="utf-8")
    hostile = core_part()
    hostile["items"][0]["id"] = hostile["good"] = "=HYPERLINK(\"x\")"
    hostile["lines"][0]["parent"] = hostile["good"]
    (folder / "hostile.json").write_text(json.dumps(hostile), encoding="utf-8")
    out = tmp_path / "what-if.csv"
    run = tmec("portfolio", folder, "--csv", out)
    assert run.returncode == 10, run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout
    assert "error in broken.json: rules.bom_invalid:" in run.stdout
    assert "error in orphan.items.csv: rules.bom_invalid:" in run.stdout
    assert "error in notes.csv: rules.bom_invalid: a CSV BOM is a pair" in run.stdout
    assert "3 BOM(s) could not be read or evaluated (exit code 10)" in run.stdout
    rows = rows_of(out)
    errors = {r["file"]: r["error"] for r in rows if r["row"] == "error"}
    assert set(errors) == {"broken.json", "orphan.items.csv", "notes.csv"}
    assert errors["broken.json"].startswith("rules.bom_invalid: ")
    # the other documents are still compared, a document's text cannot run as a formula
    goods = {r["file"]: r for r in rows if r["row"] == "good"}
    assert {"head.json", "brake-caliper-mx.xlsx", "hostile.json"} <= set(goods)
    assert goods["hostile.json"]["good"] == "'=HYPERLINK(\"x\")"


def test_portfolio_bad_folder_and_bad_scenario(tmp_path: Path, head: Path) -> None:
    missing = tmec("portfolio", tmp_path / "nowhere")
    assert missing.returncode == 6
    one_error_line(missing, "io.not_found")
    not_a_folder = tmec("portfolio", head)
    assert not_a_folder.returncode == 3
    assert "is not a folder" in one_error_line(not_a_folder, "io.not_a_directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("x", encoding="utf-8")
    nothing = tmec("portfolio", empty)
    assert nothing.returncode == 6
    assert "no BOM" in one_error_line(nothing, "io.not_found")
    unknown = tmec("portfolio", head.parent, "--scenario", "rvc-99")
    assert unknown.returncode == 3
    line = one_error_line(unknown, "rules.unknown_rule_set")
    assert "unknown scenario 'rvc-99'" in line
    assert all(name in line for name in SHIPPED)
