"""The product-specific rules of Annex 4-B as dated, referenced data, and their lookup.

One TOML file under ``origin_rules/data/<agreement>/psr/`` (built by
`tools/build_usmca_psr.py` from the GN 11(o) transcription in ``tools/data/``) holds every
rule collected: its provision, the printed text word for word, the parsed branches
(`origin_rules.product_rules`), the GN 11(o) running number where the source shows it,
the source, whether the text was cross-checked against a copy of the General Note, and
the dates it is in force (the phased steel rules of chapter 73 and the transformers of
8504 have two).

`ProductRuleTable.select` finds the rule for a good: the provisions in force on `as_of`
that cover its HS code, the most specific first (a tariff item before its subheading, a
subheading before a range of headings); among those, the ones written for the good's end
use ("for use in a heavy truck"), otherwise the ones for "any other good" or without a
qualifier. When the HS code is too short to choose (a six-digit code where the rules are
written for tariff items) or two provisions remain (an ``ex`` provision beside its "any
other good", a doubtful duplicate of the source), the choice is the document's
(`psr_provision`): the engine reports the ambiguity rather than picking one.

Pure: parses a text it is given; `origin_rules.rules.default_rule_book` reads the file.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from origin_rules.bom import EndUse, Method
from origin_rules.errors import AmbiguousRuleError, NoApplicableRuleError, RuleDataError
from origin_rules.product_rules import (
    Branch,
    HsRange,
    Level,
    RvcClause,
    Shift,
    Source,
    Use,
    parse_provision,
)
from origin_rules.rule_data import TomlTable
from origin_rules.values import hs_digits

__all__ = ["PSR_SCHEMA", "ProductRuleSource", "ProductRuleTable", "ProductSpecificRule",
           "load_tables", "rule_data"]

PSR_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class ProductSpecificRule:
    """One rule of GN 11(o) for one provision (or one chapter rule), with its references."""

    chapter: str
    provision: str
    hs: tuple[HsRange, ...]
    use: Use
    text: str
    status: str
    branches: tuple[Branch, ...]
    valid_from: date
    source: str
    cross_checked: bool
    valid_to: date | None = None
    gn11_number: int | None = None
    unsupported: tuple[str, ...] = ()
    preamble: str | None = None
    cross_check: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        """Where the rule is printed: HTSUS GN 11(o), chapter, running number, provision."""
        number = f"rule {self.gn11_number}" if self.gn11_number is not None else (
            "running number not shown by the source")
        if self.status == "chapter_rule":
            return f"HTSUS General Note 11(o), chapter {self.chapter}, {self.text.split(':')[0]}"
        return (f"HTSUS General Note 11(o) (Annex 4-B), chapter {self.chapter}, {number}, "
                f"provision {self.provision}")

    def summary(self) -> dict[str, Any]:
        """The references a determination reports (JSON form)."""
        return {"provision": self.provision, "chapter": self.chapter,
                "gn11_number": self.gn11_number, "reference": self.reference,
                "source": self.source, "cross_checked": self.cross_checked,
                "status": self.status, "valid_from": self.valid_from.isoformat(),
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "text": self.text}

    def in_force(self, as_of: date) -> bool:
        """True when `as_of` lies in the rule's dates."""
        return self.valid_from <= as_of and (self.valid_to is None or as_of <= self.valid_to)

    def match(self, digits: str) -> tuple[int, bool | None]:
        """(specificity, covered): the number of digits of the matching entry and whether
        the HS code falls under the provision (None: the code is too short to tell).
        """
        best: tuple[int, bool | None] = (0, False)
        for entry in self.hs:
            covered = entry.matches(digits)
            if covered is not False:
                candidate = (len(entry.low) * 2 - (entry.low != entry.high), covered)
                if (covered is True and (best[1] is not True or candidate[0] > best[0])) or (
                        covered is None and best[1] is not True):
                    best = candidate
        return best


