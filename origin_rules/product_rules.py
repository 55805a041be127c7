"""Product-specific rules of Annex 4-B (HTSUS General Note 11(o)) as typed values.

A product-specific rule (PSR) says what production a good of a tariff provision must
undergo from non-originating materials to be originating (Art. 4.2(b)). The printed text
is a list of alternatives, ``(A) ...; or (B) ...``; meeting one suffices (SOR/2020-155
s.3(6)). Each alternative is a `Branch`:

* a **tariff shift** (`Shift`): "A change to subheading 8708.30 from any other heading",
  at chapter, heading, subheading or tariff-item level, with its **exceptions** ("except
  from headings 4010 through 4017"), **sources** allowed besides the level ("from
  subheading 8708.99, whether or not there is also a change from any other heading") and
  **groups** ("from any heading outside that group"); or no shift at all ("No change in
  tariff classification to a good of subheading 8708.40");
* an optional **regional value content** (`RvcClause` per method): "not less than 60
  percent where the transaction value method is used, or 50 percent where the net cost
  method is used", or "70 percent under the net cost method" (net cost only, Art. 4.5.5);
* the **goods** it is written for when narrower than the provision ("mounted brake
  linings of subheading 8708.30", "tariff items 8708.99.03 ..."), and the **scope** of a
  "For a good of subheading 8708.92 for use in a passenger vehicle ...:" opening.

`parse_rule_text` turns a printed rule into branches. It is strict: whatever it does not
understand (weight-based steel and polymer conditions, "more than one of the following",
processes on angles of heading 7216, descriptions of the *materials* an exception names,
compiler's notes) is kept, word for word, in `Branch.unsupported` or
`ParsedText.unsupported`, and such a branch is never applied. Chapter rules ("Chapter rule
1: ...") are kept as `ParsedText.chapter_rule`.

Pure: no I/O; the rules as data live in `origin_rules/data/usmca/psr/` (built by
`tools/build_usmca_psr.py`) and are read by `origin_rules.product_rule_table`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from origin_rules.bom import EndUse, Method

__all__ = [
    "Branch",
    "HsRange",
    "Level",
    "ParsedText",
    "RvcClause",
    "Shift",
    "Source",
    "Use",
    "goods_key",
    "parse_provision",
    "parse_rule_text",
    "uses_in",
]


class Level(StrEnum):
    """The classification level of a tariff shift."""

    CHAPTER = "chapter"
    HEADING = "heading"
    SUBHEADING = "subheading"
    TARIFF_ITEM = "tariff_item"

    @property
    def digits(self) -> int:
        """How many leading digits identify a provision at this level."""
        return {"chapter": 2, "heading": 4, "subheading": 6, "tariff_item": 8}[self.value]

    @property
    def short(self) -> str:
        """The broker's abbreviation (CTI: change of tariff item)."""
        return {"chapter": "CC", "heading": "CTH", "subheading": "CTSH",
                "tariff_item": "CTI"}[self.value]


def _dotted(digits: str) -> str:
    if len(digits) <= 4:
        return digits
    return ".".join([digits[:4]] + [digits[i:i + 2] for i in range(4, len(digits), 2)])


@dataclass(frozen=True, slots=True)
class HsRange:
    """A chapter, heading, subheading or tariff item, or a range of them ("through").

    `low` and `high` are digits of the same length (2, 4, 6 or 8).
    """

    low: str
    high: str

    @classmethod
    def parse(cls, text: str) -> HsRange:
        """``"8402.11-8402.20"``, ``"4016.99.30"``, ``"7208-7229"``, ``"72"``."""
        low_text, _, high_text = text.partition("-")
        low, high = low_text.replace(".", ""), (high_text or low_text).replace(".", "")
        if not all(re.fullmatch(r"\d{2}|\d{4}(?:\.\d{2}){0,2}", part)
                   for part in (low_text, high_text or low_text)) or (
                not low.isdigit() or not high.isdigit() or len(low) != len(high)
                or len(low) not in (2, 4, 6, 8) or low > high):
            raise ValueError(f"{text!r} is not an HS chapter, heading, subheading, tariff "
                             "item or a range of one of them")
        return cls(low, high)

    @property
    def text(self) -> str:
        """Dotted form, ``low-high`` for a range."""
        low, high = _dotted(self.low), _dotted(self.high)
        return low if low == high else f"{low}-{high}"

    def matches(self, digits: str) -> bool | None:
        """Whether an HS code (digits) falls in the range; None when the code is too short
        to tell (a six-digit code against a tariff-item range that it contains).
        """
        n = len(self.low)
        if len(digits) >= n:
            return self.low <= digits[:n] <= self.high
        if self.low[:len(digits)] <= digits <= self.high[:len(digits)]:
            return None
        return False


