"""The one error tree of `origin_rules`.

Outcomes are values, failures are exceptions: "not originating" is a `Determination` with
reasons, never an error. What *is* an error is input or data the engine cannot evaluate:

```text
OriginRulesError                     rules.error
├── BomError(path)                   rules.bom_invalid          malformed tmec-bom/1 document
│   └── LimitError(limit, maximum)   rules.limit_exceeded       larger than a ReadLimits bound
├── RuleDataError(file, key_path)    rules.data_invalid         malformed rule table (packaging bug)
├── NoApplicableRuleError(hs, as_of) rules.no_applicable_rule   no rule in force for the good
│   ├── AmbiguousRuleError           rules.rule_ambiguous       several rules may apply; choose
│   └── UnsupportedRuleError(clauses) rules.rule_unsupported    the outcome rests on a rule
│                                                               text the engine cannot apply
├── MethodNotAllowedError(method)    rules.method_not_allowed   e.g. transaction value for a vehicle
├── UnknownRuleSetError(name)        rules.unknown_rule_set     no rule set or scenario of that name
└── DesignationError(item)           rules.designation_invalid  Art. 4.8 one-layer rule broken
```

Every class carries a stable dotted `code` for machines; only `cli` maps codes to exit codes
and only the HTTP API maps them to statuses. Messages name the item, line, field or file.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

__all__ = [
    "AmbiguousRuleError",
    "BomError",
    "DesignationError",
    "LimitError",
    "MethodNotAllowedError",
    "NoApplicableRuleError",
    "OriginRulesError",
    "RuleDataError",
    "UnknownRuleSetError",
    "UnsupportedRuleError",
]


class OriginRulesError(Exception):
    """Base class of every error raised by `origin_rules`."""

    code: ClassVar[str] = "rules.error"
    title: ClassVar[str] = "Origin rules error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BomError(OriginRulesError, ValueError):
    """A bill-of-materials document that does not follow `tmec-bom/1`.

    The message names the item, line or field in words a user can act on; `path` locates
    the same place for machines (``items[3].unit_value``, ``lines[7].child``, ``as_of``).
    """

    code: ClassVar[str] = "rules.bom_invalid"
    title: ClassVar[str] = "Invalid bill of materials"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class LimitError(BomError):
    """A document larger than a bound of `origin_rules.limits.ReadLimits` (rows, bytes...).

    Not necessarily malformed, but more than the reader was told to take; it is refused
    before it costs unbounded memory or time. `limit` is the name of the `ReadLimits`
    field that was exceeded (``"max_rows"``) and `maximum` its configured value, so that
    callers can say which setting to raise; the message names both.
    """

    code: ClassVar[str] = "rules.limit_exceeded"
    title: ClassVar[str] = "Document exceeds a read limit"

    def __init__(self, message: str, *, limit: str, maximum: int,
                 path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.limit = limit
        self.maximum = maximum


class RuleDataError(OriginRulesError):
    """A shipped or user-supplied rule table is malformed (file and key path named)."""

    code: ClassVar[str] = "rules.data_invalid"
    title: ClassVar[str] = "Invalid rule data"

    def __init__(self, file: str, key_path: str, message: str) -> None:
        super().__init__(f"{file}: {key_path}: {message}")
        self.file = file
        self.key_path = key_path


class NoApplicableRuleError(OriginRulesError):
    """No rule of origin in force on `as_of` covers the good; never a silent "originating"."""

    code: ClassVar[str] = "rules.no_applicable_rule"
    title: ClassVar[str] = "No applicable rule of origin"

    def __init__(self, message: str, *, hs: str | None = None, as_of: date | None = None) -> None:
        super().__init__(message)
        self.hs = hs
        self.as_of = as_of


class AmbiguousRuleError(NoApplicableRuleError):
    """More than one product-specific rule (or goods description of one) may apply and the
    outcome depends on which; the message says how the document chooses (`psr_provision`,
    `psr_goods`).
    """

    code: ClassVar[str] = "rules.rule_ambiguous"
    title: ClassVar[str] = "Ambiguous rule of origin"


class UnsupportedRuleError(NoApplicableRuleError):
    """The determination rests on a clause of a product-specific rule that the engine cannot
    evaluate (a weight-based steel condition, "more than one of the following"...); never
    a silent "originating" or "not originating". `clauses` are the printed clauses.
    """

    code: ClassVar[str] = "rules.rule_unsupported"
    title: ClassVar[str] = "Rule of origin not supported"

    def __init__(self, message: str, *, clauses: tuple[str, ...] = (), hs: str | None = None,
                 as_of: date | None = None) -> None:
        super().__init__(message, hs=hs, as_of=as_of)
        self.clauses = clauses


class MethodNotAllowedError(OriginRulesError):
    """The RVC method asked for is not one the applicable rule allows (Art. 4.5.5)."""

    code: ClassVar[str] = "rules.method_not_allowed"
    title: ClassVar[str] = "RVC method not allowed"

    def __init__(self, message: str, *, method: str) -> None:
        super().__init__(message)
        self.method = method


class DesignationError(OriginRulesError):
    """An intermediate-material designation that Art. 4.8 does not permit."""

    code: ClassVar[str] = "rules.designation_invalid"
    title: ClassVar[str] = "Invalid intermediate-material designation"

    def __init__(self, message: str, *, item: str) -> None:
        super().__init__(message)
        self.item = item


class UnknownRuleSetError(OriginRulesError):
    """A rule set asked for by name (``tmec rvc --rules NAME``) that is neither a rule set
    in force nor a shipped scenario; the message names the available ones.
    """

    code: ClassVar[str] = "rules.unknown_rule_set"
    title: ClassVar[str] = "Unknown rule set"

    def __init__(self, message: str, *, name: str, available: tuple[str, ...]) -> None:
        super().__init__(message)
        self.name = name
        self.available = available
