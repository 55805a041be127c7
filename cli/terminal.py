r"""Text that came from a document, made safe to show in a terminal.

A bundle, a BOM or a log entry is written by someone else. Its strings (a shipment id, a
party name, an item id) reach the terminal inside our reports, and a terminal obeys the
control sequences in what it prints: ``ESC[2J ESC[H`` wipes the screen, and a forged green
"DECISION: CLEAR" written after it hides the real verdict. A newline in a shipment id
fakes a line of the report; a bidirectional override (U+202E) reorders what follows it.

`printable` shows every such character as an escape (``\x1b``, ``\n``, ``\u202e``),
so the text is displayed as text. Rich markup is the other half: reports print document
text as `rich.text.Text` or with ``markup=False``, never as markup (``[red]x[/red]`` is
shown as typed). The same rule will hold for HTML pages (escaping, not markup).
"""

from __future__ import annotations

import json
import unicodedata

__all__ = ["printable", "printable_json"]

#: Unicode general categories that a terminal does not show as a glyph: controls (Cc, C0
#: and C1, ESC and CSI among them), format characters (Cf: bidi overrides, zero-width
#: joiners), surrogates, private-use and unassigned code points, line and paragraph
#: separators. Ordinary spaces (Zs) stay as they are.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every control, format or invisible separator character escaped.

    Printable text comes back unchanged (the common case costs one `str.isprintable`).
    """
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _HIDDEN else c for c in text)


def printable_json(data: object, *, indent: int | None = 2) -> str:
    r"""JSON for a terminal or a pipe: UTF-8 kept, but hidden characters as ``\u`` escapes.

    `json.dumps` already escapes C0 controls; with ``ensure_ascii=False`` it would write C1
    controls (U+009B is an 8-bit CSI) and bidi overrides raw. Escaping them keeps the JSON
    value identical for any reader. Hidden characters can only sit inside strings (the
    layout outside them is ASCII), where a ``\u`` escape means the same character.
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    if text.replace("\n", "").isprintable():
        return text
    return "".join(_json_escape(c) if c != "\n" and unicodedata.category(c) in _HIDDEN
                   else c for c in text)


def _json_escape(char: str) -> str:
    r"""``\uXXXX`` for one character; astral ones as their UTF-16 surrogate pair (RFC 8259)."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
