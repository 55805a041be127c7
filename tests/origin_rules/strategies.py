"""Hypothesis strategies: random but valid tmec-bom/1 documents shaped like real BOMs.

A document is a layered DAG: the good, a few self-produced sub-assemblies (some shared by
several parents), and bought materials at the leaves with a mix of origins, Art. 4.7
deductions and accumulation statements. Money has two decimals, quantities up to three.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

ORIGINS = ("originating", "non_originating", "unknown")


def money(low: int = 0, high: int = 100_000) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda cents: str(Decimal(cents).scaleb(-2)))


def quantity() -> st.SearchStrategy[str]:
    return st.integers(1, 5000).map(lambda milli: str(Decimal(milli).scaleb(-3)))


@st.composite
def bought_item(draw: st.DrawFn, item_id: str) -> dict:
    value = draw(st.integers(1, 100_000))
    item = {
        "id": item_id,
        "hs": draw(st.sampled_from(["7326.90", "7208.51", "8483.10", "4016.93", "8708.99",
                                    "3926.90", "8544.42"])),
        "description": f"material {item_id}",
        "kind": "bought",
        "unit_value": str(Decimal(value).scaleb(-2)),
        "origin": draw(st.sampled_from(ORIGINS)),
    }
    extra = draw(st.sampled_from(["none", "none", "deductions", "regional_value",
                                  "net_cost_and_vnm", "vnm", "indirect", "packing"]))
    if extra == "deductions":
        item["deductions"] = {"freight": str(Decimal(draw(st.integers(0, value // 2)))
                                             .scaleb(-2))}
    elif extra == "regional_value":
        item["statement"] = {"type": "regional_value",
                             "amount": str(Decimal(draw(st.integers(0, value))).scaleb(-2))}
    elif extra == "net_cost_and_vnm":
        net_cost = draw(st.integers(1, 100_000))
        item["statement"] = {"type": "net_cost_and_vnm",
                             "net_cost": str(Decimal(net_cost).scaleb(-2)),
                             "vnm": str(Decimal(draw(st.integers(0, net_cost))).scaleb(-2))}
    elif extra == "vnm":
        item["statement"] = {"type": "vnm",
                             "vnm": str(Decimal(draw(st.integers(0, value))).scaleb(-2))}
    elif extra in ("indirect", "packing"):
        item[extra] = True
    return item


@st.composite
def bom_documents(draw: st.DrawFn, *, max_made: int = 5, max_bought: int = 8,
                  value_added_floor: int = 0) -> dict:
    """A valid document whose good has an explicit 50 % NC / 60 % TV rule.

    `value_added_floor` (in cents) raises the good's own processing cost, so that it
    usually passes with room to spare.
    """
    made_count = draw(st.integers(1, max_made))
    bought_count = draw(st.integers(1, max_bought))
    made = [f"m{i}" for i in range(made_count)]
    bought = [f"b{i}" for i in range(bought_count)]
    items: list[dict] = []
    for i, item_id in enumerate(made):
        item = {
            "id": item_id,
            "hs": "8708.30" if i == 0 else draw(st.sampled_from(["8708.99", "8483.40"])),
            "description": "the good" if i == 0 else f"sub-assembly {item_id}",
            "kind": "made",
            "costs": {
                "other_product": draw(money(value_added_floor if i == 0 else 0,
                                            value_added_floor * 2 + 100_000
                                            if i == 0 else 100_000)),
                "period": draw(money(0, 20_000)),
                "other": draw(money(0, 5_000)),
                "excluded": {"royalties": draw(money(0, 1_000)),
                             "sales_promotion": draw(money(0, 1_000))},
            },
        }
        if i == 0:
            item["rule"] = {"rvc": [{"method": "net_cost", "min": "50"},
                                    {"method": "transaction_value", "min": "60"}]}
            item["transaction_value"] = draw(money(5_000_000 + value_added_floor * 4,
                                                   10_000_000 + value_added_floor * 8))
        items.append(item)
    items += [draw(bought_item(item_id)) for item_id in bought]
    lines: list[dict] = []
    # every node below the good gets a parent among the earlier made items (a DAG
    # reaching everything); extra edges create shared sub-assemblies
    nodes = made[1:] + bought
    for n, child in enumerate(nodes):
        candidates = made[: min(len(made), 1 + (n if n < len(made) - 1 else len(made)))]
        candidates = [m for m in candidates if made.index(m) < (made.index(child)
                                                                 if child in made else 99)]
        parents = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3,
                                unique=True))
        lines += [{"parent": p, "child": child, "qty": draw(quantity())} for p in parents]
    return {"format": "tmec-bom/1", "good": "m0", "as_of": "2024-03-01", "currency": "USD",
            "items": items, "lines": lines}
