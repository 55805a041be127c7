"""Deciding a rule with alternatives: what the outcomes of (A), (B)... amount to.

The engine evaluates every alternative of a product-specific rule that it can (each is a
tariff shift and/or an RVC, `origin_rules.engine`); this module decides from those
outcomes, and says why, in the words of SOR/2020-155 s.3(6) ("if the product-specific rule
... provides for alternative rules, the good is originating if it satisfies one of them"):

* the alternatives apply per goods description (`AppliedRule.goods_groups`): a rule for
  "mounted brake linings" (A)-(B) and "any other good" (C)-(D) asks which the good is.
  When every description leads to the same verdict the engine decides without asking;
  otherwise it raises `AmbiguousRuleError`, and the document says which (`psr_goods`);
* an alternative whose text the engine cannot evaluate (`AppliedRule.unsupported`) is
  never taken as met nor as failed: if another alternative is met the good is
  originating (and the determination names the one not evaluated); if none is, the
  verdict would rest on the clause, and `UnsupportedRuleError` names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from origin_rules.bom import BillOfMaterials, Method
from origin_rules.determination import MethodResult, TariffShiftResult
from origin_rules.errors import AmbiguousRuleError, BomError, UnsupportedRuleError
from origin_rules.explain import Reason
from origin_rules.rules import AppliedRule
from origin_rules.values import format_money, format_percent

__all__ = ["AlternativeOutcome", "Decision", "alternative_summary", "decide_alternatives",
           "document_choice"]

_METHOD_WORDS = {Method.NET_COST: "net cost", Method.TRANSACTION_VALUE: "transaction value"}


@dataclass(frozen=True, slots=True)
class AlternativeOutcome:
    """One alternative and its evaluation; `met` is None when it could not be evaluated."""

    rule: AppliedRule
    met: bool | None
    criterion: str | None
    results: tuple[MethodResult, ...] = ()
    tariff_shift: TariffShiftResult | None = None
    rvc_exempt: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What the alternatives amount to: the verdict, the alternative that qualified the
    good (an index into the rule's alternatives), those whose figures are worth showing,
    and one note per alternative.
    """

    originating: bool
    chosen: int | None
    shown: tuple[int, ...]
    notes: tuple[Reason, ...]


def document_choice(bom: BillOfMaterials, key: str) -> str | None:
    """A top-level string the document may give to choose a product-specific rule
    (`psr_provision`, `psr_goods`; docs/bom-format.md). Kept by the readers among the
    document's extensions.
    """
    value = bom.extensions.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BomError(f"field {key!r} must be a non-empty string, got {value!r}", path=key)
    return value.strip()


def alternative_summary(rule: AppliedRule) -> str:
    """``(B) for mounted brake linings: a change from any other heading ... (CTH ...) and
    RVC net cost 50 %``, in the words of the engine's explanation.
    """
    parts = []
    shift = rule.shift
    if shift is not None and (shift.sources or shift.exceptions or shift.outside_group
                              or shift.level is None):
        parts.append(f"{rule.shift_label}")
    elif rule.has_tariff_shift:
        parts.append(f"{rule.shift_label} ({rule.shift_code})")
    elif rule.product_rule is not None and rule.category is None:
        parts.append("no change in tariff classification required")
    if rule.rvc:
        parts.append("RVC " + ", ".join(f"{_METHOD_WORDS[t.method]} {t.min} %"
                                        for t in rule.rvc))
    text = " and ".join(parts) or "production in the territory of the Parties"
    if rule.unsupported:
        text = "not evaluated by the engine: " + "; ".join(rule.unsupported)
    goods = f"for {rule.goods}: " if rule.goods else ""
    return f"{rule.name} {goods}{text}"


def _name(rule: AppliedRule) -> str:
    """The alternative's printed letter or label, "" for a rule without alternatives."""
    return rule.name if rule.label else ""


