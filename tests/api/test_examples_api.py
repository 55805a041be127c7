"""examples/api/workflows.py drives the four workflows against a served demo, as a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.server import serve_demo
from tests.conftest import ROOT


def test_the_four_workflows_run_against_a_real_server(tmp_path_factory: pytest.TempPathFactory
                                                      ) -> None:
    out: Path = tmp_path_factory.mktemp("workflows") / "demo"
    with serve_demo(out) as (url, demo):
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "api" / "workflows.py"), "--url", url,
             "--keys", str(demo / "api-keys.json")], capture_output=True, text=True,
            timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    for words in ("GO (clear)", "by digest: CLEAR", "the driver's bundle: CLEAR", "verified",
                  "all four workflows"):
        assert words in done.stdout
