"""A determination as an SME reads it: the engine's own figures, in the page's language.

The page shows what ``POST /v1/determinations`` answers (`origin_rules.determine_origin`
on the uploaded BOM), nothing it computes itself: originating or not and under which
criterion, per RVC method the RVC against its threshold with the threshold's legal
reference and date, the **headroom** (`MethodResult.headroom`: how much more
non-originating value one unit can take before it fails), the materials that weigh most
(`MethodResult.contributors`), every rule with its reference, and the engine's reasons
(`origin_rules.explain`) rendered in the page's language.

Display rules, so that a figure on the page never says more than the engine decided:

* money is the engine's exact amount (``format_money``: nothing rounded away, so a headroom
  spent exactly lands on the threshold), with the locale's separators and the ISO code of
  the document's currency ("MXN 33.875", "33,875 MXN");
* percentages are rounded down, never up, to two decimals (``format_percent`` truncates to
  six): "73.50 %" cannot hide a 69.999 that fails a 70 % threshold.

The chart (`ledger.web.chart`) is drawn from the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

from babel.numbers import format_decimal

from ledger.web.i18n import Translator
from origin_rules.bom import BillOfMaterials, ItemKind, Origin
from origin_rules.determination import Determination, MethodResult
from origin_rules.explain import render
from origin_rules.values import format_money

__all__ = ["ContributorView", "DeterminationView", "EvidenceRow", "MethodView", "ReasonView",
           "RuleView", "determination_view", "evidence_rows", "money", "percent"]

_CENT = Decimal("0.01")
MAX_EVIDENCE_ROWS = 100
"""Originating bought materials offered a supplier-token field on the page (a larger BOM
names its tokens in the file itself, ``evidence.token``)."""


def money(t: Translator, amount: Decimal, currency: str) -> str:
    """The engine's exact amount with the locale's separators and the currency's ISO code.

    ISO codes rather than symbols: "$" is a peso in Mexico and a dollar next door, and the
    people reading this page work across the border.
    """
    exact = Decimal(format_money(amount))
    number = format_decimal(exact, format="#,##0.00##########", locale=t.locale,
                            decimal_quantization=False)
    pattern = t.locale.currency_formats["standard"].pattern
    return f"{currency}\u00a0{number}" if pattern.lstrip("-").startswith("¤") \
        else f"{number}\u00a0{currency}"


def percent(t: Translator, value: Decimal, *, exact: bool = False) -> str:
    """A percentage as the locale writes numbers, truncated to two decimals ("73.50 %");
    `exact`: a rule's threshold, written with the digits it has ("62.5 %").
    """
    if exact:
        text = format_decimal(value, format="#,##0.##########", locale=t.locale)
    else:
        text = format_decimal(_floor(value), format="#,##0.00", locale=t.locale)
    return f"{text}\u00a0%"


def _floor(value: Decimal) -> Decimal:
    """`value` to two decimals, rounded down (a shown figure never exceeds the exact one)."""
    with localcontext() as context:
        context.prec = max(60, value.adjusted() + 10)
        return value.quantize(_CENT, rounding=ROUND_FLOOR)


@dataclass(frozen=True, slots=True)
class ContributorView:
    """A non-originating material that weighs in the VNM."""

    item: str
    description: str
    hs: str
    vnm: str
    share: str
    vnm_value: Decimal  # for the chart


@dataclass(frozen=True, slots=True)
class MethodView:
    """One RVC method: the RVC against its threshold, the headroom, the heaviest materials."""

    method: str  # net_cost | transaction_value
    name: str
    passed: bool
    verdict: str
    rvc: str
    threshold: str
    threshold_since: str
    reference: str
    base: str
    vnm: str
    originating_value: str
    margin: str
    headroom: str  # the sentence
    headroom_amount: str  # its amount, without sign
    has_room: bool  # the headroom is not negative (the method passes)
    contributors: tuple[ContributorView, ...]
    result: MethodResult


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule the determination applied, with its legal reference."""

    what: str
    text: str
    reference: str


@dataclass(frozen=True, slots=True)
class ReasonView:
    """One of the engine's reasons, in the page's language, with its reference."""

    text: str
    reference: str


@dataclass(frozen=True, slots=True)
class DeterminationView:
    """Everything the page says about a determination."""

    originating: bool
    headline: str
    criterion: str  # "B — produced from non-originating materials..." or ""
    good: str
    description: str
    hs: str
    as_of: str
    currency: str
    rule_set: str
    methods: tuple[MethodView, ...]
    rules: tuple[RuleView, ...]
    reasons: tuple[ReasonView, ...]


def _hs(code: str) -> str:
    digits = "".join(c for c in code if c.isdigit())
    return f"{digits[:4]}.{digits[4:6]}" if len(digits) >= 6 else code


