"""The ``fuzz`` marker, registered here until pyproject.toml's marker list carries it.

pytest runs with ``--strict-markers``; `test_fuzz_readers.py` marks its tests ``fuzz`` so
that ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` (the long run) selects them.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: property-based fuzzing of the BOM readers (long run: -m fuzz)")
