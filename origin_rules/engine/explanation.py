"""The explanation of a determination, in English: one statement per line.

Each line states a fact the determination rests on and the provision it comes from: the
rule and the rule set, each RVC method with its figures (Art. 4.5), the RVC de minimis
(s.5(4)), the tariff shift and its de minimis (Art. 4.2(b), 4.12), the designated
intermediate materials (Art. 4.8), accumulation statements (Art. 4.11), materials
disregarded or treated as originating (Art. 4.9, 4.16), the vehicle requirements, and the
conclusion with its Annex 5-A origin criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import Item, Method
from origin_rules.determination import Requirement
from origin_rules.engine.rvc import METHOD_WORDS
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
            criterion: str | None) -> list[str]:
    """The determination's explanation lines, in the order a reader checks them."""
    lines = []
    thresholds = ", ".join(
        f"{METHOD_WORDS[t.method]} {t.min} %"
        + (f" (in force from {t.valid_from.isoformat()})" if t.valid_from else "")
        for t in rule.rvc)
    shift = f"{rule.shift_label} ({rule.shift_code})" if rule.has_tariff_shift else None
    needs = " and ".join(filter(None, [shift, thresholds and f"RVC {thresholds}"]))
    if rule.has_tariff_shift and rule.rvc and rule.combine == "any":
        needs = f"{shift} or RVC {thresholds}"
    if rule.alternatives:
        needs = "; or ".join(alternative_summary(alt) for alt in rule.alternatives)
    lines.append(f"Rule: {rule.title} [{rule.reference}], rule set {rule.rule_set}, on "
                 f"{engine.as_of.isoformat()}: {needs}.")
    lines.extend(f"Note: {note}." for note in rule.notes)
    if rule.category is not None and rule.category.note:
        lines.append(f"Scope: {rule.category.note}.")
    for result in evaluation.results:
        base_words = ("net cost = total cost - excluded costs"
                      if result.method is Method.NET_COST
                      else "transaction value less international shipping")
        verdict = "meets" if result.passed else "falls short of"
        room = (f"it can absorb {format_money(result.headroom)} {engine.bom.currency} more "
                "of non-originating materials before failing"
                if result.headroom >= 0 else
                f"it needs {format_money(-result.headroom)} {engine.bom.currency} less of "
                "non-originating materials to pass")
        under = (f" (Art. 4.2(d) threshold, {result.reference})"
                 if result.reference == engine.rule_set.criterion_d_reference else "")
        lines.append(
            f"{METHOD_WORDS[result.method].capitalize()}{under}: base "
            f"{format_money(result.base)} "
            f"({base_words}), VNM {format_money(result.vnm)}, RVC "
            f"{format_percent(result.rvc)} % {verdict} {result.threshold} % "
            f"(margin {format_percent(result.margin)} points); {room}.")
        if result.contributors:
            shown = "; ".join(f"{c.item} ({c.hs}) {format_money(c.vnm)} = "
                              f"{format_percent(c.share)} %" for c in result.contributors)
            lines.append(f"Largest VNM under {METHOD_WORDS[result.method]}: {shown}.")
    if evaluation.rvc_exempt:
        lines.append("RVC de minimis (Art. 4.12; SOR/2020-155 s.5(4)): all non-originating "
                     f"materials are at most {engine.rule_set.de_minimis.percent} % of the "
                     "transaction value or total cost, so the RVC requirement need not be "
                     "met.")
    ts = evaluation.tariff_shift
    if ts.view_chosen_by is not None:
        taken = ", ".join(repr(m) for m in ts.as_material[:10]) or "none"
        whose = ("as the document chooses" if ts.view_chosen_by == "document" else
                 "the favourable view, the document stating no choice")
        lines.append(f"Self-produced materials taken as the materials that undergo the "
                     f"tariff shift (SOR/2020-155 s.3(8)), {whose}: {taken}; every other "
                     "self-produced material is looked through to its inputs.")
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
                    f"{engine.rule_set.de_minimis.percent} % (Art. 4.12); their value stays "
                    "in VNM.")
            else:
                lines.append(
                    f"Tariff shift {ts.required}: not met by {failing} (value {value}, "
                    "above the de minimis or excluded from it by Annex 4-A).")
    lines.extend(f"Note: {note}." for note in evaluation.notes)
    for k, ev in sorted(engine.designated.items(), key=lambda pair: engine.items[pair[0]].id):
        item = engine.items[k]
        if ev.originating:
            lines.append(f"Intermediate material {item.id!r} (designated, Art. 4.8) "
                         f"qualifies under {engine.designated_rules[k].title} and enters at "
                         f"its total cost {format_money(engine.cost[k])} as originating.")
        else:
            lines.append(f"Intermediate material {item.id!r} (designated, Art. 4.8) does "
                         f"not qualify under {engine.designated_rules[k].title}: its whole "
                         f"total cost {format_money(engine.cost[k])} is non-originating; "
                         "without the designation it would be traced instead.")
    lines.extend(engine.statement_notes)
    flags = engine.flags
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
