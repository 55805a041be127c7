"""Regional value content: Art. 4.5 (SOR/2020-155 s.7; 19 U.S.C. 4531(d)).

* **Transaction value method (s.7(2)):** RVC = (TV - VNM) / TV x 100, TV being the
  good's transaction value less the costs of its international shipment (s.1(1),
  "adjusted to exclude any costs incurred in the international shipment").
* **Net cost method (s.7(3)):** RVC = (NC - VNM) / NC x 100, net cost being total cost
  less the excluded costs (sales promotion, royalties, shipping and packing,
  non-allowable interest; s.1(1) "net cost").
* **Choice of method (s.7(1), (6); Art. 4.5.5):** the claimant chooses, unless the
  product-specific rule gives no transaction value requirement: then net cost only. A
  method the rule does not allow is refused (`MethodNotAllowedError`); one the document
  cannot evaluate (no transaction value) is left out.

The RVC is compared unrounded ("not less than"), by exact cross-multiplication: no
published rounding rule exists (usmca-rules.md §1.3).
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Item, Method
from origin_rules.determination import Contributor, MethodResult
from origin_rules.errors import BomError, MethodNotAllowedError
from origin_rules.rules import AppliedRule, Threshold
from origin_rules.values import format_money

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["METHOD_WORDS", "contributors", "methods_for_good", "regional_value_content"]

HUNDRED = Decimal(100)

METHOD_WORDS = {Method.NET_COST: "net cost", Method.TRANSACTION_VALUE: "transaction value"}


def methods_for_good(engine: _Engine, rule: AppliedRule, good: Item) -> tuple[Method, ...]:
    """The RVC methods to evaluate for the good: those the rule (or any of its
    alternatives) allows (s.7(6)), narrowed to the one the caller chose, less the
    transaction value method when the document gives no transaction value.
    """
    allowed = rule.methods
    if engine.method is not None:
        if allowed and engine.method not in allowed:
            words = " and ".join(METHOD_WORDS[m] for m in allowed)
            raise MethodNotAllowedError(
                f"the {METHOD_WORDS[engine.method]} method is not allowed for {good.id!r} "
                f"(HS {good.hs}): {rule.title} allows {words} only "
                f"({rule.reference}; {engine.rule_set.cite('method_choice')})",
                method=engine.method.value)
        allowed = (engine.method,) if allowed else ()
    if Method.TRANSACTION_VALUE in allowed and good.transaction_value is None:
        if engine.method is Method.TRANSACTION_VALUE:
            raise BomError(f"the good {good.id!r} has no transaction_value, which the "
                           "transaction value method needs",
                           path=f"items.{good.id}.transaction_value")
        allowed = tuple(m for m in allowed if m is not Method.TRANSACTION_VALUE)
    return allowed


def regional_value_content(engine: _Engine, item: Item, method: Method, base: Decimal,
                           vnm: Decimal, threshold: Threshold, reach: _Reach | None
                           ) -> MethodResult:
    """RVC of `item` under `method` against `threshold` (s.7(2)-(3)), with its headroom
    and, given `reach`, the largest VNM contributors.
    """
    if base <= 0:
        what = ("net cost (total cost minus excluded costs)" if method is Method.NET_COST
                else "transaction value minus international shipping")
        raise BomError(f"the {what} of {item.id!r} is {format_money(base)}; RVC needs a "
                       "positive base", path=f"items.{item.id}")
    minimum = threshold.min
    passed = (base - vnm) * HUNDRED >= minimum * base
    rvc = (base - vnm) * HUNDRED / base
    headroom = base * (HUNDRED - minimum) / HUNDRED - vnm
    top: tuple[Contributor, ...] = ()
    if reach is not None and vnm > 0:
        top = contributors(engine, method, vnm, reach)
    return MethodResult(method, base, vnm, rvc, minimum, passed, headroom, top,
                        threshold.valid_from, threshold.reference)


def contributors(engine: _Engine, method: Method, vnm: Decimal, reach: _Reach
                 ) -> tuple[Contributor, ...]:
    """The `engine.top` materials contributing most to the VNM under `method`."""
    ids = engine.index.ids
    assert reach.contributions is not None
    materials, values = reach.materials, reach.contributions[method]
    if engine.top <= 0 or not any(values):  # top=0: the caller wants no list
        return ()
    # The top values first (a C-level selection), then every material tied with the
    # smallest of them, ordered by value and id so that ties break the same way
    # whatever the document order.
    floor = heapq.nlargest(engine.top, values)[-1]
    floor = max(floor, Decimal("1E-60"))  # zero contributions are never listed
    candidates = [(value, k) for value, k in zip(values, materials, strict=True)
                  if value >= floor]
    candidates.sort(key=lambda pair: (-pair[0], ids[pair[1]]))
    scored = candidates[: engine.top]
    items = engine.items
    return tuple(
        Contributor(items[k].id, items[k].description, items[k].hs, value,
                    value * HUNDRED / vnm)
        for value, k in scored[: engine.top]
    )
