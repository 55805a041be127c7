"""The SME's page: register a shipment, from a BOM upload to a token, its QR code and PDF.

Three steps, over the API's own functions and access rules (SMEs: exporter, producer,
importer, supplier; `page(*SMES)` as the API's `allow(*SMES)`):

1. **Upload** (``GET``/``POST /register``): a BOM as one file (JSON or Excel) or as the CSV
   pair (``items``, ``lines``, optional ``document``), read by the API's
   `read_bom_upload` and determined by `determine_origin`, exactly what
   ``POST /v1/determinations`` answers. A BOM the reader refuses is shown beside the file
   and at the line it names (`ledger.web.bom_problems`).
2. **Determination and certification** (same page): originating or not, why, per method the
   RVC against its threshold and the headroom, the chart (`ledger.web.chart`), the
   materials that weigh most, every rule with its reference; then the issue form: supplier
   tokens as evidence for the originating materials, and the nine Annex 5-A data elements
   prefilled from the party's profile (the one the service holds with the party's key),
   with the choices the API leaves to the certifier (element 1 role, 5 importer, 6
   invoice, 8 single shipment or blanket period).
3. **Issue** (``POST /register/issue``): the BOM comes back from the form (`ledger.web.drafts`:
   signed for this session and read again), the evidence is written into it, and the
   token is issued by `issue_with_held_key`, what ``POST /v1/tokens`` runs; then the
   certificate page (`ledger.web.routes.certificates`). An error is shown beside the field
   it concerns (a pydantic location, `InputError.path` for evidence), the rest above the
   form; nothing is logged unless the whole token is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as ReceivedFile

from ledger.api.access import Caller
from ledger.api.accounts import SMES, Role
from ledger.api.context import Service
from ledger.api.problems import ApiProblem, status_for
from ledger.api.routes.common import service_of
from ledger.api.routes.determinations import read_bom_upload
from ledger.api.routes.issue import IssueRequest, issue_with_held_key
from ledger.canonical import parse_json
from ledger.errors import InputError, LedgerError
from ledger.service import utc_now
from ledger.token import CertifierRole
from ledger.web.access import SESSION_COOKIE, PageProblem, Visitor, page
from ledger.web.bom_problems import BomProblem, bom_problem, locate
from ledger.web.chart import method_chart
from ledger.web.determination_view import (
    MAX_EVIDENCE_ROWS,
    EvidenceRow,
    determination_view,
    evidence_rows,
)
from ledger.web.drafts import DraftError, document_of, open_draft, seal_draft
from ledger.web.i18n import Translator
from ledger.web.rendering import PageRoute, render
from origin_rules import BillOfMaterials, Determination, determine_origin
from origin_rules.errors import BomError, OriginRulesError

__all__ = ["IssueForm", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_DIGEST = re.compile(r"[0-9a-fA-F]{8,64}\Z")
_DEFAULT_ROLE = {Role.EXPORTER: "exporter", Role.IMPORTER: "importer"}
#: The issue form's text fields and the most characters each keeps when shown again.
_FIELDS = {"shipment": 200, "role": 20, "invoice": 100, "importer_name": 200,
           "importer_address": 300, "importer_country": 2, "scope": 10, "period_start": 10,
           "period_end": 10}
#: Where a pydantic error of `IssueRequest` is shown: its location -> the form field.
_FIELD_OF = {("shipmentId",): "shipment", ("role",): "role", ("invoiceNumber",): "invoice",
             ("importer",): "importer_name", ("importer", "name"): "importer_name",
             ("importer", "address"): "importer_address",
             ("importer", "country"): "importer_country",
             ("blanketPeriod",): "period_start", ("blanketPeriod", "start"): "period_start",
             ("blanketPeriod", "end"): "period_end"}


@dataclass
class IssueForm:
    """What the issue form shows: its values, and each field's error beside it."""

    values: dict[str, str]
    evidence: dict[int, str]  # item position -> the supplier token digest typed
    errors: dict[str, str] = field(default_factory=dict)  # form field -> message
    problem: str = ""  # an error that is not one field's (shown above the form)
    detail: str = ""  # the service's own words for it


def _blank_form(visitor: Visitor, rows: list[EvidenceRow]) -> IssueForm:
    role = _DEFAULT_ROLE.get(visitor.role, "producer") if visitor.role else "producer"
    values = dict.fromkeys(_FIELDS, "")
    values.update(role=role, scope="single")
    return IssueForm(values, {row.number: row.token for row in rows})


@dataclass(frozen=True, slots=True)
class _Profile:
    """The party's Annex 5-A profile, as the service holds it with the key (or why not)."""

    party: Mapping[str, Any] | None
    problem: str


