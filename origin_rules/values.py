"""Value types at the document boundary: decimal strings, dates, HS codes.

`tmec-bom/1` carries all money, quantities and percentages as decimal strings
(``"12.50"``), never JSON numbers, so that no value passes through binary floating point.
This module turns those strings into `Decimal` and formats results back into plain
(non-exponent) decimal strings. It also validates and decomposes HS codes: the first six
digits are the subheading used by the rules, four the heading, two the chapter.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_DOWN, Context, Decimal

__all__ = [
    "ENGINE_CONTEXT",
    "HS_PATTERN",
    "format_decimal",
    "format_money",
    "format_percent",
    "hs_digits",
    "is_decimal_string",
    "parse_iso_date",
]

#: Arithmetic context for every computation of the engine. 60 significant digits keep every
#: sum and product of document values exact (inputs are decimal strings of bounded length),
#: so only the final RVC division can ever be inexact; pass/fail never depends on it.
ENGINE_CONTEXT = Context(prec=60)

# ASCII digits only: str.isdigit and \d also accept other scripts' digits ("١٢").
_DECIMAL_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

#: ``NNNN.NN`` optionally followed by up to four national digits, with or without dots
#: (``8708.30``, ``8708.30.99``, ``8708.30.9999``, ``8708.30.99.99``).
HS_PATTERN = re.compile(r"[0-9]{4}\.[0-9]{2}(?:\.?[0-9]{2}){0,2}\Z")

_SIX_PLACES = Decimal("0.000001")


def is_decimal_string(text: str) -> bool:
    """True for a plain decimal string (optional sign, digits, optional fraction)."""
    return _DECIMAL_RE.match(text) is not None


def parse_iso_date(text: str) -> date | None:
    """Parse ``YYYY-MM-DD`` strictly; None when the text is not such a calendar date."""
    if _DATE_RE.match(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def hs_digits(hs: str) -> str:
    """The digits of an HS code without dots (``"8708.30.99"`` -> ``"87083099"``)."""
    return hs.replace(".", "")


def format_decimal(value: Decimal) -> str:
    """Plain positional notation, never an exponent (``1E+2`` prints as ``100``)."""
    return format(value.copy_abs() if value.is_zero() else value, "f")


def format_money(value: Decimal) -> str:
    """An exact amount with at least two decimals and no trailing zeros beyond them.

    ``11.4000`` prints as ``11.40`` and ``8.555`` as ``8.555``: nothing is rounded away, so
    a headroom spent exactly lands on the threshold.
    """
    text = format_decimal(value)
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction.ljust(2, '0')}"


def format_percent(value: Decimal) -> str:
    """A percentage to six decimals, truncated toward zero.

    Truncation (not rounding) means a displayed RVC never exceeds the exact value, so a
    display of ``75.000000`` cannot hide an exact 74.9999997 that fails a 75 % threshold.
    Pass/fail itself is decided on exact values, not on this string.
    """
    return format_decimal(value.quantize(_SIX_PLACES, rounding=ROUND_DOWN, context=ENGINE_CONTEXT))
