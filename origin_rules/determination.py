"""What the engine answers: an origin determination that explains itself.

A `Determination` is a value, whatever the outcome: "not originating" is an answer with
reasons, not an error. `to_dict()` renders it as the `tmec rvc --json` output of
`docs/bom-format.md` (keys `originating`, `criterion`, `results[]` with `method`, `base`,
`vnm`, `rvc`, `threshold`, `pass`, then `tariff_shift`, `de_minimis`, `explanation`) plus
extra keys the spec welcomes: `margin`, `headroom`, `top_vnm` per method, the `rule` that
applied, vehicle `requirements`, the `rule_set` version, and `hypothetical` with the
`scenario` (null unless the rule set was a what-if of `origin_rules.scenarios`).

Money and percentages stay `Decimal` here; they become strings only in `to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from origin_rules.bom import Method
from origin_rules.explain import Reason, render_all
from origin_rules.rules import AppliedRule
from origin_rules.values import ENGINE_CONTEXT, format_decimal, format_money, format_percent

if TYPE_CHECKING:
    from origin_rules.scenarios import Scenario

__all__ = [
    "Contributor",
    "Determination",
    "MethodResult",
    "Requirement",
    "TariffShiftResult",
    "UsContent",
]


@dataclass(frozen=True, slots=True)
class Contributor:
    """A non-originating material and how much of the good's VNM it accounts for."""

    item: str
    description: str
    hs: str
    vnm: Decimal
    share: Decimal

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"item": self.item, "description": self.description, "hs": self.hs,
                "vnm": format_money(self.vnm), "share": format_percent(self.share)}


@dataclass(frozen=True, slots=True)
class MethodResult:
    """RVC under one method (Art. 4.5): `rvc` is exact; pass/fail uses exact arithmetic.

    `headroom` is how much more non-originating value the good can absorb, at the same
    base, before it falls below the threshold; negative when it already falls short.
    """

    method: Method
    base: Decimal
    vnm: Decimal
    rvc: Decimal
    threshold: Decimal
    passed: bool
    headroom: Decimal
    contributors: tuple[Contributor, ...]
    threshold_valid_from: date | None
    reference: str

    @property
    def margin(self) -> Decimal:
        """RVC minus threshold, in percentage points (in the engine's context, like `rvc`)."""
        return ENGINE_CONTEXT.subtract(self.rvc, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (spec keys first)."""
        return {
            "method": self.method.value,
            "base": format_money(self.base),
            "vnm": format_money(self.vnm),
            "rvc": format_percent(self.rvc),
            "threshold": format_decimal(self.threshold),
            "pass": self.passed,
            "margin": format_percent(self.margin),
            "headroom": format_money(self.headroom),
            "threshold_valid_from": (self.threshold_valid_from.isoformat()
                                     if self.threshold_valid_from else None),
            "reference": self.reference,
            "top_vnm": [c.to_dict() for c in self.contributors],
        }


@dataclass(frozen=True, slots=True)
class TariffShiftResult:
    """The tariff-shift test: `required` is None when the rule has none."""

    required: str | None
    passed: bool | None
    failing_materials: tuple[str, ...] = ()
    failing_value: Decimal | None = None
    de_minimis: bool | None = None
    excepted_prefixes: tuple[str, ...] = ()
    #: SOR/2020-155 s.3(8): the self-produced materials taken as the materials that
    #: undergo the shift (the others are looked through to their inputs)
    as_material: tuple[str, ...] = ()
    #: who took that view: ``document`` (the producer's choices, `tariff_shift_as`) or
    #: ``favourable`` (the document said nothing and the engine took the view that
    #: qualifies); None when every self-produced material was looked through and the
    #: document chose nothing
    view_chosen_by: str | None = None
    #: the provision of that choice, from the rule set (its ``self_produced_choice``)
    view_reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``self_produced_view`` only when s.3(8) shaped the result."""
        out: dict[str, Any] = {
            "required": self.required,
            "pass": self.passed,
            "failing_materials": list(self.failing_materials),
            "failing_value": None if self.failing_value is None
            else format_money(self.failing_value),
            "except": list(self.excepted_prefixes),
        }
        if self.view_chosen_by is not None:
            out["self_produced_view"] = {"as_material": list(self.as_material),
                                         "chosen_by": self.view_chosen_by,
                                         "reference": self.view_reference}
        return out


@dataclass(frozen=True, slots=True)
class Requirement:
    """A further condition of a vehicle's origin (core parts, steel/aluminum, LVC).

    `passed` is None when the document lacks the data to evaluate it; the vehicle is then
    not shown as originating.
    """

    name: str
    passed: bool | None
    detail: str
    reference: str
    values: dict[str, Any] = field(default_factory=dict)
    #: the finding behind `detail` as data (code ``detail.*``), rendered in every language
    #: of `origin_rules.explain`; `detail` is its English rendering
    finding: Reason | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "pass": self.passed, "detail": self.detail,
                "reference": self.reference, **self.values}