@dataclass(frozen=True, slots=True)
class Source:
    """Materials a rule names: HS ranges, and the description of the goods printed with
    them ("parts of mounted brake linings ... of subheadings 8708.30 or 8708.99").
    """

    hs: tuple[HsRange, ...]
    description: str | None = None

    def matches(self, digits: str) -> bool | None:
        """True, False, or None when the material's code is too short to tell."""
        results = [r.matches(digits) for r in self.hs]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False

    @property
    def text(self) -> str:
        """The ranges, with the description."""
        codes = ", ".join(r.text for r in self.hs)
        return f"{self.description} of {codes}" if self.description else codes


@dataclass(frozen=True, slots=True)
class Shift:
    """A change in tariff classification every non-originating material must undergo.

    A material passes when it is not from an `exceptions` entry and it is from a `sources`
    entry or differs from the good at `level` (and, for "outside that group", lies outside
    `outside_group`). `level` is None when only the named sources qualify.
    """

    level: Level | None
    sources: tuple[Source, ...] = ()
    exceptions: tuple[Source, ...] = ()
    outside_group: tuple[HsRange, ...] = ()

    def allows(self, material: str, good: str) -> bool:
        """True when a non-originating material of HS `material` satisfies the shift for a
        good of HS `good` (digits). A code too short to show whether an exception names it
        is taken as excepted, and too short to show a change at tariff-item level as no
        change: the engine never assumes a shift it cannot see.
        """
        if any(e.matches(material) is not False for e in self.exceptions):
            return False
        if any(s.matches(material) is True for s in self.sources):
            return True
        if self.level is None:
            return False
        n = self.level.digits
        if len(material) < n or len(good) < n:
            shortest = min(len(material), len(good), n)
            if material[:shortest] == good[:shortest]:
                return False
        elif material[:n] == good[:n]:
            return False
        return not (self.outside_group and any(r.matches(material) is not False
                                               for r in self.outside_group))

    @property
    def code(self) -> str:
        """Short form: ``CTH except 4010-4017``, ``CTSH or from 8507.90``."""
        words = self.level.short if self.level else "from " + "; ".join(
            s.text for s in self.sources)
        if self.level and self.outside_group:
            words += " outside " + ", ".join(r.text for r in self.outside_group)
        if self.level and self.sources:
            words += " or from " + "; ".join(s.text for s in self.sources)
        if self.exceptions:
            words += " except from " + "; ".join(e.text for e in self.exceptions)
        return words

    @property
    def label(self) -> str:
        """Words for the shift."""
        level = {"chapter": "any other chapter", "heading": "any other heading",
                 "subheading": "any other subheading",
                 "tariff_item": "any other tariff item"}
        parts = []
        if self.level is not None:
            parts.append("a change from " + (
                f"any {self.level.value.replace('_', ' ')} outside "
                + ", ".join(r.text for r in self.outside_group)
                if self.outside_group else level[self.level.value]))
        if self.sources:
            parts.append(("or " if parts else "a change ") + "from "
                         + "; ".join(s.text for s in self.sources))
        if self.exceptions:
            parts.append("except from " + "; ".join(e.text for e in self.exceptions))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class RvcClause:
    """A minimum regional value content under one method (Art. 4.5)."""

    method: Method
    min: Decimal


