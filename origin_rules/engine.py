"""The origin engine: from a bill of materials to a USMCA / T-MEC origin determination.

`determine_origin(bom)` applies Chapter 4 and the automotive appendix as summarised in
`reference/usmca-rules.md`:

* **Value of materials (Art. 4.6-4.7).** A bought material counts at `unit_value`; Art. 4.7
  deductions (freight, duties, brokerage, waste) come off a *non-originating* material's
  value in VNM only; they remain costs of the producer.
* **Roll-up (Art. 4.5.4).** An originating bought material enters at 100 % originating,
  whatever it contains. `unknown` origin counts as non-originating.
* **Tracing and intermediate materials (Art. 4.8; SOR/2020-155 s.7(5), s.8(6)-(8)).** A
  self-produced (`made`) material that is not designated is traced: its costs join its
  parent's, including its excluded costs, and its non-originating inputs count in VNM. A
  designated one is a material of its own: its rule is evaluated and, if it qualifies, it
  enters at its total cost as originating; if not, its whole total cost is non-originating.
  The one-layer rule: an intermediate subject to RVC may not contain another designated
  intermediate subject to RVC (`DesignationError`).
* **Accumulation statements (Art. 4.11; s.9(2)-(3)).** `net_cost_and_vnm`: the supplier's
  net cost replaces the value in total cost and its VNM is the VNM; `regional_value`: VNM =
  value - amount; `vnm`: VNM = stated VNM under the transaction value method only (under net
  cost the statement is not one s.9(2) accepts, so the full value counts).
* **Indirect materials (Art. 4.9)** count in cost as originating; **packing materials for
  shipment (Art. 4.16)** are disregarded entirely; **retail packaging (Art. 4.15)** is
  ignored for the tariff shift and its de minimis, but counted in RVC.
* **RVC (Art. 4.5).** Net cost = total cost - excluded costs; transaction value = TV -
  international shipping. RVC = (base - VNM) / base x 100, compared unrounded ("not less
  than"), by exact cross-multiplication.
* **Tariff shift** (CC / CTH / CTSH with exceptions) over the non-originating materials,
  looking through traced materials; **de minimis (Art. 4.12)** for the shift (failing
  materials <= 10 % of TV or total cost, Annex 4-A exclusions honoured, their value staying
  in VNM) and for the RVC (all non-originating materials <= 10 %: RVC need not be met);
  **Art. 4.2(d)** when only parts of the good's own subheading fail the shift.
* **Vehicles (s.13-18).** Net cost only; the core parts of Table A.2 must be originating
  (passenger vehicles and light trucks), the Table S steel and aluminum purchases at least
  70 %, and the labor value content met; the last two come from the document's `vehicle`
  block and, when absent, leave the vehicle not shown as originating.

What it does not do (each stated in the determination when it matters): the product-
specific rules of Annex 4-B outside the automotive tables, the Table A.2 column-2 and
super-core VNM options, averaging, fungible-goods inventory methods, and wholly obtained
goods (criterion A).

The computation runs over `BomIndex` in one bottom-up pass (reverse topological order)
and, for the good, one top-down pass that finds which materials reach it and in what
quantity; both are linear in the size of the BOM.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from origin_rules.bom import BillOfMaterials, EndUse, Item, ItemKind, Method, Origin, StatementType
from origin_rules.determination import (
    Contributor,
    Determination,
    MethodResult,
    Requirement,
    TariffShiftResult,
)
from origin_rules.errors import (
    BomError,
    DesignationError,
    MethodNotAllowedError,
    NoApplicableRuleError,
)
from origin_rules.product_rule_engine import (
    AlternativeOutcome,
    alternative_summary,
    decide_alternatives,
    document_choice,
)
from origin_rules.rules import AppliedRule, RuleBook, RuleSet, Threshold, default_rule_book
from origin_rules.values import ENGINE_CONTEXT, format_money, format_percent, hs_digits

__all__ = ["determine_origin"]

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

_METHOD_WORDS = {Method.NET_COST: "net cost", Method.TRANSACTION_VALUE: "transaction value"}
_VEHICLE_PARTS_END_USE = {
    "passenger_vehicle": EndUse.PASSENGER_VEHICLE,
    "light_truck": EndUse.LIGHT_TRUCK,
    "heavy_truck": EndUse.HEAVY_TRUCK,
    "alternative_staging_regime": EndUse.PASSENGER_VEHICLE,
}


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
    # The engine creates no reference cycles; pausing the cyclic collector keeps it from
    # walking the millions of objects of a large BOM again and again (seconds at 1M items).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with localcontext(ENGINE_CONTEXT):
            return _Engine(bom, as_of or bom.as_of, method or bom.method,
                           end_use or bom.end_use, rules or default_rule_book(), top).run()
    finally:
        if collecting:
            gc.enable()


@dataclass(slots=True)
class _Evaluation:
    """Whether one item satisfies one rule (the good, an intermediate, a core part)."""

    originating: bool
    criterion: str | None
    results: tuple[MethodResult, ...]
    tariff_shift: TariffShiftResult
    rvc_exempt: bool
    subject_to_rvc: bool
    notes: tuple[str, ...]


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
        self.statement_notes: list[str] = []
        self.rank: list[int] | None = None
        self.scratch: list[Decimal | None] | None = None  # quantities of sub-assembly passes
        self.full = False  # True once _made_values has valued every self-produced item
        self.flags = {"packing": 0, "indirect": 0, "unknown": 0}  # bought items by kind
        self.material = bytearray(
            item.kind is ItemKind.BOUGHT or item.intermediate for item in self.items)

    # ----------------------------------------------------------------------------- run

    def run(self) -> Determination:
        bom = self.bom
        root = self.index.position[bom.good]
        good = self.items[root]
        rule = self._rule_for_good(good)
        methods = self._methods(rule, good)
        self._bought_values()
        if any(item.intermediate for item in self.items):
            self._made_values()
        self._check_one_layer_rule()
        reach = self._reach(root, whole_bom=True)
        evaluation = self._evaluate(root, rule, methods, reach=reach, contributors=True)
        requirements: tuple[Requirement, ...] = ()
        category = rule.category
        if category is not None and category.requirements:
            requirements = self._vehicle_requirements(category.requirements,
                                                      category.labor_value_content, reach)
        originating = evaluation.originating and all(r.passed for r in requirements)
        criterion = evaluation.criterion if originating else None
        if originating and criterion == "B" and not self._has_non_originating(reach):
            criterion = "C"
        explanation = self._explain(good, rule, evaluation, requirements, originating,
                                    criterion)
        return Determination(
            good=good.id, description=good.description, hs=good.hs, as_of=self.as_of,
            currency=bom.currency, rule=rule, originating=originating, criterion=criterion,
            results=evaluation.results, tariff_shift=evaluation.tariff_shift,
            rvc_exempt=evaluation.rvc_exempt, requirements=requirements,
            explanation=tuple(explanation),
            end_use=self.end_use.value if self.end_use else None,
        )

    # ---------------------------------------------------------------------------- rules

    def _rule_for_good(self, good: Item) -> AppliedRule:
        if good.rule is not None:
            return AppliedRule.from_document(good.rule, item_id=good.id,
                                             rule_set=self.rule_set.rule_set)
        vehicle = self.bom.vehicle
        return self.rule_set.rule_for(
            good.hs, as_of=self.as_of, end_use=self.end_use, table=self.bom.automotive_table,
            vehicle_category=vehicle.category if vehicle else None,
            provision=document_choice(self.bom, "psr_provision"),
            goods=document_choice(self.bom, "psr_goods"),
        )

    def _methods(self, rule: AppliedRule, good: Item) -> tuple[Method, ...]:
        allowed = rule.methods
        if self.method is not None:
            if allowed and self.method not in allowed:
                words = " and ".join(_METHOD_WORDS[m] for m in allowed)
                raise MethodNotAllowedError(
                    f"the {_METHOD_WORDS[self.method]} method is not allowed for {good.id!r} "
                    f"(HS {good.hs}): {rule.title} allows {words} only "
                    f"({rule.reference}; Art. 4.5.5)", method=self.method.value)
            allowed = (self.method,) if allowed else ()
        if Method.TRANSACTION_VALUE in allowed and good.transaction_value is None:
            if self.method is Method.TRANSACTION_VALUE:
                raise BomError(f"the good {good.id!r} has no transaction_value, which the "
                               "transaction value method needs",
                               path=f"items.{good.id}.transaction_value")
            allowed = tuple(m for m in allowed if m is not Method.TRANSACTION_VALUE)
        return allowed

    def _rule_for_intermediate(self, i: int) -> AppliedRule:
        item = self.items[i]
        if item.rule is not None:
            return AppliedRule.from_document(item.rule, item_id=item.id,
                                             rule_set=self.rule_set.rule_set)
        end_use = self.end_use
        if end_use is None:
            root_rule = self._rule_for_good(self.bom.root)
            category = root_rule.category
            end_use = _VEHICLE_PARTS_END_USE.get(category.id) if category else None
            if category is not None and category.kind == "vehicle" and end_use is None:
                end_use = EndUse.OTHER_VEHICLE
        try:
            return self.rule_set.rule_for(item.hs, as_of=self.as_of, end_use=end_use)
        except NoApplicableRuleError as exc:
            raise NoApplicableRuleError(
                f"intermediate material {item.id!r}: {exc.message}", hs=item.hs,
                as_of=self.as_of) from exc

    # ------------------------------------------------------------------------ bottom-up

    def _bought_values(self) -> None:
        """Value in cost and VNM of one unit of every bought material (Art. 4.6-4.7, 4.9,
        4.11, 4.16); self-produced items are valued by `_made_values` or `_reach`.
        """
        items = self.items
        cost, vnm_nc, vnm_tv = self.cost, self.vnm_nc, self.vnm_tv
        statements = 0
        vnm_only_under_nc: list[str] = []
        flags = self.flags
        for i, item in enumerate(items):
            if item.kind is ItemKind.BOUGHT:
                value = item.unit_value
                assert value is not None
                if item.packing:
                    flags["packing"] += 1
                    continue  # Art. 4.16: disregarded; stays zero everywhere
                if item.indirect:
                    flags["indirect"] += 1
                    cost[i] = value
                    continue
                if item.origin is Origin.ORIGINATING:
                    cost[i] = value
                    continue
                if item.origin is Origin.UNKNOWN:
                    flags["unknown"] += 1
                statement = item.statement
                if statement is None:
                    deductions = item.deductions
                    own = value - deductions.total if deductions is not None else value
                    cost[i], vnm_nc[i], vnm_tv[i] = value, own, own
                    continue
                statements += 1
                kind = statement.type
                if kind is StatementType.NET_COST_AND_VNM:
                    assert statement.net_cost is not None
                    assert statement.vnm is not None
                    cost[i], vnm_nc[i], vnm_tv[i] = statement.net_cost, statement.vnm, statement.vnm
                elif kind is StatementType.REGIONAL_VALUE:
                    assert statement.amount is not None
                    cost[i] = value
                    vnm_nc[i] = vnm_tv[i] = value - statement.amount
                else:
                    assert statement.vnm is not None
                    deductions = item.deductions
                    cost[i] = value
                    vnm_nc[i] = value - deductions.total if deductions is not None else value
                    vnm_tv[i] = statement.vnm
                    vnm_only_under_nc.append(item.id)
        if statements:
            self.statement_notes.append(
                f"Supplier accumulation statements (Art. 4.11; SOR/2020-155 s.9) set the value "
                f"and VNM of {statements} non-originating material(s).")
        if vnm_only_under_nc:
            shown = ", ".join(repr(i) for i in sorted(vnm_only_under_nc)[:5])
            self.statement_notes.append(
                f"VNM-only statements ({shown}) apply to the transaction value method "
                "(s.9(3)); under net cost the material's full value counts (s.9(2) needs net "
                "cost and VNM, or a regional value amount).")

    def _made_values(self) -> None:
        """Values of every self-produced item as its parents see them, children first.

        Needed when some item is designated an intermediate material: its own evaluation
        needs its totals, and its result decides what its parents see. Without designated
        items the good's totals come from the one top-down pass (`_reach`), which is
        cheaper on large BOMs.
        """
        self.full = True
        items, children = self.items, self.index.children
        cost, excluded, vnm_nc, vnm_tv = self.cost, self.excluded, self.vnm_nc, self.vnm_tv
        for i in reversed(self.index.order):
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
                self.own_excluded[i], self.own_vnm_nc[i], self.own_vnm_tv[i] = (
                    own_excluded, nc, tv)
                evaluation = self._evaluate_intermediate(i)
                if not evaluation.originating:
                    vnm_nc[i] = vnm_tv[i] = total
            else:
                excluded[i], vnm_nc[i], vnm_tv[i] = own_excluded, nc, tv

    def _totals(self, i: int, reach: _Reach | None = None
                ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(total cost, excluded costs, VNM under NC, VNM under TV) of self-produced `i`."""
        if i in self.own_excluded:  # a designated intermediate, valued by _made_values
            return self.cost[i], self.own_excluded[i], self.own_vnm_nc[i], self.own_vnm_tv[i]
        if self.full:
            return self.cost[i], self.excluded[i], self.vnm_nc[i], self.vnm_tv[i]
        if reach is None or reach.totals is None:
            reach = self._reach(i)
        assert reach.totals is not None
        return reach.totals

    def _evaluate_intermediate(self, i: int) -> _Evaluation:
        rule = self._rule_for_intermediate(i)
        item = self.items[i]
        methods = tuple(m for m in rule.methods
                        if m is Method.NET_COST or item.transaction_value is not None)
        if rule.rvc and not methods and rule.requires_rvc:
            raise BomError(f"intermediate material {item.id!r} needs a transaction_value: its "
                           f"rule ({rule.title}) allows the transaction value method only",
                           path=f"items.{item.id}.transaction_value")
        evaluation = self._evaluate(i, rule, methods, reach=None, contributors=False)
        self.designated[i] = evaluation
        self.designated_rules[i] = rule
        return evaluation

    def _check_one_layer_rule(self) -> None:
        """Art. 4.8 / SOR/2020-155 s.8(6): one layer of RVC-subject intermediate materials."""
        subject = {i for i, ev in self.designated.items() if ev.subject_to_rvc}
        if len(subject) < 2:
            return
        items, children = self.items, self.index.children
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
                        f"one-layer rule (Art. 4.8; SOR/2020-155 s.8(6)): {items[outer].id!r} "
                        "is designated as an intermediate material subject to an RVC "
                        f"requirement, and {items[node].id!r}, used in it, is designated and "
                        "subject to an RVC requirement too; designate only one of them",
                        item=items[node].id)
                stack.extend(k for k, _ in children[node])

    # ------------------------------------------------------------------------- top-down

    def _reach(self, root: int, *, whole_bom: bool = False) -> _Reach:
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
            order = sorted(found, key=self._rank().__getitem__)
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

    def _rank(self) -> list[int]:
        """Position of each item in the topological order (built on first use)."""
        if self.rank is None:
            self.rank = [0] * len(self.items)
            for n, node in enumerate(self.index.order):
                self.rank[node] = n
        return self.rank

    def _is_non_originating(self, k: int) -> bool:
        item = self.items[k]
        if item.kind is ItemKind.BOUGHT:
            return not (item.packing or item.indirect or item.origin is Origin.ORIGINATING)
        return not self.designated[k].originating

    def _material_value(self, k: int) -> Decimal:
        """Value of one unit of a non-originating material for de minimis (Art. 4.6-4.7)."""
        item = self.items[k]
        if item.kind is ItemKind.MADE:
            return self.cost[k]
        assert item.unit_value is not None
        deductions = item.deductions
        return item.unit_value - deductions.total if deductions is not None else item.unit_value

    def _has_non_originating(self, reach: _Reach) -> bool:
        return any(self._is_non_originating(k) for k in reach.materials)

    # ------------------------------------------------------------------------- evaluate

    def _evaluate(self, i: int, rule: AppliedRule, methods: Sequence[Method], *,
                  reach: _Reach | None, contributors: bool) -> _Evaluation:
        """Apply `rule` to item `i` (the good, a designated intermediate, a core part)."""
        if rule.alternatives:
            return self._evaluate_alternatives(i, rule, methods, reach=reach,
                                               contributors=contributors)
        item = self.items[i]
        total_cost, own_excluded, own_nc, own_tv = self._totals(i, reach)
        tv_base = None
        if item.transaction_value is not None:
            tv_base = item.transaction_value - (item.international_shipping or ZERO)
        notes: list[str] = []

        # Tariff shift, its de minimis and the Art. 4.2(d) fallback.
        shift = TariffShiftResult(required=None, passed=None)
        shift_ok = True
        same_subheading_only = False
        if rule.has_tariff_shift:
            if reach is None:
                reach = self._reach(i)
            shift, same_subheading_only = self._tariff_shift(i, rule, reach, total_cost, tv_base)
            shift_ok = bool(shift.passed)

        # RVC per method.
        bases = {Method.NET_COST: (total_cost - own_excluded, own_nc)}
        if tv_base is not None:
            bases[Method.TRANSACTION_VALUE] = (tv_base, own_tv)
        results = []
        for method in methods:
            threshold = rule.threshold(method)
            assert threshold is not None
            base, vnm = bases[method]
            results.append(self._rvc(item, method, base, vnm, threshold,
                                     reach if contributors else None))
        rvc_ok = any(r.passed for r in results)
        rvc_exempt = bool(rule.rvc) and self._rvc_de_minimis(total_cost, own_nc, tv_base,
                                                              own_tv)
        if rule.rvc and not results:
            notes.append("no RVC method could be evaluated")

        if rule.has_tariff_shift and rule.rvc:
            satisfied = (shift_ok and (rvc_ok or rvc_exempt) if rule.combine == "all"
                         else shift_ok or rvc_ok or rvc_exempt)
        elif rule.has_tariff_shift:
            satisfied = shift_ok
        elif rule.product_rule is not None and not rule.rvc:
            satisfied = True  # "No change in tariff classification" and nothing more
        else:
            satisfied = rvc_ok or rvc_exempt
        criterion = "B" if satisfied else None
        subject_to_rvc = bool(rule.rvc) and (not rule.has_tariff_shift or rule.combine == "all"
                                             or not shift_ok)

        if not satisfied and same_subheading_only and not self._criterion_d_excluded(item):
            criterion_d = self.rule_set.criterion_d
            d_results = tuple(
                self._rvc(item, method, *bases[method],
                          Threshold(method, criterion_d[method], None,
                                    self.rule_set.criterion_d_reference),
                          reach if contributors else None)
                for method in (methods or (Method.NET_COST,)) if method in bases
            )
            if any(r.passed for r in d_results):
                notes.append(
                    "the tariff shift fails only for parts classified in the good's own "
                    f"subheading, so Art. 4.2(d) applies with RVC thresholds of "
                    f"{criterion_d[Method.NET_COST]} % (net cost) / "
                    f"{criterion_d[Method.TRANSACTION_VALUE]} % (transaction value) "
                    f"({self.rule_set.criterion_d_reference})")
                return _Evaluation(True, "D", d_results, shift, False, True, tuple(notes))
        return _Evaluation(satisfied, criterion, tuple(results), shift, rvc_exempt,
                           subject_to_rvc, tuple(notes))

    def _evaluate_alternatives(self, i: int, rule: AppliedRule, methods: Sequence[Method], *,
                               reach: _Reach | None, contributors: bool) -> _Evaluation:
        """Alternatives (A), (B)...: each supported one is evaluated; meeting one suffices
        (SOR/2020-155 s.3(6)). `decide_alternatives` says what the outcomes amount to,
        and raises when they rest on a clause the engine cannot evaluate.
        """
        if reach is None and any(alt.has_tariff_shift for alt in rule.alternatives):
            reach = self._reach(i)
        evaluations: dict[int, _Evaluation] = {}
        outcomes: list[AlternativeOutcome] = []
        for n, alt in enumerate(rule.alternatives):
            if alt.unsupported:
                outcomes.append(AlternativeOutcome(alt, None, None))
                continue
            alt_methods = tuple(m for m in methods if alt.threshold(m) is not None)
            ev = self._evaluate(i, alt, alt_methods, reach=reach, contributors=contributors)
            evaluations[n] = ev
            outcomes.append(AlternativeOutcome(alt, ev.originating, ev.criterion, ev.results,
                                               ev.tariff_shift, ev.rvc_exempt))
        decision = decide_alternatives(rule, outcomes, hs=self.items[i].hs, as_of=self.as_of)
        shown = [evaluations[n] for n in decision.shown if n in evaluations]
        chosen = evaluations.get(decision.chosen) if decision.chosen is not None else None
        results = chosen.results if chosen else next((e.results for e in shown if e.results),
                                                     ())
        shift = chosen.tariff_shift if chosen else next(
            (e.tariff_shift for e in shown if e.tariff_shift.required is not None),
            TariffShiftResult(required=None, passed=None))
        notes = (*(chosen.notes if chosen else ()), *decision.notes)
        return _Evaluation(
            decision.originating, chosen.criterion if chosen else None, results, shift,
            chosen.rvc_exempt if chosen else False,
            chosen.subject_to_rvc if chosen else any(e.subject_to_rvc for e in shown), notes)

    def _rvc(self, item: Item, method: Method, base: Decimal, vnm: Decimal,
             threshold: Threshold, reach: _Reach | None) -> MethodResult:
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
            top = self._contributors(method, vnm, reach)
        return MethodResult(method, base, vnm, rvc, minimum, passed, headroom, top,
                            threshold.valid_from, threshold.reference)

    def _contributors(self, method: Method, vnm: Decimal, reach: _Reach) -> tuple[
        Contributor, ...
    ]:
        ids = self.index.ids
        assert reach.contributions is not None
        materials, values = reach.materials, reach.contributions[method]
        if not any(values):
            return ()
        # The top values first (a C-level selection), then every material tied with the
        # smallest of them, ordered by value and id so that ties break the same way
        # whatever the document order.
        floor = heapq.nlargest(self.top, values)[-1]
        floor = max(floor, Decimal("1E-60"))  # zero contributions are never listed
        candidates = [(value, k) for value, k in zip(values, materials, strict=True)
                      if value >= floor]
        candidates.sort(key=lambda pair: (-pair[0], ids[pair[1]]))
        scored = candidates[: self.top]
        return tuple(
            Contributor(self.items[k].id, self.items[k].description, self.items[k].hs, value,
                        value * HUNDRED / vnm)
            for value, k in scored[: self.top]
        )

    def _rvc_de_minimis(self, total_cost: Decimal, nc: Decimal, tv_base: Decimal | None,
                        tv: Decimal) -> bool:
        """SOR/2020-155 s.5(4): all non-originating materials <= 10 % of TV or total cost."""
        percent = self.rule_set.de_minimis.percent
        if total_cost > 0 and nc * HUNDRED <= percent * total_cost:
            return True
        return tv_base is not None and tv_base > 0 and tv * HUNDRED <= percent * tv_base

    def _criterion_d_excluded(self, item: Item) -> bool:
        return hs_digits(item.hs)[:2] in self.rule_set.criterion_d_excluded_chapters

    def _tariff_shift(self, i: int, rule: AppliedRule, reach: _Reach, total_cost: Decimal,
                      tv_base: Decimal | None) -> tuple[TariffShiftResult, bool]:
        """Each non-originating material must change classification (retail packaging and
        disregarded materials excepted); returns the result and whether every failing
        material is classified in the good's own subheading (Art. 4.2(d)).
        """
        required = rule.shift_code
        assert required is not None
        good_digits = hs_digits(self.items[i].hs)
        excepted = rule.shift_exceptions
        failing: list[int] = []
        for k in reach.materials:
            material = self.items[k]
            if material.retail_packaging or not self._is_non_originating(k):
                continue
            if not rule.shift_allows(hs_digits(material.hs), good_digits):
                failing.append(k)
        if not failing:
            return TariffShiftResult(required, True, excepted_prefixes=excepted), False
        value = sum((reach.of(k) * self._material_value(k) for k in failing), ZERO)
        de_minimis = self.rule_set.de_minimis
        blocked = any(
            exclusion.excludes(good_digits, hs_digits(self.items[k].hs))
            for exclusion in de_minimis.exclusions for k in failing
        )
        within = any(base is not None and base > 0 and value * HUNDRED <= de_minimis.percent * base
                     for base in (total_cost, tv_base))
        ids = tuple(self.items[k].id for k in failing)
        same = all(hs_digits(self.items[k].hs)[:6] == good_digits[:6] for k in failing)
        passed = within and not blocked
        return (TariffShiftResult(required, passed, ids, value, passed, excepted), same)

    # ------------------------------------------------------------------------- vehicles

    def _vehicle_requirements(self, names: Sequence[str], lvc_id: str | None,
                              reach: _Reach) -> tuple[Requirement, ...]:
        out = []
        if "core_parts" in names:
            out.append(self._core_parts(reach))
        if "steel_aluminum" in names:
            out.append(self._steel_aluminum())
        if "labor_value_content" in names and lvc_id is not None:
            out.append(self._labor_value_content(lvc_id))
        return tuple(out)

    def _core_parts(self, reach: _Reach) -> Requirement:
        """SOR/2020-155 s.14(4): Table A.2 column-1 parts used in a PV/LT must originate."""
        reference = "SOR/2020-155 s.14(4)-(5), Tables A.1 and A.2"
        found: list[dict[str, object]] = []
        a1 = self.rule_set.category("table_A1")
        root = self.index.position[self.bom.good]
        nodes = [n for n in reach.traced if n != root] + reach.materials
        for k in nodes:
            item = self.items[k]
            digits = hs_digits(item.hs)
            part = next((p for p in self.rule_set.core_parts
                         if any(e.matches(digits) for e in p.hs)), None)
            if part is None:
                continue
            if item.kind is ItemKind.BOUGHT:
                ok = item.origin is Origin.ORIGINATING
                how = f"bought, {item.origin.value if item.origin else 'unknown'}"
            else:
                rule = AppliedRule(
                    title=a1.title, reference=a1.reference, rule_set=self.rule_set.rule_set,
                    rvc=tuple(Threshold(t.method, t.min, t.valid_from, a1.reference)
                              for t in a1.thresholds_on(self.as_of).values()),
                    category=a1)
                methods = tuple(m for m in rule.methods
                                if m is Method.NET_COST or item.transaction_value is not None)
                ev = self._evaluate(k, rule, methods, reach=None, contributors=False)
                ok = ev.originating
                how = "made; " + ", ".join(
                    f"RVC {format_percent(r.rvc)} % by {_METHOD_WORDS[r.method]} against "
                    f"{r.threshold} %" for r in ev.results) + " (Table A.1)"
            found.append({"item": item.id, "part": part.part, "originating": ok, "how": how})
        if not found:
            return Requirement("core_parts", None,
                               "no Table A.2 core part (engine, transmission, body, chassis, "
                               "axle, suspension, steering, advanced battery) was found among "
                               "the vehicle's materials, so the requirement was not checked",
                               reference, {"parts": []})
        failing = [f["item"] for f in found if not f["originating"]]
        detail = (f"all {len(found)} core part(s) are originating" if not failing else
                  f"core part(s) not originating: {', '.join(map(str, failing))}")
        return Requirement("core_parts", not failing, detail, reference, {"parts": found})

    def _steel_aluminum(self) -> Requirement:
        """SOR/2020-155 s.17: >= 70 % of Table S steel and aluminum purchases originating."""
        reference = self.rule_set.steel_aluminum_reference
        minimum = self.rule_set.steel_aluminum_minimum(self.as_of)
        vehicle = self.bom.vehicle
        data = vehicle.steel_aluminum if vehicle else None
        if data is None:
            return Requirement("steel_aluminum", None,
                               "the document gives no vehicle.steel_aluminum purchases, so "
                               f"the {minimum} % steel and aluminum requirement was not checked",
                               reference)
        steel = data.steel_originating * HUNDRED / data.steel_total
        values: dict[str, object] = {"minimum": str(minimum), "steel": format_percent(steel)}
        steel_ok = data.steel_originating * HUNDRED >= minimum * data.steel_total
        parts = [f"steel {format_percent(steel)} % {'>=' if steel_ok else '<'} {minimum} %"]
        aluminum_ok: bool | None = None
        if data.aluminum_total is not None and data.aluminum_originating is not None:
            aluminum = data.aluminum_originating * HUNDRED / data.aluminum_total
            aluminum_ok = data.aluminum_originating * HUNDRED >= minimum * data.aluminum_total
            values["aluminum"] = format_percent(aluminum)
            combined_total = data.steel_total + data.aluminum_total
            values["combined"] = format_percent(
                (data.steel_originating + data.aluminum_originating) * HUNDRED / combined_total)
            parts.append(f"aluminum {format_percent(aluminum)} % "
                         f"{'>=' if aluminum_ok else '<'} {minimum} %")
        else:
            parts.append("aluminum purchases not given")
        passed: bool | None = None  # steel met, aluminum not given
        if not steel_ok or aluminum_ok is False:
            passed = False
        elif aluminum_ok:
            passed = True
        return Requirement("steel_aluminum", passed, "; ".join(parts), reference, values)

    def _labor_value_content(self, lvc_id: str) -> Requirement:
        """SOR/2020-155 s.18: LVC = HWMME + capped technology and assembly credits."""
        rule = self.rule_set.labor_value_content[lvc_id]
        minimum, floor = rule.on(self.as_of)
        vehicle = self.bom.vehicle
        data = vehicle.labor_value_content if vehicle else None
        if data is None:
            return Requirement("labor_value_content", None,
                               "the document gives no vehicle.labor_value_content, so the "
                               f"{minimum} % LVC requirement was not checked", rule.reference)
        technology = min(data.high_wage_technology, rule.max_technology_credit)
        assembly = min(data.high_wage_assembly, rule.max_assembly_credit)
        total = data.high_wage_material_and_manufacturing + technology + assembly
        total_ok = total >= minimum
        floor_ok = data.high_wage_material_and_manufacturing >= floor
        detail = (f"LVC {total} % (high-wage material and manufacturing "
                  f"{data.high_wage_material_and_manufacturing} + technology credit {technology}"
                  f" + assembly credit {assembly}, credits capped at "
                  f"{rule.max_technology_credit}/{rule.max_assembly_credit}) "
                  f"{'>=' if total_ok else '<'} {minimum} %; high-wage material and "
                  f"manufacturing {'>=' if floor_ok else '<'} {floor} points")
        return Requirement("labor_value_content", total_ok and floor_ok, detail, rule.reference,
                           {"lvc": str(total), "minimum": str(minimum),
                            "min_high_wage_material_and_manufacturing": str(floor)})

    # -------------------------------------------------------------------------- explain

    def _explain(self, good: Item, rule: AppliedRule, evaluation: _Evaluation,
                 requirements: Sequence[Requirement], originating: bool,
                 criterion: str | None) -> list[str]:
        lines = []
        thresholds = ", ".join(
            f"{_METHOD_WORDS[t.method]} {t.min} %"
            + (f" (in force from {t.valid_from.isoformat()})" if t.valid_from else "")
            for t in rule.rvc)
        shift = (f"{rule.shift_label} ({rule.shift_code})" if rule.has_tariff_shift else None)
        needs = " and ".join(filter(None, [shift, thresholds and f"RVC {thresholds}"]))
        if rule.has_tariff_shift and rule.rvc and rule.combine == "any":
            needs = f"{shift} or RVC {thresholds}"
        if rule.alternatives:
            needs = "; or ".join(alternative_summary(alt) for alt in rule.alternatives)
        lines.append(f"Rule: {rule.title} [{rule.reference}], rule set {rule.rule_set}, on "
                     f"{self.as_of.isoformat()}: {needs}.")
        lines.extend(f"Note: {note}." for note in rule.notes)
        if rule.category is not None and rule.category.note:
            lines.append(f"Scope: {rule.category.note}.")
        for result in evaluation.results:
            base_words = ("net cost = total cost - excluded costs"
                          if result.method is Method.NET_COST
                          else "transaction value less international shipping")
            verdict = "meets" if result.passed else "falls short of"
            room = (f"it can absorb {format_money(result.headroom)} {self.bom.currency} more "
                    "of non-originating materials before failing"
                    if result.headroom >= 0 else
                    f"it needs {format_money(-result.headroom)} {self.bom.currency} less of "
                    "non-originating materials to pass")
            lines.append(
                f"{_METHOD_WORDS[result.method].capitalize()}: base {format_money(result.base)} "
                f"({base_words}), VNM {format_money(result.vnm)}, RVC "
                f"{format_percent(result.rvc)} % {verdict} {result.threshold} % "
                f"(margin {format_percent(result.margin)} points); {room}.")
            if result.contributors:
                shown = "; ".join(f"{c.item} ({c.hs}) {format_money(c.vnm)} = "
                                  f"{format_percent(c.share)} %" for c in result.contributors)
                lines.append(f"Largest VNM under {_METHOD_WORDS[result.method]}: {shown}.")
        if evaluation.rvc_exempt:
            lines.append("RVC de minimis (Art. 4.12; SOR/2020-155 s.5(4)): all non-originating "
                         f"materials are at most {self.rule_set.de_minimis.percent} % of the "
                         "transaction value or total cost, so the RVC requirement need not be "
                         "met.")
        ts = evaluation.tariff_shift
        if ts.required is not None:
            if ts.passed and not ts.failing_materials:
                lines.append(f"Tariff shift {ts.required}: every non-originating material "
                             "changes classification as required.")
            else:
                failing = ", ".join(ts.failing_materials[:10])
                value = format_money(ts.failing_value or ZERO)
                if ts.passed:
                    lines.append(
                        f"Tariff shift {ts.required}: {failing} do not shift, but their value "
                        f"{value} is within the de minimis of "
                        f"{self.rule_set.de_minimis.percent} % (Art. 4.12); their value stays "
                        "in VNM.")
                else:
                    lines.append(
                        f"Tariff shift {ts.required}: not met by {failing} (value {value}, "
                        "above the de minimis or excluded from it by Annex 4-A).")
        lines.extend(f"Note: {note}." for note in evaluation.notes)
        for k, ev in sorted(self.designated.items(), key=lambda pair: self.items[pair[0]].id):
            item = self.items[k]
            if ev.originating:
                lines.append(f"Intermediate material {item.id!r} (designated, Art. 4.8) "
                             f"qualifies under {self.designated_rules[k].title} and enters at "
                             f"its total cost {format_money(self.cost[k])} as originating.")
            else:
                lines.append(f"Intermediate material {item.id!r} (designated, Art. 4.8) does "
                             f"not qualify under {self.designated_rules[k].title}: its whole "
                             f"total cost {format_money(self.cost[k])} is non-originating; "
                             "without the designation it would be traced instead.")
        lines.extend(self.statement_notes)
        flags = self.flags
        if flags["packing"]:
            lines.append(f"{flags['packing']} packing material(s) for shipment disregarded "
                         "(Art. 4.16).")
        if flags["indirect"]:
            lines.append(f"{flags['indirect']} indirect material(s) treated as originating "
                         "(Art. 4.9).")
        if flags["unknown"]:
            lines.append(f"{flags['unknown']} material(s) of unknown origin counted as "
                         "non-originating.")
        for requirement in requirements:
            status = {True: "met", False: "NOT met", None: "not evaluated"}[requirement.passed]
            lines.append(f"Vehicle requirement {requirement.name.replace('_', ' ')} "
                         f"[{requirement.reference}]: {status}: {requirement.detail}.")
        if originating:
            words = {"B": "produced from non-originating materials that satisfy the rule",
                     "C": "produced exclusively from originating materials",
                     "D": "Art. 4.2(d)"}[criterion or "B"]
            lines.append(f"Conclusion: {good.id!r} is ORIGINATING, criterion {criterion} "
                         f"({words}).")
        else:
            reasons = []
            if not evaluation.originating:
                reasons.append("the product-specific requirement is not met")
            reasons += [f"{r.name.replace('_', ' ')} "
                        f"{'not met' if r.passed is False else 'not evaluated'}"
                        for r in requirements if not r.passed]
            lines.append(f"Conclusion: {good.id!r} is NOT originating: {'; '.join(reasons)}.")
        return lines
