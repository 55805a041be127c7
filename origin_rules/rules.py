"""Rules in force: dated, referenced rule sets loaded from data files, and rule selection.

A *rule set* is one TOML file under `origin_rules/data/<agreement>/` (schema below, built by
`tools/build_usmca_rules.py`). It holds the automotive categories of the Appendix to
Annex 4-B (vehicles, Tables A.1-F, other vehicles), each with HS entries, end uses and RVC
thresholds that start on a date (periods start July 1), plus the de minimis rule and its
Annex 4-A exclusions, the Art. 4.2(d) thresholds, the labor value content and steel and
aluminum series, and the Table A.2 core parts. Every value keeps its legal reference, and
the ``[references]`` table gives the citations of the engine's own statements
(`REFERENCE_KEYS`): the engine and its explanations cite the rule set, never themselves.

Selection (`RuleSet.rule_for`) is a pure function of HS code, end use and `as_of`:

1. an explicit `rule` in the document wins (caller's choice; see `AppliedRule.from_document`);
2. a part with an `end_use` takes the first matching parts table for that end use (tables
   are listed strictest first, so an ``ex`` subheading shared by Tables A.1 and B resolves to
   A.1 unless the document names `automotive_table`);
3. otherwise a vehicle category by HS (the first match, or `vehicle.category`);
4. otherwise the product-specific rule of Annex 4-B for the HS code (HTSUS GN 11(o), the
   rule set's `product_rules`, see `origin_rules.product_rule_table`): for an aftermarket
   or other non-original-equipment part, a good outside the automotive tables, or when the
   document chooses it (`automotive_table = "none"`, or `psr_provision`). Its alternatives
   become `AppliedRule.alternatives`, one per printed branch; a branch the engine cannot
   evaluate is kept with its `unsupported` clauses. No rule known for the code ->
   `NoApplicableRuleError`: the engine never guesses "originating".

A Table B or C part (principal and complementary parts for passenger vehicles and light
trucks) "satisfies the applicable change in tariff classification requirement or the
applicable RVC requirement" (SOR/2020-155 s.14(14), (16)): its rule is the Table's RVC
*or* each tariff-shift-only alternative of its product-specific rule.

A new treaty text (the 2026 joint review) is a new file with a later `valid_from`;
`RuleBook.rule_set_on` picks the latest rule set in force on `as_of`. A *proposal* (raised
thresholds, a US content floor) is not a rule set in force: it is a scenario file under
`data/<agreement>/scenarios/`, read by `origin_rules.scenarios` into a `RuleSet` marked
`hypothetical`, which `default_rule_book()` never contains. Nothing here reads the clock or
the environment.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from origin_rules.bom import EndUse, Method, ProductRule, TariffShift
from origin_rules.errors import AmbiguousRuleError, NoApplicableRuleError, RuleDataError
from origin_rules.explain import Reason, render_note
from origin_rules.product_rule_table import (
    ProductRuleSource,
    ProductRuleTable,
    ProductSpecificRule,
    load_tables,
)
from origin_rules.product_rules import Branch, Shift, goods_key, uses_in
from origin_rules.rule_data import TomlTable
from origin_rules.values import hs_digits

if TYPE_CHECKING:
    from origin_rules.scenarios import Scenario

__all__ = [
    "AppliedRule",
    "Category",
    "CorePart",
    "DeMinimis",
    "DeMinimisExclusion",
    "HsEntry",
    "LaborValueContentRule",
    "NetCostOnly",
    "RuleBook",
    "RuleSet",
    "Threshold",
    "default_rule_book",
]

SCHEMA = 1

#: The citations a rule set gives for the engine's own statements (its ``[references]``
#: table; every key required): the engine and `origin_rules.explain` cite these, so that a
#: determination's reasons carry the references of the rule set in force for it.
REFERENCE_KEYS: Mapping[str, str] = {
    "criterion_b": "origin criterion B: produced from non-originating materials that meet "
                   "the product-specific rule",
    "criterion_c": "origin criterion C: produced exclusively from originating materials",
    "criterion_d": "origin criterion D, named in the statements about it",
    "alternatives": "a rule of alternatives: meeting one suffices",
    "self_produced_choice": "the producer's choice for a self-produced material "
                            "(tariff_shift_as)",
    "shift_de_minimis": "the de minimis of the tariff shift",
    "rvc_de_minimis": "the de minimis that exempts a good from the RVC",
    "de_minimis_exclusions": "the goods and materials the de minimis does not reach",
    "method_choice": "the RVC methods a rule allows",
    "intermediate": "designated intermediate materials",
    "one_layer_rule": "one layer of intermediate materials subject to an RVC",
    "accumulation": "suppliers' accumulation statements",
    "accumulation_vnm_only": "which statements count under each RVC method",
    "indirect": "indirect materials, originating",
    "packing": "packing materials and containers for shipment, disregarded",
    "core_parts": "the core-parts requirement of passenger vehicles and light trucks",
    "core_parts_table": "the table that lists the core parts",
    "table_b_or_shift": "a Table B part: the Table's RVC or its rule's tariff shift",
    "table_c_or_shift": "a Table C part: the Table's RVC or its rule's tariff shift",
    "aftermarket": "an aftermarket part follows its product-specific rule",
    "document_rule": "the reference of a rule the document states (an item's 'rule')",
}
_HS_LEVEL = r"\d{2}(?:\.\d{2})?|\d{4}\.\d{2}"
_HS_ENTRY = re.compile(rf"(?P<ex>ex )?(?P<low>{_HS_LEVEL})(?:-(?P<high>{_HS_LEVEL}))?\Z")


@dataclass(frozen=True, slots=True)
class HsEntry:
    """One HS entry of a table: a chapter/heading/subheading prefix, a range, or ``ex``.

    ``ex 8708.29`` covers only some goods of the subheading (the table describes which), so
    a match on it is *partial*: the engine applies it and says so.
    """

    text: str
    low: str
    high: str
    partial: bool

    @classmethod
    def parse(cls, text: str) -> HsEntry:
        """Parse ``8708.29``, ``ex 8708.29``, ``84.09``, ``8703.21-8703.90``, ``01-27``."""
        match = _HS_ENTRY.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not an HS chapter (NN), heading (NN.NN), "
                             "subheading (NNNN.NN) or a range of one of them")
        partial = match["ex"] is not None
        low_text, high_text = match["low"], match["high"]
        low, high = hs_digits(low_text.strip()), hs_digits((high_text or low_text).strip())
        if (not low.isdigit() or not high.isdigit() or len(low) != len(high)
                or len(low) not in (2, 4, 6) or low > high):
            raise ValueError(f"{text!r} is not an HS chapter, heading, subheading or range")
        return cls(text, low, high, partial)

    def matches(self, digits: str) -> bool:
        """True when the HS code (digits only) falls under this entry."""
        prefix = digits[: len(self.low)]
        return self.low <= prefix <= self.high


@dataclass(frozen=True, slots=True)
class Threshold:
    """A minimum RVC percentage for one method, in force from `valid_from`."""

    method: Method
    min: Decimal
    valid_from: date | None
    reference: str


@dataclass(frozen=True, slots=True)
class Category:
    """An automotive category: a vehicle class or a parts table, with dated thresholds."""

    id: str
    kind: str
    title: str
    hs: tuple[HsEntry, ...]
    thresholds: tuple[Threshold, ...]
    reference: str
    table: str | None = None
    end_use: tuple[EndUse, ...] = ()
    exclude_hs: tuple[HsEntry, ...] = ()
    explicit_only: bool = False
    valid_to: date | None = None
    requirements: tuple[str, ...] = ()
    labor_value_content: str | None = None
    note: str | None = None

    def match(self, digits: str) -> HsEntry | None:
        """The entry covering the HS code, or None (exclusions win)."""
        if any(entry.matches(digits) for entry in self.exclude_hs):
            return None
        return next((entry for entry in self.hs if entry.matches(digits)), None)

    def thresholds_on(self, as_of: date) -> dict[Method, Threshold]:
        """Per method, the threshold in force on `as_of` (latest `valid_from` not after it)."""
        in_force: dict[Method, Threshold] = {}
        for threshold in self.thresholds:
            start = threshold.valid_from
            if start is not None and start > as_of:
                continue
            current = in_force.get(threshold.method)
            if current is None or (current.valid_from or date.min) <= (start or date.min):
                in_force[threshold.method] = threshold
        return in_force


@dataclass(frozen=True, slots=True)
class DeMinimisExclusion:
    """An Annex 4-A exclusion: de minimis does not help these materials into these goods."""

    goods: tuple[HsEntry, ...]
    materials: tuple[HsEntry, ...] | str
    reference: str

    def excludes(self, good_digits: str, material_digits: str) -> bool:
        """True when the exclusion applies to this good/material pair."""
        if not any(entry.matches(good_digits) for entry in self.goods):
            return False
        materials = self.materials
        if isinstance(materials, str):
            return materials == "any" or good_digits[:6] == material_digits[:6]
        return any(entry.matches(material_digits) for entry in materials)


@dataclass(frozen=True, slots=True)
class DeMinimis:
    """Art. 4.12: the percentage and its exclusions."""

    percent: Decimal
    reference: str
    exclusions: tuple[DeMinimisExclusion, ...]


@dataclass(frozen=True, slots=True)
class LaborValueContentRule:
    """LVC thresholds by date for one vehicle class (SOR/2020-155 s.18)."""

    id: str
    max_technology_credit: Decimal
    max_assembly_credit: Decimal
    thresholds: tuple[tuple[date, Decimal, Decimal], ...]
    reference: str

    def on(self, as_of: date) -> tuple[Decimal, Decimal]:
        """(minimum LVC, minimum high-wage material and manufacturing points) on `as_of`."""
        current = max((t for t in self.thresholds if t[0] <= as_of), key=lambda t: t[0])
        return current[1], current[2]


@dataclass(frozen=True, slots=True)
class CorePart:
    """A Table A.2 column-1 part and the HS under which it appears in a vehicle BOM."""

    part: str
    hs: tuple[HsEntry, ...]
    components: tuple[str, ...]
    reference: str


@dataclass(frozen=True, slots=True)
class NetCostOnly:
    """Subheadings whose product-specific rule has no transaction value method (Art. 4.5.5),
    optionally only within some tables (an ``ex`` subheading split between tables).
    """

    hs: tuple[HsEntry, ...]
    tables: tuple[str, ...]
    reference: str

    def applies(self, digits: str, category: Category) -> bool:
        """True when the good's rule in `category` is net cost only."""
        if self.tables and category.table not in self.tables:
            return False
        return any(entry.matches(digits) for entry in self.hs)


