"""Reading the rule-data TOML files: one table at a time, every key accounted for.

Both rule files (`origin_rules.rules`: the automotive rule sets; and
`origin_rules.product_rule_table`: the Annex 4-B product-specific rules) are read through
a `TomlTable`, which names the file and dotted path of any bad value (`RuleDataError`)
and refuses keys nobody read (`done`), so a misspelt key in the data is an error, never
a silently ignored rule.
"""

from __future__ import annotations

from typing import Any

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

    def done(self) -> None:
        """Refuse any key of the table that no reader asked for."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise RuleDataError(self.file, self.key(unknown[0]), "unknown key")
