"""A portfolio under the rules in force and under what-if scenarios: what changes.

"What if the rule changes?" is asked of a whole range of goods before a sourcing
decision. `compare` evaluates one bill of materials under the rules in force and under
each scenario (`origin_rules.scenarios`) and keeps, per rule set, only what the answer
needs: the verdict, the origin criterion and the headroom; `Portfolio` gathers the goods
and totals them per scenario and currency. Nothing here reads files (the CLI's
`tmec portfolio` does), and a document that cannot be read or evaluated is a result with
its error, not an exception, so one bad BOM never hides the others.

**Headroom** of a good under a rule set is the largest headroom among the RVC methods its
determination reports (`MethodResult.headroom`: how much more non-originating value one
unit can absorb before failing, negative when it must shed some): the method most in the
producer's favour. It is None when the determination reports no RVC result (a good that
qualifies by a tariff shift alone, or by the RVC de minimis). The **headroom change** is
the scenario's headroom less the one in force, per unit of the good, when both exist;
totals add it up per currency (amounts of different currencies are never added).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from origin_rules.bom import BillOfMaterials, Method
from origin_rules.determination import Determination
from origin_rules.engine import determine_origin
from origin_rules.errors import OriginRulesError
from origin_rules.rules import RuleBook

__all__ = ["Change", "Comparison", "GoodResult", "Portfolio", "Total", "Verdict", "compare",
           "portfolio", "unreadable"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One good under one rule set: verdict, criterion, headroom, or why there is none."""

    rule_set: str | None
    originating: bool | None
    criterion: str | None = None
    headroom: Decimal | None = None
    method: Method | None = None
    #: ``code: message`` when the good could not be evaluated under this rule set
    error: str | None = None

    @classmethod
    def of(cls, determination: Determination) -> Verdict:
        """What a determination says, in brief (see the module docstring for headroom)."""
        best = max(determination.results, key=lambda r: r.headroom, default=None)
        return cls(determination.rule_set, determination.originating, determination.criterion,
                   None if best is None else best.headroom,
                   None if best is None else best.method)

    @classmethod
    def failed(cls, error: OriginRulesError) -> Verdict:
        """A rule set under which the good could not be evaluated (no rule, ambiguous...)."""
        return cls(None, None, error=f"{error.code}: {error}")


class Change(StrEnum):
    """How a good's verdict moves from the rules in force to a scenario."""

    LOST = "lost"
    GAINED = "gained"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One good: the rules in force against one scenario."""

    scenario: str
    in_force: Verdict
    under: Verdict

    @property
    def change(self) -> Change:
        """Lost (originating in force, not under the scenario), gained, unchanged, or
        error when either could not be evaluated.
        """
        before, after = self.in_force.originating, self.under.originating
        if before is None or after is None:
            return Change.ERROR
        if before == after:
            return Change.UNCHANGED
        return Change.LOST if before else Change.GAINED

    @property
    def headroom_change(self) -> Decimal | None:
        """Headroom under the scenario less headroom in force, per unit; None when either
        has no RVC result.
        """
        if self.in_force.headroom is None or self.under.headroom is None:
            return None
        return self.under.headroom - self.in_force.headroom


@dataclass(frozen=True, slots=True)
class GoodResult:
    """One document of the portfolio: its good under each rule set, or why it was not read."""

    source: str
    good: str | None
    hs: str | None
    currency: str | None
    in_force: Verdict | None
    comparisons: tuple[Comparison, ...]
    #: ``code: message`` when the document could not be read
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the document was not read or a rule set could not evaluate it."""
        return self.error is not None or any(
            c.change is Change.ERROR for c in self.comparisons) or (
            self.in_force is not None and self.in_force.error is not None)


@dataclass(frozen=True, slots=True)
class Total:
    """One scenario, one currency: how many goods moved, and the headroom change summed."""

    scenario: str
    currency: str
    goods: int
    lost: int
    gained: int
    unchanged: int
    errors: int
    #: sums over the goods whose headroom exists under both (per unit of each good)
    headroom_in_force: Decimal
    headroom_under: Decimal

    @property
    def headroom_change(self) -> Decimal:
        """The scenario's total headroom less the total in force."""
        return self.headroom_under - self.headroom_in_force


@dataclass(frozen=True)
class Portfolio:
    """Every document's result, in order, and the scenarios compared."""

    scenarios: tuple[str, ...]
    goods: tuple[GoodResult, ...]

    @property
    def failed(self) -> int:
        """How many documents could not be read or evaluated under some rule set."""
        return sum(1 for good in self.goods if good.failed)

    def totals(self) -> tuple[Total, ...]:
        """Per scenario (in the order given), per currency (sorted): the counts and the
        headroom sums. Documents that could not be read count in no currency.
        """
        out: list[Total] = []
        for name in self.scenarios:
            by_currency: dict[str, list[Comparison]] = {}
            for good in self.goods:
                if good.currency is None:
                    continue
                by_currency.setdefault(good.currency, []).extend(
                    c for c in good.comparisons if c.scenario == name)
            for currency in sorted(by_currency):
                rows = by_currency[currency]
                changes = [c.change for c in rows]
                both = [c for c in rows if c.headroom_change is not None]
                out.append(Total(
                    name, currency, len(rows), changes.count(Change.LOST),
                    changes.count(Change.GAINED), changes.count(Change.UNCHANGED),
                    changes.count(Change.ERROR),
                    sum((c.in_force.headroom or ZERO for c in both), ZERO),
                    sum((c.under.headroom or ZERO for c in both), ZERO)))
        return tuple(out)


def compare(bom: BillOfMaterials, source: str, *, in_force: RuleBook,
            scenarios: Sequence[tuple[str, RuleBook]], as_of: date | None = None
            ) -> GoodResult:
    """The good of `bom` under `in_force` and under each named scenario's rule book.

    A rule set under which the good cannot be evaluated (`OriginRulesError`: no rule,
    an ambiguous rule...) gives a `Verdict` with its error; anything else is a bug and
    propagates.
    """
    def verdict(book: RuleBook) -> Verdict:
        try:
            return Verdict.of(determine_origin(bom, as_of=as_of, rules=book, top=0))
        except OriginRulesError as exc:
            return Verdict.failed(exc)

    base = verdict(in_force)
    good = bom.items[bom.good]
    return GoodResult(source, good.id, good.hs, bom.currency, base,
                      tuple(Comparison(name, base, verdict(book)) for name, book in scenarios))


def unreadable(source: str, error: str) -> GoodResult:
    """A document that could not be read: a row with its error (``code: message``)."""
    return GoodResult(source, None, None, None, None, (), error)


def portfolio(results: Iterable[GoodResult], scenarios: Sequence[str]) -> Portfolio:
    """Gather the results (consumed once: documents can be compared one at a time)."""
    return Portfolio(tuple(scenarios), tuple(results))