@dataclass(frozen=True, slots=True)
class AppliedRule:
    """The rule the engine applies to one item on one date: the selected category's
    thresholds in force, or the document's explicit rule.
    """

    title: str
    reference: str
    rule_set: str
    rvc: tuple[Threshold, ...]
    tariff_shift: TariffShift | None = None
    tariff_shift_except: tuple[str, ...] = ()
    combine: str = "all"
    category: Category | None = None
    #: what the selection of the rule says (codes ``rule.note.*``, `origin_rules.explain`)
    reasons: tuple[Reason, ...] = ()
    #: a product-specific rule's tariff shift (exceptions, allowed sources, groups)
    shift: Shift | None = None
    #: alternatives (A), (B)...: meeting one suffices (SOR/2020-155 s.3(6))
    alternatives: tuple[AppliedRule, ...] = ()
    #: the alternative's printed letter, or a name ("Table B RVC")
    label: str | None = None
    #: the goods the alternative is written for ("mounted brake linings"), if narrower
    goods: str | None = None
    #: clauses the engine cannot evaluate: the alternative is never applied
    unsupported: tuple[str, ...] = ()
    #: the Annex 4-B rule (provision, GN 11 number, source, cross_checked) it comes from
    product_rule: ProductSpecificRule | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        """The selection's notes in English (the output's ``rule.notes``)."""
        return tuple(render_note(reason) for reason in self.reasons)

    @property
    def methods(self) -> tuple[Method, ...]:
        """RVC methods the rule (or any of its alternatives) allows, net cost first."""
        rules = self.alternatives or (self,)
        return tuple(m for m in Method if any(t.method is m for r in rules for t in r.rvc))

    @property
    def name(self) -> str:
        """``(A)`` for a printed letter, else the label, else ``the rule``."""
        if self.label and len(self.label) == 1:
            return f"({self.label})"
        return self.label or "the rule"

    @property
    def has_tariff_shift(self) -> bool:
        """True when the rule requires a change in tariff classification."""
        return self.tariff_shift is not None or self.shift is not None

    @property
    def shift_code(self) -> str | None:
        """``CTH``, or a product-specific shift's short form (``CTH except from 4001``)."""
        if self.shift is not None:
            return self.shift.code
        return self.tariff_shift.value if self.tariff_shift is not None else None

    @property
    def shift_label(self) -> str | None:
        """Words for the shift."""
        if self.shift is not None:
            return self.shift.label
        return self.tariff_shift.label if self.tariff_shift is not None else None

    @property
    def shift_exceptions(self) -> tuple[str, ...]:
        """What the shift may not come from: HS prefixes, or a product-specific shift's
        excepted provisions (``4010-4017``).
        """
        if self.shift is not None:
            return tuple(r.text for e in self.shift.exceptions for r in e.hs)
        return self.tariff_shift_except

    def shift_allows(self, material: str, good: str) -> bool:
        """Whether a non-originating material (HS digits) satisfies the shift for the good."""
        if self.shift is not None:
            return self.shift.allows(material, good)
        assert self.tariff_shift is not None
        level = self.tariff_shift.digits
        return material[:level] != good[:level] and not any(
            material.startswith(p) for p in self.tariff_shift_except)

    def goods_groups(self) -> list[tuple[str | None, tuple[AppliedRule, ...]]]:
        """The alternatives per goods description: the good is one of the goods a rule
        names, so only the alternatives for that description (and those for every good)
        apply to it. One group, named None, when the alternatives name no goods.
        """
        keys: dict[str, str] = {}
        for alt in self.alternatives:
            if alt.goods is not None:
                keys.setdefault(goods_key(alt.goods), alt.goods)
        if not keys:
            return [(None, self.alternatives)]
        return [(text, tuple(a for a in self.alternatives
                             if a.goods is None or goods_key(a.goods) == key))
                for key, text in keys.items()]

    def threshold(self, method: Method) -> Threshold | None:
        """The threshold for `method`, if the rule allows it."""
        return next((t for t in self.rvc if t.method is method), None)

    @property
    def requires_rvc(self) -> bool:
        """True when the good cannot qualify without meeting an RVC requirement."""
        if self.alternatives:
            return all(alt.requires_rvc or alt.unsupported for alt in self.alternatives)
        return bool(self.rvc) and (not self.has_tariff_shift or self.combine == "all")

    @classmethod
    def from_document(cls, rule: ProductRule, *, item_id: str, rule_set: str,
                      reference: str) -> AppliedRule:
        """The explicit rule written in the document for `item_id` (overrides the tables);
        `reference` is the rule set's words for such a rule (``document_rule``).
        """
        return cls(
            title=f"rule given in the document for item {item_id!r}",
            reference=reference,
            rule_set=rule_set,
            rvc=tuple(Threshold(r.method, r.min, None, "document rule") for r in rule.rvc),
            tariff_shift=rule.tariff_shift,
            tariff_shift_except=rule.except_,
            combine=rule.combine,
        )