@dataclass(frozen=True, slots=True)
class Branch:
    """One alternative of a rule, as printed (`text`) and as understood.

    `shift` None means no tariff shift is required ("No change in tariff classification").
    `target` is the provision the branch names ("subheadings 8407.31 through 8407.34",
    "tariff items 8708.99.03 ..."); `goods` the goods description printed with it, if any;
    `scope` the "For ...:" opening in force. A non-empty `unsupported` lists the clauses
    the engine cannot evaluate: the branch is then never applied.
    """

    label: str | None
    text: str
    target: tuple[HsRange, ...]
    goods: str | None
    scope: str | None
    shift: Shift | None
    rvc: tuple[RvcClause, ...]
    unsupported: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        """True when every clause of the branch is understood."""
        return not self.unsupported

    @property
    def name(self) -> str:
        """``(A)`` or ``the rule``."""
        return f"({self.label})" if self.label else "the rule"


@dataclass(frozen=True, slots=True)
class ParsedText:
    """A printed rule, parsed: its branches, and what could not be placed in one."""

    branches: tuple[Branch, ...]
    unsupported: tuple[str, ...] = ()
    preamble: str | None = None
    chapter_rule: str | None = None

    @property
    def status(self) -> str:
        """``structured`` (every branch understood), ``partial`` (some alternatives not),
        ``unsupported`` (none, or a clause outside every branch), ``chapter_rule``.
        """
        if self.chapter_rule is not None:
            return "chapter_rule"
        if self.unsupported or not any(b.supported for b in self.branches):
            return "unsupported"
        return "structured" if all(b.supported for b in self.branches) else "partial"


@dataclass(frozen=True, slots=True)
class Use:
    """What a provision's qualifier says about end use and goods.

    `uses`: the vehicles the good is for ("for use in a passenger vehicle or light
    truck"); `residual`: "any other good"; `description`: goods named beyond the HS
    ("body stamping", "parts of other smart cards"); `ex`: an ``ex`` provision.
    """

    uses: tuple[EndUse, ...] = ()
    residual: bool = False
    description: str | None = None
    ex: bool = False


# ---------------------------------------------------------------------------------------
# Provisions

_CODE = r"\d{4}(?:\.\d{2}){0,2}"
_CODE_OR_CHAPTER = r"\d{2}(?:\d{2}(?:\.\d{2}){0,2})?"
_USE_WORDS = (("passenger vehicle", EndUse.PASSENGER_VEHICLE),
              ("light truck", EndUse.LIGHT_TRUCK), ("heavy truck", EndUse.HEAVY_TRUCK))


def _uses(text: str) -> tuple[EndUse, ...]:
    return tuple(use for words, use in _USE_WORDS if words in text)


def uses_in(text: str) -> tuple[EndUse, ...]:
    """The end uses a "for use in a passenger vehicle, light truck or heavy truck" phrase in
    `text` names; () when it names none.
    """
    use_at = re.search(r"\b(?:for use in|used for) ", text)
    return _uses(text[use_at.start():]) if use_at else ()


def parse_provision(provision: str) -> tuple[tuple[HsRange, ...], Use]:
    """The HS ranges and the qualifier of a provision as the data file writes it:
    ``8402.11-8402.20``, ``4016.99.30, 4016.99.55``, ``ex 8708.29 (body stamping for use in
    a passenger vehicle or light truck)``, ``8708.30 (any other good)``.
    """
    match = re.fullmatch(r"(?P<ex>ex )?(?P<codes>[\d.,\- ]+?)(?: \((?P<q>.+)\))?", provision)
    if match is None:
        raise ValueError(f"{provision!r} is not a provision")
    ranges = tuple(HsRange.parse(code.strip()) for code in match["codes"].split(","))
    qualifier = match["q"]
    ex = match["ex"] is not None
    if qualifier is None:
        return ranges, Use(ex=ex)
    residual = qualifier.startswith(("any other", "other;"))
    use_at = re.search(r"\b(?:for use in|used for) ", qualifier)
    uses = _uses(qualifier[use_at.start():]) if use_at else ()
    description = None
    if not residual:
        description = (qualifier[:use_at.start()].strip() if use_at else qualifier) or None
    return ranges, Use(uses, residual, description, ex)


# ---------------------------------------------------------------------------------------
# Rule texts

