"""What-if rule sets (issue 10): shipped scenarios, known answers from the threshold texts,
the hypothetical marker, strict loading, and the portfolio comparison.

Known answers: a Table A.1 core part for a passenger vehicle is originating on 2026-03-16
with a net cost RVC of 80 % against the 75 % of SOR/2020-155 s.14(13) (in force from
2023-07-01), and not originating under scenario ``rvc-82`` (82 %): headroom 25.00 - 20.00
= 5.00 in force, 18.00 - 20.00 = -2.00 under the scenario, per 100.00 of net cost.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from origin_rules import Method, bom_from_dict, default_rule_book, determine_origin
from origin_rules.errors import RuleDataError, UnknownRuleSetError
from origin_rules.portfolio import Change, Comparison, Verdict, compare, portfolio, unreadable
from origin_rules.rules import RuleBook
from origin_rules.scenarios import (
    Basis,
    RuleSetCatalogue,
    Scenario,
    Source,
    SteelAluminumChange,
    ThresholdChange,
    UsContentFloor,
    default_catalogue,
    load_scenario,
)
from tests.origin_rules.builders import bought, document, made

SHIPPED = ("rvc-82", "steel-melted-poured-now", "us-content-50")


def core_part(*, as_of: str = "2026-03-16", vnm: str = "20", own: str = "80") -> dict:
    """A cylinder head (8409.91, Table A.1 for a passenger vehicle): net cost = own + VNM."""
    return document([made("head", "8409.91", other_product=own),
                     bought("casting", vnm, hs="7325.99")],
                    [("head", "casting", "1")], as_of=as_of, end_use="passenger_vehicle")


def vehicle(*, us: str, other: str, steel: tuple[str, str] = ("75", "100"),
            aluminum: tuple[str, str] = ("75", "100")) -> dict:
    """A passenger car whose materials are `us` of US content and `other` of Mexican."""
    return document(
        [made("car", "8703.23", other_product="0"),
         bought("body", us, origin="originating", hs="8708.29", country="US"),
         bought("seats", other, origin="originating", hs="9401.20", country="MX")],
        [("car", "body", "1"), ("car", "seats", "1")], as_of="2026-03-16",
        vehicle={"steel_aluminum": {"steel": {"originating": steel[0], "total": steel[1]},
                                    "aluminum": {"originating": aluminum[0],
                                                 "total": aluminum[1]}},
                 "labor_value_content": {"high_wage_material_and_manufacturing": "40"}})


def under(doc: dict, name: str | None):
    return determine_origin(bom_from_dict(doc), rules=default_catalogue().book(name))


def nc(determination):
    return determination.result(Method.NET_COST)


# ---------------------------------------------------------------------- shipped data


def test_three_scenarios_ship_each_hypothetical_with_sources_and_basis() -> None:
    catalogue = default_catalogue()
    assert tuple(s.name for s in catalogue.scenarios) == SHIPPED
    for scenario in catalogue.scenarios:
        rule_set = catalogue.rule_sets[scenario.name]
        assert rule_set.hypothetical
        assert rule_set.scenario is scenario
        assert rule_set.rule_set == f"usmca/scenario/{scenario.name}"
        assert scenario.based_on == "usmca/2020-07-01"
        assert "Art. 34.7" in scenario.reference or "Article 6" in scenario.reference
        assert "Ours" in scenario.hypothetical
        assert scenario.sources
        assert all(s.says and s.title for s in scenario.sources)
        assert any(s.url and s.url.startswith("http") for s in scenario.sources)
        assert scenario.changes
        assert all(c.basis in (Basis.REPORTED, Basis.OURS) for c in scenario.changes)
        assert any(c.basis is Basis.REPORTED for c in scenario.changes)


def test_scenarios_are_never_in_the_rule_book_in_force() -> None:
    names = [rs.rule_set for rs in default_rule_book().rule_sets]
    assert names == ["usmca/2020-07-01"]
    assert not any(rs.hypothetical for rs in default_rule_book().rule_sets)
    assert default_catalogue().book(None) is default_rule_book()


def test_a_scenario_differs_from_its_base_only_where_it_says() -> None:
    catalogue = default_catalogue()
    base = default_rule_book().rule_sets[0]
    rvc = catalogue.rule_sets["rvc-82"]
    changed = {c.category for c in catalogue.scenario("rvc-82").changes
               if isinstance(c, ThresholdChange)}
    for before, after in zip(base.categories, rvc.categories, strict=True):
        if before.id in changed:
            assert before.thresholds != after.thresholds
            assert "HYPOTHETICAL, scenario rvc-82" in after.reference
        else:
            assert before == after
    for field in ("de_minimis", "criterion_d", "net_cost_only", "labor_value_content",
                  "core_parts", "steel_aluminum", "psr"):
        assert getattr(rvc, field) == getattr(base, field), field


# ----------------------------------------------------------------------- known answers


def test_core_part_qualifies_in_force_and_fails_under_a_raised_threshold() -> None:
    in_force, raised = under(core_part(), None), under(core_part(), "rvc-82")
    assert in_force.originating
    assert in_force.criterion == "B"
    assert (nc(in_force).threshold, nc(in_force).rvc) == (Decimal(75), Decimal(80))
    assert nc(in_force).headroom == Decimal("5.00")
    assert nc(in_force).threshold_valid_from == date(2023, 7, 1)
    assert not raised.originating
    assert raised.criterion is None
    assert nc(raised).threshold == Decimal(82)
    assert not nc(raised).passed
    assert nc(raised).headroom == Decimal("-2.00")
    assert nc(raised).threshold_valid_from is None  # a what-if, not a dated amendment
    assert "HYPOTHETICAL, scenario rvc-82" in nc(raised).reference


def test_the_raised_threshold_is_met_exactly_at_82_percent() -> None:
    exactly = under(core_part(vnm="18", own="82"), "rvc-82")
    assert nc(exactly).rvc == Decimal(82)
    assert exactly.originating
    assert nc(exactly).headroom == Decimal("0.00")


def test_a_determination_under_a_scenario_says_it_is_hypothetical() -> None:
    d = under(core_part(), "rvc-82")
    assert d.hypothetical
    assert d.rule_set == "usmca/scenario/rvc-82"
    data = d.to_dict()
    assert data["hypothetical"] is True
    assert data["scenario"]["name"] == "rvc-82"
    assert data["scenario"]["status"] == "hypothetical"
    assert data["scenario"]["sources"][0]["url"].startswith("https://")
    assert data["reasons"][0]["code"] == "scenario"
    assert d.explanation[0].startswith("HYPOTHETICAL: evaluated under scenario rvc-82")
    assert "no origin token can be issued" in d.explanation[0]
    assert d.explain("es")[0].startswith("HIPOTÉTICO")
    assert d.explain("fr")[0].startswith("HYPOTHÉTIQUE")
    real = under(core_part(), None)
    assert not real.hypothetical
    assert real.to_dict()["scenario"] is None
    assert real.to_dict()["hypothetical"] is False
    assert all(r.code != "scenario" for r in real.reasons)


def test_us_content_floor_is_a_vehicle_requirement_met_at_exactly_50_percent() -> None:
    # 50.00 of 100.00 from the US: "at least 50 %" is met; 49.99 is not
    met = under(vehicle(us="50", other="50"), "us-content-50")
    floor = {r.name: r for r in met.requirements}["us_content"]
    assert floor.passed is True
    assert floor.values["minimum"] == "50"
    assert floor.values["us_share"] == "50.000000"
    short = under(vehicle(us="49.99", other="50.01"), "us-content-50")
    assert {r.name: r.passed for r in short.requirements}["us_content"] is False
    assert not short.originating
    in_force = under(vehicle(us="49.99", other="50.01"), None)
    assert "us_content" not in {r.name for r in in_force.requirements}
    assert in_force.originating  # the regional rule does not ask where in the region


def test_us_content_floor_does_not_touch_parts() -> None:
    assert under(core_part(), "us-content-50").requirements == ()


def test_steel_scenario_raises_the_share_and_states_melted_and_poured() -> None:
    # 75 % of steel and aluminum purchases originating: >= 70 % in force, < 80 % here
    in_force = under(vehicle(us="50", other="50"), None)
    tightened = under(vehicle(us="50", other="50"), "steel-melted-poured-now")
    before = {r.name: r for r in in_force.requirements}["steel_aluminum"]
    after = {r.name: r for r in tightened.requirements}["steel_aluminum"]
    assert before.passed is True
    assert before.values["minimum"] == "70"
    assert after.passed is False
    assert after.values["minimum"] == "80"
    assert "melted and poured" in after.detail
    assert "smelted and cast" in after.detail
    assert "HYPOTHETICAL, scenario steel-melted-poured-now" in after.reference
    assert in_force.originating
    assert not tightened.originating
    exactly = under(vehicle(us="50", other="50", steel=("80", "100"),
                            aluminum=("80", "100")), "steel-melted-poured-now")
    assert {r.name: r.passed for r in exactly.requirements}["steel_aluminum"] is True


# ----------------------------------------------------------------------------- names


def test_rule_sets_by_name() -> None:
    catalogue = default_catalogue()
    assert catalogue.names() == ("usmca/2020-07-01", *SHIPPED)
    assert catalogue.book("usmca/2020-07-01").rule_sets == default_rule_book().rule_sets
    assert catalogue.book("usmca/scenario/rvc-82") == catalogue.book("rvc-82")
    with pytest.raises(UnknownRuleSetError) as error:
        catalogue.book("rvc-99")
    assert error.value.code == "rules.unknown_rule_set"
    assert "usmca/2020-07-01 (in force from 2020-07-01)" in str(error.value)
    assert "rvc-82 (hypothetical)" in str(error.value)
    with pytest.raises(UnknownRuleSetError, match="unknown scenario 'usmca/2020-07-01'"):
        catalogue.scenario("usmca/2020-07-01")  # a rule set in force is not a what-if


# ---------------------------------------------------------------------- strict loading

GOOD = """
schema = 1
name = "t"
status = "hypothetical"
based_on = "usmca/2020-07-01"
title = "test"
reference = "Art. 34.7"
hypothetical = "Ours: everything"
[[source]]
title = "a page"
says = "it says"
[[change]]
kind = "threshold"
category = "table_B"
method = "net_cost"
min = "71"
basis = "ours"
reference = "ours"
"""


@pytest.mark.parametrize(("old", "new", "key"), [
    ('status = "hypothetical"', 'status = "in_force"', "status"),
    ('min = "71"', 'min = "101"', "change[0].min"),
    ('basis = "ours"', 'basis = "rumour"', "change[0].basis"),
    ('kind = "threshold"', 'kind = "lvc"', "change[0].kind"),
    ('method = "net_cost"', 'method = "nc"', "change[0].method"),
    ('reference = "ours"', 'reference = "ours"\nnote = "x"', "change[0].note"),
    ('name = "t"', 'name = "no spaces"', "name"),
    ("[[source]]\ntitle = \"a page\"\nsays = \"it says\"\n", "", "source"),
])
def test_malformed_scenario_names_file_and_key(old: str, new: str, key: str) -> None:
    assert old in GOOD
    with pytest.raises(RuleDataError) as error:
        load_scenario("usmca/scenarios/t.toml", GOOD.replace(old, new))
    assert error.value.file == "usmca/scenarios/t.toml"
    assert error.value.key_path == key


def test_a_change_to_a_category_the_base_lacks_is_refused() -> None:
    scenario = load_scenario("t.toml", GOOD.replace('"table_B"', '"table_Z"'))
    with pytest.raises(RuleDataError, match="no category 'table_Z'") as error:
        RuleSetCatalogue.build(default_rule_book(), [scenario])
    assert error.value.key_path == "change[0].category"


def test_a_scenario_on_an_unknown_base_or_a_taken_name_is_refused() -> None:
    book = default_rule_book()
    with pytest.raises(RuleDataError, match="no rule set in force"):
        RuleSetCatalogue.build(book, [load_scenario("t.toml", GOOD.replace(
            'based_on = "usmca/2020-07-01"', 'based_on = "usmca/2031-07-01"'))])
    twice = load_scenario("t.toml", GOOD)
    with pytest.raises(RuleDataError, match="already the name"):
        RuleSetCatalogue.build(book, [twice, twice])


def test_a_built_scenario_applies_every_kind_of_change() -> None:
    scenario = Scenario(
        "mix", "mixed", "usmca/2020-07-01", "Art. 34.7", "ours", (Source("t", "s"),),
        (ThresholdChange("light_truck", Method.NET_COST, Decimal(80), Basis.OURS, "r1"),
         UsContentFloor(("heavy_truck",), Decimal(30), Basis.OURS, "r2"),
         SteelAluminumChange(Decimal(90), "melted and poured", Basis.OURS, "r3")))
    rule_set = scenario.apply(default_rule_book().rule_sets[0])
    assert rule_set.category("light_truck").thresholds_on(date(2030, 1, 1))[
        Method.NET_COST].min == 80
    assert "us_content" in rule_set.category("heavy_truck").requirements
    assert rule_set.us_content_minimum == 30
    assert rule_set.us_content_minimum_reference == "r2"
    assert rule_set.steel_aluminum_minimum(date(2021, 1, 1)) == 90
    assert rule_set.steel_aluminum_condition == "melted and poured"


# --------------------------------------------------------------------------- portfolio


def test_portfolio_compares_verdicts_and_headroom_per_good_and_currency() -> None:
    catalogue = default_catalogue()
    books = [(name, catalogue.book(name)) for name in SHIPPED]
    failing = core_part()
    failing["currency"] = "MXN"
    results = [
        compare(bom_from_dict(core_part()), "head.json", in_force=catalogue.in_force,
                scenarios=books),
        compare(bom_from_dict(core_part(vnm="10", own="90")), "head-90.json",
                in_force=catalogue.in_force, scenarios=books),
        compare(bom_from_dict(failing), "head-mxn.json", in_force=catalogue.in_force,
                scenarios=books),
        unreadable("broken.json", "rules.bom_invalid: not JSON"),
    ]
    report = portfolio(results, SHIPPED)
    head = results[0].comparisons[0]
    assert (head.scenario, head.change) == ("rvc-82", Change.LOST)
    assert head.in_force.headroom == Decimal("5.00")
    assert head.under.headroom == Decimal("-2.00")
    assert head.headroom_change == Decimal("-7.00")
    # RVC 90 %: still originating at 82 %; headroom 25 - 10 = 15.00, then 18 - 10 = 8.00
    kept = results[1].comparisons[0]
    assert kept.change is Change.UNCHANGED
    assert kept.headroom_change == Decimal("-7.00")
    assert [c.change for c in results[0].comparisons[1:]] == [Change.UNCHANGED] * 2
    totals = {(t.scenario, t.currency): t for t in report.totals()}
    usd = totals[("rvc-82", "USD")]
    assert (usd.goods, usd.lost, usd.gained, usd.unchanged, usd.errors) == (2, 1, 0, 1, 0)
    assert usd.headroom_change == Decimal("-14.00")
    assert totals[("rvc-82", "MXN")].lost == 1
    assert set(totals) == {(s, c) for s in SHIPPED for c in ("MXN", "USD")}
    assert report.failed == 1  # the unreadable document, a row with its error


def test_a_rule_set_that_cannot_evaluate_the_good_is_an_error_verdict() -> None:
    doc = document([made("g", "9999.99", other_product="1"), bought("a", "1")],
                   [("g", "a", "1")])
    result = compare(bom_from_dict(doc), "odd.json", in_force=default_rule_book(),
                     scenarios=[("rvc-82", default_catalogue().book("rvc-82"))])
    assert result.in_force is not None
    assert result.in_force.error is not None
    assert result.in_force.error.startswith("rules.no_applicable_rule: ")
    assert result.comparisons[0].change is Change.ERROR
    assert result.failed


def test_comparison_change_words() -> None:
    yes, no = Verdict("r", True), Verdict("r", False)
    assert Comparison("s", yes, no).change is Change.LOST
    assert Comparison("s", no, yes).change is Change.GAINED
    assert Comparison("s", no, no).change is Change.UNCHANGED
    assert Comparison("s", yes, Verdict(None, None, error="x")).change is Change.ERROR
    assert Comparison("s", replace(yes, headroom=Decimal(3)), yes).headroom_change is None


def test_an_empty_scenario_book_is_the_base_alone() -> None:
    scenario = Scenario("same", "same", "usmca/2020-07-01", "r", "ours", (Source("t", "s"),),
                        ())
    book = RuleBook((scenario.apply(default_rule_book().rule_sets[0]),))
    assert determine_origin(bom_from_dict(core_part()), rules=book).hypothetical
