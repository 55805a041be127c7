"""Properties the origin engine must have on any valid BOM (hypothesis).

These are consequences of the rule text rather than examples: RVC is a ratio of money
(so scaling every amount leaves it unchanged), VNM only counts non-originating value
(so making a material originating never lowers RVC), the BOM is a set of items and
edges (so order is irrelevant), and headroom is the exact distance to the threshold.
"""

from __future__ import annotations

import copy
import random
from decimal import ROUND_DOWN, Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from origin_rules import Method, bom_from_dict, determine_origin
from origin_rules.values import decimal_bound_problem, format_decimal
from tests.origin_rules.strategies import bom_documents

MONEY_FIELDS = ("unit_value", "transaction_value", "international_shipping")


def rvc_by_method(document: dict) -> dict[Method, Decimal]:
    determination = determine_origin(bom_from_dict(document))
    return {r.method: r.rvc for r in determination.results}


def positive_bases(document: dict) -> bool:
    try:
        determine_origin(bom_from_dict(document))
    except Exception as exc:  # a zero base is a documented BomError, not a property failure
        return "positive base" not in str(exc)
    return True


@given(bom_documents(), st.data())
def test_marking_a_material_originating_never_lowers_rvc(document: dict, data) -> None:
    assume(positive_bases(document))
    before = rvc_by_method(document)
    # A net_cost_and_vnm statement replaces the price by the supplier's net cost in total
    # cost (s.9(2)(a)); when that net cost exceeds the price, dropping the statement (as an
    # originating material does) lowers the base. That is the rule, tested on its own in
    # test_engine.py; the property holds for materials valued at their price.
    candidates = [i for i, item in enumerate(document["items"])
                  if item["kind"] == "bought" and item["origin"] != "originating"
                  and not (item.get("statement", {}).get("type") == "net_cost_and_vnm"
                           and Decimal(item["statement"]["net_cost"])
                           > Decimal(item["unit_value"]))]
    assume(candidates)
    changed = copy.deepcopy(document)
    changed["items"][data.draw(st.sampled_from(candidates))]["origin"] = "originating"
    after = rvc_by_method(changed)
    for method, value in before.items():
        assert after[method] >= value, method


def _scale(value, factor: Decimal):
    if isinstance(value, dict):
        return {k: (str(Decimal(v) * factor) if k not in ("qty", "min") and isinstance(v, str)
                    and _is_money_key(k) else _scale(v, factor)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scale(v, factor) for v in value]
    return value


def _is_money_key(key: str) -> bool:
    return key in {*MONEY_FIELDS, "other_product", "period", "other", "sales_promotion",
                   "royalties", "shipping_packing", "non_allowable_interest", "freight",
                   "duties", "brokerage", "waste", "amount", "vnm", "net_cost"}


@given(bom_documents(), st.sampled_from(["3", "0.5", "17.25", "1000"]))
def test_scaling_every_money_value_leaves_rvc_unchanged(document: dict, factor: str) -> None:
    assume(positive_bases(document))
    scaled = _scale(document, Decimal(factor))
    assert scaled["lines"] == document["lines"]  # quantities are not money
    assert rvc_by_method(scaled) == rvc_by_method(document)


@given(bom_documents(), st.randoms(use_true_random=False))
def test_item_and_line_order_do_not_matter(document: dict, rng: random.Random) -> None:
    assume(positive_bases(document))
    shuffled = copy.deepcopy(document)
    rng.shuffle(shuffled["items"])
    rng.shuffle(shuffled["lines"])
    first = determine_origin(bom_from_dict(document)).to_dict()
    second = determine_origin(bom_from_dict(shuffled)).to_dict()
    assert first == second


@given(bom_documents(), st.integers(1, 3))
def test_splitting_a_line_changes_nothing(document: dict, parts: int) -> None:
    assume(positive_bases(document))
    split = copy.deepcopy(document)
    line = split["lines"].pop(0)
    qty = Decimal(line["qty"])
    # Pieces within the format's 12 decimals; the last one takes what rounding left.
    pieces = [(qty / parts).quantize(Decimal("1E-12"), rounding=ROUND_DOWN)] * (parts - 1)
    pieces.append(qty - sum(pieces, Decimal(0)))
    split["lines"] += [{**line, "qty": str(p)} for p in pieces if p > 0]
    assert rvc_by_method(split) == rvc_by_method(document)


@given(bom_documents(value_added_floor=50_000_000), st.sampled_from(list(Method)))
def test_headroom_spent_exactly_lands_on_the_threshold(document: dict, method: Method) -> None:
    """Move `headroom` of the good's own processing cost into a new non-originating
    material: the base is unchanged and RVC equals the threshold exactly (and passes);
    one cent more fails."""
    assume(positive_bases(document))
    determination = determine_origin(bom_from_dict(document))
    result = determination.result(method)
    assert result is not None
    good = document["items"][0]
    headroom = result.headroom
    other_product = Decimal(good["costs"]["other_product"])
    assume(Decimal(0) < headroom <= other_product - Decimal("0.01"))
    # The headroom goes back into a document: it must be a decimal string the format takes
    # (at most 12 decimals; deep sub-assemblies with 3-decimal quantities can have more).
    assume(decimal_bound_problem(format_decimal(headroom)) is None)

    def spend(amount: Decimal) -> dict:
        spent = copy.deepcopy(document)
        spent["items"][0]["costs"]["other_product"] = str(other_product - amount)
        if method is Method.TRANSACTION_VALUE:
            spent["items"][0]["costs"]["other_product"] = str(other_product)
        spent["items"].append({"id": "swing", "hs": "7326.90", "description": "swing",
                               "kind": "bought", "unit_value": str(amount),
                               "origin": "non_originating"})
        spent["lines"].append({"parent": "m0", "child": "swing", "qty": "1"})
        return spent

    exact = determine_origin(bom_from_dict(spend(headroom))).result(method)
    assert exact is not None
    if method is Method.NET_COST:
        assert exact.base == result.base
    assert exact.rvc == exact.threshold
    assert exact.passed
    assert exact.headroom == 0
    over = determine_origin(bom_from_dict(spend(headroom + Decimal("0.01")))).result(method)
    assert over is not None
    assert not over.passed


@given(bom_documents())
def test_pass_agrees_with_the_printed_rvc_and_margin(document: dict) -> None:
    assume(positive_bases(document))
    for result in determine_origin(bom_from_dict(document)).to_dict()["results"]:
        assert result["pass"] == (Decimal(result["margin"]) >= 0 and
                                  Decimal(result["rvc"]) >= Decimal(result["threshold"]))
