"""Shared fixtures: paths to test assets and a runner for the real `tmec` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent / "assets"

# Deterministic property tests in CI; a developer can opt into more examples locally.
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=500)
# The long fuzz run of the readers (`HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`): many more
# examples, new ones on every run, failures kept in the local example database to replay.
settings.register_profile("fuzz", deadline=None, max_examples=20_000,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def asset(*parts: str) -> Path:
    """Path of a file under tests/assets."""
    return ASSETS.joinpath(*parts)


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        return json.loads(self.stdout)


def run_tmec(*args: str, stdin: str | None = None, cwd: Path | None = None) -> CliResult:
    """Run the real console entry point (`python -m cli`) in a subprocess."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, input=stdin,
        cwd=cwd or ROOT, env=env, timeout=300, check=False,
    )
    return CliResult(proc)


@pytest.fixture
def tmec():
    return run_tmec
