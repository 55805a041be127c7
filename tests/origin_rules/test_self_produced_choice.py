"""SOR/2020-155 s.3(8): the producer may consider a self-produced material the material that
undergoes the tariff shift (s.3(9) Example 6).

The shared references cite Example 6 (usmca-rules.md §1.2) and issue 10 states its shape —
a good whose self-produced material changes heading is refused when an input of that
material sits in the good's own heading — but not its figures; the documents below have
that shape with figures of our own. The good is a valve of 8481.80 under a change of
tariff heading (CTH); the producer casts its body (7325.99) from a non-originating valve
part of 8481.90 and adds originating steel.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from origin_rules import (
    BomError,
    Method,
    bom_from_dict,
    determine_origin,
    parse_bom_csv,
    parse_bom_xlsx,
)
from origin_rules.bom import ShiftView
from tests.origin_rules.both_paths import parse_both_ways
from tests.origin_rules.builders import bought, document, made

CTH = {"tariff_shift": "CTH"}


def valve(choice: str | None = None, *, body_hs: str = "7325.99",
          part_hs: str = "8481.90") -> dict:
    body = made("body", body_hs, other_product="10")
    if choice is not None:
        body["tariff_shift_as"] = choice
    return document(
        [made("valve", "8481.80", other_product="20", rule=CTH), body,
         bought("valve-part", "30", hs=part_hs), bought("steel", "40", "originating",
                                                        hs="7208.51")],
        [("valve", "body", "1"), ("body", "valve-part", "1"), ("body", "steel", "1")])


def determine(doc: dict):
    return determine_origin(bom_from_dict(doc))


class TestTheProducersChoice:
    def test_looking_through_the_material_its_input_of_the_goods_heading_fails_the_shift(
            self):
        """The valve part (84.81) does not change heading into the valve (84.81), and at
        30 of a total cost of 100 it is beyond the 10 % de minimis."""
        d = determine(valve("inputs"))
        assert d.tariff_shift.passed is False
        assert d.tariff_shift.failing_materials == ("valve-part",)
        assert d.originating is False
        assert d.tariff_shift.view_chosen_by == "document"

    def test_taking_the_body_as_the_material_the_change_from_73_25_to_84_81_qualifies(self):
        d = determine(valve("material"))
        assert d.tariff_shift.passed is True
        assert (d.originating, d.criterion) == (True, "B")
        assert d.tariff_shift.as_material == ("body",)
        assert d.tariff_shift.view_chosen_by == "document"

    def test_when_the_document_says_nothing_the_favourable_view_is_taken_and_said(self):
        d = determine(valve())
        assert (d.originating, d.criterion) == (True, "B")
        assert d.tariff_shift.as_material == ("body",)
        assert d.tariff_shift.view_chosen_by == "favourable"
        said = d.to_dict()["tariff_shift"]["self_produced_view"]
        assert said == {"as_material": ["body"], "chosen_by": "favourable",
                        "reference": "SOR/2020-155 s.3(8)"}
        assert any("s.3(8)" in line and "'body'" in line for line in d.explanation)

    def test_a_stated_choice_is_applied_even_when_the_other_view_would_qualify(self):
        """The body now sits in the good's heading (8481.90) and its input does not
        (73.25): looking through qualifies, the producer's stated choice does not."""
        stated = determine(valve("material", body_hs="8481.90", part_hs="7325.99"))
        assert stated.originating is False
        assert stated.tariff_shift.failing_materials == ("body",)
        free = determine(valve(None, body_hs="8481.90", part_hs="7325.99"))
        assert free.originating is True
        assert free.tariff_shift.view_chosen_by is None  # looked through, nothing chosen

    def test_the_choice_concerns_the_tariff_shift_only_vnm_is_traced_in_every_view(self):
        """s.7(5)(a): an undesignated self-produced material is traced for the RVC."""
        with_rvc = {"tariff_shift": "CTH", "rvc": [{"method": "net_cost", "min": "50"}],
                    "combine": "all"}
        vnm = set()
        for choice in (None, "material", "inputs"):
            doc = valve(choice)
            doc["items"][0]["rule"] = with_rvc
            result = determine(doc).result(Method.NET_COST)
            assert result is not None
            vnm.add(result.vnm)
        assert vnm == {30}

    def test_when_no_view_meets_the_shift_the_determination_says_both_were_weighed(self):
        doc = valve(None, body_hs="8481.90")  # body and its input both in 84.81
        d = determine(doc)
        assert d.originating is False
        assert d.tariff_shift.failing_materials == ("valve-part",)
        assert any("s.3(8)" in line and "does not meet it either" in line
                   for line in d.explanation)

    def test_a_material_without_non_originating_inputs_never_fails_as_the_material(self):
        doc = valve("material", body_hs="8481.90")
        doc["items"][2]["origin"] = "originating"  # the valve part now originates
        assert determine(doc).originating is True

    def test_documents_without_self_produced_materials_say_nothing_new(self):
        d = determine(document([made("valve", "8481.80", other_product="70", rule=CTH),
                                bought("steel", "30", hs="7208.51")],
                               [("valve", "steel", "1")]))
        assert "self_produced_view" not in d.to_dict()["tariff_shift"]


