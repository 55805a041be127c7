"""What-if rule sets: proposals kept as data, marked hypothetical, never in force.

Compliance teams ask "what if the rule changes?" before sourcing decisions: the 2026
joint review (USMCA Art. 34.7) ended on 1 July 2026 without renewal, annual reviews
follow, and positions such as higher RVC thresholds or a US content floor were reported
around it. A *scenario* is one such position as data: a TOML file under
`origin_rules/data/<agreement>/scenarios/`, read here into a `RuleSet` whose `scenario`
is set (`RuleSet.hypothetical`).

A scenario is **the rule set it is based on plus its changes, nothing else**: the file
names `based_on` (a rule set in force) and lists `[[change]]` entries; everything it does
not change is the base's own data, so it cannot drift from the text it departs from. Its
changes apply *as if in force on the date evaluated*: a threshold change replaces the
category's whole schedule for that method (a what-if answers about the BOM as it is, not
about a later July 1). Every change says whether its figure was reported (`basis =
"reported"`) or is ours (`"ours"`), and the file carries its sources (address, date,
what each says) and the legal or political reference of the position.

Where it can and cannot be used: `default_rule_book()` never contains a scenario, so no
determination is made under one unless a caller asks for it by name
(`RuleSetCatalogue.book`); the determination then carries the scenario and says, first in
its explanation, that it is hypothetical; and `ledger.token.build_origin_token` refuses
it (`ledger.hypothetical_rule_set`): a what-if is never an origin token.

Schema (``schema = 1``)::

    name = "rvc-82"                     # short name, used by `tmec rvc --rules NAME`
    title = "..."
    status = "hypothetical"             # the only status a scenario has
    based_on = "usmca/2020-07-01"       # a rule set in force
    reference = "..."                   # the legal / political reference of the position
    hypothetical = "..."                # which figures are ours, and what is not modelled
    [[source]]   title, says, url (optional), published (optional)
    [[change]]   kind = "threshold", category, method, min, basis, reference
    [[change]]   kind = "us_content_floor", categories, min, basis, reference
    [[change]]   kind = "steel_aluminum", min (optional), condition, basis, reference

A ``us_content_floor`` adds the ``us_content`` requirement to the categories it names:
the good's US content (`Determination.us_content`, share of total cost) must reach the
minimum. A ``steel_aluminum`` change sets the s.17 minimum and states what the
originating purchases must be (e.g. melted and poured); the engine cannot see how steel
was made, so the condition is stated in the requirement, and the document's figures are
taken to follow it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from origin_rules.bom import Method
from origin_rules.errors import RuleDataError, UnknownRuleSetError
from origin_rules.rule_data import TomlTable
from origin_rules.rules import Category, RuleBook, RuleSet, Threshold, default_rule_book
from origin_rules.values import format_decimal

__all__ = [
    "Basis",
    "Change",
    "RuleSetCatalogue",
    "Scenario",
    "Source",
    "SteelAluminumChange",
    "ThresholdChange",
    "UsContentFloor",
    "default_catalogue",
    "load_scenario",
]

SCHEMA = 1
HYPOTHETICAL = "hypothetical"
#: the requirement a US content floor adds to a category (`engine.automotive`)
US_CONTENT = "us_content"


class Basis(StrEnum):
    """Where a changed figure comes from: public reporting, or our own assumption."""

    REPORTED = "reported"
    OURS = "ours"


@dataclass(frozen=True, slots=True)
class Source:
    """A public text the scenario rests on, with what it says (in our words)."""

    title: str
    says: str
    url: str | None = None
    published: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON form."""
        return {"title": self.title, "url": self.url, "published": self.published,
                "says": self.says}


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """A category's RVC minimum for one method, replacing its whole schedule."""

    category: str
    method: Method
    min: Decimal
    basis: Basis
    reference: str

    def describe(self) -> str:
        """One line for listings: what changes, to what, on which basis."""
        return (f"{self.category}: {self.method.value} RVC {format_decimal(self.min)} % "
                f"({self.basis.value})")


