"""Rule tables as data: the shipped rule set loads, is what the reference says, and a new
rule set (e.g. after the 2026 joint review) is a new file that takes over on its date."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from origin_rules import Method, RuleBook, RuleDataError, bom_from_dict, determine_origin
from origin_rules.bom import EndUse
from origin_rules.rules import REFERENCE_KEYS, HsEntry, default_rule_book
from tests.origin_rules.builders import bought, document, made

ROOT = Path(__file__).resolve().parents[2]
SOURCE_JSON = ROOT / "tools" / "data" / "usmca_automotive_thresholds.json"  # copy of ../shared
DATA = ROOT / "origin_rules" / "data" / "usmca" / "2020-07-01.toml"


def test_all_shipped_rule_sets_load() -> None:
    book = default_rule_book()
    assert [rs.rule_set for rs in book.rule_sets] == ["usmca/2020-07-01"]
    for rule_set in book.rule_sets:
        for category in rule_set.categories:
            assert category.reference
            assert category.thresholds
            assert category.hs


def test_data_file_is_generated_from_the_thresholds_reference() -> None:
    result = subprocess.run([sys.executable, "tools/build_usmca_rules.py", "--check"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_threshold_of_the_reference_is_in_force_on_its_date() -> None:
    reference = json.loads(SOURCE_JSON.read_text(encoding="utf-8"))["thresholds"]
    rule_set = default_rule_book().rule_set_on(date(2030, 1, 1))
    pairs = {"passenger_vehicle": "passenger_vehicle", "light_truck": "light_truck",
             "heavy_truck": "heavy_truck", "table_A1": "table_A1_core_parts_for_PV_LT",
             "table_B": "table_B_principal_parts_for_PV_LT",
             "table_C": "table_C_complementary_parts_for_PV_LT",
             "table_D": "table_D_principal_parts_for_heavy_truck",
             "table_E": "table_E_complementary_parts_for_heavy_truck"}
    for category_id, key in pairs.items():
        category = rule_set.category(category_id)
        for method in Method:
            series = reference[key].get(method.value) or {}
            for year, percent in series.items():
                in_force = category.thresholds_on(date(int(year), 7, 1))[method]
                assert in_force.min == Decimal(str(percent)), (category_id, method, year)
                if int(year) > 2020:
                    before = category.thresholds_on(date(int(year), 6, 30))[method]
                    assert before.valid_from is not None
                    assert before.valid_from < date(int(year), 7, 1)


@pytest.mark.parametrize(("text", "hs", "matches"), [
    ("8708.29", "8708.29.99", True), ("8708.29", "8708.30", False),
    ("ex 8708.29", "8708.29", True), ("84.09", "8409.91", True), ("84.09", "8410.00", False),
    ("8703.21-8703.90", "8703.24", True), ("8703.21-8703.90", "8703.10", False),
    ("01-27", "2009.12", True), ("01-27", "2801.10", False),
])
def test_hs_entries(text: str, hs: str, matches: bool) -> None:
    assert HsEntry.parse(text).matches(hs.replace(".", "")) is matches


def test_bad_hs_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="not an HS"):
        HsEntry.parse("8703-8704.21")


REVIEW_2027 = """
schema = 1
rule_set = "usmca/2027-07-01"
agreement = "USMCA / T-MEC / CUSMA"
title = "Hypothetical post-review rule set (test fixture)"
valid_from = 2027-07-01
reference = "test fixture"

[de_minimis]
percent = "7"
reference = "test"

[criterion_d]
net_cost = "50"
transaction_value = "60"
excluded_chapters = ["61", "62", "63"]
reference = "test"

""" + "[references]\n" + "".join(f'{key} = "test {key}"\n' for key in REFERENCE_KEYS) + """
[steel_aluminum]
reference = "test"
[[steel_aluminum.threshold]]
valid_from = 2027-07-01
min = "80"

[[category]]
id = "table_B"
kind = "part"
table = "B"
title = "Table B (hypothetical 2027 text)"
end_use = ["passenger_vehicle", "light_truck"]
hs = ["8708.30"]
reference = "hypothetical"
[[category.threshold]]
method = "net_cost"
valid_from = 2027-07-01
min = "80"
"""


def test_a_new_rule_set_takes_over_from_its_date() -> None:
    shipped = DATA.read_text(encoding="utf-8")
    book = RuleBook.from_texts([("usmca/2020-07-01.toml", shipped),
                                ("usmca/2027-07-01.toml", REVIEW_2027)])
    doc = document([made("g", "8708.30", other_product="75"), bought("a", "25")],
                   [("g", "a", "1")], end_use="passenger_vehicle")
    before = determine_origin(bom_from_dict(doc), as_of=date(2027, 6, 30), rules=book)
    after = determine_origin(bom_from_dict(doc), as_of=date(2027, 7, 1), rules=book)
    assert (before.rule_set, before.results[0].threshold, before.originating) == (
        "usmca/2020-07-01", Decimal(70), True)
    assert (after.rule_set, after.results[0].threshold, after.originating) == (
        "usmca/2027-07-01", Decimal(80), False)


@pytest.mark.parametrize(("mutation", "key_path"), [
    (lambda t: t.replace('percent = "7"', 'percent = 7'), "de_minimis.percent"),
    (lambda t: t.replace('min = "80"\n\n[[category]]', 'min = "180"\n\n[[category]]'),
     "steel_aluminum.threshold[0].min"),
    (lambda t: t.replace('kind = "part"', 'kind = "gadget"'), "category[0].kind"),
    (lambda t: t.replace('hs = ["8708.30"]', 'hs = ["87.0830"]'), "category[0].hs[0]"),
    (lambda t: t.replace('method = "net_cost"\nvalid_from = 2027-07-01',
                         'method = "net_value"\nvalid_from = 2027-07-01'),
     "category[0].threshold[0].method"),
    (lambda t: t + '\nsurprise = "unknown key"\n', "category[0].threshold[0].surprise"),
    (lambda t: t.replace("schema = 1", "schema = 2"), "schema"),
    (lambda t: t.replace('end_use = ["passenger_vehicle", "light_truck"]',
                         'end_use = ["spaceship"]'), "category[0].end_use[0]"),
])
def test_malformed_rule_data_names_file_and_key(mutation, key_path: str) -> None:
    with pytest.raises(RuleDataError) as info:
        RuleBook.from_texts([("usmca/2027-07-01.toml", mutation(REVIEW_2027))])
    assert info.value.file == "usmca/2027-07-01.toml"
    assert info.value.key_path == key_path
    assert info.value.code == "rules.data_invalid"


def test_invalid_toml_is_a_rule_data_error() -> None:
    with pytest.raises(RuleDataError, match="not valid TOML"):
        RuleBook.from_texts([("x.toml", "schema = = 1")])


def test_rules_show_candidates_for_an_ambiguous_subheading() -> None:
    rule_set = default_rule_book().rule_set_on(date(2024, 1, 1))
    tables = [c.table for c, _ in rule_set.candidates("8708.99",
                                                       end_use=EndUse.PASSENGER_VEHICLE)]
    assert tables == ["A.1", "B"]
    assert rule_set.candidates("8708.30", end_use=EndUse.HEAVY_TRUCK)[0][0].table == "D"