class TestTheField:
    def test_json_reads_it_on_made_items_on_both_paths(self):
        bom = parse_both_ways(json.dumps(valve("material")))
        assert bom.items["body"].tariff_shift_as is ShiftView.MATERIAL
        assert parse_both_ways(json.dumps(valve())).items["body"].tariff_shift_as is None

    @pytest.mark.parametrize("value", ["materials", True, ""])
    def test_json_refuses_another_value_naming_the_field(self, value):
        doc = valve()
        doc["items"][1]["tariff_shift_as"] = value
        with pytest.raises(BomError, match="tariff_shift_as"):
            parse_both_ways(json.dumps(doc))

    def test_it_is_a_field_of_made_items(self):
        doc = valve()
        doc["items"][2]["tariff_shift_as"] = "material"
        with pytest.raises(BomError, match="field of made items"):
            parse_both_ways(json.dumps(doc))

    def test_a_csv_column_carries_it(self):
        items = ("id,hs,description,kind,unit_value,origin,costs.other_product,rule.tariff_shift,"
                 "tariff_shift_as\n"
                 "valve,8481.80,valve,made,,,20,CTH,\n"
                 "body,7325.99,body,made,,,10,,material\n"
                 "valve-part,8481.90,part,bought,30,non_originating,,,\n")
        lines = "parent,child,qty\nvalve,body,1\nbody,valve-part,1\n"
        doc = "field,value\ngood,valve\nas_of,2024-03-01\ncurrency,USD\n"
        bom = parse_bom_csv(items, lines, doc)
        assert bom.items["body"].tariff_shift_as is ShiftView.MATERIAL
        assert bom.items["valve"].tariff_shift_as is None
        assert determine_origin(bom).originating is True

    def test_an_excel_column_carries_it(self):
        from tests.origin_rules.test_reader_tables import workbook

        book = workbook({
            "document": [["field", "value"], ["good", "valve"], ["as_of", "2024-03-01"],
                         ["currency", "USD"]],
            "items": [["id", "hs", "description", "kind", "unit_value", "origin",
                       "costs.other_product", "rule.tariff_shift", "tariff_shift_as"],
                      ["valve", "8481.80", "valve", "made", None, None, "20", "CTH", None],
                      ["body", "7325.99", "body", "made", None, None, "10", None, "inputs"],
                      ["valve-part", "8481.90", "part", "bought", "30", "non_originating"]],
            "lines": [["parent", "child", "qty"], ["valve", "body", "1"],
                      ["body", "valve-part", "1"]]})
        bom = parse_bom_xlsx(book)
        assert bom.items["body"].tariff_shift_as is ShiftView.INPUTS
        assert determine_origin(bom).originating is False


# ---------------------------------------------------------------------------------------
# The favourable view never qualifies less than either view alone.

HEADINGS = ("8481.80", "8481.90", "7325.99", "8481.10", "3926.90")


@st.composite
def nested_documents(draw: st.DrawFn) -> dict:
    """A good under a random shift, two self-produced levels, random inputs."""
    shift = draw(st.sampled_from(["CC", "CTH", "CTSH"]))
    items = [made("good", draw(st.sampled_from(HEADINGS)), other_product=str(
        draw(st.integers(0, 50))), rule={"tariff_shift": shift})]
    lines = []
    for sub, parent in (("sub1", "good"), ("sub2", "sub1"), ("sub3", "good")):
        items.append(made(sub, draw(st.sampled_from(HEADINGS)),
                          other_product=str(draw(st.integers(0, 20)))))
        lines.append((parent, sub, "1"))
    for n in range(draw(st.integers(1, 5))):
        origin = draw(st.sampled_from(["originating", "non_originating"]))
        items.append(bought(f"m{n}", str(draw(st.integers(1, 60))), origin,
                            hs=draw(st.sampled_from(HEADINGS))))
        lines.append((draw(st.sampled_from(["good", "sub1", "sub2", "sub3"])), f"m{n}", "1"))
    return document(items, lines)


def with_choice(doc: dict, choice: str | None) -> dict:
    out = json.loads(json.dumps(doc))
    for item in out["items"]:
        if item["kind"] == "made" and item["id"] != "good" and choice is not None:
            item["tariff_shift_as"] = choice
    return out


@settings(max_examples=150, deadline=None)
@given(nested_documents())
def test_the_favourable_view_never_qualifies_less_than_either_view_alone(doc: dict) -> None:
    favourable = determine(with_choice(doc, None))
    for choice in ("material", "inputs"):
        alone = determine(with_choice(doc, choice))
        assert favourable.originating >= alone.originating
        assert favourable.tariff_shift.passed >= alone.tariff_shift.passed  # type: ignore[operator]
