"""The reasons of a determination, and their English rendering, its explanation.

Each line states a fact the determination rests on and the provision it comes from: under
a hypothetical rule set (`origin_rules.scenarios`), first, that it is a what-if; the
rule and the rule set, each RVC method with its figures (Art. 4.5), the RVC de minimis
(s.5(4)), the tariff shift and its de minimis (Art. 4.2(b), 4.12), the designated
intermediate materials (Art. 4.8), accumulation statements (Art. 4.11), materials
disregarded or treated as originating (Art. 4.9, 4.16), the vehicle requirements, and the
conclusion with its Annex 5-A origin criterion. Each is an `origin_rules.explain.Reason`
(code, values, reference); `origin_rules.explain` renders them, in English for the
`explanation` and in Spanish or French on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Item
from origin_rules.determination import Requirement
from origin_rules.explain import Reason, Value
from origin_rules.product_rule_engine import alternative_summary
from origin_rules.rules import AppliedRule
from origin_rules.values import format_money, format_percent

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine
    from origin_rules.engine.criteria import _Evaluation

__all__ = ["explain"]

ZERO = Decimal(0)


def explain(engine: _Engine, good: Item, rule: AppliedRule, evaluation: _Evaluation,
            requirements: Sequence[Requirement], originating: bool,
            criterion: str | None) -> list[Reason]:
    """The determination's reasons, in the order a reader checks them."""
    rule_set = engine.rule_set
    cite = rule_set.cite
    reasons: list[Reason] = []
    scenario = rule_set.scenario
    if scenario is not None:
        # First, before anything else is read: this is a what-if, not the rules in force.
        reasons.append(Reason("scenario", {
            "name": scenario.name, "rule_set": rule_set.rule_set, "title": scenario.title,
            "based_on": scenario.based_on, "as_of": engine.as_of.isoformat(),
            "changes": str(len(scenario.changes))}, scenario.reference))
    reasons.append(Reason("rule", {
        "title": rule.title, "rule_set": rule.rule_set, "as_of": engine.as_of.isoformat(),
        "shift": (rule.shift_code or "") if rule.has_tariff_shift else "",
        # The product-specific rule's own words for its shift and its alternatives are
        # the rule text (English, as GN 11 prints it), carried as data.
        "shift_label": (rule.shift_label or "") if rule.has_tariff_shift else "",
        "alternatives": ("; or ".join(alternative_summary(alt) for alt in rule.alternatives)
                         if rule.alternatives else ""),
        "combine": rule.combine,
        "thresholds": tuple((t.method.value, str(t.min),
                             t.valid_from.isoformat() if t.valid_from else "")
                            for t in rule.rvc)}, rule.reference))
    reasons.extend(rule.reasons)  # the selection's notes (``rule.note.*``)
    if rule.category is not None and rule.category.note:
        reasons.append(Reason("rule.scope", {"note": rule.category.note},
                              rule.category.reference))
    currency = engine.bom.currency
    for result in evaluation.results:
        values: dict[str, Value] = {
            "method": result.method.value, "base": format_money(result.base),
            "vnm": format_money(result.vnm), "rvc": format_percent(result.rvc),
            "threshold": str(result.threshold), "margin": format_percent(result.margin),
            "passed": "true" if result.passed else "false",
            "room": "absorb" if result.headroom >= 0 else "needs",
            "amount": format_money(abs(result.headroom)), "currency": currency,
            "criterion_d": ("true" if result.reference == rule_set.criterion_d_reference
                            else "false")}
        if values["criterion_d"] == "true":
            values["criterion_d_reference"] = cite("criterion_d")
        reasons.append(Reason("rvc.result", values, result.reference))
        if result.contributors:
            reasons.append(Reason("rvc.contributors", {
                "method": result.method.value,
                "contributors": tuple((c.item, c.hs, format_money(c.vnm),
                                       format_percent(c.share))
                                      for c in result.contributors)}, result.reference))
    if evaluation.rvc_exempt:
        reasons.append(Reason("rvc.de_minimis", {
            "percent": str(rule_set.de_minimis.percent),
            "de_minimis_reference": cite("rvc_de_minimis")}, rule_set.de_minimis.reference))
    ts = evaluation.tariff_shift
    if ts.view_chosen_by is not None:
        reasons.append(Reason("shift.view", {
            "chosen_by": f"view.{ts.view_chosen_by}",
            "taken": ", ".join(repr(m) for m in ts.as_material[:10])},
            cite("self_produced_choice")))
    if ts.required is not None:
        if ts.passed and not ts.failing_materials:
            reasons.append(Reason("shift.met", {"required": ts.required}, rule.reference))
        else:
            values = {"required": ts.required, "failing": ", ".join(ts.failing_materials[:10]),
                      "value": format_money(ts.failing_value or ZERO),
                      "percent": str(rule_set.de_minimis.percent)}
            if ts.passed:
                values["de_minimis_reference"] = cite("shift_de_minimis")
            else:
                values["exclusions_reference"] = cite("de_minimis_exclusions")
            reasons.append(Reason("shift.de_minimis" if ts.passed else "shift.not_met", values,
                                  rule_set.de_minimis.reference))
    reasons.extend(evaluation.notes)
    for k, ev in sorted(engine.designated.items(), key=lambda pair: engine.items[pair[0]].id):
        reasons.append(Reason(
            "intermediate.qualifies" if ev.originating else "intermediate.fails",
            {"item": engine.items[k].id, "rule": engine.designated_rules[k].title,
             "cost": format_money(engine.cost[k]),
             "intermediate_reference": cite("intermediate")},
            engine.designated_rules[k].reference))
    reasons.extend(engine.statement_notes)
    flags = engine.flags
    for flag in ("packing", "indirect", "unknown"):
        if flags[flag]:
            reasons.append(Reason(flag, {"count": str(flags[flag])},
                                  None if flag == "unknown" else cite(flag)))
    status_words = {True: "met", False: "not_met", None: "not_evaluated"}
    for requirement in requirements:
        finding = requirement.finding
        reasons.append(Reason("requirement", {
            "name": requirement.name, "status": status_words[requirement.passed],
            "detail": requirement.detail,
            **({"detail_code": finding.code, **finding.values} if finding else {})},
            requirement.reference))
    if originating:
        kind = criterion or "B"
        reasons.append(Reason("conclusion.originating",
                              {"good": good.id, "criterion": str(criterion), "kind": kind},
                              cite(f"criterion_{kind.lower()}")))
    else:
        reasons.append(Reason("conclusion.not_originating", {
            "good": good.id, "rule_met": "true" if evaluation.originating else "false",
            "requirements": tuple((r.name, "not_met" if r.passed is False else "not_evaluated")
                                  for r in requirements if not r.passed)}))
    return reasons
