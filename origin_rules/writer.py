"""Write a `BillOfMaterials` back as a `tmec-bom/1` document (plain JSON-ready dicts).

The inverse of `reader.bom_from_dict` for every field the engine uses: reading what this
writes gives an equal bill of materials. Decimals are written as plain decimal strings;
zero-valued optional amounts and false flags are omitted, as a person would write them.
The origin token commits to these records, so their spelling is part of what gets signed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from origin_rules.bom import BillOfMaterials, Item, ItemKind, ProductRule
from origin_rules.reader import FORMAT_TAG
from origin_rules.values import format_decimal

__all__ = ["bom_to_dict", "document_header", "item_to_dict"]


def _amounts(obj: object, names: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        value: Decimal = getattr(obj, name)
        if value:
            values[name] = format_decimal(value)
    return values


def _rule(rule: ProductRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.tariff_shift is not None:
        out["tariff_shift"] = rule.tariff_shift.value
    if rule.except_:
        out["except"] = list(rule.except_)
    if rule.rvc:
        out["rvc"] = [{"method": r.method.value, "min": format_decimal(r.min)} for r in rule.rvc]
    out["combine"] = rule.combine
    return out


def item_to_dict(item: Item) -> dict[str, Any]:
    """One item of the item master in `tmec-bom/1` spelling."""
    out: dict[str, Any] = {"id": item.id, "hs": item.hs, "description": item.description,
                           "kind": item.kind.value}
    if item.kind is ItemKind.BOUGHT:
        assert item.unit_value is not None
        assert item.origin is not None
        out["unit_value"] = format_decimal(item.unit_value)
        out["origin"] = item.origin.value
        if item.country is not None:
            out["country"] = item.country
        if item.evidence is not None:
            out["evidence"] = {k: v for k, v in (("token", item.evidence.token),
                                                 ("certificate", item.evidence.certificate))
                               if v is not None}
        if item.deductions is not None:
            deductions = _amounts(item.deductions, ("freight", "duties", "brokerage", "waste"))
            if deductions:
                out["deductions"] = deductions
        if item.statement is not None:
            statement: dict[str, Any] = {"type": item.statement.type.value}
            for name in ("net_cost", "vnm", "amount"):
                value = getattr(item.statement, name)
                if value is not None:
                    statement[name] = format_decimal(value)
            out["statement"] = statement
        for flag in ("indirect", "packing", "retail_packaging"):
            if getattr(item, flag):
                out[flag] = True
        return out
    costs = item.costs
    if costs is not None:
        written: dict[str, Any] = _amounts(costs, ("other_product", "period", "other"))
        excluded = _amounts(costs.excluded, ("sales_promotion", "royalties", "shipping_packing",
                                             "non_allowable_interest"))
        if excluded:
            written["excluded"] = excluded
        if written:
            out["costs"] = written
    if item.transaction_value is not None:
        out["transaction_value"] = format_decimal(item.transaction_value)
    if item.international_shipping is not None:
        out["international_shipping"] = format_decimal(item.international_shipping)
    if item.intermediate:
        out["intermediate"] = True
    if item.rule is not None:
        out["rule"] = _rule(item.rule)
    if item.tariff_shift_as is not None:
        out["tariff_shift_as"] = item.tariff_shift_as.value
    return out


def document_header(bom: BillOfMaterials) -> dict[str, Any]:
    """The top-level fields of the document (everything but `items` and `lines`)."""
    out: dict[str, Any] = {"format": FORMAT_TAG, "good": bom.good,
                           "as_of": bom.as_of.isoformat(), "currency": bom.currency}
    if bom.end_use is not None:
        out["end_use"] = bom.end_use.value
    if bom.method is not None:
        out["method"] = bom.method.value
    if bom.producer is not None:
        producer = {"name": bom.producer.name, "country": bom.producer.country}
        if bom.producer.tax_id is not None:
            producer["tax_id"] = bom.producer.tax_id
        out["producer"] = producer
    if bom.automotive_table is not None:
        out["automotive_table"] = bom.automotive_table
    vehicle = bom.vehicle
    if vehicle is not None:
        block: dict[str, Any] = {}
        if vehicle.category is not None:
            block["category"] = vehicle.category
        lvc = vehicle.labor_value_content
        if lvc is not None:
            block["labor_value_content"] = {
                "high_wage_material_and_manufacturing":
                    format_decimal(lvc.high_wage_material_and_manufacturing),
                "high_wage_technology": format_decimal(lvc.high_wage_technology),
                "high_wage_assembly": format_decimal(lvc.high_wage_assembly),
            }
        sa = vehicle.steel_aluminum
        if sa is not None:
            metals: dict[str, Any] = {"steel": {"originating": format_decimal(sa.steel_originating),
                                                "total": format_decimal(sa.steel_total)}}
            if sa.aluminum_originating is not None and sa.aluminum_total is not None:
                metals["aluminum"] = {"originating": format_decimal(sa.aluminum_originating),
                                      "total": format_decimal(sa.aluminum_total)}
            block["steel_aluminum"] = metals
        out["vehicle"] = block
    return out


def bom_to_dict(bom: BillOfMaterials) -> dict[str, Any]:
    """The whole document: header, items in document order, lines in document order."""
    return {
        **document_header(bom),
        "items": [item_to_dict(item) for item in bom.items.values()],
        "lines": [{"parent": line.parent, "child": line.child,
                   "qty": format_decimal(line.qty)} for line in bom.lines],
    }