@dataclass(frozen=True, slots=True)
class UsContent:
    """United States content of one unit of the good, beside (not part of) its origin.

    `us` is the value, in the good's total cost, of the materials the document says were
    produced in the United States (`country` ``US``) plus the producer's own costs when
    the producer produces in the United States; `non_us` is the rest of the total cost
    (materials of other or unstated countries, and the producer's costs elsewhere);
    `base` = `us` + `non_us` is the good's total cost, every material looked through to
    its bought inputs. `statement` says what the figure is and is not, and what it
    follows; it is data from the rule set, not the engine's.
    """

    us: Decimal
    non_us: Decimal
    base: Decimal
    materials_without_country: int
    statement: str
    reference: str

    @property
    def share(self) -> Decimal | None:
        """US content as a percentage of the total cost (None when the cost is zero)."""
        if self.base <= 0:
            return None
        return ENGINE_CONTEXT.divide(self.us * 100, self.base)

    @property
    def non_us_share(self) -> Decimal | None:
        """Non-US content as a percentage of the total cost."""
        share = self.share
        return None if share is None else ENGINE_CONTEXT.subtract(Decimal(100), share)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        share, non_us_share = self.share, self.non_us_share
        return {
            "us": format_money(self.us),
            "non_us": format_money(self.non_us),
            "base": format_money(self.base),
            "us_share": None if share is None else format_percent(share),
            "non_us_share": None if non_us_share is None else format_percent(non_us_share),
            "materials_without_country": self.materials_without_country,
            "statement": self.statement,
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class Determination:
    """The origin of one good on one date under one rule set, with its reasons."""

    good: str
    description: str
    hs: str
    as_of: date
    currency: str
    rule: AppliedRule
    originating: bool
    criterion: str | None
    results: tuple[MethodResult, ...]
    tariff_shift: TariffShiftResult
    rvc_exempt: bool
    requirements: tuple[Requirement, ...]
    end_use: str | None = None
    us_content: UsContent | None = None
    #: every statement of `explanation` as data (`origin_rules.explain`)
    reasons: tuple[Reason, ...] = ()
    #: the what-if the rule set was (`origin_rules.scenarios`); None under rules in force
    scenario: Scenario | None = None
    _explanation: tuple[str, ...] | None = field(default=None, init=False, repr=False,
                                                 compare=False)

    @property
    def explanation(self) -> tuple[str, ...]:
        """The reasons in English, one sentence each: rendered from `reasons` on first use
        (an origin token carries only the figures, so a registration never reads them).
        """
        if self._explanation is None:
            object.__setattr__(self, "_explanation", tuple(render_all(self.reasons)))
        assert self._explanation is not None
        return self._explanation

    @property
    def rule_set(self) -> str:
        """Version of the rule set that decided (e.g. ``usmca/2020-07-01``)."""
        return self.rule.rule_set

    @property
    def hypothetical(self) -> bool:
        """True when decided under a scenario: a what-if, not a determination of origin
        (no origin token can be issued on it).
        """
        return self.scenario is not None

    def explain(self, language: str = "en") -> list[str]:
        """The explanation in `language` (``en``, ``es`` or ``fr``), from `reasons`."""
        return render_all(self.reasons, language)

    def result(self, method: Method) -> MethodResult | None:
        """The result for one method, if it was evaluated."""
        return next((r for r in self.results if r.method is method), None)

    def to_dict(self) -> dict[str, Any]:
        """The `tmec rvc --json` document (spec: Output of a qualification)."""
        return {
            "good": self.good,
            "as_of": self.as_of.isoformat(),
            "originating": self.originating,
            "criterion": self.criterion,
            "results": [r.to_dict() for r in self.results],
            "tariff_shift": self.tariff_shift.to_dict(),
            "de_minimis": {"tariff_shift": self.tariff_shift.de_minimis,
                           "rvc_exempt": self.rvc_exempt},
            "explanation": list(self.explanation),
            "hs": self.hs,
            "description": self.description,
            "currency": self.currency,
            "end_use": self.end_use,
            "rule_set": self.rule_set,
            "rule": {
                "title": self.rule.title,
                "reference": self.rule.reference,
                "category": self.rule.category.id if self.rule.category else None,
                "table": self.rule.category.table if self.rule.category else None,
                "combine": self.rule.combine,
                "notes": list(self.rule.notes),
                "product_specific_rule": (self.rule.product_rule.summary()
                                          if self.rule.product_rule else None),
                "alternatives": [
                    {"label": alt.name, "goods": alt.goods, "tariff_shift": alt.shift_code,
                     "rvc": [{"method": t.method.value, "min": format_decimal(t.min)}
                             for t in alt.rvc],
                     "unsupported": list(alt.unsupported)}
                    for alt in self.rule.alternatives],
            },
            "requirements": [r.to_dict() for r in self.requirements],
            "us_content": None if self.us_content is None else self.us_content.to_dict(),
            "reasons": [r.to_dict() for r in self.reasons],
            "hypothetical": self.hypothetical,
            "scenario": None if self.scenario is None else self.scenario.summary(),
        }
