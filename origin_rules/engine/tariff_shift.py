"""The tariff shift and de minimis: Art. 4.2(b), Art. 4.12 and Annex 4-A (SOR/2020-155 s.5).

* **Tariff shift (Art. 4.2(b); s.3(2)).** Each non-originating material used in the good
  must change classification as the rule says (`AppliedRule.shift_allows`): chapter (CC),
  heading (CTH) or subheading (CTSH), and come from none of the excepted HS prefixes; or,
  for a product-specific rule of Annex 4-B, its shift with excepted provisions, allowed
  sources (tariff items, ranges) and groups. Retail packaging (Art. 4.15) is
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

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Item, ItemKind, ShiftView
from origin_rules.determination import TariffShiftResult
from origin_rules.engine import valuation
from origin_rules.explain import Reason
from origin_rules.rules import AppliedRule, DeMinimisExclusion
from origin_rules.values import hs_digits

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["criterion_d_excluded", "evaluate_tariff_shift", "rvc_de_minimis"]

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(slots=True)
class _Test:
    """What the tariff shift is applied to: the rule (its shift, level and exceptions, or
    a product-specific shift with excepted provisions, allowed sources or groups), the
    good's digits, and the exceptions as the result reports them.

    Both questions depend on the material's HS code alone (for this rule and good), and a
    BOM has far fewer codes than materials: each answer is kept per code, for the one
    evaluation the test belongs to.
    """

    rule: AppliedRule
    good_digits: str
    excepted: tuple[str, ...]
    exclusions: tuple[DeMinimisExclusion, ...] = ()
    #: per material HS code: fails the shift (`fails`); Annex 4-A blocks it (`blocks`)
    failures: dict[str, bool] = field(default_factory=dict)
    blocked: dict[str, bool] = field(default_factory=dict)

    def fails(self, hs: str) -> bool:
        """Whether a non-originating material of `hs` does not make the required change."""
        known = self.failures.get(hs)
        if known is None:
            known = self.failures[hs] = not self.rule.shift_allows(hs_digits(hs),
                                                                   self.good_digits)
        return known

    def blocks(self, hs: str) -> bool:
        """Whether Annex 4-A keeps a material of `hs` out of the de minimis for the good."""
        known = self.blocked.get(hs)
        if known is None:
            digits = hs_digits(hs)
            known = self.blocked[hs] = any(e.excludes(self.good_digits, digits)
                                           for e in self.exclusions)
        return known


class _Traced:
    """Per traced self-produced material of one evaluation: one unit's total cost and
    whether a non-originating material reaches it; one bottom-up pass, on first use.
    """

    def __init__(self, engine: _Engine, i: int, reach: _Reach) -> None:
        self.engine, self.i, self.reach = engine, i, reach
        self.cost: dict[int, Decimal] = {}
        self.dirty: dict[int, bool] = {}

    def facts(self) -> tuple[dict[int, Decimal], dict[int, bool]]:
        if self.cost or len(self.reach.traced) < 2:
            return self.cost, self.dirty
        engine = self.engine
        items, children, cost, dirty = engine.items, engine.index.children, self.cost, self.dirty
        for node in reversed(self.reach.traced):
            if node == self.i:
                continue
            costs = items[node].costs
            total = costs.own if costs is not None else ZERO
            non_originating = False
            for k, qty in children[node]:
                if k in cost:
                    total += qty * cost[k]
                    non_originating = non_originating or dirty[k]
                else:
                    total += qty * engine.cost[k]
                    non_originating = (non_originating
                                       or valuation.is_non_originating(engine, k))
            cost[node], dirty[node] = total, non_originating
        return cost, dirty


def evaluate_tariff_shift(engine: _Engine, i: int, rule: AppliedRule, reach: _Reach,
                          total_cost: Decimal, tv_base: Decimal | None
                          ) -> tuple[TariffShiftResult, bool, Reason | None]:
    """Each non-originating material must change classification (retail packaging and
    disregarded materials excepted).

    Returns the result, whether every failing material is classified in the good's own
    subheading (Art. 4.2(d)), and a note when the s.3(8) views were weighed in vain.

    **SOR/2020-155 s.3(8):** a self-produced material may, at the producer's choice, be
    considered the material that undergoes the shift, instead of the non-originating
    materials used to produce it (s.3(9) Example 6: a material that changes heading
    qualifies the good even though one of its own inputs sits in the good's heading).
    The document states the choice per material (`tariff_shift_as`); where it says
    nothing the engine takes the favourable view: first every undecided material looked
    through (the result of the regulations' ordinary reading, s.7(5)(a)), then every one
    taken as the material, then each taken as the material exactly where that lowers the
    value that fails the shift. The first view that meets the shift is kept; failing
    that, the first whose failing materials are all of the good's own subheading (so
    that Art. 4.2(d) stays open); failing that, the first. The favourable view thus never
    qualifies less than either uniform view. The choice concerns the tariff shift only:
    VNM, and so the RVC, is the same in every view (s.7(5)(a) traces a material that is
    not designated, whatever the choice).
    """
    required = rule.shift_code
    assert required is not None
    test = _Test(rule, hs_digits(engine.items[i].hs), rule.shift_exceptions,
                 engine.rule_set.de_minimis.exclusions)
    chooser = [k for k in reach.traced if k != i]
    items = engine.items
    traced = _Traced(engine, i, reach)
    chosen = {k for k in chooser if items[k].tariff_shift_as is ShiftView.MATERIAL}
    undecided = [k for k in chooser if items[k].tariff_shift_as is None]
    stated = len(chooser) > len(undecided)
    if not chosen:  # the ordinary view: the materials at the ends of the traced paths
        frontier: list[tuple[int, Decimal]] | None = None
        first = _shift_result(engine, traced, test, required, reach, None, total_cost, tv_base)
    else:
        frontier = _frontier(engine, i, reach, chosen)
        first = _shift_result(engine, traced, test, required, reach, frontier, total_cost,
                              tv_base)
    by = "document" if stated else None
    if first[0].passed or not undecided:
        return _with_view(engine, first, _reached(chosen, frontier), by), first[1], None
    views = [first]
    choices = [chosen]
    everything = chosen | set(undecided)
    views.append(_shift_result(engine, traced, test, required, reach,
                               _frontier(engine, i, reach, everything), total_cost, tv_base))
    choices.append(everything)
    mixed = _favourable_choice(engine, traced, test)
    if mixed not in choices:
        views.append(_shift_result(engine, traced, test, required, reach,
                                   _frontier(engine, i, reach, mixed), total_cost, tv_base))
        choices.append(mixed)
    pick = next((n for n, v in enumerate(views) if v[0].passed),
                next((n for n, v in enumerate(views) if v[1]), 0))
    result, same = views[pick]
    if pick == 0:
        note = Reason("shift.views_fail", {}, engine.rule_set.cite("self_produced_choice"))
        return _with_view(engine, (result, same), _reached(chosen, frontier), by), same, note
    reached = _reached(choices[pick], _frontier(engine, i, reach, choices[pick]))
    return _with_view(engine, (result, same), reached, "favourable"), same, None


def _reached(chosen: set[int], frontier: list[tuple[int, Decimal]] | None) -> set[int]:
    """The chosen materials the shift actually examined (not those under another one)."""
    if frontier is None:
        return set()
    return {k for k, _ in frontier if k in chosen}


def _with_view(engine: _Engine, outcome: tuple[TariffShiftResult, bool], chosen: set[int],
               by: str | None) -> TariffShiftResult:
    """The result, naming the self-produced materials taken as the material (s.3(8))."""
    result = outcome[0]
    if by is None and not chosen:
        return result
    names = tuple(sorted(engine.items[k].id for k in chosen))
    return replace(result, as_material=names, view_chosen_by=by,
                   view_reference=engine.rule_set.cite("self_produced_choice"))


def _shift_result(engine: _Engine, traced: _Traced, test: _Test, required: str,
                  reach: _Reach,
                  frontier: list[tuple[int, Decimal]] | None, total_cost: Decimal,
                  tv_base: Decimal | None) -> tuple[TariffShiftResult, bool]:
    """The shift over `frontier` (material, units per unit of the good), or over the
    materials of `reach` when None; with its de minimis (Art. 4.12; s.5(1), (3)).
    """
    items = engine.items
    failing: list[tuple[int, Decimal]] = []
    if frontier is None:  # the ordinary view: the examined materials, by code, once per good
        by_code = reach.shift_codes
        if by_code is None:
            by_code = reach.shift_codes = _examined_by_code(engine, traced, reach.materials)
        materials = reach.materials
        positions = sorted(p for hs, at in by_code.items() if test.fails(hs) for p in at)
        failing = [(k, reach.of(k)) for k in (materials[p] for p in positions)]
    else:
        for k, amount in frontier:
            if _examined(engine, traced, k) and test.fails(items[k].hs):
                failing.append((k, amount))
    excepted = test.excepted
    if not failing:
        return TariffShiftResult(required, True, excepted_prefixes=excepted), False
    value = sum((amount * _value(engine, traced, k) for k, amount in failing), ZERO)
    de_minimis = engine.rule_set.de_minimis
    good_digits = test.good_digits
    blocked = any(test.blocks(items[k].hs) for k, _ in failing)
    within = any(base is not None and base > 0 and value * HUNDRED <= de_minimis.percent * base
                 for base in (total_cost, tv_base))
    ids = tuple(items[k].id for k, _ in failing)
    same = all(hs_digits(items[k].hs)[:6] == good_digits[:6] for k, _ in failing)
    passed = within and not blocked
    return TariffShiftResult(required, passed, ids, value, passed, excepted), same


def _examined(engine: _Engine, traced: _Traced, k: int) -> bool:
    """Whether the shift examines material `k`: a non-originating material (retail
    packaging excepted, Art. 4.15), or a self-produced one that a non-originating material
    reaches (looked through or taken as the material, s.3(8)).
    """
    material = engine.items[k]
    if engine.foreign[k]:  # a non-originating bought material (most of them, in most BOMs)
        return not material.retail_packaging
    if material.kind is ItemKind.BOUGHT:
        return False  # originating, indirect or packing
    if not material.intermediate:
        return traced.facts()[1][k]  # not produced exclusively from originating materials
    return not (material.retail_packaging or engine.designated[k].originating)


def _examined_by_code(engine: _Engine, traced: _Traced, materials: list[int]
                      ) -> dict[str, list[int]]:
    """The examined materials of the ordinary view, as positions in `materials`, by HS
    code. Which materials are examined does not depend on the rule, and whether one fails
    depends on its code alone: each alternative of a rule then asks once per code, not
    once per material (a BOM has far fewer codes than materials).
    """
    items, foreign = engine.items, engine.foreign
    by_code: dict[str, list[int]] = {}
    for p, k in enumerate(materials):
        material = items[k]
        if foreign[k]:  # inlined `_examined` for the usual case
            if material.retail_packaging:
                continue
        elif not _examined(engine, traced, k):
            continue
        at = by_code.get(material.hs)
        if at is None:
            by_code[material.hs] = [p]
        else:
            at.append(p)
    return by_code


def _value(engine: _Engine, traced: _Traced, k: int) -> Decimal:
    """Value of one unit of a failing material: a traced self-produced material taken as
    the material counts at its total cost (s.8(1)(c)), like a designated one.
    """
    item = engine.items[k]
    if item.kind is ItemKind.MADE and not item.intermediate:
        return traced.facts()[0][k]
    return valuation.material_value(engine, k)


def _frontier(engine: _Engine, i: int, reach: _Reach, chosen: set[int]
              ) -> list[tuple[int, Decimal]]:
    """Materials the shift examines when the self-produced materials `chosen` are taken as
    materials: quantities from `i` down the traced paths, stopping at a chosen one.
    """
    children = engine.index.children
    quantity: dict[int, Decimal] = {i: ONE}
    out: list[tuple[int, Decimal]] = []
    for node in reach.traced:  # topological: a node's quantity is final when it is met
        amount = quantity.get(node)
        if amount is None:
            continue
        if node != i and node in chosen:
            out.append((node, amount))
            continue
        for k, qty in children[node]:
            quantity[k] = quantity.get(k, ZERO) + amount * qty
    traced = set(reach.traced)
    out.extend((k, amount) for k in reach.materials
               if k not in traced and (amount := quantity.get(k)) is not None)
    return out


def _favourable_choice(engine: _Engine, traced: _Traced, test: _Test) -> set[int]:
    """Each undecided self-produced material taken as the material exactly where that
    lowers what fails the shift, per unit of it: a material whose view blocks the de
    minimis (Annex 4-A) counts as failing without limit. Children first, so each
    material's best is known when its parents weigh theirs; the document's choices stand.
    """
    items, children = engine.items, engine.index.children
    cost, dirty = traced.facts()
    best: dict[int, tuple[bool, Decimal]] = {}
    chosen: set[int] = set()
    blocks = test.blocks
    for node in reversed(traced.reach.traced):
        if node == traced.i:
            continue
        blocked, value = False, ZERO
        for k, qty in children[node]:
            if k in best:
                b, v = best[k]
                blocked, value = blocked or b, value + qty * v
                continue
            material = items[k]
            if (valuation.is_non_originating(engine, k) and not material.retail_packaging
                    and test.fails(material.hs)):
                blocked = blocked or blocks(material.hs)
                value += qty * valuation.material_value(engine, k)
        item = items[node]
        as_material = (False, ZERO)
        if dirty[node] and test.fails(item.hs):
            as_material = (blocks(item.hs), cost[node])
        through = (blocked, value)
        if item.tariff_shift_as is ShiftView.MATERIAL or (
                item.tariff_shift_as is None and as_material < through):
            chosen.add(node)
            best[node] = as_material
        else:
            best[node] = through
    return chosen


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
