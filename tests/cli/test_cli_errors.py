"""`tmec` through its real entry points: bad input is one line on stderr and exit code 3.

Every check runs twice: as a separate process (``python -m cli``, what a user runs) and
in-process through `typer.testing.CliRunner` on `cli.app.app`. The contract (spec
`bom-format.md`, "Output of a qualification"; design `architecture.md`, "Errors"): exit 0
when the document was evaluated, whatever the outcome; for invalid input a non-zero exit
(3) and exactly one line ``error [code]: message`` on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from cli.app import app

BOMS = Path(__file__).resolve().parents[1] / "assets" / "boms"
INPUT_ERROR = 3
NOT_FOUND = 6


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The one line an input error prints; fails unless stderr is exactly that."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert re.match(r"error \[[a-z_.]+\]: \S", lines[0]), lines[0]
        return lines[0]

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)


class Tmec(Protocol):
    def __call__(self, *args: str, stdin: bytes | None = None) -> Outcome: ...


# A fixed terminal width keeps Rich's report layout the same everywhere.
TERMINAL = {"COLUMNS": "120", "NO_COLOR": "1"}


def console_script(*args: str, stdin: bytes | None = None) -> Outcome:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], input=stdin, capture_output=True,
        env={**os.environ, **TERMINAL}, timeout=120, check=False,
    )
    return Outcome(done.returncode, done.stdout.decode(), done.stderr.decode())


def cli_runner(*args: str, stdin: bytes | None = None) -> Outcome:
    result = CliRunner().invoke(app, list(args), input=stdin, env=TERMINAL,
                                catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the console script would have printed: make "no traceback" checkable alike.
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception))
    return Outcome(result.exit_code, result.stdout, stderr)


@pytest.fixture(params=[console_script, cli_runner], ids=["python -m cli", "CliRunner"])
def tmec(request: pytest.FixtureRequest) -> Tmec:
    return request.param  # type: ignore[no-any-return]


def two_level() -> dict[str, Any]:
    return json.loads((BOMS / "two_level.json").read_text(encoding="utf-8"))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------
# Malformed BOMs


def _edit(path: str, value: Any) -> Any:
    def edit(document: dict[str, Any]) -> dict[str, Any]:
        *parents, leaf = re.findall(r"[^.\[\]]+", path)
        target: Any = document
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        target[int(leaf) if leaf.isdigit() else leaf] = value
        return document

    return edit


def _add(**parts: list[dict[str, Any]]) -> Any:
    def edit(document: dict[str, Any]) -> dict[str, Any]:
        for key, extra in parts.items():
            document[key].extend(extra)
        return document

    return edit


def _made(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "hs": "8708.99", "description": item_id, "kind": "made"}


MALFORMED = [
    # (id, edit of two_level.json, words the error line must contain)
    ("wrong format tag", _edit("format", "tmec-bom/2"), ["'format'", "tmec-bom/1"]),
    ("unit_value as a JSON float", _edit("items.2.unit_value", 8.0), ["'pad'", "'unit_value'"]),
    ("negative qty", _edit("lines.1.qty", "-2"), ["lines[1]", "'qty'", "negative"]),
    ("dangling child", _edit("lines.1.child", "rotor"), ["lines[1]", '"rotor"']),
    ("bad as_of", _edit("as_of", "2023-02-30"), ["'as_of'", "2023-02-30"]),
    ("bad HS code", _edit("items.2.hs", "6813.8"), ["'pad'", "'hs'"]),
    ("unknown origin", _edit("items.2.origin", "maybe"), ["'pad'", "'origin'"]),
    ("good is bought", _edit("good", "pad"), ["'pad'"]),
    ("unreachable item",
     _add(items=[{"id": "spare", "hs": "7318.15", "description": "spare", "kind": "bought",
                  "unit_value": "1", "origin": "unknown"}]), ["'spare'"]),
    ("cycle between sub-assemblies",
     _add(items=[_made("housing"), _made("cover")],
          lines=[{"parent": "brake", "child": "housing", "qty": "1"},
                 {"parent": "housing", "child": "cover", "qty": "1"},
                 {"parent": "cover", "child": "housing", "qty": "1"}]),
     ["cycle", "housing", "cover"]),
    ("cycle through the good",
     _add(lines=[{"parent": "caliper", "child": "brake", "qty": "1"}]),
     ["cycle", "brake", "caliper"]),
]


@pytest.mark.parametrize(("edit", "words"), [pytest.param(e, w, id=i) for i, e, w in MALFORMED])
def test_a_malformed_bom_is_one_error_line_and_exit_3(
    tmec: Tmec, tmp_path: Path, edit: Any, words: list[str]
) -> None:
    bom = write_json(tmp_path / "bad.json", edit(two_level()))
    outcome = tmec("rvc", str(bom), "--json")
    line = outcome.error_line()
    assert line.startswith("error [rules.bom_invalid]: ")
    for word in words:
        assert word in line
    assert outcome.code == INPUT_ERROR
    assert outcome.stdout == ""


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"{", id="invalid JSON"),
        pytest.param(b"[]", id="top level not an object"),
        pytest.param(json.dumps(two_level()).replace("brake pad", "pastilla é").encode("latin-1"),
                     id="not UTF-8"),
        pytest.param(json.dumps(two_level()).replace('"good": "brake"',
                                                     '"good": "brake", "good": "pad"').encode(),
                     id="duplicate key"),
        pytest.param(json.dumps(two_level()).replace('"8.00"', "NaN").encode(), id="bare NaN"),
        pytest.param(json.dumps(two_level()).replace('"qty": "2"', '"qty": ' + "9" * 5000, 1)
                     .encode(), id="integer too long for Python"),
    ],
)
def test_undecodable_json_is_one_error_line_and_exit_3(
    tmec: Tmec, tmp_path: Path, data: bytes
) -> None:
    bom = tmp_path / "bad.json"
    bom.write_bytes(data)
    outcome = tmec("rvc", str(bom))
    assert outcome.error_line().startswith("error [rules.bom_invalid]: ")
    assert outcome.code == INPUT_ERROR


def test_a_malformed_bom_on_stdin_is_one_error_line_and_exit_3(tmec: Tmec) -> None:
    outcome = tmec("rvc", "-", "--json", stdin=b'{"format": "tmec-bom/0"}')
    assert outcome.error_line().startswith("error [rules.bom_invalid]: field 'format'")
    assert outcome.code == INPUT_ERROR


def copy_csv(tmp_path: Path, parts: tuple[str, ...] = ("items", "lines", "document")) -> Path:
    for part in parts:
        shutil.copy(BOMS / f"two_level.{part}.csv", tmp_path / f"two_level.{part}.csv")
    return tmp_path / "two_level.items.csv"


def test_a_malformed_csv_row_is_named_by_file_and_row(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    items.write_text(items.read_text().replace("brake pad,bought,8.00", "brake pad,bought,8,00"))
    outcome = tmec("rvc", str(items), "--json")
    line = outcome.error_line()
    assert line.startswith("error [rules.bom_invalid]: ")
    assert "two_level.items.csv row 4" in line
    assert outcome.code == INPUT_ERROR


def test_a_file_that_is_not_a_workbook_is_one_error_line(tmec: Tmec, tmp_path: Path) -> None:
    book = tmp_path / "bom.xlsx"
    book.write_bytes(b"not a zip file")
    outcome = tmec("rvc", str(book))
    assert outcome.error_line().startswith("error [rules.bom_invalid]: not a readable Excel")
    assert outcome.code == INPUT_ERROR


def test_an_option_that_only_tables_take_is_refused_for_json(tmec: Tmec) -> None:
    outcome = tmec("rvc", str(BOMS / "two_level.json"), "--good", "pad")
    assert "CSV and Excel" in outcome.error_line()
    assert outcome.code == INPUT_ERROR


# ---------------------------------------------------------------------------------------
# Files that are not there


@pytest.mark.parametrize("name", ["nope.json", "nope.xlsx", "nope.items.csv", "nope.csv"])
def test_a_missing_file_is_named_with_exit_6(tmec: Tmec, tmp_path: Path, name: str) -> None:
    missing = tmp_path / name
    outcome = tmec("rvc", str(missing))
    line = outcome.error_line()
    assert "nope." in line
    assert outcome.code == NOT_FOUND


def test_a_missing_json_file_names_its_full_path(tmec: Tmec, tmp_path: Path) -> None:
    missing = tmp_path / "absent" / "bom.json"
    outcome = tmec("rvc", str(missing))
    assert str(missing) in outcome.error_line()
    assert outcome.code == NOT_FOUND


def test_a_directory_instead_of_a_file_is_one_error_line(tmec: Tmec, tmp_path: Path) -> None:
    folder = tmp_path / "bom.json"
    folder.mkdir()
    outcome = tmec("rvc", str(folder))
    assert str(folder) in outcome.error_line()
    assert outcome.code == INPUT_ERROR


def test_a_csv_pair_without_its_lines_file(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path, ("items", "document"))
    outcome = tmec("rvc", str(items))
    line = outcome.error_line()
    assert line.startswith("error [rules.bom_invalid]: ")
    assert "two_level.lines.csv" in line
    assert outcome.code == INPUT_ERROR


def test_a_csv_pair_named_by_its_lines_file_without_items(tmec: Tmec, tmp_path: Path) -> None:
    copy_csv(tmp_path, ("lines", "document"))
    outcome = tmec("rvc", str(tmp_path / "two_level.lines.csv"))
    assert "two_level.items.csv" in outcome.error_line()
    assert outcome.code == INPUT_ERROR


def test_a_csv_file_that_is_not_utf8_is_one_error_line(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path)
    items.write_bytes(items.read_text().replace("brake pad", "pastilla é").encode("latin-1"))
    outcome = tmec("rvc", str(items))
    assert "UTF-8" in outcome.error_line()
    assert outcome.code == INPUT_ERROR


# ---------------------------------------------------------------------------------------
# Valid BOMs: exit 0 and the spec's JSON

def assert_qualification(output: dict[str, Any]) -> None:
    """The keys `spec/bom-format.md` promises in `tmec rvc FILE --json`."""
    assert {"good", "as_of", "originating", "criterion", "results", "tariff_shift",
            "de_minimis", "explanation"} <= output.keys()
    assert isinstance(output["originating"], bool)
    assert output["criterion"] in (None, "A", "B", "C", "D")
    assert (output["criterion"] is not None) == output["originating"]
    assert output["results"], "every evaluated method is listed"
    for result in output["results"]:
        assert {"method", "base", "vnm", "rvc", "threshold", "pass"} <= result.keys()
        assert result["method"] in ("net_cost", "transaction_value")
        for money in ("base", "vnm", "rvc", "threshold"):
            assert isinstance(result[money], str), money  # decimal strings, never floats
            assert re.fullmatch(r"-?\d+(\.\d+)?", result[money]), result[money]
        assert len(result["rvc"].partition(".")[2]) >= 4  # unrounded: at least 4 decimals
        assert isinstance(result["pass"], bool)
    assert {"required", "pass", "failing_materials"} <= output["tariff_shift"].keys()
    assert isinstance(output["tariff_shift"]["failing_materials"], list)
    assert {"tariff_shift", "rvc_exempt"} <= output["de_minimis"].keys()
    assert output["explanation"]
    assert all(isinstance(line, str) for line in output["explanation"])


def test_a_valid_bom_exits_0_with_the_spec_json(tmec: Tmec) -> None:
    outcome = tmec("rvc", str(BOMS / "two_level.json"), "--json")
    output = outcome.json()
    assert outcome.stderr == ""
    assert_qualification(output)
    assert (output["good"], output["as_of"]) == ("brake", "2023-07-15")
    assert [r["method"] for r in output["results"]] == ["net_cost"]  # the document's method
    assert output["results"][0]["threshold"] == "50"


def test_a_good_that_is_not_originating_still_exits_0(tmec: Tmec, tmp_path: Path) -> None:
    document = _edit("items.0.rule", {"rvc": [{"method": "net_cost", "min": "99"}]})(two_level())
    outcome = tmec("rvc", str(write_json(tmp_path / "strict.json", document)), "--json")
    output = outcome.json()
    assert_qualification(output)
    assert output["originating"] is False
    assert output["results"][0]["pass"] is False
    assert output["results"][0]["threshold"] == "99"


def test_the_human_report_exits_0(tmec: Tmec) -> None:
    outcome = tmec("rvc", str(BOMS / "two_level.json"))
    assert outcome.code == 0, outcome.stderr
    assert "ORIGINATING" in outcome.stdout
    assert outcome.stderr == ""


def test_a_valid_bom_on_stdin(tmec: Tmec) -> None:
    outcome = tmec("rvc", "-", "--json", stdin=(BOMS / "two_level.json").read_bytes())
    assert outcome.json()["good"] == "brake"


def test_options_override_the_document(tmec: Tmec) -> None:
    output = tmec("rvc", str(BOMS / "two_level.json"), "--json", "--as-of", "2024-01-01",
                  "--method", "transaction_value").json()
    assert output["as_of"] == "2024-01-01"
    assert [r["method"] for r in output["results"]] == ["transaction_value"]


def test_the_csv_trio_and_the_json_give_the_same_determination(
    tmec: Tmec, tmp_path: Path
) -> None:
    from_json = tmec("rvc", str(BOMS / "two_level.json"), "--json").json()
    for name in ("two_level.items.csv", "two_level.lines.csv", "two_level.document.csv",
                 "two_level.csv"):
        assert tmec("rvc", str(BOMS / name), "--json").json() == from_json, name
    book = Workbook()
    book.remove(book.active)
    for part in ("document", "items", "lines"):
        sheet = book.create_sheet(part)
        text = (BOMS / f"two_level.{part}.csv").read_text(encoding="utf-8")
        for row in (line.split(",") for line in text.splitlines()):
            sheet.append([cell or None for cell in row])
    book.save(tmp_path / "two_level.xlsx")
    assert tmec("rvc", str(tmp_path / "two_level.xlsx"), "--json").json() == from_json


def test_a_csv_pair_without_document_table_takes_options(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path, ("items", "lines"))
    output = tmec("rvc", str(items), "--good", "brake", "--currency", "USD",
                  "--as-of", "2024-01-01", "--json").json()
    assert_qualification(output)
    assert (output["good"], output["as_of"]) == ("brake", "2024-01-01")
    # no document table, so no method: every method the rule allows is evaluated
    assert {r["method"] for r in output["results"]} == {"net_cost", "transaction_value"}


def test_a_csv_pair_without_document_table_needs_the_good(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path, ("items", "lines"))
    outcome = tmec("rvc", str(items), "--currency", "USD", "--as-of", "2024-01-01")
    assert "'good'" in outcome.error_line()
    assert outcome.code == INPUT_ERROR


def test_a_csv_pair_without_document_table_needs_as_of(tmec: Tmec, tmp_path: Path) -> None:
    items = copy_csv(tmp_path, ("items", "lines"))
    outcome = tmec("rvc", str(items), "--good", "brake", "--currency", "USD")
    assert "'as_of'" in outcome.error_line()
    assert outcome.code == INPUT_ERROR


# ---------------------------------------------------------------------------------------
# tmec rules show

def test_rules_show_for_a_passenger_vehicle_part(tmec: Tmec) -> None:
    output = tmec("rules", "show", "8708.30", "--end-use", "passenger_vehicle",
                  "--as-of", "2024-01-01", "--json").json()
    assert (output["hs"], output["as_of"], output["end_use"]) == (
        "8708.30", "2024-01-01", "passenger_vehicle")
    selected = output["selected"]
    assert selected["category"] == "table_B"
    assert "Table B" in selected["title"]
    assert {t["method"]: t["min"] for t in selected["thresholds"]} == {
        "net_cost": "70", "transaction_value": "80"}
    assert any(c["selected"] and c["category"] == "table_B" for c in output["candidates"])


def test_rules_show_thresholds_follow_the_date(tmec: Tmec) -> None:
    output = tmec("rules", "show", "8708.30", "--end-use", "passenger_vehicle",
                  "--as-of", "2021-01-01", "--json").json()
    assert {t["method"]: t["min"] for t in output["selected"]["thresholds"]} == {
        "net_cost": "62.5", "transaction_value": "72.5"}


def test_rules_show_as_a_table_for_people(tmec: Tmec) -> None:
    outcome = tmec("rules", "show", "8708.30", "--end-use", "passenger_vehicle",
                   "--as-of", "2024-01-01")
    assert outcome.code == 0, outcome.stderr
    assert "Table B" in outcome.stdout
    assert "reference: SOR/2020-155 s.14(15)" in outcome.stdout
    assert "In force on 2024-01-01: net_cost 70 %, transaction_value 80 %" in outcome.stdout


def test_rules_show_without_end_use_gives_the_product_specific_rule(tmec: Tmec) -> None:
    # no end use: not original equipment, so the Annex 4-B rule for "any other good"
    output = tmec("rules", "show", "8708.30", "--as-of", "2024-01-01", "--json").json()
    selected = output["selected"]
    assert selected["category"] is None
    assert selected["product_specific_rule"]["gn11_number"] == 28
    assert selected["alternatives"][0].startswith("(A) for mounted brake linings")
    assert any("no end_use given" in note for note in selected["notes"])


def test_rules_show_for_a_code_without_any_rule_says_so(tmec: Tmec) -> None:
    outcome = tmec("rules", "show", "9506.91", "--as-of", "2024-01-01")
    line = outcome.error_line()
    assert line.startswith("error [rules.no_applicable_rule]: ")
    assert "9506.91" in line
    assert outcome.code == INPUT_ERROR


@pytest.mark.parametrize("hs", ["8708", "87083", "abcd.ef"])
def test_rules_show_refuses_a_bad_hs_code(tmec: Tmec, hs: str) -> None:
    outcome = tmec("rules", "show", hs, "--end-use", "passenger_vehicle")
    assert repr(hs) in outcome.error_line()
    assert outcome.code == INPUT_ERROR


# ---------------------------------------------------------------------------------------
# --as-of

@pytest.mark.parametrize("as_of", ["2023-02-30", "2023-7-1", "20230715", "tomorrow", ""])
@pytest.mark.parametrize(
    "command",
    [["rvc", str(BOMS / "two_level.json")], ["rvc", str(BOMS / "two_level.items.csv")],
     ["rules", "show", "8708.30", "--end-use", "passenger_vehicle"]],
    ids=["rvc json", "rvc csv", "rules show"],
)
def test_an_invalid_as_of_exits_3(tmec: Tmec, command: list[str], as_of: str) -> None:
    outcome = tmec(*command, "--as-of", as_of)
    line = outcome.error_line()
    assert "--as-of" in line
    assert repr(as_of) in line
    assert outcome.code == INPUT_ERROR


def test_a_usage_error_is_clicks_exit_2(tmec: Tmec) -> None:
    outcome = tmec("rvc", str(BOMS / "two_level.json"), "--method", "build_down")
    assert outcome.code == 2
    assert "Traceback" not in outcome.stderr
