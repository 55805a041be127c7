"""The originating criteria: Art. 4.2 (SOR/2020-155 s.3), applied to one item.

A rule of Annex 4-B is a tariff shift, an RVC, or both (`combine` = ``all``), or
alternatives (``any``, s.3(6): meeting one suffices). `evaluate` combines
`tariff_shift` and `rvc` into:

* **criterion B (Art. 4.2(b))**: the rule is met (`core` turns B into **C**, Art. 4.2(c),
  when no non-originating material reaches the good);
* **criterion D (Art. 4.2(d); s.3(4))**: the shift fails only for parts of the good's own
  subheading, and the RVC meets the rule set's criterion-D thresholds;
* the RVC de minimis of s.5(4) exempting the good from the RVC requirement.

A product-specific rule of Annex 4-B may print alternatives (A), (B)... (a Table B or C
rule adds the product-specific rule's tariff-shift alternative beside the Table's RVC):
each one the engine can evaluate is evaluated as a rule of its own, and
`origin_rules.product_rule_engine.decide_alternatives` decides what their outcomes amount
to (s.3(6); goods descriptions; clauses the engine cannot evaluate). Each alternative is
one of the "alternative rules" of s.3(6): Art. 4.2(d) under it follows its own methods
(s.7(6)), and an alternative met under criterion B is preferred to one met only through
Art. 4.2(d). When none is met, `results` lists every method evaluated, the alternatives'
own RVC results before the Art. 4.2(d) ones.

It is used for the good, a designated intermediate material (Art. 4.8) and a core part
(Table A.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Method
from origin_rules.determination import MethodResult, TariffShiftResult
from origin_rules.engine import rvc as rvc_module
from origin_rules.engine import tariff_shift
from origin_rules.explain import Reason
from origin_rules.product_rule_engine import AlternativeOutcome, decide_alternatives
from origin_rules.rules import AppliedRule, Threshold

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["_Evaluation", "evaluate"]

ZERO = Decimal(0)


@dataclass(slots=True)
class _Evaluation:
    """Whether one item satisfies one rule (the good, an intermediate, a core part)."""

    originating: bool
    criterion: str | None
    results: tuple[MethodResult, ...]
    tariff_shift: TariffShiftResult
    rvc_exempt: bool
    subject_to_rvc: bool
    #: what the determination says beyond the figures (criterion D, the s.3(8) views, the
    #: alternatives weighed), as reasons
    notes: tuple[Reason, ...]


def evaluate(engine: _Engine, i: int, rule: AppliedRule, methods: Sequence[Method], *,
             reach: _Reach | None, contributors: bool) -> _Evaluation:
    """Apply `rule` to item `i` (the good, a designated intermediate, a core part)."""
    if rule.alternatives:
        return _evaluate_alternatives(engine, i, rule, methods, reach=reach,
                                      contributors=contributors)
    item = engine.items[i]
    total_cost, own_excluded, own_nc, own_tv = engine.totals(i, reach)
    tv_base = None
    if item.transaction_value is not None:
        tv_base = item.transaction_value - (item.international_shipping or ZERO)
    notes: list[Reason] = []

    # Tariff shift, its de minimis and the Art. 4.2(d) fallback.
    shift = TariffShiftResult(required=None, passed=None)
    shift_ok = True
    same_subheading_only = False
    if rule.has_tariff_shift:
        if reach is None:
            reach = engine.reach(i)
        shift, same_subheading_only, shift_note = tariff_shift.evaluate_tariff_shift(
            engine, i, rule, reach, total_cost, tv_base)
        shift_ok = bool(shift.passed)
        if shift_note:
            notes.append(shift_note)

    # RVC per method.
    bases = {Method.NET_COST: (total_cost - own_excluded, own_nc)}
    if tv_base is not None:
        bases[Method.TRANSACTION_VALUE] = (tv_base, own_tv)
    results = []
    for method in methods:
        threshold = rule.threshold(method)
        assert threshold is not None
        base, vnm = bases[method]
        results.append(rvc_module.regional_value_content(
            engine, item, method, base, vnm, threshold, reach if contributors else None))
    rvc_ok = any(r.passed for r in results)
    rvc_exempt = bool(rule.rvc) and tariff_shift.rvc_de_minimis(engine, total_cost, own_nc,
                                                                tv_base, own_tv)
    if rule.rvc and not results:
        notes.append(Reason("rvc.not_evaluated"))

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

    if (not satisfied and same_subheading_only
            and not tariff_shift.criterion_d_excluded(engine, item)):
        rule_set = engine.rule_set
        criterion_d = rule_set.criterion_d
        d_reference = rule_set.criterion_d_reference
        d_name = rule_set.cite("criterion_d")
        d_results = tuple(
            rvc_module.regional_value_content(
                engine, item, method, *bases[method],
                Threshold(method, criterion_d[method], None, rule_set.criterion_d_reference),
                reach if contributors else None)
            for method in (methods or (Method.NET_COST,)) if method in bases
        )
        if Method.TRANSACTION_VALUE not in rule.methods:
            # the transaction value method only where the rule gives a TV requirement
            # (the rule set's criterion_d.methods_reference says where that is written)
            which = "shift_only" if not rule.rvc else "rule"
            if rule.label:  # one alternative of a product-specific rule (s.3(6))
                which = "alternative"
            notes.append(Reason("criterion_d.net_cost_only", {
                "criterion_d_reference": d_name, "rule": which,
                "alternative": rule.name if rule.label else ""},
                rule_set.criterion_d_methods_reference or d_reference))
        if any(r.passed for r in d_results):
            notes.append(Reason("criterion_d.applies", {
                "criterion_d_reference": d_name,
                "net_cost": str(criterion_d[Method.NET_COST]),
                "transaction_value": str(criterion_d[Method.TRANSACTION_VALUE])},
                d_reference))
            return _Evaluation(True, "D", d_results, shift, False, True, tuple(notes))
        # Not met either: every method evaluated is reported, the rule's and Art. 4.2(d)'s
        # (the output's `results`, docs/bom-format.md), each with its own threshold.
        notes.append(Reason("criterion_d.falls_short", {"criterion_d_reference": d_name},
                            d_reference))
        results.extend(d_results)
    return _Evaluation(satisfied, criterion, tuple(results), shift, rvc_exempt,
                       subject_to_rvc, tuple(notes))


def _evaluate_alternatives(engine: _Engine, i: int, rule: AppliedRule,
                           methods: Sequence[Method], *, reach: _Reach | None,
                           contributors: bool) -> _Evaluation:
    """Alternatives (A), (B)...: each supported one is evaluated; meeting one suffices
    (SOR/2020-155 s.3(6)). `decide_alternatives` says what the outcomes amount to, and
    raises when they rest on a clause the engine cannot evaluate.

    Each alternative is evaluated with the methods it allows among `methods`.
    """
    if reach is None and any(alt.has_tariff_shift for alt in rule.alternatives):
        reach = engine.reach(i)
    evaluations: dict[int, _Evaluation] = {}
    outcomes: list[AlternativeOutcome] = []
    for n, alt in enumerate(rule.alternatives):
        if alt.unsupported:
            outcomes.append(AlternativeOutcome(alt, None, None))
            continue
        alt_methods = tuple(m for m in methods if alt.threshold(m) is not None)
        ev = evaluate(engine, i, alt, alt_methods, reach=reach, contributors=contributors)
        evaluations[n] = ev
        outcomes.append(AlternativeOutcome(alt, ev.originating, ev.criterion, ev.results,
                                           ev.tariff_shift, ev.rvc_exempt))
    d_reference = engine.rule_set.criterion_d_reference
    decision = decide_alternatives(rule, outcomes, hs=engine.items[i].hs, as_of=engine.as_of,
                                   criterion_d_reference=d_reference,
                                   cite=engine.rule_set.cite)
    shown = [evaluations[n] for n in decision.shown if n in evaluations]
    chosen = evaluations.get(decision.chosen) if decision.chosen is not None else None
    if chosen is not None:
        results = chosen.results
    else:
        # Not met: every method evaluated is reported (docs/bom-format.md), the
        # alternatives' own RVC results first, then Art. 4.2(d)'s, each once.
        every = [r for e in shown for r in e.results]
        results = tuple(dict.fromkeys([*(r for r in every if r.reference != d_reference),
                                       *(r for r in every if r.reference == d_reference)]))
    shift = chosen.tariff_shift if chosen else next(
        (e.tariff_shift for e in shown if e.tariff_shift.required is not None),
        TariffShiftResult(required=None, passed=None))
    # the notes of the evaluation that qualifies the good, else of every one evaluated
    # (the Art. 4.2(d) and s.3(8) notes), each once
    notes = (*dict.fromkeys(chosen.notes if chosen else (n for e in shown for n in e.notes)),
             *decision.notes)
    return _Evaluation(
        decision.originating, chosen.criterion if chosen else None, results, shift,
        chosen.rvc_exempt if chosen else False,
        chosen.subject_to_rvc if chosen else any(e.subject_to_rvc for e in shown), notes)