@dataclass(frozen=True)
class ProductRuleTable:
    """The product-specific rules of one data file."""

    title: str
    valid_from: date
    reference: str
    source: str
    rules: tuple[ProductSpecificRule, ...]
    caveats: tuple[str, ...] = ()

    #: the chapters of the whole file, when this table holds the rules of one chapter only
    #: (`ProductRuleSource.for_code`)
    file_chapters: tuple[str, ...] = ()

    @property
    def chapters(self) -> tuple[str, ...]:
        """The chapters the file has rules for."""
        return self.file_chapters or tuple(sorted({r.chapter for r in self.rules}))

    def coverage(self) -> dict[str, Counter[str]]:
        """Per chapter, how many records are structured, partial, unsupported, chapter rules."""
        out: dict[str, Counter[str]] = {}
        for rule in self.rules:
            out.setdefault(rule.chapter, Counter())[rule.status] += 1
        return out

    @cached_property
    def _by_chapter(self) -> dict[str, tuple[ProductSpecificRule, ...]]:
        """The provision rules under each two-digit chapter their HS entries reach.

        A good's rule can only be among the rules of its own chapter, so `select` reads
        a few dozen rules instead of every rule of the file (a registration looks one up).
        """
        index: dict[str, list[ProductSpecificRule]] = {}
        for rule in self.rules:
            if rule.status == "chapter_rule":
                continue
            reached = {f"{n:02d}" for entry in rule.hs
                       for n in range(int(entry.low[:2]), int(entry.high[:2]) + 1)}
            for chapter in reached:
                index.setdefault(chapter, []).append(rule)
        return {chapter: tuple(rules) for chapter, rules in index.items()}

    def _candidates(self, digits: str) -> Iterable[ProductSpecificRule]:
        if len(digits) < 2:  # too short for a chapter: every rule may still match
            return (rule for rule in self.rules if rule.status != "chapter_rule")
        return self._by_chapter.get(digits[:2], ())

    def chapter_rules(self, chapter: str, as_of: date) -> tuple[ProductSpecificRule, ...]:
        """The chapter rules of `chapter` in force on `as_of`."""
        return tuple(r for r in self.rules if r.chapter == chapter
                     and r.status == "chapter_rule" and r.in_force(as_of))

    def select(self, hs: str, *, as_of: date, end_use: EndUse | None,
               provision: str | None = None) -> ProductSpecificRule:
        """The rule for a good of `hs` (see the module docstring); `provision` is the
        document's choice, naming a provision as the data writes it.
        """
        digits = hs_digits(hs)
        found = [(rule, *rule.match(digits)) for rule in self._candidates(digits)
                 if rule.in_force(as_of)]
        found = [(rule, level, covered) for rule, level, covered in found if covered is not False]
        if provision is not None:
            named = [rule for rule, _, _ in found if rule.provision == provision]
            if len(named) == 1:
                return named[0]
            known = "; ".join(sorted({rule.provision for rule, _, _ in found})) or "none"
            raise NoApplicableRuleError(
                f"psr_provision {provision!r} is not a product-specific rule in force on "
                f"{as_of.isoformat()} for HS {hs} (provisions for this code: {known})",
                hs=hs, as_of=as_of)
        if not found:
            chapters = ", ".join(self.chapters)
            raise NoApplicableRuleError(
                f"no product-specific rule of Annex 4-B in force on {as_of.isoformat()} is "
                f"known for HS {hs}: the rule data ({self.source}) covers chapters "
                f"{chapters}, and not every provision of them (see its coverage notes); "
                "a missing provision is not 'no rule', so give the good an explicit 'rule'",
                hs=hs, as_of=as_of)
        undecided = [rule for rule, _, covered in found if covered is None]
        if undecided:
            names = "; ".join(rule.provision for rule in undecided)
            raise AmbiguousRuleError(
                f"HS {hs} is too short to choose the product-specific rule: the rules are "
                f"written for {names}; give the good's full tariff item or name the "
                "provision in 'psr_provision'", hs=hs, as_of=as_of)
        top = max(level for _, level, _ in found)
        candidates = [rule for rule, level, _ in found if level == top]
        for_use = [r for r in candidates if end_use is not None and end_use in r.use.uses]
        candidates = for_use or [r for r in candidates if not r.use.uses]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise NoApplicableRuleError(
                f"the product-specific rules for HS {hs} are written for other end uses "
                f"than {end_use.value if end_use else 'none given'}", hs=hs, as_of=as_of)
        names = "; ".join(repr(r.provision) for r in candidates)
        raise AmbiguousRuleError(
            f"more than one product-specific rule may apply to HS {hs}"
            + (f" for end use {end_use.value}" if end_use else "")
            + f": {names}; name the one that describes the good in 'psr_provision'",
            hs=hs, as_of=as_of)

    @classmethod
    def from_text(cls, file: str, text: str, *, one_chapter: bool = False) -> ProductRuleTable:
        """Load a PSR data file; every error names the file and the key path.

        `one_chapter`: the text is the file's header and the rules of one chapter
        (`ProductRuleSource.for_code`), which may have none; a whole file must have rules.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RuleDataError(file, "", f"not valid TOML: {exc}") from exc
        root = _Fields(file, "", data)
        if root.get("schema", int) != PSR_SCHEMA:
            raise root.fail("schema", f"expected {PSR_SCHEMA}")
        record_sources = root.sub("record_source")
        if record_sources is None:
            raise root.fail("record_source", "is required")
        sources = {key: record_sources.get(key, str) for key in record_sources.data}
        record_sources.done()
        rules = tuple(_rule(entry, sources)
                      for entry in root.tables("rule", [] if one_chapter else ...))
        table = cls(
            title=root.get("title", str), valid_from=root.get("valid_from", date),
            reference=root.get("reference", str), source=file, rules=rules,
            caveats=tuple(root.get("caveats", list, [])),
        )
        root.get("sources", list, [])
        root.done()
        return table


def rule_data(rule: ProductSpecificRule, source_ids: Mapping[str, str]) -> dict[str, Any]:
    """The TOML table of one rule (what `ProductRuleTable.from_text` reads back); its source
    is written as its key in the file's `[record_source]` table (`source_ids`), and each
    branch's text as its span in the rule's text when it is one.
    """
    out: dict[str, Any] = {"chapter": rule.chapter, "provision": rule.provision,
                           "hs": [r.text for r in rule.hs]}
    if rule.use.uses:
        out["use"] = [u.value for u in rule.use.uses]
    if rule.use.residual:
        out["residual"] = True
    if rule.use.description:
        out["description"] = rule.use.description
    if rule.use.ex:
        out["ex"] = True
    out["valid_from"] = rule.valid_from
    if rule.valid_to:
        out["valid_to"] = rule.valid_to
    if rule.gn11_number is not None:
        out["gn11_number"] = rule.gn11_number
    out.update(status=rule.status, source=source_ids[rule.source],
               cross_checked=rule.cross_checked)
    if rule.cross_check:
        out["cross_check"] = rule.cross_check
    if rule.notes:
        out["notes"] = list(rule.notes)
    if rule.preamble:
        out["preamble"] = rule.preamble
    if rule.unsupported:
        out["unsupported"] = list(rule.unsupported)
    out["text"] = rule.text
    out["branch"] = []
    at = 0
    for branch in rule.branches:
        data = _branch_data(branch)
        start = rule.text.find(branch.text, at)
        if start >= 0:
            del data["text"]
            data["text_span"] = [start, start + len(branch.text)]
            at = start + len(branch.text)
        out["branch"].append(data)
    return out


def _source_data(source: Source) -> dict[str, Any]:
    out: dict[str, Any] = {"hs": [r.text for r in source.hs]}
    if source.description:
        out["description"] = source.description
    return out


def _branch_data(branch: Branch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if branch.label:
        out["label"] = branch.label
    if branch.scope:
        out["scope"] = branch.scope
    if branch.goods:
        out["goods"] = branch.goods
    out["target"] = [r.text for r in branch.target]
    if branch.shift is None:
        out["no_change"] = True
    else:
        shift: dict[str, Any] = {}
        if branch.shift.level:
            shift["level"] = branch.shift.level.value
        if branch.shift.outside_group:
            shift["outside_group"] = [r.text for r in branch.shift.outside_group]
        if branch.shift.sources:
            shift["sources"] = [_source_data(s) for s in branch.shift.sources]
        if branch.shift.exceptions:
            shift["exceptions"] = [_source_data(s) for s in branch.shift.exceptions]
        out["shift"] = shift
    if branch.rvc:
        out["rvc"] = [{"method": c.method.value, "min": str(c.min)} for c in branch.rvc]
    if branch.unsupported:
        out["unsupported"] = list(branch.unsupported)
    out["text"] = branch.text
    return out


# ---------------------------------------------------------------------------------------
# Strict loading


class _Fields(TomlTable):
    """A TOML table being read: typed access, and unknown keys rejected at `done`."""

    def get(self, name: str, kind: type, default: Any = ...) -> Any:
        if name not in self.data:
            return self.take(name, default)
        value = self.take(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)) or (
                kind is date and hasattr(value, "hour")):
            raise self.fail(name, f"expected {kind.__name__}, got {value!r}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise self.fail(name, "expected an array of strings")
        return value

    def ranges(self, name: str, default: Any = ...) -> tuple[HsRange, ...]:
        out = []
        for n, text in enumerate(self.get(name, list, default)):
            try:
                out.append(HsRange.parse(text))
            except ValueError as exc:
                raise self.fail(f"{name}[{n}]", str(exc)) from None
        return tuple(out)

    def tables(self, name: str, default: Any = ...) -> list[_Fields]:
        self.used.add(name)
        value = self.data.get(name, default)
        if value is ...:
            raise self.fail(name, "is required")
        if not isinstance(value, list):
            raise self.fail(name, "expected an array of tables")
        return [_Fields(self.file, f"{self.key(name)}[{n}]", v) for n, v in enumerate(value)]

    def sub(self, name: str) -> _Fields | None:
        self.used.add(name)
        if name not in self.data:
            return None
        return _Fields(self.file, self.key(name), self.data[name])


_STATUSES = ("structured", "partial", "unsupported", "chapter_rule")


def _sources(fields: _Fields, name: str) -> tuple[Source, ...]:
    out = []
    for entry in fields.tables(name, []):
        out.append(Source(entry.ranges("hs"), entry.get("description", str, None)))
        entry.done()
    return tuple(out)


def _branch(fields: _Fields, rule_text: str) -> Branch:
    shift: Shift | None = None
    shift_fields = fields.sub("shift")
    no_change = fields.get("no_change", bool, False)
    if (shift_fields is None) != no_change:
        raise fields.fail("shift", "a branch has either a shift or no_change = true")
    if shift_fields is not None:
        level_text = shift_fields.get("level", str, None)
        try:
            level = Level(level_text) if level_text is not None else None
        except ValueError:
            raise shift_fields.fail("level", f"{level_text!r} is not a level") from None
        shift = Shift(level, _sources(shift_fields, "sources"),
                      _sources(shift_fields, "exceptions"),
                      shift_fields.ranges("outside_group", []))
        if level is None and not shift.sources:
            raise shift_fields.fail("level", "a shift needs a level or sources")
        shift_fields.done()
    rvc = []
    for entry in fields.tables("rvc", []):
        method_text = entry.get("method", str)
        try:
            method = Method(method_text)
            minimum = Decimal(entry.get("min", str))
        except (ValueError, InvalidOperation):
            raise entry.fail("min", "expected a method and a decimal percentage") from None
        if not minimum.is_finite() or not 0 <= minimum <= 100:
            raise entry.fail("min", f"{minimum} is not a percentage")
        rvc.append(RvcClause(method, minimum))
        entry.done()
    if "text_span" not in fields.data:
        text = fields.get("text", str)
    else:
        fields.used.add("text_span")
        span = fields.data["text_span"]
        if (not isinstance(span, list) or len(span) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in span)
                or not 0 <= span[0] < span[1] <= len(rule_text)):
            raise fields.fail("text_span", f"{span!r} is not a span of the rule's text")
        text = rule_text[span[0]:span[1]]
    branch = Branch(
        label=fields.get("label", str, None), text=text,
        target=fields.ranges("target"), goods=fields.get("goods", str, None),
        scope=fields.get("scope", str, None), shift=shift, rvc=tuple(rvc),
        unsupported=tuple(fields.get("unsupported", list, [])),
    )
    fields.done()
    return branch


def _rule(fields: _Fields, sources: Mapping[str, str]) -> ProductSpecificRule:
    provision = fields.get("provision", str)
    text = fields.get("text", str)
    source_key = fields.get("source", str)
    if source_key not in sources:
        raise fields.fail("source", f"{source_key!r} is not a key of [record_source]")
    status = fields.get("status", str)
    if status not in _STATUSES:
        raise fields.fail("status", f"{status!r} is not one of {', '.join(_STATUSES)}")
    uses = []
    for n, use_text in enumerate(fields.get("use", list, [])):
        try:
            uses.append(EndUse(use_text))
        except ValueError:
            raise fields.fail(f"use[{n}]", f"{use_text!r} is not an end use") from None
    use = Use(tuple(uses), fields.get("residual", bool, False),
              fields.get("description", str, None), fields.get("ex", bool, False))
    if status != "chapter_rule":
        try:
            _, parsed_use = parse_provision(provision)
        except ValueError as exc:
            raise fields.fail("provision", str(exc)) from None
        if parsed_use != use:
            raise fields.fail("provision", "its qualifier does not match use/residual/"
                                           "description/ex")
    gn11 = fields.get("gn11_number", int, None)
    branches = tuple(_branch(b, text) for b in fields.tables("branch", []))
    rule = ProductSpecificRule(
        chapter=fields.get("chapter", str), provision=provision, hs=fields.ranges("hs"),
        use=use, text=text, status=status, branches=branches,
        valid_from=fields.get("valid_from", date), valid_to=fields.get("valid_to", date, None),
        source=sources[source_key], cross_checked=fields.get("cross_checked", bool),
        gn11_number=gn11, unsupported=tuple(fields.get("unsupported", list, [])),
        preamble=fields.get("preamble", str, None),
        cross_check=fields.get("cross_check", str, None),
        notes=tuple(fields.get("notes", list, [])),
    )
    if status not in ("chapter_rule", "unsupported") and not branches:
        raise fields.fail("branch", f"a {status} rule needs branches")
    if not re.fullmatch(r"\d{2}", rule.chapter):
        raise fields.fail("chapter", f"{rule.chapter!r} is not a chapter")
    fields.done()
    return rule


_RULE_HEADER = "\n[[rule]]\n"
_CHAPTER_LINE = re.compile(r'^chapter = "(\d{2})"$', re.MULTILINE)
_HS_LINE = re.compile(r"^hs = (\[.*\])$", re.MULTILINE)
_EVERY_CHAPTER = frozenset({f"{n:02d}" for n in range(100)} | {f"={n:02d}" for n in range(100)})


class ProductRuleSource:
    """A PSR data file, parsed on first use: it is large (the rule texts), and vehicles and
    original-equipment parts of Table A.1 never need it. Its header (`valid_from`) is read
    at once, so that rule sets can be paired with it.

    A determination needs the rules of its good's chapter only: `for_code` parses those
    (a few dozen of the file's hundreds, a tenth of the time of the whole file at every
    start of `tmec rvc`). The whole file is parsed and validated by `table`, by the
    build tool's check and by the tests.
    """

    def __init__(self, name: str, text: str) -> None:
        self.name, self.text = name, text
        head = text.split("\n[[", 1)[0]
        try:
            header = tomllib.loads(head)
        except tomllib.TOMLDecodeError as exc:
            raise RuleDataError(name, "", f"not valid TOML: {exc}") from exc
        self.valid_from: date = _Fields(name, "", header).get("valid_from", date)
        self._table: ProductRuleTable | None = None
        self._by_chapter: dict[str, ProductRuleTable] = {}
        self._head = ""
        self._blocks: list[tuple[str, frozenset[str]]] | None = None

    @property
    def table(self) -> ProductRuleTable:
        """The rules (parsed and validated once)."""
        if self._table is None:
            self._table = ProductRuleTable.from_text(self.name, self.text)
        return self._table

    def for_code(self, hs: str) -> ProductRuleTable:
        """A table that selects for `hs` exactly as `table` does: the rules whose HS entries
        reach the code's chapter, and that chapter's chapter rules; its `chapters` are the
        file's. The whole table when it is loaded already or the code has no chapter.
        """
        digits = hs_digits(hs)
        if self._table is not None or len(digits) < 2:
            return self.table
        chapter = digits[:2]
        found = self._by_chapter.get(chapter)
        if found is None:
            found = self._by_chapter[chapter] = self._chapter_table(chapter)
        return found

    def _chapter_table(self, chapter: str) -> ProductRuleTable:
        if self._blocks is None:  # the header, then each rule's block with its reach
            head, *blocks = self.text.split(_RULE_HEADER)
            self._head = head
            self._blocks = [(block, _block_chapters(block)) for block in blocks]
        every = sorted({c for _, reach in self._blocks for c in reach if len(c) == 3})
        mine = [block for block, reach in self._blocks if chapter in reach
                or "=" + chapter in reach]
        text = self._head + "".join(_RULE_HEADER + block for block in mine)
        table = ProductRuleTable.from_text(self.name, text, one_chapter=True)
        return replace(table, file_chapters=tuple(c[1:] for c in every))


def _block_chapters(block: str) -> frozenset[str]:
    """What one `[[rule]]` block of the file reaches, read from two of its lines without
    parsing the rest: ``=CC``, the chapter it is filed under, and each two-digit chapter
    its HS entries reach (as `ProductRuleTable._by_chapter` indexes them). A block whose
    lines cannot be read so is put under every chapter, for `from_text` to judge.
    """
    filed = _CHAPTER_LINE.search(block)
    listed = _HS_LINE.search(block)
    if filed is None or listed is None:
        return _EVERY_CHAPTER
    try:
        entries = [HsRange.parse(text) for text in tomllib.loads("hs = " + listed.group(1))["hs"]]
    except (tomllib.TOMLDecodeError, ValueError, TypeError):
        return _EVERY_CHAPTER
    reach = {f"{n:02d}" for entry in entries
             for n in range(int(entry.low[:2]), int(entry.high[:2]) + 1)}
    return frozenset(reach | {"=" + filed.group(1)})


def load_tables(texts: Iterable[tuple[str, str]]) -> Mapping[date, ProductRuleSource]:
    """PSR files by their `valid_from` (two files may not start on the same day)."""
    out: dict[date, ProductRuleSource] = {}
    for name, text in texts:
        source = ProductRuleSource(name, text)
        if source.valid_from in out:
            raise RuleDataError(name, "valid_from", f"{source.valid_from} is also the start "
                                                    f"of {out[source.valid_from].name}")
        out[source.valid_from] = source
    return out