#: Rules one `RuleSet` keeps selected (`RuleSet.rule_for`); past it, it starts afresh.
_SELECTED_MAX = 4096


@dataclass(frozen=True)
class RuleSet:
    """One dated rule set (one data file)."""

    rule_set: str
    agreement: str
    title: str
    valid_from: date
    reference: str
    source: str
    de_minimis: DeMinimis
    criterion_d: Mapping[Method, Decimal]
    criterion_d_excluded_chapters: tuple[str, ...]
    criterion_d_reference: str
    net_cost_only: tuple[NetCostOnly, ...]
    categories: tuple[Category, ...]
    labor_value_content: Mapping[str, LaborValueContentRule]
    steel_aluminum: tuple[tuple[date, Decimal], ...]
    steel_aluminum_reference: str
    core_parts: tuple[CorePart, ...]
    caveats: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())
    #: why Art. 4.2(d)'s RVC follows the product rule's methods (net cost only when the
    #: rule gives no transaction value requirement)
    criterion_d_methods_reference: str = ""
    #: what a determination's US content figure is and is not, and what it follows
    us_content_statement: str = ""
    us_content_reference: str = ""
    #: the product-specific rules of Annex 4-B that complete this rule set, if shipped
    psr: ProductRuleSource | None = None
    #: the citations of the engine's own statements (`REFERENCE_KEYS`)
    references: Mapping[str, str] = field(default_factory=dict)

    def cite(self, key: str) -> str:
        """The rule set's citation for one of the engine's statements (`REFERENCE_KEYS`)."""
        return self.references[key]
    #: set on a hypothetical rule set (`origin_rules.scenarios`): what-if data built from
    #: a rule set in force, never itself in force and never in `default_rule_book()`
    scenario: Scenario | None = None
    #: the minimum US content share (percent of total cost) of the categories that list
    #: the ``us_content`` requirement; only a scenario sets it (no text in force has one)
    us_content_minimum: Decimal | None = None
    us_content_minimum_reference: str = ""
    #: what the originating steel and aluminum of the s.17 test must be, when a rule set
    #: says more than the text in force (a scenario bringing "melted and poured" forward)
    steel_aluminum_condition: str = ""

    @property
    def hypothetical(self) -> bool:
        """True for a scenario's rule set: its determinations are what-ifs, not origin."""
        return self.scenario is not None

    @property
    def product_rules(self) -> ProductRuleTable | None:
        """The product-specific rules (loaded on first use), if the rule set has them."""
        return self.psr.table if self.psr is not None else None

    def category(self, category_id: str) -> Category:
        """The category with this id."""
        for cat in self.categories:
            if cat.id == category_id:
                return cat
        known = ", ".join(c.id for c in self.categories)
        raise NoApplicableRuleError(f"unknown category {category_id!r} in rule set "
                                    f"{self.rule_set} (known: {known})")

    def candidates(self, hs: str, *, end_use: EndUse | None) -> list[tuple[Category, HsEntry]]:
        """Every category that could apply to `hs` for `end_use`, in selection order."""
        digits = hs_digits(hs)
        found: list[tuple[Category, HsEntry]] = []
        for cat in self.categories:
            if cat.kind == "part" and (end_use is None or end_use not in cat.end_use):
                continue
            entry = cat.match(digits)
            if entry is not None:
                found.append((cat, entry))
        return found

    def steel_aluminum_minimum(self, as_of: date) -> Decimal:
        """The minimum originating share of Table S purchases on `as_of`."""
        return max((t for t in self.steel_aluminum if t[0] <= as_of), key=lambda t: t[0])[1]

    def rule_for(
        self,
        hs: str,
        *,
        as_of: date,
        end_use: EndUse | None,
        table: str | None = None,
        vehicle_category: str | None = None,
        provision: str | None = None,
        goods: str | None = None,
    ) -> AppliedRule:
        """Select the rule for a good of `hs` (see the module docstring for the order).

        `provision` and `goods` are the document's choice of a product-specific rule
        (`psr_provision`) and of the goods description one of its alternatives names
        (`psr_goods`).

        The answer depends on nothing but the rule set (immutable) and these arguments,
        and an `AppliedRule` is immutable, so each rule set keeps the rules it selected
        (bounded; errors are not kept): a service registering the same goods again and
        again selects each one once per process instead of once per determination.
        """
        key = (hs, as_of, end_use, table, vehicle_category, provision, goods)
        cache: dict[tuple[Any, ...], AppliedRule] | None = self.__dict__.get("_selected")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_selected", cache)  # not a field: eq, repr unchanged
        found = cache.get(key)
        if found is None:
            found = self._select_rule(hs, as_of=as_of, end_use=end_use, table=table,
                                      vehicle_category=vehicle_category, provision=provision,
                                      goods=goods)
            if len(cache) >= _SELECTED_MAX:
                cache.clear()
            cache[key] = found
        return found

    def _select_rule(self, hs: str, *, as_of: date, end_use: EndUse | None,
                     table: str | None, vehicle_category: str | None, provision: str | None,
                     goods: str | None) -> AppliedRule:
        """`rule_for` itself, uncached."""
        digits = hs_digits(hs)
        notes: list[Reason] = []
        chosen: tuple[Category, HsEntry] | None = None
        if self.psr is not None and (table == "none" or provision is not None):
            why = _note("psr_named" if provision is not None else "no_table_named")
            return self._product_specific(hs, as_of=as_of, end_use=end_use,
                                          provision=provision, goods=goods, notes=[why])
        if table == "none":
            raise NoApplicableRuleError(
                f"the document says no automotive table applies to HS {hs}; the product-"
                "specific rule of Annex 4-B is not encoded, so give the good an explicit "
                "'rule'", hs=hs, as_of=as_of)
        if end_use is not None and end_use is not EndUse.AFTERMARKET:
            parts = [(c, e) for c, e in self.candidates(hs, end_use=end_use) if c.kind == "part"]
            if table is not None:
                parts = [(c, e) for c, e in parts if c.table == table]
                if not parts:
                    raise NoApplicableRuleError(
                        f"HS {hs} is not listed in Table {table} for end use {end_use.value}",
                        hs=hs, as_of=as_of)
            if parts:
                chosen = parts[0]
                if len(parts) > 1:
                    others = ", ".join(c.title for c, _ in parts[1:])
                    notes.append(_note("also_listed", hs=hs, others=others))
        if chosen is None:
            vehicles = [
                (c, e) for c in self.categories if c.kind == "vehicle"
                for e in [c.match(digits)] if e is not None
            ]
            if vehicle_category is not None:
                vehicles = [(c, e) for c, e in vehicles if c.id == vehicle_category]
                if not vehicles:
                    self.category(vehicle_category)  # raises for an unknown id
                    raise NoApplicableRuleError(
                        f"vehicle category {vehicle_category!r} does not cover HS {hs}",
                        hs=hs, as_of=as_of)
            else:
                vehicles = [(c, e) for c, e in vehicles if not c.explicit_only]
            if vehicles:
                chosen = vehicles[0]
                if end_use is not None:
                    notes.append(_note("vehicle_end_use_ignored", end_use=end_use.value, hs=hs))
        if chosen is None and self.psr is not None:
            reasons: list[Reason] = []
            if end_use is EndUse.AFTERMARKET:
                reasons.append(_note("aftermarket", aftermarket_reference=self.cite("aftermarket")))
            elif end_use is not None:
                reasons.append(_note("no_table_for_end_use", hs=hs, end_use=end_use.value))
            return self._product_specific(hs, as_of=as_of, end_use=end_use, provision=None,
                                          goods=goods, notes=reasons)
        if chosen is None:
            reason = ("aftermarket parts follow the product-specific rule of Annex 4-B"
                      if end_use is EndUse.AFTERMARKET else
                      f"no automotive table lists HS {hs}"
                      + (f" for end use {end_use.value}" if end_use else
                         " (set end_use for an original-equipment part)"))
            raise NoApplicableRuleError(
                f"no rule of origin in force on {as_of.isoformat()} is known for HS {hs}: "
                f"{reason}, which this rule set does not encode; give the good an explicit "
                "'rule' in the document", hs=hs, as_of=as_of)
        cat, entry = chosen
        if cat.valid_to is not None and as_of > cat.valid_to:
            raise NoApplicableRuleError(
                f"{cat.title} ended on {cat.valid_to.isoformat()}; it does not apply on "
                f"{as_of.isoformat()}", hs=hs, as_of=as_of)
        if entry.partial:
            notes.append(_note("partial_entry", entry=entry.text))
        thresholds = cat.thresholds_on(as_of)
        if Method.TRANSACTION_VALUE in thresholds:
            for entry_nc in self.net_cost_only:
                if entry_nc.applies(digits, cat):
                    del thresholds[Method.TRANSACTION_VALUE]
                    notes.append(_note("net_cost_only", hs=hs,
                                       net_cost_only_reference=entry_nc.reference))
                    break
        if not thresholds:
            raise NoApplicableRuleError(f"{cat.title} has no threshold in force on "
                                        f"{as_of.isoformat()}", hs=hs, as_of=as_of)
        rvc = tuple(
            Threshold(t.method, t.min, t.valid_from, cat.reference)
            for t in (thresholds[m] for m in Method if m in thresholds)
        )
        applied = AppliedRule(
            title=cat.title, reference=cat.reference, rule_set=self.rule_set, rvc=rvc,
            category=cat, reasons=tuple(notes),
        )
        if cat.table in ("B", "C") and self.psr is not None:
            return self._table_or_tariff_shift(applied, hs, as_of=as_of, end_use=end_use,
                                               goods=goods)
        return applied

    def _table_or_tariff_shift(self, table_rule: AppliedRule, hs: str, *, as_of: date,
                               end_use: EndUse | None, goods: str | None) -> AppliedRule:
        """SOR/2020-155 s.14(14), (16): a Table B or C part is originating if it satisfies
        the applicable change in tariff classification requirement *or* the Table's RVC:
        the Table RVC, or any alternative of the product-specific rule that is a tariff
        shift alone (an alternative with its own RVC is met, if at all, by the Table's).
        """
        cat = table_rule.category
        assert cat is not None
        assert self.psr is not None
        section = self.cite("table_b_or_shift" if cat.table == "B" else "table_c_or_shift")
        try:
            psr = self._product_specific(hs, as_of=as_of, end_use=end_use, provision=None,
                                         goods=goods, notes=[])
        except NoApplicableRuleError as exc:
            return replace(table_rule, reasons=(
                *table_rule.reasons, _note("shift_alternative_not_applied",
                                           section_reference=section, problem=exc.message)))
        shifts = tuple(alt for alt in psr.alternatives
                       if alt.has_tariff_shift and not alt.rvc and not alt.unsupported)
        record = psr.product_rule
        assert record is not None
        if not shifts:
            return replace(table_rule, reasons=(
                *table_rule.reasons, _note("no_shift_alternative", rule_reference=record.reference,
                                           section_reference=section)))
        rvc_alternative = replace(table_rule, label=f"Table {cat.table}", reasons=())
        return replace(
            table_rule,
            title=f"{cat.title}: the Table's RVC or the tariff shift of the product-specific "
                  "rule",
            reference=f"{cat.reference}; {record.reference}",
            # the Table's thresholds stay on the rule (what `tmec rules show` reports); the
            # engine decides by the alternatives
            alternatives=(rvc_alternative, *shifts), product_rule=record,
            reasons=(*table_rule.reasons,
                     _note("table_or_shift", section_reference=section, table=cat.table or ""),
                     *psr.reasons),
        )

    def _product_specific(self, hs: str, *, as_of: date, end_use: EndUse | None,
                          provision: str | None, goods: str | None,
                          notes: list[Reason]) -> AppliedRule:
        """The Annex 4-B rule for `hs` as an `AppliedRule` with one alternative per branch
        that applies to the good (its end use, its HS code, the goods it names).
        """
        assert self.psr is not None
        table = self.psr.for_code(hs)  # the rules of the good's chapter, parsed on first use
        record = table.select(hs, as_of=as_of, end_use=end_use, provision=provision)
        digits = hs_digits(hs)
        branches = _branches_for(record, digits, end_use)
        if not branches:
            targets = "; ".join(", ".join(r.text for r in b.target) for b in record.branches)
            raise NoApplicableRuleError(
                f"{record.reference}: none of its alternatives is written for HS {hs} (they "
                f"name {targets or 'no goods that could be read'}); give the good an explicit "
                "'rule'", hs=hs, as_of=as_of)
        phased = record.valid_to is not None or record.valid_from > self.valid_from
        alternatives = tuple(
            AppliedRule(
                title=f"{record.reference}, alternative {branch.label or '(single)'}",
                reference=record.reference, rule_set=self.rule_set,
                rvc=tuple(Threshold(c.method, c.min, record.valid_from if phased else None,
                                    record.reference) for c in branch.rvc),
                shift=branch.shift, label=branch.label, goods=label,
                unsupported=branch.unsupported, product_rule=record)
            for branch, label in branches)
        applied = AppliedRule(
            title=f"Product-specific rule for {record.provision}", reference=record.reference,
            rule_set=self.rule_set, rvc=(), alternatives=alternatives, product_rule=record,
            reasons=tuple(notes) + _record_notes(record, table, as_of, end_use))
        if goods is not None:
            applied = _choose_goods(applied, goods, hs=hs, as_of=as_of)
        return applied