def _method(t: Translator, result: MethodResult, currency: str) -> MethodView:
    name = t(f"sme.method.{result.method.value}")
    headroom = result.headroom
    amount = money(t, abs(headroom), currency)
    sentence = t("sme.headroom.room" if headroom >= 0 else "sme.headroom.short", amount=amount)
    since = t.date(result.threshold_valid_from) if result.threshold_valid_from else ""
    margin = _floor(result.margin)
    contributors = tuple(
        ContributorView(c.item, c.description, _hs(c.hs), money(t, c.vnm, currency),
                        percent(t, c.share), c.vnm)
        for c in result.contributors)
    return MethodView(
        method=result.method.value, name=name, passed=result.passed,
        verdict=t("sme.method.meets") if result.passed else t("sme.method.falls_short"),
        rvc=percent(t, result.rvc), threshold=percent(t, result.threshold, exact=True),
        threshold_since=since, reference=result.reference,
        base=money(t, result.base, currency), vnm=money(t, result.vnm, currency),
        originating_value=money(t, result.base - result.vnm, currency),
        margin=format_decimal(margin, format="+#,##0.00;-#,##0.00", locale=t.locale),
        headroom=sentence, headroom_amount=amount, has_room=headroom >= 0,
        contributors=contributors, result=result)


def _rules(t: Translator, determination: Determination,
           methods: tuple[MethodView, ...]) -> tuple[RuleView, ...]:
    rule = determination.rule
    rules = [RuleView(t("sme.rule.applied"), rule.title, rule.reference)]
    if rule.product_rule is not None:
        summary = rule.product_rule.summary()
        rules.append(RuleView(t("sme.rule.product_specific"),
                              t("sme.rule.provision", provision=summary["provision"],
                                since=t.date(summary["valid_from"])),
                              str(summary["reference"])))
    for method in methods:
        text = t("sme.rule.threshold", method=method.name, threshold=method.threshold)
        if method.threshold_since:
            text += " " + t("sme.rule.since", date=method.threshold_since)
        rules.append(RuleView(t("sme.rule.rvc"), text, method.reference))
    words = {True: "sme.rule.met", False: "sme.rule.not_met", None: "sme.rule.not_evaluated"}
    shift = determination.tariff_shift
    if shift.required is not None:
        rules.append(RuleView(t("sme.rule.shift"), f"{shift.required}: {t(words[shift.passed])}",
                              rule.reference))
    for requirement in determination.requirements:
        rules.append(RuleView(t("sme.rule.requirement", name=requirement.name.replace("_", " ")),
                              f"{t(words[requirement.passed])}: {requirement.detail}",
                              requirement.reference))
    return tuple(rules)


def determination_view(determination: Determination, t: Translator) -> DeterminationView:
    """The page's account of `determination` in the language of `t`."""
    currency = determination.currency
    methods = tuple(_method(t, r, currency) for r in determination.results)
    criterion = ""
    if determination.originating and determination.criterion:
        key = f"criterion.{determination.criterion}"
        criterion = f"{determination.criterion} — {t(key)}" if t.has(key) \
            else determination.criterion
    headline = t("sme.result.originating" if determination.originating
                 else "sme.result.not_originating")
    language = t.language
    reasons = tuple(ReasonView(render(reason, language), reason.reference or "")
                    for reason in determination.reasons)
    return DeterminationView(
        originating=determination.originating, headline=headline, criterion=criterion,
        good=determination.good, description=determination.description,
        hs=_hs(determination.hs), as_of=t.date(determination.as_of), currency=currency,
        rule_set=determination.rule_set, methods=methods,
        rules=_rules(t, determination, methods), reasons=reasons)


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """An originating bought material, which a supplier's origin token may back."""

    number: int  # the item's position in the document (the form field's name)
    item: str
    description: str
    hs: str
    certificate: str
    token: str


def evidence_rows(bom: BillOfMaterials) -> list[EvidenceRow]:
    """The materials the issue form offers a supplier-token field for (`MAX_EVIDENCE_ROWS`
    at most): bought, declared originating, neither packing nor indirect (a supplier's
    token backs an originating material, `ledger.evidence`).
    """
    rows: list[EvidenceRow] = []
    for number, item in enumerate(bom.items.values()):
        if item.kind is not ItemKind.BOUGHT or item.origin is not Origin.ORIGINATING or \
                item.packing or item.indirect:
            continue
        evidence = item.evidence
        rows.append(EvidenceRow(number, item.id, item.description, _hs(item.hs),
                                (evidence.certificate or "") if evidence else "",
                                (evidence.token or "") if evidence else ""))
        if len(rows) == MAX_EVIDENCE_ROWS:
            break
    return rows
