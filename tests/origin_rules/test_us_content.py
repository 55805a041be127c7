"""US and non-US content beside the RVC (issue 10), and what the figure is not.

US content = value of the materials whose `country` is US + the producer's own costs
when the producer produces in the US; non-US content = the rest of the total cost.
"""

from __future__ import annotations

from decimal import Decimal

from origin_rules import Method, bom_from_dict, determine_origin
from tests.origin_rules.builders import NC50, bought, document, made


def caliper(producer_country: str, *, designate: bool = False) -> dict:
    """A caliper: a housing (US, 30) and a piston (MX, 20) in a self-produced sub-assembly
    with 10 of costs, bolts (unstated country, 5), and 35 of the producer's own costs."""
    sub = made("piston-assembly", "8708.30", other_product="10")
    if designate:
        sub["intermediate"] = True
        sub["rule"] = NC50
    return document(
        [made("caliper", "8708.30", other_product="35", rule=NC50), sub,
         bought("housing", "30", "originating", country="US"),
         bought("piston", "20", country="MX"), bought("bolts", "5", hs="7318.15")],
        [("caliper", "piston-assembly", "1"), ("piston-assembly", "housing", "1"),
         ("piston-assembly", "piston", "1"), ("caliper", "bolts", "1")],
        producer={"name": "P", "country": producer_country})


def determine(doc: dict):
    return determine_origin(bom_from_dict(doc))


def test_a_us_producer_adds_its_own_costs_to_the_us_materials():
    us = determine(caliper("US")).us_content
    assert us is not None
    assert (us.us, us.non_us, us.base) == (Decimal(75), Decimal(25), Decimal(100))  # 30 + 45
    assert us.share == 75
    assert us.non_us_share == 25
    assert all(isinstance(v, Decimal) for v in (us.us, us.non_us, us.base))


def test_a_producer_elsewhere_counts_only_the_us_materials():
    us = determine(caliper("MX")).us_content
    assert us is not None
    assert (us.us, us.non_us) == (Decimal(30), Decimal(70))


def test_a_material_without_a_country_is_non_us_content_and_is_counted():
    us = determine(caliper("MX")).us_content
    assert us is not None
    assert us.materials_without_country == 1


def test_a_designated_intermediate_is_looked_through_for_where_value_was_produced():
    """Art. 4.8 rolls an originating intermediate up for the RVC; US content still sees
    the piston made in Mexico inside it."""
    d = determine(caliper("US", designate=True))
    assert d.us_content is not None
    assert (d.us_content.us, d.us_content.base) == (Decimal(75), Decimal(100))


def test_the_base_is_the_total_cost_beside_the_rvc_whose_figures_it_does_not_change():
    one, other = determine(caliper("US")), determine(caliper("MX"))
    result = one.result(Method.NET_COST)
    assert result is not None
    assert one.us_content is not None
    assert one.us_content.base == result.base  # no excluded costs here: net cost = total
    assert one.results == other.results
    assert one.originating == other.originating


def test_the_statement_says_what_the_figure_is_not_and_cites_cbp():
    us = determine(caliper("US")).to_dict()["us_content"]
    assert us["us"] == "75.00"
    assert us["us_share"] == "75.000000"
    assert "not the US content of Section 232" in us["statement"]
    assert "CSMS # 65649652" in us["reference"]
    assert "90 FR 21450" in us["reference"]