def _branches_for(record: ProductSpecificRule, digits: str, end_use: EndUse | None
                  ) -> list[tuple[Branch, str | None]]:
    """The branches of `record` that may apply to a good of `digits` for `end_use`, each
    with the goods description it is written for (a tariff-item target the code is too
    short to confirm becomes such a description).
    """
    scoped = [b for b in record.branches if b.scope and uses_in(b.scope)]
    branches = list(record.branches)
    if scoped and len({b.scope for b in record.branches}) > 1:
        # one printed rule with "For a good ... for use in ...:" and "For any other good:"
        # halves (GN 11(o) ch. 87 rule 42): the half for the good's end use applies.
        mine = [b for b in branches if b.scope and end_use in uses_in(b.scope)]
        branches = mine or [b for b in branches if not (b.scope and uses_in(b.scope))]
    out: list[tuple[Branch, str | None]] = []
    for branch in branches:
        covered = [r.matches(digits) for r in branch.target] or [True]
        if any(c is True for c in covered):
            out.append((branch, branch.goods))
        elif any(c is None for c in covered):
            items = ", ".join(r.text for r in branch.target)
            out.append((branch, f"{branch.goods + ' of ' if branch.goods else ''}tariff "
                                f"item(s) {items}"))
    return out


def _record_notes(record: ProductSpecificRule, table: ProductRuleTable, as_of: date,
                  end_use: EndUse | None) -> tuple[Reason, ...]:
    """What a determination under `record` must say: which rule, from where, how sure."""
    notes = [_note("psr_applied", psr_reference=record.reference,
                   valid_from=record.valid_from.isoformat(),
                   valid_to=record.valid_to.isoformat() if record.valid_to else "",
                   source=record.source)]
    if not record.cross_checked:
        notes.append(_note("psr_not_cross_checked", cross_check=record.cross_check or ""))
    if record.use.residual and end_use is None:
        notes.append(_note("psr_residual"))
    notes.extend(_note("psr_doubt", doubt=n) for n in record.notes if n.startswith("DOUBTFUL"))
    for chapter_rule in table.chapter_rules(record.chapter, as_of):
        text = chapter_rule.text
        notes.append(_note("psr_chapter_rule", chapter=record.chapter,
                           kind=text.split(":")[0].lower(),
                           text=text[:160] + ("..." if len(text) > 160 else "")))
    notes.extend(_note("psr_clause", clause=clause) for clause in record.unsupported)
    return tuple(notes)


