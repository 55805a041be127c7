r"""The bytes that get signed and hashed: RFC 8785 JSON Canonicalization Scheme (JCS).

Only this module decides byte encodings of JSON. Values are restricted to I-JSON (RFC 7493)
as the ledger uses it: objects, arrays, strings, booleans, null and integers of magnitude
below 2**53. Floats are refused: money and percentages travel as decimal strings, and a
float would make the canonical form depend on binary rounding. Parsing is strict too:
duplicate keys, NaN and Infinity are errors, not silently resolved.

Speed: the `rfc8785` package is pure Python and was the costliest step of appending and
verifying. For the values allowed here (no floats), RFC 8785 serialisation coincides with
the C JSON encoder's ``sort_keys`` compact output without ASCII escaping: integers print
alike, and both escape exactly ``"``, ``\`` and the C0 controls, with the same short
forms. The one difference is key order, which RFC 8785 defines on UTF-16 code units and
Python on code points; the two orders differ only for keys with characters beyond U+FFFF,
so such values go through `rfc8785` itself. A property test checks the two agree byte for
byte.

Decimal numbers: the UNTP view (`ledger.untp`) must carry numbers (UNTP's ``Measure.value``
is a JSON number), and a verifier of a JWS payload meets them. `canonicalize_decimals`
writes `decimal.Decimal` values as JSON numbers in RFC 8785's own form, exactly: a decimal
of at most 15 significant digits survives the trip through an IEEE 754 double unchanged
(DBL_DIG), so JCS's number serialization (ECMAScript's shortest round trip) prints its
digits and nothing else; more digits are refused rather than rounded. `parse_json` with
``decimals=True`` reads non-integer numbers as `Decimal` (never float), for such payloads.

This module does not sign; see `ledger.crypto`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import rfc8785

from ledger.errors import EncodingError

__all__ = ["MAX_DECIMAL_DIGITS", "Split", "canonicalize", "canonicalize_decimals",
           "canonicalize_parsed", "parse_json", "split_canonical", "values_checked"]

_MAX_SAFE = 2**53
#: Significant digits a decimal may have to be written exactly as a JCS number (DBL_DIG).
MAX_DECIMAL_DIGITS = 15


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


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                            allow_nan=False, check_circular=False)


def _fast_check(value: Any) -> bool | None:
    """Walk the value once: None if it is not allowed (call `_check` for the message),
    True if the C encoder gives RFC 8785 bytes, False if a key needs UTF-16 ordering.
    """
    stack = [value]
    plain = True
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_SAFE < item < _MAX_SAFE:
                continue
            return None
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return None
                if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                    plain = False
                push(child)
            continue
        if kind is list or kind is tuple:
            extend(item)
            continue
        return None
    return plain


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_CHECKED: ContextVar[bool] = ContextVar("tmec_canonical_checked", default=False)


@contextmanager
def values_checked() -> Iterator[None]:
    """Within this block, values given to `canonicalize` are known to come from
    `parse_json` (no floats, integers in range), so the type walk is skipped; only the
    UTF-16 key-order case is still detected (from non-ASCII output). The verifier canonicalizes
    parts of one strictly parsed bundle many times.
    """
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def _encode_checked(value: Any) -> bytes | None:
    """The C encoder's bytes of a value whose types are known good, or None when they
    need the full path (a key beyond U+FFFF, which RFC 8785 orders by UTF-16 units).
    """
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError):
        return None
    if text.isascii() or _ASTRAL.search(text) is None:
        try:
            return text.encode("utf-8")  # nothing beyond U+FFFF: code point order right
        except UnicodeEncodeError as exc:
            raise EncodingError("a string holds a lone surrogate, which UTF-8 cannot "
                                "encode") from exc
    return None


def canonicalize_parsed(value: Any) -> bytes:
    """`canonicalize` of a value `parse_json` returned (without ``decimals``), or built
    only of such values: its types and integer range are known good, so the type walk
    is skipped. Same bytes; for the hot paths that re-canonicalise parsed statements.
    """
    fast = _encode_checked(value)
    return fast if fast is not None else canonicalize(value)


def canonicalize(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of an I-JSON value (floats refused)."""
    if _CHECKED.get():
        fast = _encode_checked(value)
        if fast is not None:
            return fast
    plain = _fast_check(value)
    if plain is None:
        _check(value, "$")  # raises with the path of the offending value
        plain = False  # a Mapping or other container type the fast walk does not know
    try:
        if plain:
            return _ENCODER.encode(value).encode("utf-8")
        return rfc8785.dumps(value)
    except UnicodeEncodeError as exc:
        raise EncodingError("a string holds a lone surrogate, which UTF-8 cannot "
                            "encode") from exc
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - _check catches first
        raise EncodingError(f"cannot canonicalize: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Split:
    """An object's RFC 8785 bytes around one member (`split_canonical`): the members
    that sort before it and after it, each joined without braces, and the member itself.
    """

    before: bytes
    member: bytes | None  # ``"name":value``, or None when the object lacks it
    after: bytes

    def whole(self) -> bytes:
        """The object's canonical bytes."""
        return b"{" + b",".join(p for p in (self.before, self.member, self.after) if p) + b"}"

    def without(self) -> bytes:
        """The canonical bytes of the object without that member."""
        return b"{" + b",".join(p for p in (self.before, self.after) if p) + b"}"


def split_canonical(value: Mapping[str, Any], name: str) -> Split:
    """`value`'s canonical form split around member `name` (an ASCII name).

    RFC 8785 s.3.2.3 writes an object as its members sorted by the UTF-16 code units of
    their names; against an ASCII name that order is the code point order, so the members
    before and after `name` are two objects canonicalized on their own. A verifier needs a
    token with its proof (its digest) and without it (the eddsa-jcs-2022 hash data): both
    are joined from one walk instead of two.
    """
    if not name.isascii():
        raise ValueError("split_canonical splits around an ASCII member name")
    try:
        before = {k: v for k, v in value.items() if k < name}
        after = {k: v for k, v in value.items() if k > name}
    except TypeError:
        raise EncodingError("$: object keys must be strings") from None
    member = (canonicalize(name) + b":" + canonicalize(value[name]) if name in value
              else None)
    return Split(canonicalize(before)[1:-1], member, canonicalize(after)[1:-1])


def _as_jcs_number(value: Decimal, path: str) -> float | int:
    """The double JCS prints as exactly `value`'s digits (or the integer itself)."""
    if not value.is_finite():
        raise EncodingError(f"{path}: {value} is not a JSON number")
    if value == value.to_integral_value() and abs(value) < _MAX_SAFE:
        return int(value)
    digits = len(value.normalize().as_tuple().digits)
    if digits > MAX_DECIMAL_DIGITS or not Decimal("1e-6") <= abs(value) < Decimal("1e21"):
        raise EncodingError(f"{path}: {value} needs more than {MAX_DECIMAL_DIGITS} "
                            "significant digits or an exponent to be written exactly; use a "
                            "decimal string")
    return float(value)


def _with_numbers(value: Any, path: str) -> Any:
    """`value` with every Decimal turned into its exact JCS carrier (checked)."""
    if isinstance(value, Decimal):
        return _as_jcs_number(value, path)
    if isinstance(value, Mapping):
        return {key: _with_numbers(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_with_numbers(item, f"{path}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed (use a Decimal), got {value!r}")
    return value


def canonicalize_decimals(value: Any) -> bytes:
    """RFC 8785 bytes of an I-JSON value in which `Decimal` values are JSON numbers.

    Each Decimal must have at most `MAX_DECIMAL_DIGITS` significant digits and lie within
    1e-6 <= |d| < 1e21 (else `EncodingError`): then the number written is its own digits.
    Without Decimals the bytes are `canonicalize`'s.
    """
    converted = _with_numbers(value, "$")
    if not _fast_check_floats_ok(converted):
        return canonicalize(converted)  # no decimal in it: the fast path's bytes
    try:
        return rfc8785.dumps(converted)
    except UnicodeEncodeError as exc:
        raise EncodingError("a string holds a lone surrogate, which UTF-8 cannot "
                            "encode") from exc
    except rfc8785.CanonicalizationError as exc:
        raise EncodingError(f"cannot canonicalize: {exc}") from exc


def _fast_check_floats_ok(value: Any) -> bool:
    """`_check` with the exact carriers of decimals allowed (they came from Decimals);
    whether there is one.
    """
    stack: list[tuple[Any, str]] = [(value, "$")]
    found = False
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            found = True
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise EncodingError(f"{path}: object keys must be strings, got {key!r}")
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{n}]") for n, child in enumerate(item))
        else:
            _check(item, path)
    return found


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


def _int(text: str) -> int:
    # Decided on the digits before int() runs: a 5,000-digit literal would otherwise raise
    # Python's own "int max str digits" error, advice and all.
    digits = len(text) - text.startswith("-")
    if digits > 16 or abs(value := int(text)) >= _MAX_SAFE:
        shown = text if len(text) <= 24 else f"{text[:12]}... ({digits} digits)"
        raise EncodingError(f"the integer {shown} is outside the I-JSON range")
    return value


#: A ``\uD800``-``\uDFFF`` escape: the only way JSON text can carry a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any) -> bool:
    """True if a string anywhere in `value` (keys included) holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _decimal(text: str) -> Decimal:
    if len(text) > 64:
        raise EncodingError(f"the number {text[:24]}... is longer than 64 characters")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - json only passes number syntax
        raise EncodingError(f"the number {text} is not a decimal") from exc


# Built once: `json.loads` with hooks builds a decoder and its C scanner on every call,
# which cost as much as decoding a log statement (the audit parses every entry).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_no_constant,
                            parse_float=_no_float, parse_int=_int)
_DECIMAL_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_no_constant,
                                    parse_float=_decimal, parse_int=_int)


def _loads(data: bytes | str, decoder: json.JSONDecoder) -> Any:
    """`json.loads(data, ...)` with a prebuilt decoder: the same encoding detection (UTF-8,
    -16 or -32 by RFC 8259 / RFC 4627's rule) and the same errors.
    """
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)",
                                       data, 0)
        return decoder.decode(data)
    return decoder.decode(data.decode(json.detect_encoding(data), "surrogatepass"))


def parse_json(data: bytes | str, *, decimals: bool = False) -> Any:
    """Parse JSON strictly: no duplicate keys, no NaN/Infinity, no floats, no lone
    surrogates (I-JSON, RFC 7493 s.2.1: they are not Unicode characters and UTF-8 cannot
    encode them).

    With `decimals`, a non-integer number is read as a `Decimal` (exact, never a float)
    instead of being refused: for payloads such as UNTP's, whose schema has numbers.
    """
    try:
        value = _loads(data, _DECIMAL_DECODER if decimals else _DECODER)
    except EncodingError:
        raise
    except UnicodeDecodeError as exc:
        raise EncodingError(f"not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise EncodingError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                            f"{exc.colno}") from exc
    except ValueError as exc:  # an integer literal beyond Python's int-digits limit
        raise EncodingError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise EncodingError("JSON nested too deeply") from exc
    # Substring tests first: they run at memchr speed, the regular expressions only when
    # an escape of the surrogate range may be there (verification parses every bundle).
    if isinstance(data, str):
        suspicious = bool((not data.isascii() and _SURROGATE.search(data)) or (
            ("\\ud" in data or "\\uD" in data) and _SURROGATE_ESCAPE_TEXT.search(data)))
    else:
        suspicious = (b"\\ud" in data or b"\\uD" in data) and (
            _SURROGATE_ESCAPE.search(data) is not None)
    if suspicious and _lone_surrogate(value):
        raise EncodingError("a string holds a lone surrogate (a \\uD800-\\uDFFF escape "
                            "without its pair), which is not a Unicode character")
    return value
