"""Reading the rule-data TOML files: one table at a time, every key accounted for.

Both rule files (`origin_rules.rules`: the automotive rule sets; and
`origin_rules.product_rule_table`: the Annex 4-B product-specific rules) are read through
a `TomlTable`, which names the file and dotted path of any bad value (`RuleDataError`)
and refuses keys nobody read (`done`), so a misspelt key in the data is an error, never
a silently ignored rule.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from origin_rules.errors import RuleDataError

__all__ = ["TomlTable"]


class TomlTable:
    """A TOML table being read: tracks used keys so unknown keys can be rejected."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise RuleDataError(file, path or "<root>", "expected a table")
        self.file, self.path, self.data = file, path, data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted path of `name` in this table."""
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> RuleDataError:
        """The error for a bad value at `name`."""
        return RuleDataError(self.file, self.key(name), message)

    def take(self, name: str, default: Any = ...) -> Any:
        """The raw value of `name` (required unless a default is given), marked used."""
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "is required")
            return default
        return self.data[name]

    # -- typed reads: each names the key and what was expected when the value is wrong

    def text(self, name: str, default: Any = ...) -> Any:
        """A string (or `default` when absent and one is given)."""
        value = self.take(name, default)
        if value is not default and not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {value!r}")
        return value

    def day(self, name: str, default: Any = ...) -> Any:
        """A TOML date, not a date-time (or `default`)."""
        value = self.take(name, default)
        if value is not default and (not isinstance(value, date) or hasattr(value, "hour")):
            raise self.fail(name, f"expected a date (YYYY-MM-DD), got {value!r}")
        return value

    def percent(self, name: str) -> Decimal:
        """A required percentage, written as a decimal string ("62.5"), 0 to 100."""
        value = self.take(name)
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
        """An array of strings (or `default`, as a tuple)."""
        value = self.take(name, default)
        if value is default and default is not ...:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected an array of strings, got {value!r}")
        return tuple(value)

    def tables(self, name: str, default: Any = ...) -> list[Self]:
        """An array of tables, each read the same way (`default` absent: empty)."""
        value = self.take(name, default)
        if value is default and default is not ...:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "expected an array of tables")
        return [type(self)(self.file, f"{self.key(name)}[{n}]", v) for n, v in enumerate(value)]

    def done(self) -> None:
        """Refuse any key of the table that no reader asked for."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise RuleDataError(self.file, self.key(unknown[0]), "unknown key")
