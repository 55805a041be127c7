"""The bytes that get signed and hashed: RFC 8785 JSON Canonicalization Scheme (JCS).

Only this module decides byte encodings of JSON. Values are restricted to I-JSON (RFC 7493)
as the ledger uses it: objects, arrays, strings, booleans, null and integers of magnitude
below 2**53. Floats are refused: money and percentages travel as decimal strings, and a
float would make the canonical form depend on binary rounding. Parsing is strict too:
duplicate keys, NaN and Infinity are errors, not silently resolved.

This module does not sign; see `ledger.crypto`.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from ledger.errors import EncodingError

__all__ = ["canonicalize", "parse_json"]

_MAX_SAFE = 2**53


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) >= _MAX_SAFE:
            raise EncodingError(f"{path}: integer {value} is outside the I-JSON range")
        return
    if isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed (use a decimal string), got "
                            f"{value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{path}: object keys must be strings, got {key!r}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check(item, f"{path}[{n}]")
        return
    raise EncodingError(f"{path}: {type(value).__name__} is not a JSON value")


def canonicalize(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of an I-JSON value (floats refused)."""
    _check(value, "$")
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - _check catches first
        raise EncodingError(f"cannot canonicalize: {exc}") from exc


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise EncodingError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise EncodingError(f"{name} is not valid JSON")


def _no_float(text: str) -> Any:
    raise EncodingError(f"the number {text} is not an integer; use a decimal string")


def parse_json(data: bytes | str) -> Any:
    """Parse JSON strictly: no duplicate keys, no NaN/Infinity, no floats."""
    try:
        return json.loads(data, object_pairs_hook=_unique, parse_constant=_no_constant,
                          parse_float=_no_float)
    except UnicodeDecodeError as exc:
        raise EncodingError(f"not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise EncodingError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                            f"{exc.colno}") from exc
    except RecursionError as exc:
        raise EncodingError("JSON nested too deeply") from exc
