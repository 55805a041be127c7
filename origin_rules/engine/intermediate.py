"""Self-produced materials and accumulation: Art. 4.8 and Art. 4.11.

* **Tracing (SOR/2020-155 s.7(5)(a)).** A self-produced (`made`) material that is not
  designated is traced: its costs join its parent's, including its excluded costs, and
  only its non-originating inputs count in VNM. The top-down pass (`core._Engine.reach`)
  does this for the good.
* **Intermediate materials (Art. 4.8; s.8(6)-(8)).** A designated one is a material of
  its own: its rule is evaluated and, if it qualifies, it enters its parent at its total
  cost as originating; if not, its whole total cost is non-originating. The one-layer
  rule (s.8(6)): an intermediate subject to RVC may not contain another designated
  intermediate subject to RVC (`DesignationError`).
* **Accumulation statements (Art. 4.11; s.9(2)-(3)).** `net_cost_and_vnm`: the
  supplier's net cost replaces the value in total cost and its VNM is the VNM;
  `regional_value`: VNM = value - amount; `vnm`: VNM = stated VNM under the transaction
  value method only (under net cost the statement is not one s.9(2) accepts, so the full
  value, less its Art. 4.7 deductions, counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import EndUse, Item, ItemKind, Method, Statement, StatementType
from origin_rules.engine import criteria
from origin_rules.errors import BomError, DesignationError, NoApplicableRuleError
from origin_rules.explain import Reason
from origin_rules.rules import AppliedRule

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine
    from origin_rules.engine.criteria import _Evaluation

__all__ = [
    "VEHICLE_PARTS_END_USE",
    "check_one_layer_rule",
    "evaluate_intermediate",
    "made_values",
    "rule_for_intermediate",
    "statement_notes",
    "statement_values",
]

ZERO = Decimal(0)

#: The end use a vehicle's own category gives the parts designated inside it.
VEHICLE_PARTS_END_USE = {
    "passenger_vehicle": EndUse.PASSENGER_VEHICLE,
    "light_truck": EndUse.LIGHT_TRUCK,
    "heavy_truck": EndUse.HEAVY_TRUCK,
    "alternative_staging_regime": EndUse.PASSENGER_VEHICLE,
}


def statement_values(item: Item, statement: Statement, value: Decimal
                     ) -> tuple[Decimal, Decimal, Decimal, bool]:
    """(value in cost, VNM under NC, VNM under TV, VNM-only statement) of a bought
    non-originating material backed by a supplier's statement (s.9(2)-(3)).
    """
    kind = statement.type
    if kind is StatementType.NET_COST_AND_VNM:
        assert statement.net_cost is not None
        assert statement.vnm is not None
        return statement.net_cost, statement.vnm, statement.vnm, False
    if kind is StatementType.REGIONAL_VALUE:
        assert statement.amount is not None
        regional = value - statement.amount
        return value, regional, regional, False
    assert statement.vnm is not None
    deductions = item.deductions
    under_nc = value - deductions.total if deductions is not None else value
    return value, under_nc, statement.vnm, True


def statement_notes(engine: _Engine, statements: int, vnm_only_under_nc: Sequence[str]
                    ) -> list[Reason]:
    """What the determination says about the statements it used (s.9(2)-(3))."""
    notes = []
    if statements:
        notes.append(Reason("statement.used", {"count": str(statements)},
                            engine.rule_set.cite("accumulation")))
    if vnm_only_under_nc:
        shown = ", ".join(repr(i) for i in sorted(vnm_only_under_nc)[:5])
        notes.append(Reason("statement.vnm_only", {"items": shown},
                            engine.rule_set.cite("accumulation_vnm_only")))
    return notes


def made_values(engine: _Engine) -> None:
    """Values of every self-produced item as its parents see them, children first.

    Needed when some item is designated an intermediate material: its own evaluation
    needs its totals, and its result decides what its parents see. Without designated
    items the good's totals come from the one top-down pass (`reach`), which is cheaper
    on large BOMs.
    """
    engine.full = True
    items, children = engine.items, engine.index.children
    cost, excluded, vnm_nc, vnm_tv = engine.cost, engine.excluded, engine.vnm_nc, engine.vnm_tv
    for i in reversed(engine.index.order):
        item = items[i]
        if item.kind is ItemKind.BOUGHT:
            continue
        costs = item.costs
        assert costs is not None
        total = costs.own
        own_excluded = costs.excluded.total
        nc = tv = ZERO
        for k, qty in children[i]:
            total += qty * cost[k]
            nc += qty * vnm_nc[k]
            tv += qty * vnm_tv[k]
            inherited = excluded[k]
            if inherited:
                own_excluded += qty * inherited
        cost[i] = total
        if item.intermediate:
            engine.own_excluded[i], engine.own_vnm_nc[i], engine.own_vnm_tv[i] = (
                own_excluded, nc, tv)
            evaluation = evaluate_intermediate(engine, i)
            if not evaluation.originating:
                vnm_nc[i] = vnm_tv[i] = total
        else:
            excluded[i], vnm_nc[i], vnm_tv[i] = own_excluded, nc, tv


def rule_for_intermediate(engine: _Engine, i: int) -> AppliedRule:
    """The rule a designated intermediate must meet: its own `rule`, else the table's for
    its HS code, as original equipment of the vehicle the good is (when it is one).
    """
    item = engine.items[i]
    if item.rule is not None:
        return AppliedRule.from_document(item.rule, item_id=item.id,
                                         reference=engine.rule_set.cite("document_rule"),
                                         rule_set=engine.rule_set.rule_set)
    end_use = engine.end_use
    if end_use is None:
        root_rule = engine.rule_for_good(engine.bom.root)
        category = root_rule.category
        end_use = VEHICLE_PARTS_END_USE.get(category.id) if category else None
        if category is not None and category.kind == "vehicle" and end_use is None:
            end_use = EndUse.OTHER_VEHICLE
    try:
        return engine.rule_set.rule_for(item.hs, as_of=engine.as_of, end_use=end_use)
    except NoApplicableRuleError as exc:
        raise NoApplicableRuleError(
            f"intermediate material {item.id!r}: {exc.message}", hs=item.hs,
            as_of=engine.as_of) from exc


def evaluate_intermediate(engine: _Engine, i: int) -> _Evaluation:
    """Art. 4.8: does the designated material `i` qualify under its own rule?"""
    rule = rule_for_intermediate(engine, i)
    item = engine.items[i]
    methods = tuple(m for m in rule.methods
                    if m is Method.NET_COST or item.transaction_value is not None)
    if rule.rvc and not methods and rule.requires_rvc:
        raise BomError(f"intermediate material {item.id!r} needs a transaction_value: its "
                       f"rule ({rule.title}) allows the transaction value method only",
                       path=f"items.{item.id}.transaction_value")
    evaluation = criteria.evaluate(engine, i, rule, methods, reach=None, contributors=False)
    engine.designated[i] = evaluation
    engine.designated_rules[i] = rule
    return evaluation


def check_one_layer_rule(engine: _Engine) -> None:
    """Art. 4.8 / SOR/2020-155 s.8(6): one layer of RVC-subject intermediate materials."""
    subject = {i for i, ev in engine.designated.items() if ev.subject_to_rvc}
    if len(subject) < 2:
        return
    items, children = engine.items, engine.index.children
    for outer in subject:
        stack = [k for k, _ in children[outer]]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if node in seen or items[node].kind is not ItemKind.MADE:
                continue
            seen.add(node)
            if node in subject:
                raise DesignationError(
                    f"one-layer rule ({engine.rule_set.cite('one_layer_rule')}): "
                    f"{items[outer].id!r} "
                    "is designated as an intermediate material subject to an RVC "
                    f"requirement, and {items[node].id!r}, used in it, is designated and "
                    "subject to an RVC requirement too; designate only one of them",
                    item=items[node].id)
            stack.extend(k for k, _ in children[node])