@dataclass(frozen=True, slots=True)
class UsContentFloor:
    """A minimum US content share (percent of total cost) for the categories named."""

    categories: tuple[str, ...]
    min: Decimal
    basis: Basis
    reference: str

    def describe(self) -> str:
        """One line for listings."""
        return (f"{', '.join(self.categories)}: US content at least "
                f"{format_decimal(self.min)} % of total cost ({self.basis.value})")


@dataclass(frozen=True, slots=True)
class SteelAluminumChange:
    """The s.17 steel and aluminum purchase test: its minimum and what counts."""

    min: Decimal | None
    condition: str
    basis: Basis
    reference: str

    def describe(self) -> str:
        """One line for listings."""
        said = []
        if self.min is not None:
            said.append(f"at least {format_decimal(self.min)} % originating")
        if self.condition:
            said.append(f"originating means {self.condition}")
        return f"steel and aluminum purchases: {'; '.join(said)} ({self.basis.value})"


Change = ThresholdChange | UsContentFloor | SteelAluminumChange


@dataclass(frozen=True)
class Scenario:
    """One hypothetical rule set: a rule set in force and the changes a position asks for."""

    name: str
    title: str
    based_on: str
    reference: str
    hypothetical: str
    sources: tuple[Source, ...]
    changes: tuple[Change, ...]
    #: the data file it was read from (or a label for one built in code)
    source: str = "<scenario>"

    @property
    def rule_set(self) -> str:
        """The id its determinations name: ``usmca/scenario/rvc-82``."""
        agreement = self.based_on.split("/", 1)[0]
        return f"{agreement}/scenario/{self.name}"

    def summary(self) -> dict[str, Any]:
        """JSON form: what a determination under it carries, and `tmec rules list --json`."""
        return {
            "name": self.name,
            "rule_set": self.rule_set,
            "status": HYPOTHETICAL,
            "title": self.title,
            "based_on": self.based_on,
            "reference": self.reference,
            "hypothetical": self.hypothetical,
            "changes": [change.describe() for change in self.changes],
            "sources": [source.to_dict() for source in self.sources],
        }

    def apply(self, base: RuleSet) -> RuleSet:
        """The rule set `base` with this scenario's changes, marked hypothetical.

        Raises `RuleDataError` (naming the scenario's file and change) when a change names
        a category the base does not have, or the base is not the one the file names.
        """
        if base.rule_set != self.based_on:
            raise RuleDataError(self.source, "based_on",
                                f"the scenario is based on {self.based_on}, not {base.rule_set}")
        categories: dict[str, Category] = {c.id: c for c in base.categories}
        references: dict[str, list[str]] = {}
        us_minimum: Decimal | None = None
        us_reference = ""
        steel = base.steel_aluminum
        steel_references: list[str] = []
        condition = base.steel_aluminum_condition
        for n, change in enumerate(self.changes):
            where = f"change[{n}]"
            if isinstance(change, ThresholdChange):
                cat = self._category(categories, change.category, f"{where}.category")
                kept = tuple(t for t in cat.thresholds if t.method is not change.method)
                # valid_from None: in force on every date evaluated (a what-if, not a
                # dated amendment); the reference says whose figure it is.
                categories[cat.id] = replace(cat, thresholds=(
                    *kept, Threshold(change.method, change.min, None, change.reference)))
                references.setdefault(cat.id, []).append(change.reference)
            elif isinstance(change, UsContentFloor):
                if us_minimum is not None:
                    raise RuleDataError(self.source, where, "a scenario has one US content "
                                                            "floor")
                for m, category_id in enumerate(change.categories):
                    cat = self._category(categories, category_id, f"{where}.categories[{m}]")
                    if US_CONTENT not in cat.requirements:
                        categories[cat.id] = replace(
                            cat, requirements=(*cat.requirements, US_CONTENT))
                    references.setdefault(cat.id, []).append(change.reference)
                us_minimum, us_reference = change.min, change.reference
            else:
                if change.min is not None:
                    steel = ((base.valid_from, change.min),)
                steel_references.append(change.reference)
                condition = change.condition or condition
        steel_reference = base.steel_aluminum_reference
        if steel_references:
            steel_reference += (f"; HYPOTHETICAL, scenario {self.name}: "
                                + "; ".join(steel_references))
        changed = tuple(
            replace(categories[c.id], reference=(
                f"{c.reference}; HYPOTHETICAL, scenario {self.name}: "
                + "; ".join(dict.fromkeys(references[c.id]))))
            if c.id in references else categories[c.id]
            for c in base.categories)
        return replace(
            base, rule_set=self.rule_set, title=f"HYPOTHETICAL: {self.title}",
            reference=f"{self.reference} (what-if on {base.rule_set}: {base.reference})",
            source=self.source, categories=changed, scenario=self,
            us_content_minimum=us_minimum, us_content_minimum_reference=us_reference,
            steel_aluminum=steel, steel_aluminum_reference=steel_reference,
            steel_aluminum_condition=condition)

    def _category(self, categories: Mapping[str, Category], category_id: str,
                  where: str) -> Category:
        cat = categories.get(category_id)
        if cat is None:
            known = ", ".join(categories)
            raise RuleDataError(self.source, where, f"{self.based_on} has no category "
                                                    f"{category_id!r} (known: {known})")
        return cat