_BRANCH_START = re.compile(
    r"(?:(?<=^)|(?<=[\s;,.:]))\(?(?P<label>[A-Za-z])\)\s+(?=A change|No change|For )")
_SCOPE = re.compile(r"(?:For (?P<for>.+?)|The following rule applies to (?P<to>.+?)):\s*$")
_PREAMBLE = re.compile(
    r"(?P<pre>(?:Subheading rule: )?Beginning on .+?, the following rules? of origin shall "
    r"apply to (?:sub)?headings? [\d.]+(?: through [\d.]+)?:)\s+")
_COMPILER = re.compile(r"\s*\[Compiler's note:[^\]]*\]")
_RVC = re.compile(
    r",?\s*provided (?:that )?there is (?:a )?regional value content of (?:not less than|at "
    r"least):?\s*(?P<tail>.+)$")
_RVC_ONE = re.compile(r"(?P<pct>\d+(?:\.\d+)?) percent under the (?P<method>net cost|"
                      r"transaction value) method")
_RVC_TWO = re.compile(
    r"\(?(?:\d|[A-Ba-b]|i{1,2})\)\s*(?P<p1>\d+(?:\.\d+)?) percent where the (?P<m1>net cost|"
    r"transaction value) method(?: is used)?[;,.]?\s*(?:or\s+)?\(?(?:\d|[A-Ba-b]|i{1,2})\)\s*"
    r"(?P<p2>\d+(?:\.\d+)?) percent where the (?P<m2>net cost|transaction value) method is "
    r"used")
_METHODS = {"net cost": Method.NET_COST, "transaction value": Method.TRANSACTION_VALUE}
_KIND = r"(?:chapters?|headings?|subheadings?|tariff items?)"
_CODES = rf"{_CODE_OR_CHAPTER}(?:(?: through |,? ?or |, | and ){_CODE_OR_CHAPTER})*"
_HS_GROUP = re.compile(rf"(?P<kind>{_KIND}) (?P<codes>{_CODES})(?![\d.])", re.IGNORECASE)
_LEVELS = {"chapter": Level.CHAPTER, "heading": Level.HEADING, "subheading": Level.SUBHEADING,
           "tariff item": Level.TARIFF_ITEM}
_ANY_OTHER = re.compile(
    r"any other (?P<level>chapter|heading|subheading|tariff item)"
    r"(?:, including\s*another (?:chapter|heading|subheading|tariff item) within that\s*group)?"
    r"|any (?P<outside>heading|subheading) outside that\s*group")
_WITHIN = re.compile(r"any other good within (?:that|the same) (?P<level>heading|subheading)")
_UNSUPPORTED_WORDS = ("more than one of the following", "by weight", "processes",
                      "assemblies incorporating", "polymer content")


class _UnsupportedClauseError(ValueError):
    """A clause the parser does not understand; its message is the clause."""


def _codes(text: str) -> tuple[HsRange, ...]:
    """``8482.10 through 8482.80``, ``7208 through 7229 or 7301 through 7326``."""
    out = []
    for part in re.split(r",? ?or |, | and ", text):
        low, _, high = part.partition(" through ")
        out.append(HsRange.parse(f"{low}-{high}" if high else low))
    return tuple(out)


def _hs_list(text: str) -> tuple[HsRange, ...]:
    """Every ``heading(s) ... / subheading(s) ... / tariff item(s) ...`` group in `text`."""
    return tuple(r for m in _HS_GROUP.finditer(text) for r in _codes(m["codes"]))


def _rvc(tail: str) -> tuple[RvcClause, ...]:
    tail = tail.strip().rstrip(".;, ").removesuffix("; or").removesuffix(", or").rstrip(".;, ")
    one = _RVC_ONE.fullmatch(tail)
    if one:
        return (RvcClause(_METHODS[one["method"]], Decimal(one["pct"])),)
    two = _RVC_TWO.fullmatch(tail)
    if two and two["m1"] != two["m2"]:
        clauses = [RvcClause(_METHODS[two["m1"]], Decimal(two["p1"])),
                   RvcClause(_METHODS[two["m2"]], Decimal(two["p2"]))]
        return tuple(sorted(clauses, key=lambda c: c.method.value))
    raise _UnsupportedClauseError(f"regional value content clause: {tail}")


