"""The engine's mechanisms, each checked against the rule it implements (usmca-rules.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from origin_rules import (
    BomError,
    DesignationError,
    Method,
    MethodNotAllowedError,
    NoApplicableRuleError,
    bom_from_dict,
    determine_origin,
)
from origin_rules.bom import EndUse
from tests.origin_rules.builders import NC50, NC50_TV60, bought, document, made


def determine(doc: dict, **options):
    return determine_origin(bom_from_dict(doc), **options)


def nc(determination):
    result = determination.result(Method.NET_COST)
    assert result is not None
    return result


def tv(determination):
    result = determination.result(Method.TRANSACTION_VALUE)
    assert result is not None
    return result


class TestValueOfMaterials:
    """Art. 4.6-4.7 and roll-up (Art. 4.5.4)."""

    def test_originating_material_counts_in_cost_not_in_vnm(self):
        d = determine(document([made("g", other_product="20", rule=NC50),
                                bought("a", "30", "originating"), bought("b", "50")],
                               [("g", "a", "1"), ("g", "b", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(100), Decimal(50))

    def test_unknown_origin_counts_as_non_originating(self):
        d = determine(document([made("g", other_product="50", rule=NC50),
                                bought("a", "50", "unknown")], [("g", "a", "1")]))
        assert nc(d).vnm == 50
        assert any("unknown origin" in line for line in d.explanation)

    def test_quantities_multiply_through_levels(self):
        d = determine(document(
            [made("g", other_product="10", rule=NC50), made("sub", "8708.99"),
             bought("bolt", "0.25")],
            [("g", "sub", "4"), ("sub", "bolt", "6")]))
        assert nc(d).vnm == Decimal("6.00")  # 4 x 6 x 0.25
        assert nc(d).contributors[0].vnm == Decimal("6.00")

    def test_deductions_reduce_vnm_but_not_the_producers_cost(self):
        d = determine(document(
            [made("g", other_product="60", rule=NC50),
             bought("a", "40", deductions={"freight": "3", "duties": "2", "brokerage": "1",
                                           "waste": "0.5"})],
            [("g", "a", "1")]))
        assert nc(d).base == 100
        assert nc(d).vnm == Decimal("33.5")

    def test_deductions_are_ignored_for_originating_materials(self):
        d = determine(document(
            [made("g", other_product="60", rule=NC50),
             bought("a", "40", "originating", deductions={"freight": "3"})],
            [("g", "a", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(100), Decimal(0))


class TestAccumulationStatements:
    """Art. 4.11; SOR/2020-155 s.9(2)-(3)."""

    def test_net_cost_and_vnm_replaces_value_and_vnm(self):
        d = determine(document(
            [made("g", other_product="50", rule=NC50),
             bought("a", "50", statement={"type": "net_cost_and_vnm", "net_cost": "45",
                                          "vnm": "12"})],
            [("g", "a", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(95), Decimal(12))

    def test_supplier_net_cost_above_the_price_raises_the_base(self):
        # s.9(2)(a) uses the supplier's net cost, whatever the price paid: this is why the
        # "marking originating never lowers RVC" property excludes such statements.
        statement = {"type": "net_cost_and_vnm", "net_cost": "70", "vnm": "0"}
        with_statement = determine(document(
            [made("g", other_product="50", rule=NC50), bought("a", "50", statement=statement)],
            [("g", "a", "1")]))
        originating = determine(document(
            [made("g", other_product="50", rule=NC50), bought("a", "50", "originating")],
            [("g", "a", "1")]))
        assert nc(with_statement).base == 120
        assert nc(originating).base == 100

    def test_regional_value_statement(self):
        d = determine(document(
            [made("g", other_product="50", rule=NC50),
             bought("a", "50", statement={"type": "regional_value", "amount": "35"})],
            [("g", "a", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(100), Decimal(15))

    def test_vnm_statement_applies_to_transaction_value_only(self):
        d = determine(document(
            [made("g", other_product="50", rule=NC50_TV60, transaction_value="200"),
             bought("a", "50", statement={"type": "vnm", "vnm": "10"})],
            [("g", "a", "1")]))
        assert tv(d).vnm == 10
        assert nc(d).vnm == 50
        assert any("VNM-only statements ('a')" in line for line in d.explanation)

    def test_statement_on_an_originating_material_is_ignored(self):
        d = determine(document(
            [made("g", other_product="50", rule=NC50),
             bought("a", "50", "originating", statement={"type": "vnm", "vnm": "10"})],
            [("g", "a", "1")]))
        assert nc(d).vnm == 0


class TestSpecialMaterials:
    def test_packing_for_shipment_is_disregarded(self):
        """Art. 4.16: neither cost nor VNM nor tariff shift."""
        d = determine(document(
            [made("g", other_product="50", rule={"tariff_shift": "CTH", **NC50}),
             bought("a", "50", "originating"), bought("crate", "30", hs="4415.10", packing=True)],
            [("g", "a", "1"), ("g", "crate", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(100), Decimal(0))
        assert d.tariff_shift.passed is True
        assert any("packing material" in line for line in d.explanation)

    def test_indirect_material_is_originating(self):
        """Art. 4.9: counts in cost, never in VNM."""
        d = determine(document(
            [made("g", other_product="50", rule=NC50),
             bought("gloves", "10", "non_originating", hs="4015.19", indirect=True)],
            [("g", "gloves", "1")]))
        assert (nc(d).base, nc(d).vnm) == (Decimal(60), Decimal(0))
        assert d.criterion == "C"

    def test_retail_packaging_ignored_for_shift_but_counted_in_rvc(self):
        """Art. 4.15: the box classified with the good does not have to shift."""
        d = determine(document(
            [made("g", "8708.30", other_product="80",
                  rule={"tariff_shift": "CTH", **NC50, "combine": "all"}),
             bought("box", "20", hs="8708.30", retail_packaging=True)],
            [("g", "box", "1")]))
        assert d.tariff_shift.passed is True
        assert d.tariff_shift.failing_materials == ()
        assert nc(d).vnm == 20
        assert d.originating


class TestCriteria:
    def test_exclusively_originating_materials_is_criterion_c(self):
        d = determine(document([made("g", other_product="5", rule=NC50),
                                bought("a", "10", "originating")], [("g", "a", "1")]))
        assert (d.originating, d.criterion) == (True, "C")

    def test_non_originating_materials_make_it_criterion_b(self):
        d = determine(document([made("g", other_product="50", rule=NC50), bought("a", "10")],
                               [("g", "a", "1")]))
        assert (d.originating, d.criterion) == (True, "B")

    def test_not_originating_has_no_criterion(self):
        d = determine(document([made("g", other_product="5", rule=NC50), bought("a", "10")],
                               [("g", "a", "1")]))
        assert (d.originating, d.criterion) == (False, None)
        assert d.explanation[-1].startswith("Conclusion: 'g' is NOT originating")

    def test_criterion_d_is_not_available_for_chapters_61_to_63(self):
        d = determine(document(
            [made("g", "6109.10", other_product="60", rule={"tariff_shift": "CTSH"}),
             bought("panel", "40", hs="6109.10")], [("g", "panel", "1")]))
        assert d.originating is False


class TestTariffShift:
    @pytest.mark.parametrize(("shift", "material_hs", "shifts"), [
        ("CC", "7326.90", True), ("CC", "8714.91", False),
        ("CTH", "8714.91", True), ("CTH", "8712.00", False),
        ("CTSH", "8712.00", False), ("CTSH", "8714.91", True),
    ])
    def test_levels(self, shift, material_hs, shifts):
        # good 8712.00 (bicycles); material value 60 of 100 is above the de minimis and
        # leaves an RVC of 40 %, below the Art. 4.2(d) alternative for same-heading parts
        d = determine(document(
            [made("g", "8712.00", other_product="40", rule={"tariff_shift": shift}),
             bought("m", "60", hs=material_hs)], [("g", "m", "1")]))
        assert d.tariff_shift.passed is shifts
        assert d.originating is shifts

    def test_same_subheading_parts_open_criterion_d(self):
        """Art. 4.2(d): parts of the good's own (undivided) heading cannot shift; an RVC of
        50 % (net cost) makes the good originating under criterion D instead."""
        d = determine(document(
            [made("g", "8712.00", other_product="80", rule={"tariff_shift": "CTH"}),
             bought("frame", "20", hs="8712.00")], [("g", "frame", "1")]))
        assert d.tariff_shift.passed is False
        assert (d.originating, d.criterion) == (True, "D")
        assert nc(d).threshold == 50

    def test_excepted_headings_must_not_be_used_even_if_they_shift(self):
        d = determine(document(
            [made("g", "8708.30", other_product="80",
                  rule={"tariff_shift": "CTH", "except": ["7318"]}),
             bought("bolts", "20", hs="7318.15")], [("g", "bolts", "1")]))
        assert d.tariff_shift.failing_materials == ("bolts",)
        assert not d.originating

    def test_de_minimis_boundary_is_not_more_than_ten_percent(self):
        def good(value: str, other: str):
            # brake parts of 8708.99 in brakes of 8708.30: same heading, other subheading
            return determine(document(
                [made("g", "8708.30", other_product=other, rule={"tariff_shift": "CTH"}),
                 bought("bracket", value, hs="8708.99")], [("g", "bracket", "1")]))

        assert good("10.00", "90.00").originating  # exactly 10 % of total cost
        assert not good("10.01", "89.99").originating

    def test_de_minimis_can_use_the_transaction_value(self):
        d = determine(document(
            [made("g", "8712.00", other_product="80", transaction_value="300",
                  rule={"tariff_shift": "CTH"}),
             bought("frame", "20", hs="8712.00")], [("g", "frame", "1")]))
        assert d.tariff_shift.passed
        assert d.tariff_shift.de_minimis

    def test_annex_4a_same_subheading_exclusion_blocks_de_minimis(self):
        """Goods of Chapters 1-27: no de minimis for a material of the same subheading."""
        d = determine(document(
            [made("g", "2009.12", other_product="95", rule={"tariff_shift": "CTSH"}),
             bought("juice", "5", hs="2009.12")], [("g", "juice", "1")]))
        assert d.tariff_shift.passed is False

    def test_tariff_shift_looks_through_traced_sub_assemblies(self):
        d = determine(document(
            [made("g", "8708.30", other_product="80", rule={"tariff_shift": "CTH"}),
             made("sub", "8708.30"), bought("casting", "20", hs="8708.30")],
            [("g", "sub", "1"), ("sub", "casting", "1")]))
        assert d.tariff_shift.failing_materials == ("casting",)

    def test_any_combination_passes_on_either_alternative(self):
        rule = {"tariff_shift": "CTH", "rvc": [{"method": "net_cost", "min": "60"}],
                "combine": "any"}
        d = determine(document([made("g", "8708.30", other_product="50", rule=rule),
                                bought("m", "50", hs="8708.99")], [("g", "m", "1")]))
        assert not d.tariff_shift.passed
        assert not nc(d).passed
        assert not d.originating
        d = determine(document([made("g", "8708.30", other_product="50", rule=rule),
                                bought("m", "50", hs="7326.90")], [("g", "m", "1")]))
        assert d.tariff_shift.passed
        assert not nc(d).passed
        assert d.originating


class TestIntermediateMaterials:
    """Art. 4.8; SOR/2020-155 s.7(5), s.8(6)-(8)."""

    def test_designated_non_originating_intermediate_counts_whole(self):
        d = determine(document(
            [made("g", other_product="100", rule=NC50),
             made("sub", "8708.99", other_product="10", intermediate=True,
                  rule={"rvc": [{"method": "net_cost", "min": "90"}]}),
             bought("steel", "40")],
            [("g", "sub", "1"), ("sub", "steel", "1")]))
        assert nc(d).vnm == 50  # the intermediate's whole total cost
        assert any("does not qualify" in line for line in d.explanation)

    def test_designated_intermediate_without_a_rule_is_an_error(self):
        # 9506.91 (sports equipment): chapter 95 is outside the product-specific rule data
        doc = document(
            [made("g", "8712.00", other_product="100", rule=NC50),
             made("sub", "9506.91", intermediate=True), bought("steel", "40")],
            [("g", "sub", "1"), ("sub", "steel", "1")])
        with pytest.raises(NoApplicableRuleError, match="intermediate material 'sub'"):
            determine(doc)

    def test_intermediate_takes_the_table_rule_of_the_document_end_use(self):
        d = determine(document(
            [made("g", "8708.30", other_product="100"),
             made("pump", "8413.30", other_product="80", intermediate=True),
             bought("impeller", "20")],
            [("g", "pump", "1"), ("pump", "impeller", "1")], end_use="passenger_vehicle"))
        assert nc(d).vnm == 0  # the pump meets Table B's 70 % and rolls up
        assert any("'pump'" in line and "Table B" in line for line in d.explanation)

    def test_one_layer_rule(self):
        rvc90 = {"rvc": [{"method": "net_cost", "min": "40"}]}
        doc = document(
            [made("g", other_product="100", rule=NC50),
             made("outer", "8708.99", other_product="10", intermediate=True, rule=rvc90),
             made("inner", "8483.40", other_product="10", intermediate=True, rule=rvc90),
             bought("steel", "5")],
            [("g", "outer", "1"), ("outer", "inner", "1"), ("inner", "steel", "1")])
        with pytest.raises(DesignationError, match="one-layer rule") as info:
            determine(doc)
        assert info.value.code == "rules.designation_invalid"

    def test_one_layer_rule_allows_an_inner_intermediate_that_shifts(self):
        doc = document(
            [made("g", other_product="100", rule=NC50),
             made("outer", "8708.99", other_product="10", intermediate=True,
                  rule={"rvc": [{"method": "net_cost", "min": "40"}]}),
             made("inner", "8483.40", other_product="10", intermediate=True,
                  rule={"tariff_shift": "CTH"}),
             bought("steel", "5", hs="7208.51")],
            [("g", "outer", "1"), ("outer", "inner", "1"), ("inner", "steel", "1")])
        assert determine(doc).originating

    def test_shared_sub_assembly_contributions_are_summed(self):
        d = determine(document(
            [made("g", other_product="100", rule=NC50), made("left", "8708.99"),
             made("right", "8708.99"), made("shared", "8708.99"), bought("chip", "3")],
            [("g", "left", "1"), ("g", "right", "2"), ("left", "shared", "1"),
             ("right", "shared", "1"), ("shared", "chip", "2")]))
        assert nc(d).vnm == 18  # (1 + 2) x 2 x 3
        assert [(c.item, c.vnm) for c in nc(d).contributors] == [("chip", Decimal(18))]


class TestBasesAndMethods:
    def test_transaction_value_excludes_international_shipping(self):
        d = determine(document(
            [made("g", other_product="50", transaction_value="150",
                  international_shipping="30", rule=NC50_TV60), bought("a", "50")],
            [("g", "a", "1")]))
        assert tv(d).base == 120

    def test_transaction_value_is_skipped_without_a_transaction_value(self):
        d = determine(document([made("g", other_product="50", rule=NC50_TV60),
                                bought("a", "50")], [("g", "a", "1")]))
        assert [r.method for r in d.results] == [Method.NET_COST]

    def test_asking_for_transaction_value_without_one_is_an_error(self):
        doc = document([made("g", other_product="50", rule=NC50_TV60), bought("a", "50")],
                       [("g", "a", "1")])
        with pytest.raises(BomError, match="transaction_value"):
            determine(doc, method=Method.TRANSACTION_VALUE)

    def test_method_not_in_the_rule_is_refused(self):
        doc = document([made("g", other_product="50", rule=NC50, transaction_value="200"),
                        bought("a", "50")], [("g", "a", "1")])
        with pytest.raises(MethodNotAllowedError, match="net cost only"):
            determine(doc, method=Method.TRANSACTION_VALUE)

    def test_zero_net_cost_is_an_error_not_a_percentage(self):
        doc = document([made("g", rule=NC50), bought("a", "0")], [("g", "a", "1")])
        with pytest.raises(BomError, match="positive base"):
            determine(doc)

    def test_excluded_costs_of_traced_sub_assemblies_leave_net_cost(self):
        d = determine(document(
            [made("g", other_product="50", excluded={"royalties": "5"}, rule=NC50),
             made("sub", "8708.99", other_product="20", excluded={"sales_promotion": "2"}),
             bought("a", "30")],
            [("g", "sub", "1"), ("sub", "a", "1")]))
        assert nc(d).base == 100 - 7


class TestRulesInForce:
    def test_thresholds_change_on_july_first(self):
        def threshold(as_of: str) -> Decimal:
            doc = document([made("g", "8708.30", other_product="80"), bought("a", "20")],
                           [("g", "a", "1")], as_of=as_of, end_use="passenger_vehicle")
            return nc(determine(doc)).threshold

        assert threshold("2021-06-30") == Decimal("62.5")
        assert threshold("2021-07-01") == 65
        assert threshold("2023-06-30") == Decimal("67.5")
        assert threshold("2023-07-01") == 70
        assert threshold("2030-01-01") == 70

    def test_as_of_option_overrides_the_document(self):
        doc = document([made("g", "8708.30", other_product="80"), bought("a", "20")],
                       [("g", "a", "1")], as_of="2024-01-01", end_use="passenger_vehicle")
        assert nc(determine(doc, as_of=date(2020, 8, 1))).threshold == Decimal("62.5")

    def test_end_use_option_selects_the_heavy_truck_table(self):
        doc = document([made("g", "8708.30", other_product="80"), bought("a", "20")],
                       [("g", "a", "1")], end_use="passenger_vehicle")
        d = determine(doc, end_use=EndUse.HEAVY_TRUCK)
        assert d.rule.category is not None
        assert d.rule.category.id == "table_D"

    def test_before_entry_into_force_there_is_no_rule(self):
        doc = document([made("g", "8708.30", other_product="80"), bought("a", "20")],
                       [("g", "a", "1")], as_of="2020-06-30", end_use="passenger_vehicle")
        with pytest.raises(NoApplicableRuleError, match="2020-07-01"):
            determine(doc)

    def test_aftermarket_parts_take_the_product_specific_rule_not_a_table(self):
        doc = document([made("g", "8708.30", other_product="80"), bought("a", "20")],
                       [("g", "a", "1")], end_use="aftermarket")
        d = determine(doc)
        assert d.rule.category is None
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.provision == "8708.30 (any other good)"
        assert any("s.14(18)" in note for note in d.rule.notes)

    def test_explicit_rule_overrides_the_tables(self):
        doc = document([made("g", "8708.30", other_product="55", rule=NC50), bought("a", "45")],
                       [("g", "a", "1")], end_use="passenger_vehicle")
        d = determine(doc)
        assert nc(d).threshold == 50
        assert d.originating
        assert d.rule.category is None

    def test_ambiguous_ex_subheading_takes_the_strictest_table_and_says_so(self):
        doc = document([made("g", "8708.29", other_product="80"), bought("a", "20")],
                       [("g", "a", "1")], end_use="passenger_vehicle")
        d = determine(doc)
        assert d.rule.category is not None
        assert d.rule.category.table == "A.1"
        assert any("also listed in Table B" in note for note in d.rule.notes)
        doc["automotive_table"] = "B"
        d = determine(doc)
        assert d.rule.category is not None
        assert d.rule.category.table == "B"

    def test_net_cost_only_subheading_drops_the_transaction_value_method(self):
        doc = document([made("g", "8708.40", other_product="80", transaction_value="200"),
                        bought("a", "20")], [("g", "a", "1")], end_use="passenger_vehicle")
        d = determine(doc)
        assert [r.method for r in d.results] == [Method.NET_COST]


class TestVehicles:
    def vehicle(self, **vehicle_block):
        return document(
            [made("car", "8703.23", other_product="40", transaction_value="200"),
             made("engine", "8407.34", other_product="40"), bought("block", "10"),
             bought("seats", "10", hs="9401.20")],
            [("car", "engine", "1"), ("engine", "block", "1"), ("car", "seats", "1")],
            vehicle=vehicle_block or None)

    def test_without_lvc_and_steel_data_a_vehicle_is_not_shown_originating(self):
        d = determine(self.vehicle())
        assert nc(d).passed
        assert not d.originating
        status = {r.name: r.passed for r in d.requirements}
        assert status == {"core_parts": True, "steel_aluminum": None,
                          "labor_value_content": None}

    def test_made_core_part_is_checked_against_table_a1(self):
        d = determine(self.vehicle())
        core = next(r for r in d.requirements if r.name == "core_parts")
        assert core.values["parts"][0]["item"] == "engine"
        assert "Table A.1" in core.values["parts"][0]["how"]

    def test_missing_aluminum_leaves_the_requirement_unevaluated(self):
        d = determine(self.vehicle(
            steel_aluminum={"steel": {"originating": "80", "total": "100"}},
            labor_value_content={"high_wage_material_and_manufacturing": "40"}))
        status = {r.name: r.passed for r in d.requirements}
        assert status["steel_aluminum"] is None
        assert status["labor_value_content"] is True

    def test_vehicle_category_selects_other_vehicles(self):
        doc = self.vehicle()
        doc["vehicle"] = {"category": "other_vehicle_62_5"}
        d = determine(doc)
        assert nc(d).threshold == Decimal("62.5")
        assert d.requirements == ()