@dataclass(frozen=True)
class RuleSetCatalogue:
    """The rule sets a caller may name: those in force, and the shipped scenarios."""

    in_force: RuleBook
    scenarios: tuple[Scenario, ...]
    rule_sets: Mapping[str, RuleSet]  # scenario name -> its hypothetical rule set

    @classmethod
    def build(cls, in_force: RuleBook, scenarios: Iterable[Scenario]) -> RuleSetCatalogue:
        """Apply every scenario to its base rule set (checking both names are unique)."""
        bases = {rs.rule_set: rs for rs in in_force.rule_sets}
        found: list[Scenario] = []
        rule_sets: dict[str, RuleSet] = {}
        for scenario in scenarios:
            base = bases.get(scenario.based_on)
            if base is None:
                raise RuleDataError(scenario.source, "based_on",
                                    f"no rule set in force is named {scenario.based_on!r} "
                                    f"(known: {', '.join(bases)})")
            if scenario.name in rule_sets or scenario.name in bases:
                raise RuleDataError(scenario.source, "name",
                                    f"{scenario.name!r} is already the name of a rule set")
            rule_sets[scenario.name] = scenario.apply(base)
            found.append(scenario)
        return cls(in_force, tuple(found), rule_sets)

    def names(self) -> tuple[str, ...]:
        """Every name `book` takes: the rule sets in force, then the scenarios."""
        return (*(rs.rule_set for rs in self.in_force.rule_sets),
                *(s.name for s in self.scenarios))

    def scenario(self, name: str) -> Scenario:
        """The scenario called `name` (short name or rule set id)."""
        found = self._find(name)
        if found is None:
            raise self._unknown(name, scenarios_only=True)
        return found

    def book(self, name: str | None) -> RuleBook:
        """The rule book to evaluate under `name`: None for the rules in force on each
        date; a rule set in force by its id (that one only); a scenario by its short name
        or id (its hypothetical rule set only).
        """
        if name is None:
            return self.in_force
        for rule_set in self.in_force.rule_sets:
            if rule_set.rule_set == name:
                return RuleBook((rule_set,))
        found = self._find(name)
        if found is None:
            raise self._unknown(name, scenarios_only=False)
        return RuleBook((self.rule_sets[found.name],))

    def _find(self, name: str) -> Scenario | None:
        return next((s for s in self.scenarios if name in (s.name, s.rule_set)), None)

    def _unknown(self, name: str, *, scenarios_only: bool) -> UnknownRuleSetError:
        shown = name if len(name) <= 60 else name[:60] + "..."
        listed = [f"{s.name} (hypothetical)" for s in self.scenarios]
        if not scenarios_only:
            listed[:0] = [f"{rs.rule_set} (in force from {rs.valid_from.isoformat()})"
                          for rs in self.in_force.rule_sets]
        what = "scenario" if scenarios_only else "rule set"
        return UnknownRuleSetError(f"unknown {what} {shown!r}; available: "
                                   f"{'; '.join(listed) or 'none'}",
                                   name=name, available=self.names())