def _sources(text: str, *, provision: tuple[HsRange, ...]
             ) -> tuple[Level | None, tuple[HsRange, ...], tuple[Source, ...]]:
    """The "from ..." part of a change: (level, group, sources)."""
    level: Level | None = None
    group: tuple[HsRange, ...] = ()
    sources: list[Source] = []
    rest = text.strip()
    while rest:
        any_other = _ANY_OTHER.match(rest)
        within = _WITHIN.match(rest)
        if within:
            n = _LEVELS[within["level"]].digits
            sources.append(Source(tuple(HsRange(r.low[:n], r.high[:n]) for r in provision),
                                  within[0]))
            rest = rest[within.end():]
        elif any_other:
            if level is not None:
                raise _UnsupportedClauseError(f"two levels of change in: {text}")
            if any_other["outside"]:
                level, group = _LEVELS[any_other["outside"]], provision
            else:
                level = _LEVELS[any_other["level"]]
            rest = rest[any_other.end():]
        else:
            hs = _HS_GROUP.search(rest)
            if hs is None:
                raise _UnsupportedClauseError(f"materials not understood: {rest}")
            before = rest[:hs.start()].strip()
            description = None
            if before:
                if not before.endswith(" of") or any(w in before for w in _UNSUPPORTED_WORDS):
                    raise _UnsupportedClauseError(f"materials not understood: {rest}")
                description = before.removesuffix(" of").strip()
            sources.append(Source(_codes(hs["codes"]), description))
            rest = rest[hs.end():]
        separator = re.match(r",? ?or |, ", rest)
        if separator:
            rest = rest[separator.end():]
        elif rest.strip(" ,"):
            raise _UnsupportedClauseError(f"materials not understood: {rest.strip()}")
        else:
            rest = ""
    return level, group, tuple(sources)


def _exceptions(text: str) -> tuple[Source, ...]:
    if any(w in text for w in _UNSUPPORTED_WORDS) or '"' in text or "“" in text:
        raise _UnsupportedClauseError(f"exception not understood: except from {text}")
    stripped = _HS_GROUP.sub("", text)
    if re.sub(r",? ?or |, |,| ", "", stripped):
        raise _UnsupportedClauseError(f"exception not understood: except from {text}")
    return tuple(Source((r,)) for r in _hs_list(text))


def _target(text: str, provision: tuple[HsRange, ...]
            ) -> tuple[tuple[HsRange, ...], str | None]:
    """The provision a branch names and the goods description printed with it."""
    found = list(_HS_GROUP.finditer(text))
    if not found:
        raise _UnsupportedClauseError(f"the goods of the change are not understood: {text}")

    def overlaps(match: re.Match[str]) -> bool:
        return any(r.matches(p.low) is not False or p.matches(r.low) is not False
                   for r in _codes(match["codes"]) for p in provision)

    chosen = next((m for m in found if overlaps(m)), found[0])
    goods = (text[:chosen.start()] + text[chosen.end():]).strip(" ,")
    goods = re.sub(r"\s+(?:of|within)$", "", goods.replace(" of ,", ",")).strip(" ,")
    goods = re.sub(r"\s+(?:of|within)(?=,)", "", goods)
    if goods in ("", "a good", "any good"):
        return _codes(chosen["codes"]), None
    return _codes(chosen["codes"]), goods