def _note(note: str, /, **values: str) -> Reason:
    """A note of the rule's selection, as data: code ``rule.note.<kind>`` and its values
    (`origin_rules.explain` words it in each language).
    """
    return Reason(f"rule.note.{note}", values)


def _choose_goods(rule: AppliedRule, goods: str, *, hs: str, as_of: date) -> AppliedRule:
    """The alternatives for the goods description the document chose (`psr_goods`): a
    branch letter ("C") or words of the description ("mounted brake linings").
    """
    groups = rule.goods_groups()
    wanted = goods_key(goods)
    letter = goods.strip("() ")
    if len(letter) == 1 and letter.isalpha():
        chosen = [(name, alts) for name, alts in groups if name is not None and any(
            a.label == letter.upper() for a in alts if a.goods is not None)]
    else:
        chosen = [(name, alts) for name, alts in groups if name is not None and (
            wanted == goods_key(name) or wanted in goods_key(name))]
    if len(chosen) > 1:
        exact = [(n, a) for n, a in chosen if goods_key(n or "") == wanted]
        chosen = exact or chosen
    if len(chosen) != 1:
        names = "; ".join(repr(name) for name, _ in groups if name is not None) or "none"
        raise AmbiguousRuleError(
            f"psr_goods {goods!r} does not name exactly one of the goods descriptions of "
            f"{rule.reference}: {names}", hs=hs, as_of=as_of)
    name, alternatives = chosen[0]
    return replace(rule, alternatives=alternatives,
                   reasons=(*rule.reasons, _note("psr_goods", goods=name or "")))


