"""Rules in force: dated, referenced rule sets loaded from data files, and rule selection.

A *rule set* is one TOML file under `origin_rules/data/<agreement>/` (schema below, built by
`tools/build_usmca_rules.py`). It holds the automotive categories of the Appendix to
Annex 4-B (vehicles, Tables A.1-F, other vehicles), each with HS entries, end uses and RVC
thresholds that start on a date (periods start July 1), plus the de minimis rule and its
Annex 4-A exclusions, the Art. 4.2(d) thresholds, the labor value content and steel and
aluminum series, and the Table A.2 core parts. Every value keeps its legal reference.

Selection (`RuleSet.rule_for`) is a pure function of HS code, end use and `as_of`:

1. an explicit `rule` in the document wins (caller's choice; see `AppliedRule.from_document`);
2. a part with an `end_use` takes the first matching parts table for that end use (tables
   are listed strictest first, so an ``ex`` subheading shared by Tables A.1 and B resolves to
   A.1 unless the document names `automotive_table`);
3. otherwise a vehicle category by HS (the first match, or `vehicle.category`);
4. otherwise `NoApplicableRuleError`: the general product-specific rules of Annex 4-B are
   not encoded, and the engine never guesses "originating".

A new treaty text (the 2026 joint review) is a new file with a later `valid_from`;
`RuleBook.rule_set_on` picks the latest rule set in force on `as_of`. Nothing here reads the
clock or the environment.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from origin_rules.bom import EndUse, Method, ProductRule, TariffShift
from origin_rules.errors import NoApplicableRuleError, RuleDataError
from origin_rules.values import hs_digits

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
    notes: tuple[str, ...] = ()

    @property
    def methods(self) -> tuple[Method, ...]:
        """RVC methods the rule allows, in a stable order (net cost first)."""
        return tuple(m for m in Method if any(t.method is m for t in self.rvc))

    def threshold(self, method: Method) -> Threshold | None:
        """The threshold for `method`, if the rule allows it."""
        return next((t for t in self.rvc if t.method is method), None)

    @property
    def requires_rvc(self) -> bool:
        """True when the good cannot qualify without meeting an RVC requirement."""
        return bool(self.rvc) and (self.tariff_shift is None or self.combine == "all")

    @classmethod
    def from_document(cls, rule: ProductRule, *, item_id: str, rule_set: str) -> AppliedRule:
        """The explicit rule written in the document for `item_id` (overrides the tables)."""
        return cls(
            title=f"rule given in the document for item {item_id!r}",
            reference="product-specific rule stated by the producer in the BOM (Annex 4-B)",
            rule_set=rule_set,
            rvc=tuple(Threshold(r.method, r.min, None, "document rule") for r in rule.rvc),
            tariff_shift=rule.tariff_shift,
            tariff_shift_except=rule.except_,
            combine=rule.combine,
        )


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
    ) -> AppliedRule:
        """Select the rule for a good of `hs` (see the module docstring for the order)."""
        digits = hs_digits(hs)
        notes: list[str] = []
        chosen: tuple[Category, HsEntry] | None = None
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
                    notes.append(f"HS {hs} is also listed in {others}; the strictest table is "
                                 "applied unless the document sets 'automotive_table'")
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
                    notes.append(f"end_use {end_use.value!r} is ignored: HS {hs} is a vehicle")
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
            notes.append(f"the table lists '{entry.text}': it covers only the goods its "
                         "description names; confirm the good is one of them")
        thresholds = cat.thresholds_on(as_of)
        if Method.TRANSACTION_VALUE in thresholds:
            for entry_nc in self.net_cost_only:
                if entry_nc.applies(digits, cat):
                    del thresholds[Method.TRANSACTION_VALUE]
                    notes.append(f"the product-specific rule for HS {hs} has no transaction "
                                 f"value method ({entry_nc.reference})")
                    break
        if not thresholds:
            raise NoApplicableRuleError(f"{cat.title} has no threshold in force on "
                                        f"{as_of.isoformat()}", hs=hs, as_of=as_of)
        rvc = tuple(
            Threshold(t.method, t.min, t.valid_from, cat.reference)
            for t in (thresholds[m] for m in Method if m in thresholds)
        )
        return AppliedRule(
            title=cat.title, reference=cat.reference, rule_set=self.rule_set, rvc=rvc,
            category=cat, notes=tuple(notes),
        )


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
    def from_texts(cls, texts: Iterable[tuple[str, str]]) -> RuleBook:
        """Load rule sets from ``(file name, TOML text)`` pairs; validates strictly."""
        rule_sets = sorted((_load_rule_set(name, text) for name, text in texts),
                           key=lambda rs: rs.valid_from)
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
    for agreement in sorted(root.iterdir(), key=lambda p: p.name):
        if not agreement.is_dir() or agreement.name.startswith("__"):
            continue
        for entry in sorted(agreement.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".toml"):
                texts.append((f"{agreement.name}/{entry.name}", entry.read_text("utf-8")))
    return RuleBook.from_texts(texts)


# ---------------------------------------------------------------------------------------
# Strict loader: every error names the file and the key path.


class _Table:
    """A TOML table being read: tracks used keys so unknown keys can be rejected."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise RuleDataError(file, path or "<root>", "expected a table")
        self.file, self.path, self.data = file, path, data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> RuleDataError:
        return RuleDataError(self.file, self.key(name), message)

    def get(self, name: str, default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "is required")
            return default
        return self.data[name]

    def text(self, name: str, default: Any = ...) -> Any:
        value = self.get(name, default)
        if value is not default and not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {value!r}")
        return value

    def day(self, name: str, default: Any = ...) -> Any:
        value = self.get(name, default)
        if value is not default and (not isinstance(value, date) or hasattr(value, "hour")):
            raise self.fail(name, f"expected a date (YYYY-MM-DD), got {value!r}")
        return value

    def percent(self, name: str) -> Decimal:
        value = self.get(name)
        if not isinstance(value, str):
            raise self.fail(name, f"expected a decimal string such as \"62.5\", got {value!r}")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(name, f"{value!r} is not a decimal") from None
        if not number.is_finite() or not 0 <= number <= 100:
            raise self.fail(name, f"{value!r} is not a percentage between 0 and 100")
        return number

    def strings(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, default)
        if value is default and default is not ...:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected an array of strings, got {value!r}")
        return tuple(value)

    def hs(self, name: str, default: Any = ...) -> tuple[HsEntry, ...]:
        entries = []
        for n, text in enumerate(self.strings(name, default)):
            try:
                entries.append(HsEntry.parse(text))
            except ValueError as exc:
                raise self.fail(f"{name}[{n}]", str(exc)) from None
        return tuple(entries)

    def tables(self, name: str, default: Any = ...) -> list[_Table]:
        value = self.get(name, default)
        if value is default and default is not ...:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "expected an array of tables")
        return [_Table(self.file, f"{self.key(name)}[{n}]", v) for n, v in enumerate(value)]

    def sub(self, name: str) -> _Table:
        return _Table(self.file, self.key(name), self.get(name))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise RuleDataError(self.file, self.key(unknown[0]), "unknown key")


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
    )
    root.done()
    for n, cat in enumerate(categories):
        starts = [t.valid_from for t in cat.thresholds if t.valid_from is not None]
        if starts and min(starts) < valid_from:
            raise RuleDataError(file, f"category[{n}].threshold",
                                f"a threshold starts before the rule set ({valid_from})")
    return rule_set