def _branch(label: str | None, text: str, scope: str | None,
            provision: tuple[HsRange, ...]) -> Branch:
    body = " ".join(text.split())
    body = re.sub(r"(?:;\s*or|,\s*or|;|\.;?\s*or|\.)\s*$", "", body).strip()
    body = re.sub(r"\s+or$", "", body).strip().rstrip(".;,")
    unsupported: list[str] = []
    rvc: tuple[RvcClause, ...] = ()
    target: tuple[HsRange, ...] = ()
    goods = None
    shift: Shift | None = None
    try:
        rvc_match = _RVC.search(body)
        if rvc_match:
            rvc = _rvc(rvc_match["tail"])
            body = body[:rvc_match.start()].strip()
        provided = re.search(r",?\s*provided that (?P<what>.+)$", body)
        if provided:
            raise _UnsupportedClauseError(f"condition: provided that {provided['what']}")
        no_change = re.fullmatch(r"No change in tariff classification(?: is)?(?: required)?"
                                 r"(?: to (?P<target>.+))?", body)
        change = re.fullmatch(r"A change to (?P<target>.+?) from (?P<rest>.+)", body)
        if no_change:
            if no_change["target"]:
                target, goods = _target(no_change["target"], provision)
            else:
                target = provision
        elif change:
            target, goods = _target(change["target"], provision)
            rest = change["rest"]
            also = None
            if ", whether or not there is also a change from " in rest:
                rest, also = rest.split(", whether or not there is also a change from ", 1)
            exceptions: list[Source] = []
            for part_name in ("rest", "also"):
                part = rest if part_name == "rest" else also
                if part is None or (", except from " not in part
                                     and not part.startswith("except from ")):
                    continue
                head, _, tail = part.partition("except from ")
                exceptions.extend(_exceptions(tail))
                if part_name == "rest":
                    rest = head.rstrip(" ,")
                else:
                    also = head.rstrip(" ,")
            level, group, sources = _sources(rest, provision=target or provision)
            if also is not None:
                also_level, also_group, also_sources = _sources(also,
                                                                provision=target or provision)
                if level is not None or also_level is None:
                    raise _UnsupportedClauseError(
                        f"whether or not there is also a change from {also}")
                level, group = also_level, also_group
                sources += also_sources
            shift = Shift(level, sources, tuple(exceptions), group)
        else:
            raise _UnsupportedClauseError(body)
    except _UnsupportedClauseError as exc:
        unsupported.append(str(exc))
    except ValueError as exc:  # an HS code that is not one (a misprint)
        unsupported.append(f"{exc}: {body}")
    return Branch(label, text.strip(), target, goods, scope, shift, rvc, tuple(unsupported))


def parse_rule_text(text: str, provision: tuple[HsRange, ...]) -> ParsedText:
    """Parse a printed GN 11(o) rule for a provision covering `provision`."""
    if re.match(r"Chapter [Rr]ule \d+:", text):
        return ParsedText((), chapter_rule=text)
    unsupported: list[str] = []
    body = text
    compiler = _COMPILER.findall(body)
    if compiler:
        unsupported.extend(f"compiler's note: {c.strip()}" for c in compiler)
        body = _COMPILER.sub("", body)
    preamble = None
    pre = _PREAMBLE.match(body)
    if pre:
        preamble = pre["pre"]
        body = body[pre.end():]
    starts = list(_BRANCH_START.finditer(body))
    pieces: list[tuple[str | None, str]] = []
    if not starts:
        pieces.append((None, body))
    else:
        head = body[:starts[0].start()].strip()
        if head:
            pieces.append((None, head))
        for n, start in enumerate(starts):
            end = starts[n + 1].start() if n + 1 < len(starts) else len(body)
            pieces.append((start["label"].upper(), body[start.end():end]))
    branches: list[Branch] = []
    scope: str | None = None
    for label, piece in pieces:
        stripped = piece.strip()
        # "For a good of ... for use in ...: (A) ..." (and inner "(D) For any other ...:")
        scope_match = _SCOPE.fullmatch(stripped)
        if scope_match:
            scope = scope_match["for"] or scope_match["to"]
            continue
        inline = re.match(r"(?:For (?P<for>[^:]+?)|The following rule applies to "
                          r"(?P<to>[^:]+?)):\s+(?=A change|No change)", stripped)
        if inline:
            scope = inline["for"] or inline["to"]
            stripped = stripped[inline.end():]
        branches.append(_branch(label, stripped, scope, provision))
    if not branches:
        unsupported.append(f"no rule found in: {text}")
    return ParsedText(tuple(branches), tuple(unsupported), preamble)


def goods_key(goods: str) -> str:
    """A goods description compared without case, digits or punctuation (the printed
    branches of one rule differ in commas and misprinted codes).
    """
    return " ".join(re.sub(r"[^a-z ]", " ", goods.lower()).split())
