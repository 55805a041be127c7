"""Properties of what-if rule sets on any valid BOM (hypothesis; issue 10).

* A scenario equal to the rules in force changes nothing: with no change at all, or with
  every threshold (and the steel and aluminum share) restated at the value in force on the
  date evaluated, the verdict, criterion, every figure and every requirement are those of
  the rules in force; only the hypothetical marker differs.
* Raising thresholds never helps: a good that is not originating in force is not
  originating when any thresholds (or the steel share, or a US content floor) are raised,
  and no RVC method that passes under the raised rules fails in force.

The documents are `strategies.bom_documents` with the good's explicit rule removed, so the
rule sets decide (a part of Table A.1, B or C for a passenger vehicle or light truck, B and
C with their tariff-shift alternative, or a passenger vehicle with its requirements), and
small documents whose RVC lands near the thresholds; on dates anywhere in the phase-in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from origin_rules import Method, bom_from_dict, default_rule_book, determine_origin
from origin_rules.determination import Determination
from origin_rules.errors import OriginRulesError
from origin_rules.rules import RuleBook, RuleSet
from origin_rules.scenarios import (
    Basis,
    Change,
    Scenario,
    Source,
    SteelAluminumChange,
    ThresholdChange,
    UsContentFloor,
)
from tests.origin_rules.strategies import bom_documents

BASE: RuleSet = default_rule_book().rule_sets[0]
#: goods the automotive tables decide: Table A.1, Table A.1 net cost only (8708.40),
#: Table B, Table C, and a passenger vehicle
GOODS = (("8409.91", "passenger_vehicle"), ("8708.40", "light_truck"),
         ("8708.30", "passenger_vehicle"), ("8512.20", "light_truck"), ("8703.23", None))
CENT = Decimal("0.01")
DATES = ("2020-07-01", "2021-06-30", "2022-03-01", "2023-07-01", "2024-03-01", "2026-03-16",
         "2028-01-01")


@st.composite
def table_documents(draw: st.DrawFn) -> dict:
    """A document whose good the rule set decides (no explicit rule)."""
    doc = draw(bom_documents())
    hs, end_use = draw(st.sampled_from(GOODS))
    good = doc["items"][0]
    del good["rule"]
    good["hs"] = hs
    if draw(st.booleans()):  # the strategy's large transaction value makes most RVC de minimis
        del good["transaction_value"]
    doc["as_of"] = draw(st.sampled_from(DATES))
    # Less value added in some documents, so that goods land near and below thresholds.
    factor = draw(st.sampled_from([Decimal(1), Decimal("0.2"), Decimal("0.05")]))
    for item in doc["items"]:
        for key in ("other_product", "period", "other") if item["kind"] == "made" else ():
            item["costs"][key] = str((Decimal(item["costs"][key]) * factor).quantize(CENT))
    if end_use is not None:
        doc["end_use"] = end_use
    else:
        total = draw(st.integers(1, 1000))
        doc["vehicle"] = {
            "steel_aluminum": {
                "steel": {"originating": str(draw(st.integers(0, total))), "total": str(total)},
                "aluminum": {"originating": str(draw(st.integers(0, total))),
                             "total": str(total)}},
            "labor_value_content": {"high_wage_material_and_manufacturing":
                                    str(draw(st.integers(0, 60)))}}
    foreign = draw(st.sampled_from([0.0, 0.5, 0.9]))
    for item in doc["items"]:
        if item["kind"] == "bought":
            item["country"] = draw(st.sampled_from(["US", "MX", "CA", "CN"]))
            if draw(st.floats(0, 1)) < foreign:
                item["origin"] = "non_originating"
                item.pop("statement", None)
    return doc


@st.composite
def near_documents(draw: st.DrawFn) -> dict:
    """A good of one own cost and a few materials, its RVC anywhere from ~40 to ~99 %: near
    the thresholds, where raising one moves the verdict.
    """
    hs, end_use = draw(st.sampled_from(GOODS[:4]))
    own = draw(st.integers(100, 100_000))
    share = draw(st.integers(1, 60))  # VNM as a percentage of the own cost, roughly
    count = draw(st.integers(1, 3))
    materials = [{"id": f"b{n}", "hs": draw(st.sampled_from([hs, "7326.90", "8483.10"])),
                  "description": f"material {n}", "kind": "bought",
                  "unit_value": str(Decimal(max(1, own * share // 100 // count)).scaleb(-2)),
                  "origin": draw(st.sampled_from(["non_originating", "unknown",
                                                  "originating"])),
                  "country": draw(st.sampled_from(["US", "MX", "CN"]))}
                 for n in range(count)]
    good = {"id": "g", "hs": hs, "description": "good", "kind": "made",
            "costs": {"other_product": str(Decimal(own).scaleb(-2)), "period": "0"}}
    if draw(st.booleans()):
        good["transaction_value"] = str(Decimal(own * draw(st.integers(101, 160)) // 100)
                                        .scaleb(-2))
    return {"format": "tmec-bom/1", "good": "g", "as_of": draw(st.sampled_from(DATES)),
            "currency": "USD", "end_use": end_use, "items": [good, *materials],
            "lines": [{"parent": "g", "child": m["id"], "qty": "1"} for m in materials]}


documents = st.one_of(table_documents(), near_documents())


def scenario(changes: tuple[Change, ...]) -> RuleBook:
    built = Scenario("prop", "property", BASE.rule_set, "test", "ours", (Source("t", "s"),),
                     changes)
    return RuleBook((built.apply(BASE),))


def determine(doc: dict, book: RuleBook | None = None) -> Determination | None:
    try:
        return determine_origin(bom_from_dict(doc), rules=book)
    except OriginRulesError:
        return None  # e.g. a zero base: the same error under every rule set (checked below)


def restated(on: date) -> tuple[Change, ...]:
    """Every category's thresholds in force on `on`, and the steel share, restated."""
    changes: list[Change] = [
        ThresholdChange(cat.id, method, threshold.min, Basis.OURS, "restated")
        for cat in BASE.categories
        for method, threshold in cat.thresholds_on(on).items()]
    changes.append(SteelAluminumChange(BASE.steel_aluminum_minimum(on), "", Basis.OURS, "r"))
    return tuple(changes)


