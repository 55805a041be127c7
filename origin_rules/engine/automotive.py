"""Automotive goods: the Appendix to Annex 4-B (Art. 4.10; SOR/2020-155 Part 6, s.13-18).

A vehicle's RVC is net cost only (s.13); the thresholds by date and category are rule
data. Beyond it, a passenger vehicle, light truck or heavy truck is originating only if:

* **core parts (s.14(4)-(5), Tables A.1 and A.2):** every Table A.2 column-1 part used
  in a passenger vehicle or light truck is originating; a bought part by its `origin`, a
  made one by the Table A.1 RVC (the column-2 and super-core options of s.14(7)-(10) are
  not implemented);
* **steel and aluminum (s.17):** at least 70 % by value of the producer's Table S steel
  and aluminum purchases are originating (two tests, the combined share reported);
* **labor value content (s.18):** the high-wage material and manufacturing points plus
  the technology and assembly credits, each capped, reach the minimum.

The last two come from the document's `vehicle` block; when it is absent the
requirement is "not evaluated" and the vehicle is not shown as originating.

A hypothetical rule set (`origin_rules.scenarios`) may add a fourth, **US content**: the
good's US content (`engine.us_content`) reaches the rule set's `us_content_minimum` share
of total cost. No text in force has such a floor; it exists to answer what-ifs.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from origin_rules.bom import ItemKind, Method, Origin
from origin_rules.determination import Requirement, UsContent
from origin_rules.engine import criteria
from origin_rules.engine.rvc import METHOD_WORDS
from origin_rules.explain import Reason, render
from origin_rules.rules import AppliedRule, Threshold
from origin_rules.values import format_percent, hs_digits

if TYPE_CHECKING:
    from origin_rules.engine.core import _Engine, _Reach

__all__ = ["core_parts", "labor_value_content", "steel_aluminum", "us_content_floor",
           "vehicle_requirements"]

HUNDRED = Decimal(100)


def vehicle_requirements(engine: _Engine, names: Sequence[str], lvc_id: str | None,
                         reach: _Reach, us: UsContent) -> tuple[Requirement, ...]:
    """The requirements the vehicle's category lists, in the order of the regulations
    (a scenario's US content floor last).
    """
    out = []
    if "core_parts" in names:
        out.append(core_parts(engine, reach))
    if "steel_aluminum" in names:
        out.append(steel_aluminum(engine))
    if "labor_value_content" in names and lvc_id is not None:
        out.append(labor_value_content(engine, lvc_id))
    if "us_content" in names:
        out.append(us_content_floor(engine, us))
    return tuple(out)


def _requirement(name: str, passed: bool | None, reference: str, finding: Reason,
                 values: dict[str, object] | None = None) -> Requirement:
    """A requirement with its finding as data and, as its `detail`, in English."""
    return Requirement(name, passed, render(finding), reference, values or {}, finding)


def core_parts(engine: _Engine, reach: _Reach) -> Requirement:
    """SOR/2020-155 s.14(4): Table A.2 column-1 parts used in a PV/LT must originate."""
    rule_set = engine.rule_set
    reference = rule_set.cite("core_parts")
    found: list[dict[str, object]] = []
    a1 = rule_set.category("table_A1")
    root = engine.index.position[engine.bom.good]
    nodes = [n for n in reach.traced if n != root] + reach.materials
    for k in nodes:
        item = engine.items[k]
        digits = hs_digits(item.hs)
        part = next((p for p in rule_set.core_parts
                     if any(e.matches(digits) for e in p.hs)), None)
        if part is None:
            continue
        if item.kind is ItemKind.BOUGHT:
            ok = item.origin is Origin.ORIGINATING
            how = f"bought, {item.origin.value if item.origin else 'unknown'}"
        else:
            rule = AppliedRule(
                title=a1.title, reference=a1.reference, rule_set=rule_set.rule_set,
                rvc=tuple(Threshold(t.method, t.min, t.valid_from, a1.reference)
                          for t in a1.thresholds_on(engine.as_of).values()),
                category=a1)
            methods = tuple(m for m in rule.methods
                            if m is Method.NET_COST or item.transaction_value is not None)
            ev = criteria.evaluate(engine, k, rule, methods, reach=None, contributors=False)
            ok = ev.originating
            how = "made; " + ", ".join(
                f"RVC {format_percent(r.rvc)} % by {METHOD_WORDS[r.method]} against "
                f"{r.threshold} %" for r in ev.results) + f" (Table {a1.table})"
        found.append({"item": item.id, "part": part.part, "originating": ok, "how": how})
    if not found:
        return _requirement("core_parts", None, reference, Reason(
            "detail.core_parts.none", {"table": rule_set.cite("core_parts_table")}),
            {"parts": []})
    failing = [str(f["item"]) for f in found if not f["originating"]]
    finding = (Reason("detail.core_parts.all", {"count": str(len(found))}) if not failing
               else Reason("detail.core_parts.failing", {"failing": ", ".join(failing)}))
    return _requirement("core_parts", not failing, reference, finding, {"parts": found})


def steel_aluminum(engine: _Engine) -> Requirement:
    """SOR/2020-155 s.17: >= 70 % of Table S steel and aluminum purchases originating."""
    reference = engine.rule_set.steel_aluminum_reference
    minimum = engine.rule_set.steel_aluminum_minimum(engine.as_of)
    vehicle = engine.bom.vehicle
    data = vehicle.steel_aluminum if vehicle else None
    condition = engine.rule_set.steel_aluminum_condition
    if data is None:
        return _requirement("steel_aluminum", None, reference, Reason(
            "detail.steel_aluminum.none", {"minimum": str(minimum), "condition": condition}))
    steel = data.steel_originating * HUNDRED / data.steel_total
    values: dict[str, object] = {"minimum": str(minimum), "steel": format_percent(steel)}
    steel_ok = data.steel_originating * HUNDRED >= minimum * data.steel_total
    found = {"minimum": str(minimum), "steel": format_percent(steel),
             "steel_comparison": ">=" if steel_ok else "<"}
    aluminum_ok: bool | None = None
    if data.aluminum_total is not None and data.aluminum_originating is not None:
        aluminum = data.aluminum_originating * HUNDRED / data.aluminum_total
        aluminum_ok = data.aluminum_originating * HUNDRED >= minimum * data.aluminum_total
        values["aluminum"] = format_percent(aluminum)
        combined_total = data.steel_total + data.aluminum_total
        values["combined"] = format_percent(
            (data.steel_originating + data.aluminum_originating) * HUNDRED / combined_total)
        found |= {"aluminum": format_percent(aluminum),
                  "aluminum_comparison": ">=" if aluminum_ok else "<"}
    passed: bool | None = None  # steel met, aluminum not given
    if not steel_ok or aluminum_ok is False:
        passed = False
    elif aluminum_ok:
        passed = True
    if condition:
        # What counts as originating, when the rule set says more than s.17(5) in force
        # (a scenario): the engine sees only the document's figures, taken to follow it.
        found["condition"] = condition
        values["condition"] = condition
    return _requirement("steel_aluminum", passed, reference,
                        Reason("detail.steel_aluminum", found), values)


def us_content_floor(engine: _Engine, us: UsContent) -> Requirement:
    """A scenario's US content floor: US content >= the minimum share of total cost,
    compared exactly (``us * 100 >= minimum * base``), never rounded first.
    """
    rule_set = engine.rule_set
    minimum = rule_set.us_content_minimum
    reference = rule_set.us_content_minimum_reference or rule_set.reference
    if minimum is None:  # a category lists the requirement but the rule set sets no floor
        return Requirement("us_content", None, "the rule set names a US content floor "
                           "without a minimum, so it was not checked", reference)
    share = us.share
    if share is None:
        return Requirement("us_content", None, "the good has no total cost, so the "
                           f"{minimum} % US content floor was not checked", reference,
                           {"minimum": str(minimum)})
    passed = us.us * HUNDRED >= minimum * us.base
    detail = (f"US content {format_percent(share)} % of total cost "
              f"{'>=' if passed else '<'} {minimum} % (US content as in us_content: "
              "materials with country US, plus the producer's own costs in the US)")
    return Requirement("us_content", passed, detail, reference,
                       {"us_share": format_percent(share), "minimum": str(minimum)})


def labor_value_content(engine: _Engine, lvc_id: str) -> Requirement:
    """SOR/2020-155 s.18: LVC = HWMME + capped technology and assembly credits."""
    rule = engine.rule_set.labor_value_content[lvc_id]
    minimum, floor = rule.on(engine.as_of)
    vehicle = engine.bom.vehicle
    data = vehicle.labor_value_content if vehicle else None
    if data is None:
        return _requirement("labor_value_content", None, rule.reference, Reason(
            "detail.labor_value_content.none", {"minimum": str(minimum)}))
    technology = min(data.high_wage_technology, rule.max_technology_credit)
    assembly = min(data.high_wage_assembly, rule.max_assembly_credit)
    total = data.high_wage_material_and_manufacturing + technology + assembly
    total_ok = total >= minimum
    floor_ok = data.high_wage_material_and_manufacturing >= floor
    finding = Reason("detail.labor_value_content", {
        "lvc": str(total),
        "material_and_manufacturing": str(data.high_wage_material_and_manufacturing),
        "technology": str(technology), "assembly": str(assembly),
        "max_technology": str(rule.max_technology_credit),
        "max_assembly": str(rule.max_assembly_credit),
        "lvc_comparison": ">=" if total_ok else "<", "minimum": str(minimum),
        "floor_comparison": ">=" if floor_ok else "<", "floor": str(floor)})
    return _requirement("labor_value_content", total_ok and floor_ok, rule.reference, finding,
                        {"lvc": str(total), "minimum": str(minimum),
                         "min_high_wage_material_and_manufacturing": str(floor)})
