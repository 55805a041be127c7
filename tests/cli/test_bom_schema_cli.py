"""`tmec bom schema` prints the JSON Schema of tmec-bom/1, and the schema checks a file."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from origin_rules.bom_schema import bom_schema_text
from tests.conftest import ROOT, run_tmec


def test_tmec_bom_schema_prints_the_shipped_schema() -> None:
    result = run_tmec("bom", "schema")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == bom_schema_text()
    assert result.stdout == (ROOT / "origin_rules" / "data" / "tmec-bom-1.schema.json"
                             ).read_text(encoding="utf-8")


def test_the_printed_schema_checks_what_tmec_rvc_reads(tmp_path: Path) -> None:
    validator = Draft202012Validator(json.loads(run_tmec("bom", "schema").stdout))
    example = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    assert validator.is_valid(example)
    example["items"][2]["unit_value"] = 241.6  # a JSON number as money
    assert not validator.is_valid(example)
    path = tmp_path / "float.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    refused = run_tmec("rvc", str(path), "--json")
    assert refused.exit_code == 3
    assert "JSON numbers are not accepted" in refused.stderr


def test_tmec_bom_without_a_command_shows_its_help() -> None:
    result = run_tmec("bom")
    assert "schema" in result.stdout + result.stderr