def load_scenario(file: str, text: str) -> Scenario:
    """Read one scenario file strictly (every error names the file and key)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(file, "", f"not valid TOML: {exc}") from exc
    root = TomlTable(file, "", data)
    schema = root.take("schema")
    if schema != SCHEMA:
        raise root.fail("schema", f"expected {SCHEMA}, got {schema!r}")
    status = root.text("status")
    if status != HYPOTHETICAL:
        raise root.fail("status", f"a scenario is {HYPOTHETICAL!r}, got {status!r}; a text "
                                  "in force is a rule set file, not a scenario")
    name = root.text("name")
    if not name or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name):
        raise root.fail("name", f"{name!r} is not a short name (letters, digits, - _ .)")
    sources = []
    for entry in root.tables("source", []):
        sources.append(Source(entry.text("title"), entry.text("says"),
                              entry.text("url", None), entry.text("published", None)))
        entry.done()
    if not sources:
        raise root.fail("source", "a scenario needs at least one source")
    changes = [_change(entry) for entry in root.tables("change", [])]
    scenario = Scenario(
        name=name, title=root.text("title"), based_on=root.text("based_on"),
        reference=root.text("reference"), hypothetical=root.text("hypothetical"),
        sources=tuple(sources), changes=tuple(changes), source=file)
    root.done()
    return scenario


def _change(entry: TomlTable) -> Change:
    kind = entry.text("kind")
    basis_text = entry.text("basis")
    try:
        basis = Basis(basis_text)
    except ValueError:
        raise entry.fail("basis", f"{basis_text!r} is not 'reported' or 'ours'") from None
    reference = entry.text("reference")
    change: Change
    if kind == "threshold":
        method_text = entry.text("method")
        try:
            method = Method(method_text)
        except ValueError:
            raise entry.fail("method", f"{method_text!r} is not net_cost or "
                                       "transaction_value") from None
        change = ThresholdChange(entry.text("category"), method, entry.percent("min"), basis,
                                 reference)
    elif kind == "us_content_floor":
        categories = entry.strings("categories")
        if not categories:
            raise entry.fail("categories", "name at least one category")
        change = UsContentFloor(categories, entry.percent("min"), basis, reference)
    elif kind == "steel_aluminum":
        minimum = entry.percent("min") if "min" in entry.data else None
        entry.used.add("min")
        condition = entry.text("condition", "")
        if minimum is None and not condition:
            raise entry.fail("min", "a steel_aluminum change sets a min, a condition or both")
        change = SteelAluminumChange(minimum, condition, basis, reference)
    else:
        raise entry.fail("kind", f"{kind!r} is not threshold, us_content_floor or "
                                 "steel_aluminum")
    entry.done()
    return change


@cache
def default_catalogue() -> RuleSetCatalogue:
    """The rule sets in force and the scenarios shipped in `origin_rules/data` (loaded
    once per process; read-only data, the same for every caller).
    """
    root = resources.files("origin_rules.data")
    scenarios: list[Scenario] = []
    for agreement in sorted(root.iterdir(), key=lambda p: p.name):
        folder = agreement / "scenarios"
        if not agreement.is_dir() or not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".toml"):
                scenarios.append(load_scenario(f"{agreement.name}/scenarios/{entry.name}",
                                               entry.read_text("utf-8")))
    return RuleSetCatalogue.build(default_rule_book(), scenarios)