@dataclass(frozen=True)
class RuleBook:
    """All rule sets known to the engine, oldest first."""

    rule_sets: tuple[RuleSet, ...]

    def rule_set_on(self, as_of: date) -> RuleSet:
        """The rule set in force on `as_of`: the latest whose `valid_from` is not after it."""
        in_force = [rs for rs in self.rule_sets if rs.valid_from <= as_of]
        if not in_force:
            first = min(rs.valid_from for rs in self.rule_sets)
            raise NoApplicableRuleError(
                f"no rule set is in force on {as_of.isoformat()}: the earliest starts on "
                f"{first.isoformat()} (USMCA / T-MEC / CUSMA entered into force on 2020-07-01)",
                as_of=as_of)
        return max(in_force, key=lambda rs: rs.valid_from)

    @classmethod
    def from_texts(cls, texts: Iterable[tuple[str, str]], *,
                   product_rules: Iterable[tuple[str, str]] = ()) -> RuleBook:
        """Load rule sets from ``(file name, TOML text)`` pairs; validates strictly.

        `product_rules` are the PSR files (`origin_rules.product_rule_table`); each rule
        set gets the latest one that starts on or before it does.
        """
        psr = load_tables(product_rules)
        rule_sets = sorted((_load_rule_set(name, text) for name, text in texts),
                           key=lambda rs: rs.valid_from)
        if psr:
            rule_sets = [
                replace(rs, psr=psr[max(starts)])
                if (starts := [d for d in psr if d <= rs.valid_from]) else rs
                for rs in rule_sets]
        if not rule_sets:
            raise RuleDataError("<rule book>", "", "no rule set given")
        for earlier, later in itertools.pairwise(rule_sets):
            if earlier.valid_from == later.valid_from:
                raise RuleDataError(later.source, "valid_from",
                                    f"{later.valid_from} is also the start of {earlier.source}")
        return cls(tuple(rule_sets))


