"""The product-specific rules of Annex 4-B (branch psr-data) with what the split engine
gained beside them (branch rules-engine): the producer's SOR/2020-155 s.3(8) choice, the
Art. 4.2(d) results and US content.

The machine-tool rule is HTSUS GN 11(o) chapter 84 rule 150 (cross-checked): "A change to
subheading 8459.29 from any other heading, except from tariff items 8466.93.15, 8466.93.30
or 8466.93.53, or subheadings 8501.32 or 8501.52." The brake part is chapter 87 rule 28
(8708.30, "any other good"), as in test_product_specific_rules.py.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from origin_rules import Method, bom_from_dict, determine_origin
from origin_rules.rules import default_rule_book
from tests.origin_rules.builders import bought, document, made

D_REFERENCE = default_rule_book().rule_set_on(date(2024, 3, 1)).criterion_d_reference


def determine(doc: dict):
    return determine_origin(bom_from_dict(doc))


def drill(choice: str | None = None) -> dict:
    """A drilling machine (8459.29) whose self-produced frame (7326.90) is cast around a
    non-originating spindle part of the excepted tariff item 8466.93.15."""
    frame = made("frame", "7326.90", other_product="10")
    if choice is not None:
        frame["tariff_shift_as"] = choice
    return document(
        [made("drill", "8459.29", other_product="20"), frame,
         bought("spindle-part", "30", hs="8466.93.15"),
         bought("steel", "40", "originating", hs="7208.51")],
        [("drill", "frame", "1"), ("frame", "spindle-part", "1"), ("frame", "steel", "1")])


class TestSelfProducedChoiceUnderAProductSpecificShift:
    def test_the_rule_applied_is_the_product_specific_shift_with_its_exceptions(self):
        d = determine(drill("inputs"))
        assert d.rule.product_rule is not None
        assert d.rule.product_rule.gn11_number == 150
        assert d.tariff_shift.required is not None
        assert "except from" in d.tariff_shift.required
        assert "8466.93.15" in d.tariff_shift.excepted_prefixes

    def test_looking_through_the_frame_its_excepted_input_fails_the_shift(self):
        d = determine(drill("inputs"))
        assert d.tariff_shift.passed is False
        assert d.tariff_shift.failing_materials == ("spindle-part",)
        assert d.originating is False
        assert d.tariff_shift.view_chosen_by == "document"

    def test_taking_the_frame_as_the_material_the_change_from_73_26_qualifies(self):
        d = determine(drill("material"))
        assert (d.originating, d.criterion) == (True, "B")
        assert d.tariff_shift.as_material == ("frame",)

    def test_without_a_choice_the_favourable_view_is_taken(self):
        d = determine(drill())
        assert (d.originating, d.criterion) == (True, "B")
        assert d.tariff_shift.view_chosen_by == "favourable"
        assert d.tariff_shift.as_material == ("frame",)

    def test_a_frame_of_an_excepted_tariff_item_fails_as_the_material(self):
        doc = drill("material")
        doc["items"][1]["hs"] = "8466.93.30"
        d = determine(doc)
        assert d.originating is False
        assert d.tariff_shift.failing_materials == ("frame",)


# Materials' codes around rule 150: its own heading (fails), excepted tariff items and
# subheadings (fail), a code too short to tell an excepted tariff item (taken as excepted),
# and codes that shift.
PSR_CODES = ["8459.29", "8459.10", "8466.93.15", "8466.93.53", "8501.32", "8466.93",
             "8466.94.20", "7326.90", "8483.40"]


@st.composite
def nested_machines(draw: st.DrawFn) -> dict:
    """A drilling machine under rule 150, two self-produced levels, random inputs."""
    items = [made("good", "8459.29", other_product=str(draw(st.integers(0, 50))))]
    lines = []
    for sub, parent in (("sub1", "good"), ("sub2", "sub1"), ("sub3", "good")):
        items.append(made(sub, draw(st.sampled_from(PSR_CODES)),
                          other_product=str(draw(st.integers(0, 20)))))
        lines.append((parent, sub, "1"))
    for n in range(draw(st.integers(1, 5))):
        origin = draw(st.sampled_from(["originating", "non_originating"]))
        items.append(bought(f"m{n}", str(draw(st.integers(1, 60))), origin,
                            hs=draw(st.sampled_from(PSR_CODES))))
        lines.append((draw(st.sampled_from(["good", "sub1", "sub2", "sub3"])), f"m{n}", "1"))
    return document(items, lines)


def with_choice(doc: dict, choice: str | None) -> dict:
    out = json.loads(json.dumps(doc))
    for item in out["items"]:
        if item["kind"] == "made" and item["id"] != "good" and choice is not None:
            item["tariff_shift_as"] = choice
    return out


@settings(max_examples=100, deadline=None)
@given(nested_machines())
def test_the_favourable_view_never_qualifies_less_under_a_product_specific_rule(
        doc: dict) -> None:
    favourable = determine(with_choice(doc, None))
    assert favourable.rule.product_rule is not None
    for choice in ("material", "inputs"):
        alone = determine(with_choice(doc, choice))
        assert favourable.originating >= alone.originating
        assert favourable.tariff_shift.passed >= alone.tariff_shift.passed  # type: ignore[operator]


class TestCriterionDUnderProductSpecificRules:
    def test_a_product_specific_shift_only_rule_opens_criterion_d_by_net_cost(self):
        """A non-originating drill part of 8459.29 cannot change heading into 8459.29;
        the RVC 60/100 = 60 % meets Art. 4.2(d)'s 50 % (net cost: the rule names no
        transaction value RVC, s.7(6))."""
        doc = document([made("drill", "8459.29", other_product="60", transaction_value="125"),
                        bought("head", "40", hs="8459.29")], [("drill", "head", "1")])
        d = determine(doc)
        assert (d.originating, d.criterion) == (True, "D")
        assert [(r.method, r.threshold, r.reference) for r in d.results] == [
            (Method.NET_COST, Decimal(50), D_REFERENCE)]
        assert any("by net cost only" in line for line in d.explanation)

    def brake(self, own: str, caliper: str) -> dict:
        return document([made("g", "8708.30", other_product=own),
                         bought("caliper", caliper, hs="8708.30")], [("g", "caliper", "1")],
                        end_use="aftermarket")

    def test_no_alternative_met_reports_their_own_rvc_then_art_4_2_d(self):
        """Rule 28: (A)/(C) CTH fail for the caliper of the good's own subheading, and
        Art. 4.2(d)'s 50 % is not met at 40 %; (B)/(D) allow the caliper with 50 % net
        cost, not met either. Both RVCs are reported, the alternatives' first."""
        d = determine(self.brake("40", "60"))
        assert d.originating is False
        assert [(r.method, r.threshold, r.reference == D_REFERENCE, r.passed)
                for r in d.results] == [(Method.NET_COST, Decimal(50), False, False),
                                        (Method.NET_COST, Decimal(50), True, False)]
        text = "\n".join(d.explanation)
        assert "the Art. 4.2(d) RVC falls short too" in text
        assert "(CTH): not met (tariff shift not met by caliper (value 60.00); Art. 4.2(d) RVC" \
            in text

    def test_an_alternative_met_under_b_is_preferred_to_art_4_2_d(self):
        d = determine(self.brake("60", "40"))
        assert (d.originating, d.criterion) == (True, "B")
        assert [r.reference == D_REFERENCE for r in d.results] == [False]
        text = "\n".join(d.explanation)
        assert "met through Art. 4.2(d) (tariff shift not met by caliper (value 40.00); " \
            "Art. 4.2(d) RVC 60.000000 % by net cost >= 50 %)" in text
        assert "qualifies under alternative (B)" in text


def test_us_content_is_reported_beside_a_product_specific_rule():
    doc = drill("material")
    doc["items"][2]["country"] = "MX"
    doc["items"][3]["country"] = "US"
    doc["producer"] = {"name": "P", "country": "US"}
    d = determine(doc)
    assert d.rule.product_rule is not None
    assert d.us_content is not None
    # steel 40 (US) + the producer's own costs 20 + 10 in the US; the spindle part 30 is not
    assert (d.us_content.us, d.us_content.non_us, d.us_content.base) == (
        Decimal(70), Decimal(30), Decimal(100))
