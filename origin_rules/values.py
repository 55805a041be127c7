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
from decimal import MAX_EMAX, MIN_EMIN, ROUND_DOWN, Context, Decimal

__all__ = [
    "ENGINE_CONTEXT",
    "HS_PATTERN",
    "MAX_FRACTION_DIGITS",
    "MAX_INTEGER_DIGITS",
    "decimal_bound_problem",
    "format_decimal",
    "format_money",
    "format_percent",
    "hs_digits",
    "is_decimal_string",
    "parse_iso_date",
]

#: Digits a decimal string of `tmec-bom/1` may have before and after its decimal point, as
#: written (`docs/bom-format.md`, "Decimal strings"). 15 integer digits hold 999 trillion:
#: more than any unit value, cost or quantity of a real BOM in any currency (a money value
#: of 10^15 per unit is absurd even in pesos); 12 decimals hold a quantity of a micro-gram
#: per kilo-unit. 27 significant digits, so the product of two document values (54 digits)
#: is still exact at the engine's 60.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 12

#: Arithmetic context for every computation of the engine. 60 significant digits keep every
#: product of two document values exact (decimal strings have at most 27 digits), and the
#: roll-up of a deep BOM is rounded only beyond 40 digits more than any currency shows;
#: pass/fail never depends on the rounding. The exponent range is the widest the decimal
#: module has: a chain of a few hundred thousand sub-assemblies with quantities of 10^15
#: multiplies to 10^(10^6) or more, beyond the default range (Overflow) but far within
#: this one, so no in-bound document makes the engine's arithmetic raise.
ENGINE_CONTEXT = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)

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


def decimal_bound_problem(text: str) -> str | None:
    """What makes a plain decimal string longer than the format allows, or None.

    Digits are counted as written (leading and trailing zeros too): the bound is on the
    text a document carries, so it also bounds the work of reading it. `text` must be a
    decimal string (`is_decimal_string`).
    """
    whole, _, fraction = text.lstrip("-").partition(".")
    if len(whole) > MAX_INTEGER_DIGITS:
        return f"has more than {MAX_INTEGER_DIGITS} digits before the decimal point"
    if len(fraction) > MAX_FRACTION_DIGITS:
        return f"has more than {MAX_FRACTION_DIGITS} digits after the decimal point"
    return None


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

    The quantization gets as many digits as the value needs: an RVC of a tiny base and a
    huge VNM (-10^50 %) has more integer digits than the engine's 60, and quantizing it in
    that context would raise InvalidOperation instead of printing it.
    """
    digits = max(ENGINE_CONTEXT.prec, value.adjusted() + 8)
    context = ENGINE_CONTEXT.copy()
    context.prec = digits
    return format_decimal(value.quantize(_SIX_PLACES, rounding=ROUND_DOWN, context=context))
