"""The example BOMs of examples/ run as tests, through the real `tmec` entry point.

Each example is a realistic case a user can start from; these expectations pin what the
rules say about them, so a change that alters a verdict shows up here.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, run_tmec

EXAMPLES = {
    # file: (originating, criterion, table, {method: (rvc, pass)})
    "brake-caliper-mx.json": (True, "B", "B", {"net_cost": ("73.509453", True),
                                               "transaction_value": ("79.075286", False)}),
    "steel-wheel-ca.json": (True, "B", "B", {"net_cost": ("82.979427", True),
                                             "transaction_value": ("87.766105", True)}),
    "cylinder-head-us.json": (True, "B", "A.1", {"net_cost": ("77.676950", True),
                                                 "transaction_value": ("81.679389", False)}),
    "lash-adjusters-us.json": (True, "B", "A.1", {"net_cost": ("84.525205", True),
                                                  "transaction_value": ("85.691056", True)}),
}


def test_every_example_is_covered() -> None:
    assert {p.name for p in (ROOT / "examples").glob("*.json")} == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example(name: str) -> None:
    originating, criterion, table, methods = EXAMPLES[name]
    result = run_tmec("rvc", str(ROOT / "examples" / name), "--json")
    assert result.exit_code == 0, result.stderr
    output = result.json()
    assert (output["originating"], output["criterion"]) == (originating, criterion)
    assert output["rule"]["table"] == table
    got = {r["method"]: (r["rvc"], r["pass"]) for r in output["results"]}
    assert got == methods


@pytest.mark.parametrize("table_file", ["brake-caliper-mx.items.csv", "brake-caliper-mx.xlsx"])
def test_table_formats_of_an_example_give_the_same_determination(table_file: str) -> None:
    from_json = run_tmec("rvc", str(ROOT / "examples" / "brake-caliper-mx.json"), "--json")
    from_table = run_tmec("rvc", str(ROOT / "examples" / "tables" / table_file), "--json")
    assert from_table.exit_code == 0, from_table.stderr
    assert from_table.json() == from_json.json()


def test_human_report_names_the_verdict_and_the_headroom() -> None:
    result = run_tmec("rvc", str(ROOT / "examples" / "brake-caliper-mx.json"))
    assert result.exit_code == 0
    assert "ORIGINATING - criterion B" in result.stdout
    assert "can absorb 33.875 MXN more" in " ".join(result.stdout.split())