def _profile(service: Service, caller: Caller) -> _Profile:
    try:
        return _Profile(service.held_key(caller).party, "")
    except LedgerError as exc:  # no key held, or the service holds none at all
        return _Profile(None, str(exc)[:300])


def _result_page(visitor: Visitor, service: Service, bom: BillOfMaterials,
                 determination: Determination, draft: str, form: IssueForm | None,
                 *, status: int = 200, draft_problem: str = "") -> Response:
    """The determination and, for an originating good, the issue form."""
    t = visitor.t
    view = determination_view(determination, t)
    charts = [method_chart(m, t, view.currency, f"chart-{m.method}") for m in view.methods]
    rows = evidence_rows(bom)
    profile = _profile(service, visitor.caller) if determination.originating else None
    return render(visitor, "register.html", status=status, stage="result", view=view,
                  charts=charts, upload=None, evidence=rows,
                  more_materials=len(rows) == MAX_EVIDENCE_ROWS, profile=profile,
                  producer=bom.producer, draft=draft, draft_problem=draft_problem,
                  form=form or _blank_form(visitor, rows),
                  today=t.date(utc_now().date()),
                  statement=_statement(t), roles=[r.value for r in CertifierRole])


def _statement(t: Translator) -> str:
    """Element 9's statement as the token will sign it (`CERTIFICATION_STATEMENT`, Annex
    5-A's wording), in the page's language (the English catalogue's is that very text).
    """
    return t("sme.pdf.statement")


@router.get("/register")
def register_form(visitor: Visitor = page(*SMES)) -> Response:
    """The upload form."""
    return render(visitor, "register.html", stage="upload", upload=None)


def _upload_problem(visitor: Visitor, problem: BomProblem | None, message: str,
                    status: int = 422) -> Response:
    return render(visitor, "register.html", status=status, stage="upload",
                  upload=problem, upload_message=message)


@router.post("/register")
async def register(request: Request, bom: UploadFile | None = File(None),
                   items: UploadFile | None = File(None),
                   lines: UploadFile | None = File(None),
                   document: UploadFile | None = File(None),
                   visitor: Visitor = page(*SMES)) -> Response:
    """Read and determine the uploaded BOM: the determination, then the issue form."""
    t = visitor.t
    service = service_of(request)
    given = {"bom": bom, "items": items, "lines": lines, "document": document}
    files: dict[str, tuple[str, bytes]] = {}
    for name, upload in given.items():
        if isinstance(upload, ReceivedFile) and upload.filename:
            files[name] = (upload.filename, await upload.read())
    if not files:
        return _upload_problem(visitor, BomProblem("bom", "", None, ()),
                               t("sme.upload.error.none"))
    if "bom" in files and len(files) > 1:
        return _upload_problem(visitor, BomProblem("bom", "", None, ()),
                               t("sme.upload.error.both"))

    def run() -> tuple[BillOfMaterials, Determination]:
        read = read_bom_upload("multipart", files, {})
        return read, determine_origin(read)

    try:
        read, determination = await run_in_threadpool(run)
    except OriginRulesError as exc:
        status = status_for(exc.code)
        if status >= 500:
            raise
        return _upload_problem(visitor, bom_problem(exc, files), t("sme.upload.error.bom"),
                               status)
    draft, problem = "", ""
    secret = request.cookies.get(SESSION_COOKIE, "")
    try:
        draft = seal_draft(document_of(read), secret)
    except DraftError:
        problem = t("sme.issue.error.too_large")
    return await run_in_threadpool(_result_page, visitor, service, read, determination,
                                   draft, None, draft_problem=problem)


