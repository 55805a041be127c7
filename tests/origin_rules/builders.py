"""Small builders for tmec-bom/1 documents in tests (plain dicts, as a user would write)."""

from __future__ import annotations

from typing import Any


def bought(item_id: str, value: str, origin: str = "non_originating", hs: str = "7326.90",
           **extra: Any) -> dict:
    return {"id": item_id, "hs": hs, "description": item_id, "kind": "bought",
            "unit_value": value, "origin": origin, **extra}


def made(item_id: str, hs: str = "8708.30", *, other_product: str = "0", period: str = "0",
         excluded: dict | None = None, **extra: Any) -> dict:
    costs: dict[str, Any] = {"other_product": other_product, "period": period}
    if excluded:
        costs["excluded"] = excluded
    return {"id": item_id, "hs": hs, "description": item_id, "kind": "made", "costs": costs,
            **extra}


def document(items: list[dict], lines: list[tuple[str, str, str]], *, good: str | None = None,
             as_of: str = "2024-03-01", **top: Any) -> dict:
    return {"format": "tmec-bom/1", "good": good or items[0]["id"], "as_of": as_of,
            "currency": "USD", **top, "items": items,
            "lines": [{"parent": p, "child": c, "qty": q} for p, c, q in lines]}


NC50 = {"rvc": [{"method": "net_cost", "min": "50"}]}
NC50_TV60 = {"rvc": [{"method": "net_cost", "min": "50"},
                     {"method": "transaction_value", "min": "60"}]}