@cache
def default_rule_book() -> RuleBook:
    """The rule sets shipped in `origin_rules/data` (loaded once per process)."""
    root = resources.files("origin_rules.data")
    texts: list[tuple[str, str]] = []
    psr_texts: list[tuple[str, str]] = []
    for agreement in sorted(root.iterdir(), key=lambda p: p.name):
        if not agreement.is_dir() or agreement.name.startswith("__"):
            continue
        for entry in sorted(agreement.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".toml"):
                texts.append((f"{agreement.name}/{entry.name}", entry.read_text("utf-8")))
            elif entry.name == "psr" and entry.is_dir():
                psr_texts.extend((f"{agreement.name}/psr/{psr.name}", psr.read_text("utf-8"))
                                 for psr in sorted(entry.iterdir(), key=lambda p: p.name)
                                 if psr.name.endswith(".toml"))
    return RuleBook.from_texts(texts, product_rules=psr_texts)


# ---------------------------------------------------------------------------------------
# Strict loader: every error names the file and the key path.


class _Table(TomlTable):
    """A TOML table being read: tracks used keys so unknown keys can be rejected."""

    def get(self, name: str, default: Any = ...) -> Any:
        """The raw value of `name` (required unless a default is given)."""
        return self.take(name, default)

    def hs(self, name: str, default: Any = ...) -> tuple[HsEntry, ...]:
        entries = []
        for n, text in enumerate(self.strings(name, default)):
            try:
                entries.append(HsEntry.parse(text))
            except ValueError as exc:
                raise self.fail(f"{name}[{n}]", str(exc)) from None
        return tuple(entries)

    def sub(self, name: str) -> _Table:
        return _Table(self.file, self.key(name), self.get(name))



def _thresholds(table: _Table, reference: str) -> tuple[Threshold, ...]:
    out = []
    seen: set[tuple[Method, date]] = set()
    for entry in table.tables("threshold"):
        method_text = entry.text("method")
        try:
            method = Method(method_text)
        except ValueError:
            raise entry.fail("method", f"{method_text!r} is not net_cost or "
                                       "transaction_value") from None
        start = entry.day("valid_from")
        if (method, start) in seen:
            raise entry.fail("valid_from", f"a {method.value} threshold already starts on "
                                           f"{start}")
        seen.add((method, start))
        out.append(Threshold(method, entry.percent("min"), start, reference))
        entry.done()
    if not out:
        raise table.fail("threshold", "a category needs at least one threshold")
    return tuple(out)


