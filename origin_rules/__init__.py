"""origin_rules: decide whether an automotive good is originating under USMCA / T-MEC / CUSMA.

A pure library: it reads `tmec-bom/1` documents from text or bytes (never from paths),
selects the rules in force on a date from dated data files, and returns a `Determination`
that explains itself. It has no clock, no environment and no network; money is `Decimal`.
Every reader bounds what it takes (`ReadLimits`; `LimitError` names the bound exceeded).

    >>> from origin_rules import parse_bom_json, determine_origin
    >>> determination = determine_origin(parse_bom_json(text))      # doctest: +SKIP
    >>> determination.originating, determination.to_dict()["results"]  # doctest: +SKIP
"""

from origin_rules.bom import (
    BillOfMaterials,
    EndUse,
    Item,
    ItemKind,
    Line,
    Method,
    Origin,
)
from origin_rules.determination import (
    Contributor,
    Determination,
    MethodResult,
    Requirement,
    TariffShiftResult,
)
from origin_rules.engine import determine_origin
from origin_rules.errors import (
    BomError,
    DesignationError,
    LimitError,
    MethodNotAllowedError,
    NoApplicableRuleError,
    OriginRulesError,
    RuleDataError,
)
from origin_rules.limits import DEFAULT_LIMITS, ReadLimits
from origin_rules.reader import (
    FORMAT_TAG,
    bom_from_dict,
    parse_bom_csv,
    parse_bom_json,
    parse_bom_xlsx,
)
from origin_rules.rules import AppliedRule, RuleBook, RuleSet, default_rule_book

__all__ = [
    "DEFAULT_LIMITS",
    "FORMAT_TAG",
    "AppliedRule",
    "BillOfMaterials",
    "BomError",
    "Contributor",
    "DesignationError",
    "Determination",
    "EndUse",
    "Item",
    "ItemKind",
    "LimitError",
    "Line",
    "Method",
    "MethodNotAllowedError",
    "MethodResult",
    "NoApplicableRuleError",
    "Origin",
    "OriginRulesError",
    "ReadLimits",
    "Requirement",
    "RuleBook",
    "RuleDataError",
    "RuleSet",
    "TariffShiftResult",
    "bom_from_dict",
    "default_rule_book",
    "determine_origin",
    "parse_bom_csv",
    "parse_bom_json",
    "parse_bom_xlsx",
]
