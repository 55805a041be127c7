"""An SME qualifies a good: a BOM in (JSON, CSV pair or Excel), the determination out.

The body is one of:

* ``application/json`` — a ``tmec-bom/1`` document (docs/bom-format.md);
* the Excel media type (``application/vnd.openxmlformats-officedocument.spreadsheetml
  .sheet``) — a workbook with the ``document``, ``items`` and ``lines`` sheets;
* ``multipart/form-data`` — a ``bom`` file (JSON or ``.xlsx``), or the CSV pair as
  ``items`` and ``lines`` files with an optional ``document`` file.

The answer is the determination `tmec rvc --json` prints: originating or not, under which
criterion and why, per method the RVC against its threshold with the margin and the
headroom, the materials that weigh most, each rule with its legal reference. Errors in the
BOM come back as problem+json naming the field or line (``rules.bom_invalid``, 422).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ledger.api.access import Caller, allow
from ledger.api.accounts import SMES
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import JSON_MEDIA, api_router, media_type
from origin_rules import (
    BillOfMaterials,
    EndUse,
    Method,
    determine_origin,
    parse_bom_csv,
    parse_bom_json,
    parse_bom_xlsx,
)
from origin_rules.errors import BomError
from origin_rules.limits import DEFAULT_LIMITS

__all__ = ["XLSX_MEDIA", "form_files", "read_bom_upload", "router"]

router = api_router(prefix="/v1", tags=["determinations"])

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_PARTS = 8

_BOM_EXAMPLE = {
    "format": "tmec-bom/1", "good": "FC-42", "as_of": "2026-03-16", "currency": "MXN",
    "end_use": "passenger_vehicle", "method": "net_cost", "producer_country": "MX",
    "items": [{"id": "FC-42", "kind": "good", "hs": "8708.30", "description": "Caliper",
               "costs": {"total": "965.25", "transaction_value": "1222.00"}},
              {"id": "PISTON", "kind": "material", "hs": "8708.30",
               "origin": "non_originating", "unit_value": "25.57"}],
    "lines": [{"parent": "FC-42", "child": "PISTON", "qty": "1"}],
}
_REQUEST_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}, "example": _BOM_EXAMPLE},
    XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "bom": {"type": "string", "format": "binary"},
        "items": {"type": "string", "format": "binary"},
        "lines": {"type": "string", "format": "binary"},
        "document": {"type": "string", "format": "binary"}}}},
}}


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BomError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save "
                       "it as CSV UTF-8") from None


def read_bom_upload(kind: str, files: dict[str, tuple[str, bytes]],
                    overrides: dict[str, str | None]) -> BillOfMaterials:
    """The BOM of an upload: `kind` is ``json``, ``xlsx`` or ``multipart`` (`files` by
    field: (file name, bytes)). `overrides` are top-level fields (as_of, method, end_use)
    the query string sets; the readers apply `DEFAULT_LIMITS`.
    """
    limits = DEFAULT_LIMITS
    given = {k: v for k, v in overrides.items() if v is not None}
    if kind in ("json", "xlsx"):
        data = files["bom"][1]
        if kind == "xlsx":
            return parse_bom_xlsx(data, overrides=given, limits=limits)
        return parse_bom_json(data, limits=limits)
    if "bom" in files:
        name, data = files["bom"]
        if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
            return parse_bom_xlsx(data, overrides=given, limits=limits)
        return parse_bom_json(data, limits=limits)
    missing = [field for field in ("items", "lines") if field not in files]
    if missing:
        raise BomError("a multipart BOM is a 'bom' file (JSON or Excel) or the CSV pair as "
                       f"'items' and 'lines' files; missing {', '.join(missing)}")
    document = files.get("document")
    return parse_bom_csv(_utf8(files["items"][1], "items"), _utf8(files["lines"][1], "lines"),
                         None if document is None else _utf8(document[1], "document"),
                         overrides=given, name=files["items"][0].rsplit(".", 2)[0] or "bom",
                         limits=limits)


async def _files(request: Request) -> tuple[str, dict[str, tuple[str, bytes]]]:
    kind = media_type(request)
    if kind in JSON_MEDIA:
        return "json", {"bom": ("bom.json", await request.body())}
    if kind == XLSX_MEDIA:
        return "xlsx", {"bom": ("bom.xlsx", await request.body())}
    if kind != "multipart/form-data":
        raise ApiProblem("api.unsupported_media_type", "send the BOM as application/json, "
                         f"as {XLSX_MEDIA}, or as multipart/form-data")
    return "multipart", await form_files(request)


async def form_files(request: Request, extra: tuple[str, ...] = ()
                     ) -> dict[str, tuple[str, bytes]]:
    """The parts of a multipart BOM upload by field: (file name, bytes).

    Fields are ``bom``, or ``items``, ``lines`` and ``document``, plus `extra` ones; each
    at most once, at most a handful in all (the body limit bounds their size).
    """
    allowed = ("bom", "items", "lines", "document", *extra)
    files: dict[str, tuple[str, bytes]] = {}
    async with request.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS) as form:
        for field, value in form.multi_items():
            if field not in allowed:
                raise ApiProblem("api.request_invalid", f"unexpected form field {field[:40]!r}"
                                 f" (expected {', '.join(allowed)})")
            if field in files:
                raise ApiProblem("api.request_invalid", f"form field {field!r} given twice")
            if isinstance(value, UploadFile):
                files[field] = (value.filename or field, await value.read())
            else:
                files[field] = (field, value.encode("utf-8"))
    return files


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiProblem("api.request_invalid", f"as_of must be a date YYYY-MM-DD, got "
                         f"{text[:40]!r}") from None


@router.post("/determinations", summary="Qualify a BOM: originating or not, why, headroom",
             openapi_extra={"requestBody": _REQUEST_BODY},
             responses={200: {"content": {"application/json": {"example": {
                 "good": "FC-42", "as_of": "2026-03-16", "originating": True,
                 "criterion": "B", "results": [{"method": "net_cost", "rvc": "73.509453",
                                                "threshold": "70", "pass": True,
                                                "headroom": "33.88"}]}}}}})
async def determine(
    request: Request,
    as_of: str | None = Query(None, description="Rules in force on this date "
                              "(YYYY-MM-DD); default the BOM's as_of.",
                              examples=["2026-03-16"]),
    method: Method | None = Query(None, description="Only this RVC method."),
    end_use: EndUse | None = Query(None, description="What the part is original "
                                   "equipment for (selects Tables A.1-F)."),
    caller: Caller = allow(*SMES),
) -> dict[str, Any]:
    """The determination of the uploaded BOM, with its explanation and headroom."""
    del caller
    kind, files = await _files(request)
    when = _date(as_of)
    overrides = {"as_of": as_of, "method": method.value if method else None,
                 "end_use": end_use.value if end_use else None}

    def run() -> dict[str, Any]:
        bom = read_bom_upload(kind, files, overrides)
        return determine_origin(bom, as_of=when, method=method, end_use=end_use).to_dict()

    return await run_in_threadpool(run)