def comparable(d: Determination) -> dict[str, Any]:
    """What a determination decides, without what names its rule set (references, the
    marker, the explanation, the dates of thresholds a what-if restates undated).
    """
    data = d.to_dict()
    for key in ("explanation", "reasons", "rule", "rule_set", "hypothetical", "scenario"):
        del data[key]
    for result in data["results"]:
        del result["reference"], result["threshold_valid_from"]
    for requirement in data["requirements"]:
        del requirement["reference"]
    return data


@given(documents, st.booleans())
def test_a_scenario_equal_to_the_rules_in_force_changes_nothing(doc: dict,
                                                                 restate: bool) -> None:
    in_force = determine(doc)
    book = scenario(restated(date.fromisoformat(doc["as_of"])) if restate else ())
    what_if = determine(doc, book)
    assert (in_force is None) == (what_if is None)
    assume(in_force is not None and what_if is not None)
    assert what_if.hypothetical
    assert not in_force.hypothetical
    assert comparable(what_if) == comparable(in_force)


@st.composite
def raises(draw: st.DrawFn, on: date) -> tuple[Change, ...]:
    """Some thresholds raised from their value on `on` (never lowered), maybe the steel
    share, maybe a US content floor for vehicles.
    """
    changes: list[Change] = []
    for cat in BASE.categories:
        for method, threshold in cat.thresholds_on(on).items():
            if draw(st.booleans()):
                up = Decimal(draw(st.integers(0, 3000))).scaleb(-2)
                changes.append(ThresholdChange(cat.id, method, min(threshold.min + up,
                                                                   Decimal(100)),
                                               Basis.OURS, "raised"))
    if draw(st.booleans()):
        up = Decimal(draw(st.integers(0, 30)))
        changes.append(SteelAluminumChange(min(BASE.steel_aluminum_minimum(on) + up,
                                               Decimal(100)), "", Basis.OURS, "raised"))
    if draw(st.booleans()):
        changes.append(UsContentFloor(("passenger_vehicle", "light_truck"),
                                      Decimal(draw(st.integers(0, 100))), Basis.OURS, "floor"))
    return tuple(changes)


@given(documents, st.data())
def test_raising_thresholds_never_makes_a_good_originating(doc: dict, data) -> None:
    in_force = determine(doc)
    changes = data.draw(raises(date.fromisoformat(doc["as_of"])))
    what_if = determine(doc, scenario(changes))
    assert (in_force is None) == (what_if is None)
    assume(in_force is not None and what_if is not None)
    if what_if.originating:
        assert in_force.originating
    for method in Method:
        raised, base = what_if.result(method), in_force.result(method)
        # the same base and VNM against a threshold at least as high
        if (raised is not None and base is not None and raised.passed
                and (raised.base, raised.vnm) == (base.base, base.vnm)):
            assert base.passed
            assert raised.headroom <= base.headroom
