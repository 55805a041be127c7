"""`tmec rvc` through the real entry point on goods decided by the product-specific rules of
Annex 4-B (HTSUS GN 11(o)): no `rule` in the document, and the report names the rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_tmec

INPUT_ERROR = 3


def write(path: Path, document: dict[str, Any]) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def brake_pads(end_use: str, own: str = "30") -> dict[str, Any]:
    """Aftermarket brake pads of 8708.30: a steel backing plate (7208) and friction material
    (6813) bought non-originating; no `rule` anywhere.
    """
    return {
        "format": "tmec-bom/1", "good": "pads", "as_of": "2024-03-01", "currency": "USD",
        "end_use": end_use,
        "items": [
            {"id": "pads", "hs": "8708.30", "description": "brake pad set", "kind": "made",
             "costs": {"other_product": own}},
            {"id": "plate", "hs": "7208.51", "description": "steel backing plate",
             "kind": "bought", "unit_value": "20", "origin": "non_originating"},
            {"id": "friction", "hs": "6813.81", "description": "friction material",
             "kind": "bought", "unit_value": "50", "origin": "non_originating"},
        ],
        "lines": [{"parent": "pads", "child": "plate", "qty": "1"},
                  {"parent": "pads", "child": "friction", "qty": "1"}],
    }


def test_aftermarket_brake_part_is_decided_by_its_product_specific_rule(tmp_path: Path):
    result = run_tmec("rvc", write(tmp_path / "pads.json", brake_pads("aftermarket")),
                      "--json")
    assert result.exit_code == 0, result.stderr
    out = result.json()
    assert out["originating"] is True
    assert out["criterion"] == "B"
    psr = out["rule"]["product_specific_rule"]
    assert psr["provision"] == "8708.30 (any other good)"
    assert psr["gn11_number"] == 28
    assert psr["cross_checked"] is True
    assert [a["label"] for a in out["rule"]["alternatives"]] == ["(A)", "(B)", "(C)", "(D)"]
    assert out["tariff_shift"]["required"] == "CTH"
    assert any("SOR/2020-155 s.3(6)" in line for line in out["explanation"])


def test_the_report_for_people_prints_the_rule(tmp_path: Path):
    result = run_tmec("rvc", write(tmp_path / "pads.json", brake_pads("aftermarket")))
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "ORIGINATING - criterion B" in text
    assert "General Note 11(o) (Annex 4-B), chapter 87, rule 28" in text
    assert "provision 8708.30 (any other good)" in text


def test_a_rubber_hose_rule_not_cross_checked_says_so(tmp_path: Path):
    hose = {
        "format": "tmec-bom/1", "good": "hose", "as_of": "2024-03-01", "currency": "USD",
        "end_use": "aftermarket",
        "items": [
            {"id": "hose", "hs": "4009.12", "description": "coolant hose", "kind": "made",
             "costs": {"other_product": "4"}},
            {"id": "rubber", "hs": "4002.19", "description": "SBR compound", "kind": "bought",
             "unit_value": "3", "origin": "non_originating"},
        ],
        "lines": [{"parent": "hose", "child": "rubber", "qty": "1"}],
    }
    out = run_tmec("rvc", write(tmp_path / "hose.json", hose), "--json").json()
    assert out["originating"] is True
    assert out["rule"]["product_specific_rule"]["cross_checked"] is False
    assert any("NOT cross-checked" in note for note in out["rule"]["notes"])


def test_an_unsupported_clause_is_a_clear_error_not_a_verdict(tmp_path: Path):
    nails = {
        "format": "tmec-bom/1", "good": "nails", "as_of": "2024-03-01", "currency": "USD",
        "items": [
            {"id": "nails", "hs": "7317.00", "description": "steel nails", "kind": "made",
             "costs": {"other_product": "20"}},
            {"id": "rod", "hs": "7213.91", "description": "wire rod", "kind": "bought",
             "unit_value": "40", "origin": "non_originating"},
        ],
        "lines": [{"parent": "nails", "child": "rod", "qty": "1"}],
    }
    result = run_tmec("rvc", write(tmp_path / "nails.json", nails))
    assert result.exit_code == INPUT_ERROR
    (line,) = result.stderr.splitlines()
    assert line.startswith("error [rules.rule_unsupported]: ")
    assert "by weight" in line
