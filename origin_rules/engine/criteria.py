"""The originating criteria: Art. 4.2 (SOR/2020-155 s.3), applied to one item.

A rule of Annex 4-B is a tariff shift, an RVC, or both (`combine` = ``all``), or
alternatives (``any``, s.3(6): meeting one suffices). `evaluate` combines
`tariff_shift` and `rvc` into:

* **criterion B (Art. 4.2(b))**: the rule is met (`core` turns B into **C**, Art. 4.2(c),
  when no non-originating material reaches the good);
* **criterion D (Art. 4.2(d); s.3(4))**: the shift fails only for parts of the good's own
  subheading, and the RVC meets the rule set's criterion-D thresholds;
* the RVC de minimis of s.5(4) exempting the good from the RVC requirement.

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
    notes: tuple[str, ...]


def evaluate(engine: _Engine, i: int, rule: AppliedRule, methods: Sequence[Method], *,
             reach: _Reach | None, contributors: bool) -> _Evaluation:
    """Apply `rule` to item `i` (the good, a designated intermediate, a core part)."""
    item = engine.items[i]
    total_cost, own_excluded, own_nc, own_tv = engine.totals(i, reach)
    tv_base = None
    if item.transaction_value is not None:
        tv_base = item.transaction_value - (item.international_shipping or ZERO)
    notes: list[str] = []

    # Tariff shift, its de minimis and the Art. 4.2(d) fallback.
    shift = TariffShiftResult(required=None, passed=None)
    shift_ok = True
    same_subheading_only = False
    if rule.tariff_shift is not None:
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
        notes.append("no RVC method could be evaluated")

    if rule.tariff_shift is not None and rule.rvc:
        satisfied = (shift_ok and (rvc_ok or rvc_exempt) if rule.combine == "all"
                     else shift_ok or rvc_ok or rvc_exempt)
    elif rule.tariff_shift is not None:
        satisfied = shift_ok
    else:
        satisfied = rvc_ok or rvc_exempt
    criterion = "B" if satisfied else None
    subject_to_rvc = bool(rule.rvc) and (rule.tariff_shift is None or rule.combine == "all"
                                         or not shift_ok)

    if (not satisfied and same_subheading_only
            and not tariff_shift.criterion_d_excluded(engine, item)):
        rule_set = engine.rule_set
        criterion_d = rule_set.criterion_d
        d_results = tuple(
            rvc_module.regional_value_content(
                engine, item, method, *bases[method],
                Threshold(method, criterion_d[method], None, rule_set.criterion_d_reference),
                reach if contributors else None)
            for method in (methods or (Method.NET_COST,)) if method in bases
        )
        if Method.TRANSACTION_VALUE not in rule.methods:
            notes.append(
                "Art. 4.2(d) by net cost only: its RVC is computed under Art. 4.5 / s.7, "
                "and s.7(6) allows the transaction value method only where the product-"
                "specific rule gives a transaction value requirement, which "
                f"{'this tariff-shift-only rule' if not rule.rvc else 'this rule'} does "
                f"not ({rule_set.criterion_d_methods_reference or 'SOR/2020-155 s.7(6)'})")
        if any(r.passed for r in d_results):
            notes.append(
                "the tariff shift fails only for parts classified in the good's own "
                f"subheading, so Art. 4.2(d) applies with RVC thresholds of "
                f"{criterion_d[Method.NET_COST]} % (net cost) / "
                f"{criterion_d[Method.TRANSACTION_VALUE]} % (transaction value) "
                f"({rule_set.criterion_d_reference})")
            return _Evaluation(True, "D", d_results, shift, False, True, tuple(notes))
        # Not met either: every method evaluated is reported, the rule's and Art. 4.2(d)'s
        # (the output's `results`, docs/bom-format.md), each with its own threshold.
        notes.append(
            "the tariff shift fails only for parts classified in the good's own subheading; "
            "the Art. 4.2(d) RVC falls short too "
            f"({rule_set.criterion_d_reference})")
        results.extend(d_results)
    return _Evaluation(satisfied, criterion, tuple(results), shift, rvc_exempt,
                       subject_to_rvc, tuple(notes))
