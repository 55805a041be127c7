"""One determination: the state the legal modules share, and the passes over the BOM.

`_Engine` holds, per item, what its parent sees of one unit of it (value in cost, excluded
costs inherited, VNM under each method), filled bottom-up by `valuation` (bought items)
and `intermediate` (self-produced items, when some are designated), and `_reach`, the
top-down pass that finds the materials reaching an item through traced self-produced
materials, with their quantities and the item's totals. The modules beside this one
decide the law; this one only walks the graph and assembles the `Determination`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from origin_rules.bom import BillOfMaterials, EndUse, Item, ItemKind, Method
from origin_rules.determination import Determination, Requirement
from origin_rules.engine import (
    automotive,
    criteria,
    explanation,
    intermediate,
    rvc,
    us_content,
    valuation,
)
from origin_rules.engine.criteria import _Evaluation
from origin_rules.explain import Reason
from origin_rules.product_rule_engine import document_choice
from origin_rules.rules import AppliedRule, RuleBook, RuleSet, default_rule_book
from origin_rules.values import ENGINE_CONTEXT

__all__ = ["determine_origin"]

ZERO = Decimal(0)
ONE = Decimal(1)


def determine_origin(
    bom: BillOfMaterials,
    *,
    as_of: date | None = None,
    method: Method | None = None,
    end_use: EndUse | None = None,
    rules: RuleBook | None = None,
    top: int = 5,
) -> Determination:
    """Decide whether the good of `bom` is originating, why, and by how much.

    `as_of`, `method` and `end_use` override the document's values (command-line options
    do this); `rules` defaults to the rule sets shipped with the package. `top` is how
    many VNM contributors each method result lists. Raises `OriginRulesError` subclasses
    for what cannot be evaluated; "not originating" is a normal result.
    """
    with localcontext(ENGINE_CONTEXT):
        return _Engine(bom, as_of or bom.as_of, method or bom.method,
                       end_use or bom.end_use, rules or default_rule_book(), top).run()


@dataclass(slots=True)
class _Reach:
    """Materials reaching an item through traced (undesignated) self-produced materials.

    `quantity[k]` is how many units of item k go into one unit of the root item, summed
    over every path; `traced` are the self-produced items looked through, `materials` the
    bought items and designated intermediates met at the ends of those paths.
    """

    quantity: Mapping[int, Decimal] | Sequence[Decimal | None]
    traced: list[int]
    materials: list[int]
    totals: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
    #: per method, each material's VNM in one unit of the root, aligned with `materials`
    contributions: dict[Method, list[Decimal]] | None = None
    #: the materials the tariff shift examines, as positions in `materials`, by HS code
    #: (`tariff_shift`, on first use)
    shift_codes: dict[str, list[int]] | None = None

    def of(self, k: int) -> Decimal:
        """Units of item `k` in one unit of the root (zero if not reached)."""
        value = self.quantity[k]
        return ZERO if value is None else value


class _Engine:
    """One determination: the arrays of the bottom-up pass and the evaluations on them."""

    def __init__(self, bom: BillOfMaterials, as_of: date, method: Method | None,
                 end_use: EndUse | None, book: RuleBook, top: int) -> None:
        self.bom = bom
        self.as_of = as_of
        self.method = method
        self.end_use = end_use
        self.rule_set: RuleSet = book.rule_set_on(as_of)
        self.top = top
        self.index = bom.index
        self.items: list[Item] = list(bom.items.values())  # the index numbers items in order
        size = len(self.items)
        # Per item, as its parent sees one unit of it:
        self.cost = [ZERO] * size  # value in the parent's total cost
        self.excluded = [ZERO] * size  # excluded costs the parent inherits (traced only)
        self.vnm_nc = [ZERO] * size  # VNM contributed under net cost
        self.vnm_tv = [ZERO] * size  # VNM contributed under transaction value
        # For self-produced items, their own figures:
        self.own_excluded: dict[int, Decimal] = {}
        self.own_vnm_nc: dict[int, Decimal] = {}
        self.own_vnm_tv: dict[int, Decimal] = {}
        self.designated: dict[int, _Evaluation] = {}
        self.designated_rules: dict[int, AppliedRule] = {}
        self.statement_notes: list[Reason] = []
        self.rank: list[int] | None = None
        self.scratch: list[Decimal | None] | None = None  # quantities of sub-assembly passes
        self.full = False  # True once made_values has valued every self-produced item
        self.flags = {"packing": 0, "indirect": 0, "unknown": 0}  # bought items by kind
        self.material = bytearray(
            item.kind is ItemKind.BOUGHT or item.intermediate for item in self.items)
        # Bought materials that count as non-originating (not claimed originating, nor
        # indirect, nor packing), set by `valuation.bought_values`: fixed by the document,
        # asked for every material of every view of the tariff shift.
        self.foreign = bytearray(size)

    # ----------------------------------------------------------------------------- run

    def run(self) -> Determination:
        bom = self.bom
        root = self.index.position[bom.good]
        good = self.items[root]
        rule = self.rule_for_good(good)
        methods = rvc.methods_for_good(self, rule, good)
        valuation.bought_values(self)
        if any(item.intermediate for item in self.items):
            intermediate.made_values(self)
        intermediate.check_one_layer_rule(self)
        reach = self.reach(root, whole_bom=True)
        evaluation = criteria.evaluate(self, root, rule, methods, reach=reach,
                                       contributors=True)
        us = us_content.us_content(self, root, reach)
        requirements: tuple[Requirement, ...] = ()
        category = rule.category
        if category is not None and category.requirements:
            requirements = automotive.vehicle_requirements(
                self, category.requirements, category.labor_value_content, reach, us)
        originating = evaluation.originating and all(r.passed for r in requirements)
        criterion = evaluation.criterion if originating else None
        if originating and criterion == "B" and not self.has_non_originating(reach):
            criterion = "C"
        reasons = explanation.explain(self, good, rule, evaluation, requirements,
                                      originating, criterion)
        return Determination(
            good=good.id, description=good.description, hs=good.hs, as_of=self.as_of,
            currency=bom.currency, rule=rule, originating=originating, criterion=criterion,
            results=evaluation.results, tariff_shift=evaluation.tariff_shift,
            rvc_exempt=evaluation.rvc_exempt, requirements=requirements,
            end_use=self.end_use.value if self.end_use else None,
            us_content=us, reasons=tuple(reasons), scenario=self.rule_set.scenario,
        )

    def rule_for_good(self, good: Item) -> AppliedRule:
        """The document's own rule for the good, else the rule set's for its HS code."""
        if good.rule is not None:
            return AppliedRule.from_document(good.rule, item_id=good.id,
                                             reference=self.rule_set.cite("document_rule"),
                                             rule_set=self.rule_set.rule_set)
        vehicle = self.bom.vehicle
        return self.rule_set.rule_for(
            good.hs, as_of=self.as_of, end_use=self.end_use, table=self.bom.automotive_table,
            vehicle_category=vehicle.category if vehicle else None,
            provision=document_choice(self.bom, "psr_provision"),
            goods=document_choice(self.bom, "psr_goods"),
        )

    # ------------------------------------------------------------------------- top-down

    def totals(self, i: int, reach: _Reach | None = None
               ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(total cost, excluded costs, VNM under NC, VNM under TV) of self-produced `i`."""
        if i in self.own_excluded:  # a designated intermediate, valued by made_values
            return self.cost[i], self.own_excluded[i], self.own_vnm_nc[i], self.own_vnm_tv[i]
        if self.full:
            return self.cost[i], self.excluded[i], self.vnm_nc[i], self.vnm_tv[i]
        if reach is None or reach.totals is None:
            reach = self.reach(i)
        assert reach.totals is not None
        return reach.totals

    def reach(self, root: int, *, whole_bom: bool = False) -> _Reach:
        """Materials of `root` through traced items, with cumulative quantities.

        One pass in topological order (parents first, so a material's quantity is final
        when it is met) also sums the root's total cost, excluded costs and VNM, and each
        material's VNM share. Quantities live in a list indexed by item (a faster map than
        a dict); for a sub-assembly the list is the engine's scratch list, cleaned after.
        """
        items, children = self.items, self.index.children
        if whole_bom:
            order: Sequence[int] = self.index.order
            quantity: list[Decimal | None] = [None] * len(items)
        else:
            found = {root}
            stack = [root]
            while stack:
                node = stack.pop()
                if node != root and self.material[node]:
                    continue
                for k, _ in children[node]:
                    if k not in found:
                        found.add(k)
                        stack.append(k)
            order = sorted(found, key=self.ranks().__getitem__)
            if self.scratch is None:
                self.scratch = [None] * len(items)
            quantity = self.scratch
        quantity[root] = ONE
        material = self.material
        cost, vnm_nc, vnm_tv = self.cost, self.vnm_nc, self.vnm_tv
        traced: list[int] = []
        materials: list[int] = []
        by_nc: list[Decimal] = []
        by_tv: list[Decimal] = []
        total = excluded = nc = tv = ZERO
        for node in order:
            amount = quantity[node]
            if amount is None:
                continue  # not reached through traced items
            if material[node] and node != root:
                materials.append(node)
                total += amount * cost[node]
                under_nc, under_tv = vnm_nc[node], vnm_tv[node]
                if under_nc is under_tv:  # the same VNM under both methods (the usual case)
                    value = amount * under_nc if under_nc else ZERO  # originating: no VNM
                    by_nc.append(value)
                    by_tv.append(value)
                    nc += value
                    tv += value
                    continue
                value = amount * under_nc
                by_nc.append(value)
                nc += value
                value = amount * under_tv
                by_tv.append(value)
                tv += value
                continue
            traced.append(node)
            costs = items[node].costs
            if costs is not None:
                total += amount * (costs.other_product + costs.period + costs.other)
                excluded += amount * costs.excluded.total
            for k, qty in children[node]:
                before = quantity[k]
                share = amount * qty
                quantity[k] = share if before is None else before + share
        reached: Mapping[int, Decimal] | Sequence[Decimal | None] = quantity
        if not whole_bom:
            reached = {k: v for k in order if (v := quantity[k]) is not None}
            for k in order:
                quantity[k] = None
        return _Reach(reached, traced, materials, (total, excluded, nc, tv),
                      {Method.NET_COST: by_nc, Method.TRANSACTION_VALUE: by_tv})

    def ranks(self) -> list[int]:
        """Position of each item in the topological order (built on first use)."""
        if self.rank is None:
            self.rank = [0] * len(self.items)
            for n, node in enumerate(self.index.order):
                self.rank[node] = n
        return self.rank

    def has_non_originating(self, reach: _Reach) -> bool:
        """Whether any material reaching the item is non-originating (criterion B vs C)."""
        foreign = self.foreign
        return any(foreign[k] or valuation.is_non_originating(self, k) for k in reach.materials)
