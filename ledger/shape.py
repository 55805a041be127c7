"""Strict readers of JSON objects: the one meaning of "strict" for every ``from_dict``.

The ledger's typed boundary objects (`ledger.verify.Verification` and `Check`,
`ledger.status.TokenStatus`, the parts of `ledger.bundle.Bundle`) are read back from JSON
that crossed a boundary: a file, a pipe, and soon an HTTP body (issue 7). Reading one is
strict in the same way everywhere, so that a type's ``to_dict`` output is the only input
its ``from_dict`` accepts:

* the value is a JSON object with every required field and no other (an unknown field is
  an error, not something silently dropped: ledger design s.7, nothing unauthenticated
  travels, and what is not read cannot be trusted to round-trip);
* every field has its JSON type: a string is a `str`, an integer an `int` that is not a
  `bool` (JSON keeps them apart, Python's ``isinstance`` does not), an enumerated value
  one of its enum's values;
* the error names the field by its path (``checks[3].outcome``) and is the caller's
  `ledger.errors` class, so the CLI and the API map it like any other input error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from enum import StrEnum
from typing import Any, TypeVar

from ledger.errors import LedgerError

__all__ = ["DIGEST", "at", "choice", "digest", "digest_value", "integer", "json_object", "text"]

#: A token digest: SHA-256 in lowercase hex (ledger design s.3).
DIGEST = re.compile(r"[0-9a-f]{64}\Z")

E = TypeVar("E", bound=StrEnum)


def at(where: str, name: str | int) -> str:
    """The path of a field or list item below `where` (``checks`` + 3 -> ``checks[3]``)."""
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def json_object(data: object, where: str, required: Set[str],
                optional: Set[str] = frozenset(), *,
                error: type[LedgerError]) -> Mapping[str, Any]:
    """`data` as an object with every `required` field, optionally `optional` ones, no other."""
    if not isinstance(data, Mapping):
        raise error(f"{where} must be a JSON object, got {_kind(data)}")
    keys = data.keys()
    missing = required - keys
    if missing:
        raise error(f"{where}: missing field {sorted(missing)[0]!r}")
    unknown = keys - required - optional
    if unknown:
        raise error(f"{where}: unknown field {sorted(str(k) for k in unknown)[0]!r}")
    return data


def text(data: Mapping[str, Any], name: str, where: str, *,
         error: type[LedgerError]) -> str:
    """The string field `name` of `data`."""
    value = data[name]
    if not isinstance(value, str):
        raise error(f"{at(where, name)} must be a string, got {_kind(value)}")
    return value


def integer(data: Mapping[str, Any], name: str, where: str, *,
            error: type[LedgerError]) -> int:
    """The non-negative integer field `name` of `data` (a log index or size; not a bool)."""
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise error(f"{at(where, name)} must be a non-negative integer, got {_kind(value)}")
    return value


def digest(data: Mapping[str, Any], name: str, where: str, *,
           error: type[LedgerError]) -> str:
    """The token digest field `name` of `data` (64 lowercase hex digits)."""
    return digest_value(data[name], at(where, name), error=error)


def digest_value(value: object, where: str, *, error: type[LedgerError]) -> str:
    """`value`, found at `where`, as a token digest (64 lowercase hex digits)."""
    if not isinstance(value, str) or DIGEST.match(value) is None:
        raise error(f"{where} must be a token digest (64 lowercase hex digits), got "
                    f"{_kind(value)}")
    return value


def choice(data: Mapping[str, Any], name: str, where: str, kind: type[E], *,
           error: type[LedgerError]) -> E:
    """The field `name` of `data` as a member of the string enum `kind`."""
    value = data[name]
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in kind)
    raise error(f"{at(where, name)} must be one of {allowed}; got {_kind(value)}")


def _kind(value: object) -> str:
    """A short description of a wrong value for a message (bounded: the input is hostile)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**12 else "a large integer"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"
