"""`tmec rvc` shows US and non-US content beside the RVC, as text and JSON (issue 10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.origin_rules.test_us_content import caliper

ROOT = Path(__file__).resolve().parents[2]


def test_tmec_rvc_reports_it_as_text_and_json(tmp_path: Path):
    path = tmp_path / "caliper.json"
    path.write_text(json.dumps(caliper("US")), encoding="utf-8")
    run = [sys.executable, "-m", "cli", "rvc", str(path)]
    as_json = subprocess.run([*run, "--json"], capture_output=True, text=True, cwd=ROOT,
                             timeout=120, check=True)
    assert json.loads(as_json.stdout)["us_content"]["non_us"] == "25.00"
    as_text = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=120,
                             check=True, env={"COLUMNS": "200", "PATH": ""})
    assert "US content" in as_text.stdout
    assert "75.00" in as_text.stdout
    assert "CSMS # 65649652" in as_text.stdout