def _text(form: Mapping[str, Any], name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[: limit * 4] if isinstance(value, str) else ""


def _issue_form(form: Mapping[str, Any], rows: list[EvidenceRow]) -> IssueForm:
    values = {name: _text(form, name, limit) for name, limit in _FIELDS.items()}
    evidence = {row.number: _text(form, f"evidence_{row.number}", 64) for row in rows}
    return IssueForm(values, evidence)


def _request_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The `IssueRequest` the form asks for (empty fields left out, so they are missing)."""
    body: dict[str, Any] = {}
    for name, key in (("shipment", "shipmentId"), ("role", "role"),
                      ("invoice", "invoiceNumber")):
        if values[name]:
            body[key] = values[name]
    importer = {key: values[f"importer_{key}"] for key in ("name", "address", "country")
                if values[f"importer_{key}"]}
    if importer:
        body["importer"] = importer
    if values["scope"] == "blanket":
        body["blanketPeriod"] = {key: values[f"period_{key}"] for key in ("start", "end")
                                 if values[f"period_{key}"]}
    return body


def _field_message(t: Translator, error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return t("sme.field.required")
    if kind == "string_too_long":
        return t("sme.field.too_long", maximum=context.get("max_length", ""))
    if kind == "string_too_short":
        return t("sme.field.too_short", minimum=context.get("min_length", ""))
    if kind.startswith("date"):
        return t("sme.field.date")
    if kind == "enum":
        return t("sme.field.choice")
    return t("sme.field.invalid", detail=str(error.get("msg", ""))[:200])


def _evidence(service: Service, document: dict[str, Any], rows: list[EvidenceRow],
              form: IssueForm, t: Translator) -> None:
    """Write the supplier tokens typed into the document's items (errors into `form`)."""
    listed = document.get("items")
    if not isinstance(listed, list):
        return
    for row in rows:
        typed = form.evidence.get(row.number, "")
        item = listed[row.number] if row.number < len(listed) else None
        if not isinstance(item, dict):
            continue
        kept = {k: v for k, v in (item.get("evidence") or {}).items() if k != "token"}
        if typed:
            if _DIGEST.match(typed) is None:
                form.errors[f"evidence_{row.number}"] = t("sme.evidence.error.digest")
                continue
            try:
                full = service.ledger.resolve_token(typed)
                service.issuer_party(full)  # logged, or NotFoundError
            except LedgerError as exc:
                form.errors[f"evidence_{row.number}"] = t("sme.evidence.error.unknown",
                                                          detail=str(exc)[:200])
                continue
            kept["token"] = full
            form.evidence[row.number] = full
        if kept:
            item["evidence"] = kept
        else:
            item.pop("evidence", None)


def _item_field(bom: BillOfMaterials, path: str | None, rows: list[EvidenceRow]) -> str | None:
    """The evidence field of the item an error path names (``items.<id>.evidence.token``,
    ``items[3].evidence.token``), if the form has one.
    """
    if not path:
        return None
    where = locate(BomError("", path=path))
    if where is None or where.table != "items":
        return None
    number = where.index
    if number is None and where.item is not None and where.item in bom.items:
        number = list(bom.items).index(where.item)
    if number is None or all(row.number != number for row in rows):
        return None
    return f"evidence_{number}"


@router.post("/register/issue")
async def issue(request: Request, visitor: Visitor = page(*SMES)) -> Response:
    """Issue the token of the form's BOM and certification; on success its certificate."""
    t = visitor.t
    service = service_of(request)
    form_data = await request.form()  # already read (and its CSRF token checked)
    secret = request.cookies.get(SESSION_COOKIE, "")
    draft_field = form_data.get("draft")
    try:
        data = open_draft(draft_field if isinstance(draft_field, str) else "", secret)
        bom = read_bom_upload("json", {"bom": ("bom.json", data)}, {})
        document = parse_json(data)
    except (DraftError, OriginRulesError, LedgerError):
        raise PageProblem(422, "sme.issue.error.draft") from None
    assert isinstance(draft_field, str)
    rows = evidence_rows(bom)
    form = _issue_form(form_data, rows)

    def run() -> Response:
        determination = determine_origin(bom)

        def again(status: int = 422) -> Response:
            return _result_page(visitor, service, bom, determination, draft_field, form,
                                status=status)

        _evidence(service, document, rows, form, t)
        try:
            body = IssueRequest.model_validate(_request_body(form.values))
        except ValidationError as exc:
            for error in exc.errors():
                name = _FIELD_OF.get(tuple(str(p) for p in error["loc"]), "shipment")
                form.errors.setdefault(name, _field_message(t, error))
            body = None
        if form.errors or body is None:
            return again()
        try:
            linked = read_bom_upload("json", {"bom": ("bom.json", json.dumps(
                document, ensure_ascii=False).encode("utf-8"))}, {})
            issued = issue_with_held_key(service, visitor.caller, body, linked)
        except (LedgerError, OriginRulesError, ApiProblem) as exc:
            status = status_for(exc.code)
            if status >= 500:
                raise
            path = exc.path if isinstance(exc, InputError | BomError) else None
            target = _item_field(bom, path, rows)
            message = exc.detail if isinstance(exc, ApiProblem) else str(exc)
            if target is not None:
                form.errors[target] = t("sme.issue.error.evidence", detail=message[:400])
            else:
                form.problem, form.detail = t("sme.issue.error.refused"), message[:600]
            return again(status if status in (409, 422) else 422)
        return RedirectResponse(f"/certificates/{issued['tokenDigest']}?issued=1", 303)

    return await run_in_threadpool(run)
