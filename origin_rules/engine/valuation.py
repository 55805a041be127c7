"""Value of materials: Art. 4.6-4.7, 4.9, 4.15, 4.16 (SOR/2020-155 s.8).

* **Art. 4.6 (s.8(1)).** A bought material counts at its `unit_value`: the transaction
  value at importation including international shipment, or the price paid in the
  territory. Roll-up (Art. 4.5.4, s.7(4)(a)): an originating bought material enters at
  100 % originating, whatever it contains; `unknown` origin counts as non-originating.
* **Art. 4.7 (s.8(2)-(3)).** Freight, duties, brokerage and waste included in the value
  of a *non-originating* material come off its value in VNM only; they remain costs of
  the producer, so total cost keeps them.
* **Art. 4.9 (s.8(13)).** Indirect materials count in cost, as originating.
* **Art. 4.16 (s.8(17)).** Packing materials and containers for shipment are
  disregarded entirely. **Art. 4.15 (s.8(14)-(16))**: retail packaging counts in the RVC
  and is ignored by the tariff shift (`tariff_shift`).

Supplier accumulation statements change a bought material's value and VNM; they are
Art. 4.11 and live in `intermediate`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import ItemKind, Origin
from origin_rules.engine import intermediate

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine

__all__ = ["bought_values", "is_non_originating", "material_value"]


def bought_values(engine: _Engine) -> None:
    """Value in cost and VNM of one unit of every bought material (Art. 4.6-4.7, 4.9,
    4.11, 4.16); self-produced items are valued by `intermediate.made_values` or by the
    top-down pass.
    """
    items = engine.items
    cost, vnm_nc, vnm_tv = engine.cost, engine.vnm_nc, engine.vnm_tv
    statements = 0
    vnm_only_under_nc: list[str] = []
    flags = engine.flags
    for i, item in enumerate(items):
        if item.kind is ItemKind.BOUGHT:
            value = item.unit_value
            assert value is not None
            if item.packing:
                flags["packing"] += 1
                continue  # Art. 4.16: disregarded; stays zero everywhere
            if item.indirect:
                flags["indirect"] += 1
                cost[i] = value
                continue
            if item.origin is Origin.ORIGINATING:
                cost[i] = value
                continue
            if item.origin is Origin.UNKNOWN:
                flags["unknown"] += 1
            engine.foreign[i] = 1  # non-originating (`is_non_originating`)
            statement = item.statement
            if statement is None:
                deductions = item.deductions
                own = value - deductions.total if deductions is not None else value
                cost[i], vnm_nc[i], vnm_tv[i] = value, own, own
                continue
            statements += 1
            cost[i], vnm_nc[i], vnm_tv[i], vnm_only = intermediate.statement_values(
                item, statement, value)
            if vnm_only:
                vnm_only_under_nc.append(item.id)
    engine.statement_notes.extend(intermediate.statement_notes(engine, statements,
                                                               vnm_only_under_nc))


def is_non_originating(engine: _Engine, k: int) -> bool:
    """Whether material `k` is non-originating: a bought material not claimed originating
    (nor indirect, nor packing for shipment), or a designated intermediate that does not
    qualify (Art. 4.8).
    """
    if engine.foreign[k]:  # the bought ones, set by `bought_values` from the document
        return True
    if engine.items[k].kind is ItemKind.BOUGHT:
        return False
    return not engine.designated[k].originating


def material_value(engine: _Engine, k: int) -> Decimal:
    """Value of one unit of a non-originating material for de minimis (Art. 4.6-4.7)."""
    item = engine.items[k]
    if item.kind is ItemKind.MADE:
        return engine.cost[k]
    assert item.unit_value is not None
    deductions = item.deductions
    return item.unit_value - deductions.total if deductions is not None else item.unit_value
