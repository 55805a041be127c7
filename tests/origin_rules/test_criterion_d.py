"""Art. 4.2(d) / SOR/2020-155 s.3(4): non-originating parts of the good's own subheading.

A good whose non-originating parts cannot shift because they share its subheading (e.g.
unassembled goods, s.5(15) Example 5's barbers' chairs) is originating if its RVC is not
less than 50 % by net cost or 60 % by transaction value (s.3(4)(a)). The RVC is
"determined in accordance with" s.7, whose s.7(6) allows only the net cost method when
the product-specific rule gives no transaction value requirement.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from origin_rules import Method, bom_from_dict, determine_origin
from origin_rules.rules import default_rule_book
from tests.origin_rules.builders import bought, document, made

D_REFERENCE = default_rule_book().rule_set_on(date(2024, 3, 1)).criterion_d_reference


def chair(other_costs: str, *, rule: dict, transaction_value: str | None = None) -> dict:
    """A barbers' chair (9402.10) assembled from non-originating parts of 9402.10 worth 40."""
    extra = {} if transaction_value is None else {"transaction_value": transaction_value}
    return document([made("chair", "9402.10", other_product=other_costs, rule=rule, **extra),
                     bought("parts", "40", hs="9402.10")], [("chair", "parts", "1")])


def determine(doc: dict):
    return determine_origin(bom_from_dict(doc))


def test_when_the_rvc_falls_short_the_method_evaluated_is_still_reported():
    d = determine(chair("30", rule={"tariff_shift": "CTSH"}))  # RVC 30/70 = 42.9 % < 50 %
    assert d.originating is False
    assert [(r.method, r.threshold, r.passed, r.reference) for r in d.results] == [
        (Method.NET_COST, Decimal(50), False, D_REFERENCE)]
    assert d.results[0].vnm == 40
    assert d.to_dict()["results"][0]["rvc"] == "42.857142"
    assert any("Art. 4.2(d) RVC falls short too" in line for line in d.explanation)


def test_the_rules_own_rvc_and_the_criterion_d_rvc_are_both_reported():
    rule = {"tariff_shift": "CTH", "rvc": [{"method": "net_cost", "min": "60"}],
            "combine": "all"}
    d = determine(chair("30", rule=rule))
    assert d.originating is False
    assert [(r.threshold, r.reference == D_REFERENCE) for r in d.results] == [
        (Decimal(60), False), (Decimal(50), True)]


def test_a_passing_criterion_d_is_reported_as_before():
    d = determine(chair("60", rule={"tariff_shift": "CTSH"}))  # 60/100 = 60 % >= 50 %
    assert (d.originating, d.criterion) == (True, "D")
    assert [(r.method, r.threshold) for r in d.results] == [(Method.NET_COST, Decimal(50))]


def test_a_tariff_shift_only_rule_leaves_criterion_d_to_net_cost_s7_6():
    """A transaction value of 125 gives (125 - 40) / 125 = 68 % >= 60 %, but the rule gives
    no transaction value requirement, so s.7(6) leaves only net cost: 42.9 % < 50 %."""
    d = determine(chair("30", rule={"tariff_shift": "CTSH"}, transaction_value="125"))
    assert d.originating is False
    assert [r.method for r in d.results] == [Method.NET_COST]
    note = next(line for line in d.explanation if "by net cost only" in line)
    assert "s.7(6)" in note
    assert "s.3(4)(a)" in note


def test_a_rule_with_a_transaction_value_requirement_opens_the_60_percent_of_s3_4_a_ii():
    rule = {"tariff_shift": "CTH", "combine": "all",
            "rvc": [{"method": "net_cost", "min": "55"},
                    {"method": "transaction_value", "min": "65"}]}
    d = determine(chair("30", rule=rule, transaction_value="125"))
    assert (d.originating, d.criterion) == (True, "D")
    tv = d.result(Method.TRANSACTION_VALUE)
    assert tv is not None
    assert (tv.threshold, tv.passed) == (Decimal(60), True)
    assert not any("by net cost only" in line for line in d.explanation)