def _details(outcome: AlternativeOutcome, criterion_d_reference: str | None
             ) -> tuple[tuple[str, ...], ...]:
    """The findings behind one alternative's verdict, as records (`origin_rules.explain`
    words them): the shift, the RVC per method, the RVC de minimis.
    """
    found: list[tuple[str, ...]] = []
    shift = outcome.tariff_shift
    if shift is not None and shift.required is not None:
        if shift.passed:
            found.append(("shift_met_de_minimis",) if shift.failing_materials
                         else ("shift_met",))
        else:
            found.append(("shift_not_met", ", ".join(shift.failing_materials[:5]),
                          format_money(shift.failing_value or Decimal(0))))
    for result in outcome.results:
        # the Art. 4.2(d) RVC, when the alternative's shift fails only for parts of the
        # good's own subheading, is not the alternative's own
        which = ("rvc_d" if criterion_d_reference
                 and result.reference == criterion_d_reference else "rvc")
        found.append((which, format_percent(result.rvc), result.method.value,
                      ">=" if result.passed else "<", str(result.threshold)))
    if outcome.rvc_exempt:
        found.append(("rvc_exempt",))
    return tuple(found)


def decide_alternatives(rule: AppliedRule, outcomes: Sequence[AlternativeOutcome], *,
                        hs: str, as_of: date, cite: Callable[[str], str],
                        criterion_d_reference: str | None = None) -> Decision:
    """The verdict of a rule with alternatives from their outcomes (see the module doc).

    Results carrying `criterion_d_reference` are named as Art. 4.2(d)'s in the notes;
    `cite` gives the rule set's citations (`RuleSet.cite`) the notes make.
    """
    position = {id(alt): n for n, alt in enumerate(rule.alternatives)}
    notes = []
    for outcome in outcomes:
        if outcome.met is None:
            notes.append(Reason("alternative.not_evaluated", {
                "name": _name(outcome.rule), "clauses": "; ".join(outcome.rule.unsupported)},
                rule.reference))
        else:
            verdict = "met" if outcome.met else "not_met"
            if outcome.met and outcome.criterion == "D":
                verdict = "met_d"
            notes.append(Reason("alternative.outcome", {
                "summary": alternative_summary(outcome.rule),
                "labelled": "true" if outcome.rule.label else "false", "verdict": verdict,
                "details": _details(outcome, criterion_d_reference),
                "criterion_d_reference": cite("criterion_d"),
                "de_minimis_reference": cite("shift_de_minimis")}, rule.reference))
    verdicts: list[tuple[str | None, bool | None, list[int], list[int]]] = []
    for name, alternatives in rule.goods_groups():
        members = [position[id(alt)] for alt in alternatives]
        # an alternative met under criterion B before one met only through Art. 4.2(d)
        met = sorted((n for n in members if outcomes[n].met),
                     key=lambda n: outcomes[n].criterion == "D")
        blocked = [n for n in members if outcomes[n].met is None]
        status: bool | None = True if met else (None if blocked else False)
        verdicts.append((name, status, met, blocked))
    undecided = [v for v in verdicts if v[1] is None]
    if undecided:
        clauses = tuple(clause for v in undecided for n in v[3]
                        for clause in outcomes[n].rule.unsupported)
        names = ", ".join(outcomes[n].rule.name for v in undecided for n in v[3])
        goods = "".join(f" for {v[0]!r}" for v in undecided if v[0] is not None)
        raise UnsupportedRuleError(
            f"{rule.reference}{goods}: no alternative the engine can evaluate is met, and "
            f"alternative {names} cannot be evaluated ({'; '.join(clauses)}); the good's "
            "origin under this rule cannot be determined by the engine: decide it from the "
            "rule's text and give the good an explicit 'rule'",
            clauses=clauses, hs=hs, as_of=as_of)
    if len({v[1] for v in verdicts}) > 1:
        words = "; ".join(
            f"{v[0]!r}: " + (f"met by {', '.join(outcomes[n].rule.name for n in v[2])}"
                             if v[1] else "no alternative met") for v in verdicts)
        raise AmbiguousRuleError(
            f"{rule.reference}: the verdict depends on which goods the good is ({words}); "
            "say which in 'psr_goods' (words of the description, or the letter of an "
            "alternative)", hs=hs, as_of=as_of)
    evaluated = tuple(n for n, o in enumerate(outcomes) if o.met is not None)
    if verdicts[0][1]:
        chosen = verdicts[0][2][0]
        notes.append(Reason("alternative.qualifies", {
            "name": _name(outcomes[chosen].rule), "rule_reference": rule.reference},
            cite("alternatives")))
        if len(verdicts) > 1:
            notes.append(Reason("alternative.whichever", {
                "goods": "; ".join(repr(v[0]) for v in verdicts)}))
        return Decision(True, chosen, (chosen, *evaluated), tuple(notes))
    return Decision(False, None, evaluated, tuple(notes))
