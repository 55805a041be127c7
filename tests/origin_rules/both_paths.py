"""Read a JSON document through both readers and check that they agree.

`parse_bom_json` reads plain documents with the fast path (`bulk_reader`) and everything
else with the exact reader. The fast path must never accept a document the exact reader
refuses, and must build exactly the same `BillOfMaterials` (same Decimal exponents, same
index) when it accepts one. The reader tests parse every document, valid or broken,
through `parse_both_ways`, so each of their cases checks that contract too.
"""

from __future__ import annotations

from origin_rules.bom import BillOfMaterials
from origin_rules.bulk_reader import read_plain_json
from origin_rules.errors import BomError
from origin_rules.reader import parse_bom_json, read_json_exactly


def same_bom(one: BillOfMaterials, other: BillOfMaterials) -> bool:
    """Equal down to the representation of every value (``Decimal("1.0")`` != ``"1.00"``)."""
    return (one == other and repr(one.items) == repr(other.items)
            and repr(one.lines) == repr(other.lines) and one.index == other.index
            and repr(one.extensions) == repr(other.extensions))


def fast_path(text: str | bytes) -> BillOfMaterials | None:
    """What the fast path alone makes of a document (None: left to the exact reader)."""
    return read_plain_json(text.encode() if isinstance(text, str) else text)


def parse_both_ways(text: str | bytes) -> BillOfMaterials:
    """`parse_bom_json(text)`, after checking the fast path against the exact reader."""
    try:
        fast = fast_path(text)
    except UnicodeEncodeError:  # a str with lone surrogates never reaches the fast path
        fast = None
    try:
        exact = read_json_exactly(text)
    except BomError:
        assert fast is None, "the fast path accepted a document the exact reader refuses"
        raise
    assert fast is None or same_bom(fast, exact), "the two readers built different BOMs"
    public = parse_bom_json(text)
    assert same_bom(public, exact)
    return public
