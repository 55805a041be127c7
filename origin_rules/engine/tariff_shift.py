"""The tariff shift and de minimis: Art. 4.2(b), Art. 4.12 and Annex 4-A (SOR/2020-155 s.5).

* **Tariff shift (Art. 4.2(b); s.3(2)).** Each non-originating material used in the good
  must change classification as the rule says: chapter (CC), heading (CTH) or subheading
  (CTSH), and come from none of the excepted HS prefixes. Retail packaging (Art. 4.15) is
  not examined; traced self-produced materials are looked through to their inputs.
* **De minimis for the shift (Art. 4.12.1; s.5(1)).** Materials that do not shift pass
  when their value is at most 10 % of the transaction value or of the total cost, unless
  Annex 4-A (s.5(3)) excludes them; their value stays in VNM (s.5(1)(b)).
* **De minimis for the RVC (s.5(4)).** When *all* non-originating materials are at most
  10 % of the transaction value or total cost, the RVC need not be met.
* **Art. 4.2(d) (s.3(4))** is open when the shift fails only for parts classified in the
  good's own subheading, outside chapters 61-63 (`criterion_d_excluded`); `criteria`
  applies its RVC.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Item
from origin_rules.determination import TariffShiftResult
from origin_rules.engine import valuation
from origin_rules.rules import AppliedRule
from origin_rules.values import hs_digits

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["criterion_d_excluded", "evaluate_tariff_shift", "rvc_de_minimis"]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def evaluate_tariff_shift(engine: _Engine, i: int, rule: AppliedRule, reach: _Reach,
                          total_cost: Decimal, tv_base: Decimal | None
                          ) -> tuple[TariffShiftResult, bool]:
    """Each non-originating material must change classification (retail packaging and
    disregarded materials excepted); returns the result and whether every failing
    material is classified in the good's own subheading (Art. 4.2(d)).
    """
    shift = rule.tariff_shift
    assert shift is not None
    items = engine.items
    good_digits = hs_digits(items[i].hs)
    level = shift.digits
    excepted = rule.tariff_shift_except
    failing: list[int] = []
    for k in reach.materials:
        material = items[k]
        if material.retail_packaging or not valuation.is_non_originating(engine, k):
            continue
        digits = hs_digits(material.hs)
        if digits[:level] == good_digits[:level] or any(digits.startswith(p)
                                                        for p in excepted):
            failing.append(k)
    if not failing:
        return TariffShiftResult(shift.value, True, excepted_prefixes=excepted), False
    value = sum((reach.of(k) * valuation.material_value(engine, k) for k in failing), ZERO)
    de_minimis = engine.rule_set.de_minimis
    blocked = any(
        exclusion.excludes(good_digits, hs_digits(items[k].hs))
        for exclusion in de_minimis.exclusions for k in failing
    )
    within = any(base is not None and base > 0 and value * HUNDRED <= de_minimis.percent * base
                 for base in (total_cost, tv_base))
    ids = tuple(items[k].id for k in failing)
    same = all(hs_digits(items[k].hs)[:6] == good_digits[:6] for k in failing)
    passed = within and not blocked
    return (TariffShiftResult(shift.value, passed, ids, value, passed, excepted), same)


def rvc_de_minimis(engine: _Engine, total_cost: Decimal, nc: Decimal,
                   tv_base: Decimal | None, tv: Decimal) -> bool:
    """SOR/2020-155 s.5(4): all non-originating materials <= 10 % of TV or total cost."""
    percent = engine.rule_set.de_minimis.percent
    if total_cost > 0 and nc * HUNDRED <= percent * total_cost:
        return True
    return tv_base is not None and tv_base > 0 and tv * HUNDRED <= percent * tv_base


def criterion_d_excluded(engine: _Engine, item: Item) -> bool:
    """Art. 4.2(d) does not reach goods of chapters 61-63 (the rule set's list)."""
    return hs_digits(item.hs)[:2] in engine.rule_set.criterion_d_excluded_chapters
