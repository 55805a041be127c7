"""United States content of the good: a sourcing figure beside the RVC, not a rule of origin.

Compliance teams ask how much of a good is US content before sourcing decisions (issue
10: since 2025 the Section 232 duty on USMCA-qualifying vehicles applies only to their
non-US content). The figure here is the value, in the good's total cost, of the
materials the document says were produced in the United States (`country` ``US``), plus
the producer's own costs (other product, period and other costs of the good and of every
self-produced material) when the producer produces in the United States; the rest is
non-US content. Every material is looked through to its bought inputs, designated
intermediate materials included: this is about where value was produced, not about the
roll-up of Art. 4.5.4 or 4.8. What the figure is and is not, and the CBP and Commerce
texts it is set against, is the rule set's `us_content` statement, carried in the result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import ItemKind
from origin_rules.determination import UsContent

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["us_content"]

ZERO = Decimal(0)
ONE = Decimal(1)
US = "US"


def us_content(engine: _Engine, root: int, reach: _Reach) -> UsContent:
    """US and non-US content of one unit of the good (item `root`)."""
    items, cost = engine.items, engine.cost
    producer = engine.bom.producer
    producer_in_us = producer is not None and producer.country == US
    us = total = ZERO
    unstated = 0
    if not engine.designated:
        # The good's own top-down pass already looked through every self-produced item.
        assert reach.totals is not None
        total = reach.totals[0]
        # Only one side is summed: the US materials, or, when the producer's own costs are
        # US content too, the non-US ones (the rest of the total). Packing materials for
        # shipment are not in the total cost (Art. 4.5).
        other = ZERO
        reached = reach.quantity
        for k in reach.materials:
            item = items[k]
            if item.packing:
                continue
            country = item.country
            if country is None:
                unstated += 1
            if (country == US) is producer_in_us:
                continue
            value = reached[k] * cost[k]  # type: ignore[operator]  # a material: not None
            if producer_in_us:
                other += value
            else:
                us += value
        if producer_in_us:
            us = total - other
    else:
        children = engine.index.children
        quantity: list[Decimal | None] = [None] * len(items)
        quantity[root] = ONE
        for node in engine.index.order:
            amount = quantity[node]
            if amount is None:
                continue
            item = items[node]
            if item.kind is ItemKind.BOUGHT:
                if item.packing:
                    continue
                value = amount * cost[node]
                total += value
                if item.country == US:
                    us += value
                elif item.country is None:
                    unstated += 1
                continue
            costs = item.costs
            if costs is not None:
                own = amount * costs.own
                total += own
                if producer_in_us:
                    us += own
            for k, qty in children[node]:
                before = quantity[k]
                share = amount * qty
                quantity[k] = share if before is None else before + share
    rule_set = engine.rule_set
    return UsContent(us, total - us, total, unstated, rule_set.us_content_statement,
                     rule_set.us_content_reference)