def _category(table: _Table) -> Category:
    kind = table.text("kind")
    if kind not in ("vehicle", "part"):
        raise table.fail("kind", f"{kind!r} is not 'vehicle' or 'part'")
    end_use = []
    for n, text in enumerate(table.strings("end_use", ())):
        try:
            end_use.append(EndUse(text))
        except ValueError:
            raise table.fail(f"end_use[{n}]", f"{text!r} is not an end use") from None
    if kind == "part" and not end_use:
        raise table.fail("end_use", "a parts table needs the end uses it applies to")
    reference = table.text("reference")
    category = Category(
        id=table.text("id"),
        kind=kind,
        title=table.text("title"),
        hs=table.hs("hs"),
        thresholds=_thresholds(table, reference),
        reference=reference,
        table=table.text("table", None),
        end_use=tuple(end_use),
        exclude_hs=table.hs("exclude_hs", ()),
        explicit_only=bool(table.get("explicit_only", False)),
        valid_to=table.day("valid_to", None),
        requirements=table.strings("requirements", ()),
        labor_value_content=table.text("labor_value_content", None),
        note=table.text("note", None),
    )
    unknown = set(category.requirements) - {"core_parts", "steel_aluminum", "labor_value_content"}
    if unknown:
        raise table.fail("requirements", f"unknown requirement {sorted(unknown)[0]!r}")
    table.done()
    return category


def _load_rule_set(file: str, text: str) -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(file, "", f"not valid TOML: {exc}") from exc
    root = _Table(file, "", data)
    schema = root.get("schema")
    if schema != SCHEMA:
        raise root.fail("schema", f"expected {SCHEMA}, got {schema!r}")

    dm = root.sub("de_minimis")
    exclusions = []
    for entry in dm.tables("exclusion", ()):
        raw_materials = entry.get("materials")
        materials: tuple[HsEntry, ...] | str
        if raw_materials in ("any", "same_subheading"):
            materials = raw_materials
        else:
            materials = entry.hs("materials")
        exclusions.append(DeMinimisExclusion(entry.hs("goods"), materials,
                                              entry.text("reference")))
        entry.done()
    de_minimis = DeMinimis(dm.percent("percent"), dm.text("reference"), tuple(exclusions))
    dm.done()

    cd = root.sub("criterion_d")
    criterion_d = {Method.NET_COST: cd.percent("net_cost"),
                   Method.TRANSACTION_VALUE: cd.percent("transaction_value")}
    criterion_d_chapters = cd.strings("excluded_chapters")
    criterion_d_reference = cd.text("reference")
    criterion_d_methods_reference = cd.text("methods_reference", "")
    cd.done()

    net_cost_only = []
    for entry in root.tables("net_cost_only", ()):
        net_cost_only.append(NetCostOnly(entry.hs("hs"), entry.strings("tables", ()),
                                          entry.text("reference")))
        entry.done()

    sa = root.sub("steel_aluminum")
    steel = []
    for entry in sa.tables("threshold"):
        steel.append((entry.day("valid_from"), entry.percent("min")))
        entry.done()
    steel_reference = sa.text("reference")
    sa.text("note", None)
    sa.done()

    lvc_rules: dict[str, LaborValueContentRule] = {}
    for entry in root.tables("labor_value_content", ()):
        rows = []
        for row in entry.tables("threshold"):
            rows.append((row.day("valid_from"), row.percent("min"),
                         row.percent("min_high_wage_material_and_manufacturing")))
            row.done()
        rule = LaborValueContentRule(
            entry.text("id"), entry.percent("max_technology_credit"),
            entry.percent("max_assembly_credit"), tuple(rows), entry.text("reference"))
        lvc_rules[rule.id] = rule
        entry.done()

    core_parts = []
    for entry in root.tables("core_part", ()):
        core_parts.append(CorePart(entry.text("part"), entry.hs("hs"),
                                   entry.strings("components"), entry.text("reference")))
        entry.done()

    categories = [_category(entry) for entry in root.tables("category")]
    ids = [c.id for c in categories]
    for n, cat in enumerate(categories):
        if ids.index(cat.id) != n:
            raise RuleDataError(file, f"category[{n}].id", f"{cat.id!r} is used twice")
        if cat.labor_value_content is not None and cat.labor_value_content not in lvc_rules:
            raise RuleDataError(file, f"category[{n}].labor_value_content",
                                f"no labor_value_content entry {cat.labor_value_content!r}")
    us_statement = us_reference = ""
    if root.get("us_content", None) is not None:
        us = root.sub("us_content")
        us_statement, us_reference = us.text("statement"), us.text("reference")
        us.done()
    cited = root.sub("references")
    references = {key: cited.text(key) for key in REFERENCE_KEYS}
    cited.done()
    valid_from = root.day("valid_from")
    rule_set = RuleSet(
        rule_set=root.text("rule_set"),
        agreement=root.text("agreement"),
        title=root.text("title"),
        valid_from=valid_from,
        reference=root.text("reference"),
        source=file,
        de_minimis=de_minimis,
        criterion_d=criterion_d,
        criterion_d_excluded_chapters=criterion_d_chapters,
        criterion_d_reference=criterion_d_reference,
        criterion_d_methods_reference=criterion_d_methods_reference,
        us_content_statement=us_statement,
        us_content_reference=us_reference,
        net_cost_only=tuple(net_cost_only),
        categories=tuple(categories),
        labor_value_content=lvc_rules,
        steel_aluminum=tuple(steel),
        steel_aluminum_reference=steel_reference,
        core_parts=tuple(core_parts),
        caveats=root.strings("caveats", ()),
        sources=root.strings("sources", ()),
        references=references,
    )
    root.done()
    for n, cat in enumerate(categories):
        starts = [t.valid_from for t in cat.thresholds if t.valid_from is not None]
        if starts and min(starts) < valid_from:
            raise RuleDataError(file, f"category[{n}].threshold",
                                f"a threshold starts before the rule set ({valid_from})")
    return rule_set

