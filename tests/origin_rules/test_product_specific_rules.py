"""Goods decided under the product-specific rules of Annex 4-B (HTSUS GN 11(o)) without an
explicit `rule`: selection of the rule, each shape applied by the engine, what it cannot
apply, and the tariff-shift alternative of Tables B and C (SOR/2020-155 s.14(14), (16)).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from origin_rules import BomError, NoApplicableRuleError, bom_from_dict, determine_origin
from origin_rules.bom import Method
from origin_rules.errors import AmbiguousRuleError, UnsupportedRuleError
from tests.origin_rules.builders import NC50, bought, document, made


def determine(doc: dict, **options):
    return determine_origin(bom_from_dict(doc), **options)


def part(hs: str, own: str, materials: list[tuple[str, str, str]], **top):
    """A made good of `hs` with `own` costs and bought non-originating (id, hs, value)."""
    items = [made("g", hs, other_product=own)] + [bought(i, v, hs=h) for i, h, v in materials]
    return document(items, [("g", i, "1") for i, _, _ in materials], **top)


def notes(d) -> str:
    return "\n".join((*d.rule.notes, *d.explanation))


class TestAftermarketBrakePart:
    """8708.30, rule 28 ("any other good"): (A)/(C) CTH; (B)/(D) from parts of brakes of
    8708.30 or 8708.99, whether or not ..., and 50 % net cost.
    """

    def test_a_change_of_heading_qualifies_and_the_rule_is_named(self):
        d = determine(part("8708.30", "30", [("plate", "7208.51", "20"),
                                             ("friction", "6813.81", "50")],
                           end_use="aftermarket"))
        assert d.originating
        assert d.criterion == "B"
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 28
        assert d.rule.product_rule.provision == "8708.30 (any other good)"
        assert d.tariff_shift.passed
        rule = d.to_dict()["rule"]["product_specific_rule"]
        assert rule["gn11_number"] == 28
        assert rule["cross_checked"] is True
        assert "NOT cross-checked" not in notes(d)  # rule 28 was compared with the GN page

    def test_parts_of_the_same_subheading_need_the_rvc_of_the_alternative(self):
        # a non-originating caliper part of 8708.30 fails (A)/(C); (B)/(D) allow it with
        # 50 % net cost: 60 % passes, 40 % does not
        ok = determine(part("8708.30", "60", [("caliper", "8708.30", "40")],
                            end_use="aftermarket"))
        assert ok.originating
        assert ok.result(Method.NET_COST) is not None
        assert ok.result(Method.NET_COST).threshold == 50
        short = determine(part("8708.30", "40", [("caliper", "8708.30", "60")],
                               end_use="aftermarket"))
        assert not short.originating
        assert short.result(Method.NET_COST) is not None
        assert not short.result(Method.NET_COST).passed

    def test_no_end_use_is_any_other_good(self):
        d = determine(part("8708.30", "30", [("plate", "7208.51", "20")]))
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 28
        assert "no end_use given" in notes(d)


class TestRubberHose:
    """4009.12 (rule 6): (A) hoses for motor vehicles CTH except from 4010-4017; (B) the
    same from 4009.11-4017.00 with 60 % TV / 50 % NC; (C) other hoses CTH except 4010-4017.
    """

    def test_aftermarket_hose_not_cross_checked_says_so(self):
        d = determine(part("4009.12", "4", [("rubber", "4002.19", "3")],
                           end_use="aftermarket"))
        assert d.originating
        assert "NOT cross-checked" in notes(d)
        assert "chapter 40 chapter rule 1 is not applied" in notes(d)

    def test_exception_fails_the_shift_and_the_rvc_alternative_decides(self):
        # a non-originating belt of 4010 is excepted from (A) and (C), allowed by (B) only,
        # which is written for motor-vehicle hoses: the verdict depends on the goods
        doc = part("4009.12", "6", [("belt", "4010.39", "4")], end_use="aftermarket")
        with pytest.raises(AmbiguousRuleError, match="psr_goods"):
            determine(doc)
        doc["psr_goods"] = "hoses of a kind for use in a motor vehicle"
        d = determine(doc)
        assert d.originating  # (B): RVC 60 % >= 50 %
        doc["psr_goods"] = "other than those"
        assert not determine(doc).originating

    def test_table_c_original_equipment_qualifies_by_the_tariff_shift_alone(self):
        # RVC 40 % < Table C's 65 % net cost, but the rule's tariff shift is met (s.14(16))
        d = determine(part("4009.12", "2", [("rubber", "4002.19", "3")],
                           end_use="passenger_vehicle"))
        assert d.rule.category is not None
        assert d.rule.category.table == "C"
        assert d.originating
        assert "s.14(16)" in notes(d)


class TestTableB:
    def test_tariff_shift_alternative_of_s14_14(self):
        d = determine(part("8708.30", "40", [("plate", "7326.90", "60")],
                           end_use="passenger_vehicle"))
        assert d.rule.category is not None
        assert d.rule.category.table == "B"
        assert d.originating
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 27
        assert "s.14(14)" in notes(d)

    def test_without_the_shift_the_table_rvc_must_be_met(self):
        doc = part("8708.30", "40", [("caliper", "8708.30", "60")],
                   end_use="passenger_vehicle")
        assert not determine(doc).originating
        doc["items"][0]["costs"]["other_product"] = "160"  # RVC 72.7 % >= 70 %
        assert determine(doc).originating


class TestRangesGroupsAndTariffItems:
    def test_a_range_of_headings_within_that_group(self):
        # 8714-8715 (rule 60): "from any other heading, including another heading within
        # that group": a part of 8715 into a good of 8714 shifts
        d = determine(part("8714.10", "80", [("frame", "8715.00", "20")],
                           end_use="aftermarket"))
        assert d.originating
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.provision == "8714-8715"

    def test_outside_that_group(self):
        # 7319-7320 "from any heading outside that group": springs (7320) from wire of 7319
        # fail the shift
        d = determine(part("7320.20", "30", [("pin", "7319.40", "70")]))
        assert not d.originating
        assert not d.tariff_shift.passed

    def test_a_six_digit_code_cannot_choose_between_tariff_item_rules(self):
        doc = part("7321.90", "80", [("sheet", "7208.51", "20")])
        with pytest.raises(AmbiguousRuleError, match="too short"):
            determine(doc)
        doc["items"][0]["hs"] = "7321.90.10"
        d = determine(doc)
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.provision == "7321.90.10"


class TestUseAndExProvisions:
    def test_heavy_truck_rule_for_a_part_outside_the_tables(self):
        # 8409.91 is in Table D only for engines' parts of heavy trucks; for end use
        # heavy_truck with the table set aside, rule 28 (70 % NC, no change) applies
        d = determine(part("8409.91", "80", [("casting", "7325.99", "20")],
                           end_use="heavy_truck", automotive_table="none"))
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 28
        assert d.result(Method.NET_COST) is not None
        assert d.result(Method.NET_COST).threshold == 70

    def test_an_ex_provision_is_chosen_by_the_document(self):
        doc = part("8708.29", "80", [("coil", "7208.51", "20")], end_use="passenger_vehicle",
                   automotive_table="none")
        with pytest.raises(AmbiguousRuleError, match="psr_provision"):
            determine(doc)
        doc["psr_provision"] = ("ex 8708.29 (body stamping for use in a passenger vehicle or "
                                "light truck)")
        d = determine(doc)
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 24
        assert d.result(Method.NET_COST) is not None
        assert d.result(Method.NET_COST).threshold == 75
        assert d.originating

    def test_one_printed_rule_with_two_use_scopes(self):
        # 8708.92 (rule 42): "any other good" of the subheading needs no change and 70 %
        # net cost for use in a PV/LT/HT (C), 50 % otherwise (G)
        aftermarket = determine(part("8708.92", "55", [("pipe", "8708.92", "45")],
                                     end_use="aftermarket", psr_goods="any other good"))
        assert aftermarket.originating
        assert aftermarket.results[0].threshold == 50
        heavy = determine(part("8708.92", "55", [("pipe", "8708.92", "45")],
                               end_use="heavy_truck", automotive_table="none",
                               psr_goods="any other good"))
        assert not heavy.originating
        assert heavy.results[0].threshold == 70

    def test_goods_descriptions_that_disagree_need_the_document(self):
        # 8708.80 (rule 39): McPherson struts may be made from 8708.99 parts with 50 % NC
        # (A); "any other good" needs a change of heading (B)
        doc = part("8708.80", "60", [("rod", "8708.99", "40")], end_use="aftermarket")
        with pytest.raises(AmbiguousRuleError, match="McPherson struts"):
            determine(doc)
        doc["psr_goods"] = "McPherson struts"
        assert determine(doc).originating
        doc["psr_goods"] = "B"
        assert not determine(doc).originating


class TestDatedAndUnsupportedRules:
    def nails(self, as_of: str, own: str) -> dict:
        return part("7317.00", own, [("rod", "7213.91", "40")], as_of=as_of)

    def test_the_rule_in_force_on_the_date_applies(self):
        # before 2023-07-01: CTH except from heading 7318 -> wire rod of 7213 shifts
        early = determine(self.nails("2022-03-01", "20"))
        assert early.originating
        assert early.rule.product_rule is not None
        assert early.rule.product_rule.valid_to is not None

    def test_an_unsupported_alternative_is_named_when_another_one_is_met(self):
        # from 2023-07-01: (a) excepts 7213; (b) needs 70 % by weight originating steel
        # (not evaluated); (c) no change with 65 % NC: met at 71 %
        d = determine(self.nails("2024-03-01", "100"))
        assert d.originating
        assert "by weight" in notes(d)
        assert "was not evaluated" in notes(d)

    def test_a_verdict_resting_on_an_unsupported_clause_is_refused(self):
        with pytest.raises(UnsupportedRuleError, match="by weight") as info:
            determine(self.nails("2024-03-01", "20"))
        assert info.value.code == "rules.rule_unsupported"
        assert any("by weight" in clause for clause in info.value.clauses)

    def test_a_wholly_unsupported_rule_is_refused(self):
        # 3901-3915: polymer content by weight
        with pytest.raises(UnsupportedRuleError, match="polymer content"):
            determine(part("3901.10", "80", [("ethylene", "2901.21", "20")]))


class TestChoicesAndGaps:
    def test_a_good_outside_the_data_has_no_rule(self):
        with pytest.raises(NoApplicableRuleError, match="covers chapters") as info:
            determine(part("9506.91", "80", [("steel", "7208.51", "20")],
                           end_use="aftermarket"))
        assert type(info.value) is NoApplicableRuleError

    def test_an_explicit_rule_still_wins(self):
        doc = part("8708.30", "55", [("caliper", "8708.30", "45")], end_use="aftermarket")
        doc["items"][0]["rule"] = NC50
        d = determine(doc)
        assert d.rule.product_rule is None
        assert d.originating

    def test_unknown_provision_is_refused(self):
        doc = part("8708.30", "55", [("plate", "7208.51", "45")],
                   psr_provision="8708.30 (for use in a tractor)")
        with pytest.raises(NoApplicableRuleError, match="not a product-specific rule"):
            determine(doc)

    def test_a_choice_must_be_a_string(self):
        doc = part("8708.30", "55", [("plate", "7208.51", "45")], psr_goods=["A"])
        with pytest.raises(BomError, match="psr_goods"):
            determine(doc)

    def test_the_method_of_a_net_cost_only_rule(self):
        doc = part("8708.30", "55", [("caliper", "8708.30", "45")], end_use="aftermarket")
        doc["items"][0]["transaction_value"] = "100"
        d = determine(doc)
        assert [r.method for r in d.results] == [Method.NET_COST]
        assert d.results[0].threshold == Decimal(50)


class TestTheSelectionSpeaksEachLanguage:
    """Why a rule was chosen is data (codes ``rule.note.*``), worded in English, Spanish
    and French; the English words are the determination's ``rule.notes``.
    """

    def aftermarket_hose(self):
        return determine(part("4009.31", "6", [("tube", "3917.32", "4")],
                              end_use="aftermarket"))

    def test_an_aftermarket_part_is_said_to_follow_its_product_specific_rule(self):
        from origin_rules.explain import render

        d = self.aftermarket_hose()
        note = next(r for r in d.reasons if r.code == "rule.note.aftermarket")
        assert note.values["aftermarket_reference"] == "SOR/2020-155 s.14(18)"
        assert "an aftermarket part is not original equipment" in render(note, "en")
        assert "mercado de repuestos no es equipo original" in render(note, "es")
        assert "pas un équipement d'origine" in render(note, "fr")
        assert any(n.startswith("an aftermarket part is not original equipment")
                   for n in d.rule.notes)

    def test_the_rule_applied_and_its_source_are_named_in_each_language(self):
        from origin_rules.explain import render

        d = self.aftermarket_hose()
        applied = next(r for r in d.reasons if r.code == "rule.note.psr_applied")
        assert applied.values["psr_reference"] == d.rule.product_rule.reference
        assert render(applied, "es").startswith("Nota: regla específica de origen aplicada: ")
        assert render(applied, "fr").startswith("Note : règle d'origine spécifique appliquée : ")
        unchecked = next(r for r in d.reasons if r.code == "rule.note.psr_not_cross_checked")
        assert "NO se cotejó" in render(unchecked, "es")
        assert "n'a PAS été vérifié" in render(unchecked, "fr")

    def test_a_table_b_part_names_its_two_ways_in_each_language(self):
        from origin_rules.explain import render

        d = determine(part("8708.30", "30", [("plate", "7208.51", "20")],
                           end_use="passenger_vehicle"))
        note = next(r for r in d.reasons if r.code == "rule.note.table_or_shift")
        assert note.values == {"section_reference": "SOR/2020-155 s.14(14)", "table": "B"}
        assert "una parte de la Tabla B cumple" in render(note, "es")
        assert "une pièce du tableau B satisfait" in render(note, "fr")
