"""The broker's pre-check page: token digests or bundles in, go / no-go per shipment out.

The same judgement as ``POST /v1/precheck`` (`ledger.api.routes.precheck.check_shipments`,
with the same `PrecheckRequest` limits: 1 to 200 shipments, a tolerance of 0 to 100
points): the pages only read the form, show the table, and write it as CSV.

What the form takes, in one text box or as uploaded files: token digests (or unique
prefixes of 8+ hex digits) separated by spaces, commas or new lines; or a bundle as JSON
(one object, or an array of them); each uploaded file is one bundle (or an array).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import SMES, Role
from ledger.api.routes.common import service_of
from ledger.api.routes.precheck import MAX_SHIPMENTS, PrecheckRequest, Shipment, check_shipments
from ledger.canonical import parse_json
from ledger.errors import LedgerError
from ledger.web.access import PageProblem, Visitor, page
from ledger.web.i18n import Translator
from ledger.web.rendering import PageRoute, render
from ledger.web.views import check_key

__all__ = ["PrecheckRow", "parse_shipments", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ROLES = (Role.BROKER, Role.CUSTOMS, *SMES)
_DIGEST = re.compile(r"[0-9a-fA-F]{8,64}\Z")
_MAX_FILES = 50


class FormInputError(Exception):
    """What the visitor typed or uploaded cannot be read: a catalogue key and values."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


def _bundles(data: bytes | str, where: str) -> list[Shipment]:
    try:
        value = parse_json(data)
    except LedgerError as exc:
        raise FormInputError("precheck.error.json", where=where, detail=str(exc)[:200]) \
            from None
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise FormInputError("precheck.error.not_bundle", where=where)
    return [Shipment(token=None, bundle=item) for item in items]


def parse_shipments(text: str, uploads: list[tuple[str, bytes]]) -> list[Shipment]:
    """The shipments of the form: digests or bundle JSON in `text`, bundles in `uploads`."""
    shipments: list[Shipment] = []
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        shipments += _bundles(stripped, "text")
    elif stripped:
        for number, line in enumerate(stripped.splitlines(), start=1):
            for word in re.split(r"[\s,;]+", line.strip()):
                if not word:
                    continue
                if _DIGEST.match(word) is None:
                    raise FormInputError("precheck.error.digest", line=number,
                                         word=word[:40])
                shipments.append(Shipment(token=word.lower(), bundle=None))
    for name, data in uploads:
        shipments += _bundles(data, name[:100])
    if not shipments:
        raise FormInputError("precheck.error.empty")
    if len(shipments) > MAX_SHIPMENTS:
        raise FormInputError("precheck.error.too_many", count=len(shipments),
                             maximum=MAX_SHIPMENTS)
    return shipments


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a shipment is no-go: in plain words, and the service's own detail."""

    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class PrecheckRow:
    """One shipment's line of the result table."""

    number: int
    go: bool
    decision: str  # clear | review | reject | "" (not verified)
    shipment: str
    digest: str
    reasons: tuple[Reason, ...]
    readable: bool = False  # the visitor may open the token's certificate page


def _reason(reason: dict[str, str], t: Translator) -> Reason:
    code = reason.get("reason", "")
    if code.startswith("check:"):
        key, values = check_key(code.partition(":")[2])
        title = t(key, **values) if t.has(key) else t("check.other", name=code[6:])
    else:
        key = f"precheck.reason.{code.replace('.', '_')}"
        title = t(key) if t.has(key) else t("precheck.reason.other", code=code)
    return Reason(title, reason.get("detail", ""))


def rows_of(results: list[dict[str, Any]], t: Translator,
            readable: Collection[str] = ()) -> list[PrecheckRow]:
    """The API's answers as table rows in the page's language (`readable`: the digests
    whose certificate page the visitor may open).
    """
    return [PrecheckRow(n, bool(r["go"]), r["decision"] or "", r["shipmentId"] or "",
                        r["tokenDigest"] or "", tuple(_reason(x, t) for x in r["reasons"]),
                        (r["tokenDigest"] or "") in readable)
            for n, r in enumerate(results, start=1)]


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: a leading = + - @ or control is quoted away
    (OWASP "CSV Injection").
    """
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(rows: list[PrecheckRow], t: Translator) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("precheck.csv.number"), t("precheck.csv.shipment"),
                     t("precheck.csv.token"), t("precheck.csv.go"),
                     t("precheck.csv.decision"), t("precheck.csv.reasons")])
    for row in rows:
        writer.writerow([str(row.number), _cell(row.shipment), _cell(row.digest),
                         t("precheck.go") if row.go else t("precheck.no_go"),
                         t(f"verdict.{row.decision}") if row.decision else "",
                         _cell(" | ".join(f"{r.title}: {r.detail}" for r in row.reasons))])
    # A byte-order mark so that spreadsheets read the accents as UTF-8.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="precheck.csv"',
                             "Cache-Control": "no-store"})


@router.get("/precheck")
def precheck_form(visitor: Visitor = page(*ROLES)) -> Response:
    """The empty form."""
    return render(visitor, "precheck.html", rows=None, text="", tolerance="0", problem=None)


@router.post("/precheck")
async def precheck(request: Request, shipments: str = Form(""), tolerance: str = Form("0"),
                   export: str = Form(""), files: list[UploadFile] = File(default=[]),
                   visitor: Visitor = page(*ROLES)) -> Response:
    """Check the shipments; the table, or with ``export=csv`` the same table as CSV."""
    t = visitor.t
    if len(files) > _MAX_FILES:
        raise PageProblem(413, "precheck.error.files", maximum=_MAX_FILES)
    uploads = [(f.filename or "file", await f.read()) for f in files if f.filename]
    try:
        body = PrecheckRequest(shipments=parse_shipments(shipments, uploads),
                               tolerance=tolerance.strip() or "0")
    except FormInputError as exc:
        return render(visitor, "precheck.html", status=422, rows=None, text=shipments,
                      tolerance=tolerance, problem=t(exc.message, **exc.values))
    except ValidationError:
        return render(visitor, "precheck.html", status=422, rows=None, text=shipments,
                      tolerance=tolerance, problem=t("precheck.error.tolerance"))
    service = service_of(request)
    results = await run_in_threadpool(check_shipments, service, visitor.caller,
                                      body.shipments, Decimal(body.tolerance))
    digests = [r["tokenDigest"] for r in results if r["tokenDigest"]]
    readable = (await run_in_threadpool(service.readable_of, visitor.caller, digests)
                if digests else set())
    rows = rows_of(results, t, readable)
    if export == "csv":
        return _csv(rows, t)
    return render(visitor, "precheck.html", rows=rows, text=shipments, tolerance=tolerance,
                  problem=None, go=sum(r.go for r in rows), no_go=sum(not r.go for r in rows))
