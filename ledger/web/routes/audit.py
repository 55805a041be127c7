"""The compliance page: a party's verifiable export for a period, and its verification.

The download is ``GET /v1/parties/{party}/export?from=&to=``'s answer itself
(`ledger.api.routes.export.export_response`: the same access rule, an auditor or the
registrar for any party, an SME for its own; the same JSON Lines). The verification is
`ledger.audit_export.verify_export`, what ``tmec audit verify`` runs, under the service's
trust file: of the export the service makes now (streamed through the check, bounded
memory), or of an export file the visitor uploads (one received earlier, from anyone).
The page shows the report; an auditor who trusts nobody runs ``tmec audit verify`` with
the same trust file (``GET /v1/trust``) on the downloaded file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import SME_ROLES
from ledger.api.routes.common import service_of
from ledger.api.routes.export import EXPORTERS, export_response, require_export
from ledger.audit_export import ExportPeriod, ExportReport, export_lines, verify_export
from ledger.errors import InputError, NotFoundError
from ledger.web.access import Visitor, page
from ledger.web.rendering import PageRoute, render

__all__ = ["AuditForm", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_PARTIES_LISTED = 500


@dataclass(frozen=True, slots=True)
class AuditForm:
    """What the visitor chose: whose records, and which days (ISO text as typed)."""

    party: str
    start: str
    end: str

    def period(self) -> ExportPeriod:
        """The period: `_BadDay` for a date that is not one, `InputError` for an end
        before the start (`ExportPeriod`'s own check).
        """
        return ExportPeriod(_day(self.start, "audit.error.from"),
                            _day(self.end, "audit.error.to"))


class _BadDay(Exception):  # noqa: N818 - a form field to point at, not an error tree
    """A date field that holds no date: `key` is the message to show beside the form."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _day(text: str, key: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _BadDay(key) from None


def _form(visitor: Visitor, party: str, start: str, end: str) -> AuditForm:
    account = visitor.caller.require()
    chosen = party.strip()[:64]
    if account.role in SME_ROLES and not chosen:
        chosen = account.party_id  # an SME's own records, unless it names another
    return AuditForm(chosen, start.strip()[:10], end.strip()[:10])


def _parties(request: Request, visitor: Visitor) -> list[str]:
    """The parties an auditor may pick from (every party with a key in the log)."""
    account = visitor.caller.require()
    if account.role in SME_ROLES:
        return [account.party_id]
    keys = service_of(request).ledger.store.all_keys()
    return sorted({key.party_id for key in keys})[:_PARTIES_LISTED]


def _page(request: Request, visitor: Visitor, form: AuditForm, *, status: int = 200,
          report: ExportReport | None = None, source: str = "", problem: str | None = None
          ) -> Response:
    account = visitor.caller.require()
    return render(visitor, "audit.html", status=status, form=form, report=report,
                  source=source, problem=problem, parties=_parties(request, visitor),
                  own=account.party_id if account.role in SME_ROLES else None)


def _checked(request: Request, visitor: Visitor, form: AuditForm
             ) -> tuple[ExportReport | None, str | None, int]:
    """Verify the export of `form` as the service makes it now: (report, problem, status)."""
    try:
        period = form.period()
    except _BadDay as exc:
        return None, visitor.t(exc.key), 422
    except InputError:
        return None, visitor.t("audit.error.period"), 422
    if not form.party:
        return None, visitor.t("audit.error.party"), 422
    service = service_of(request)
    require_export(visitor.caller, form.party)
    try:
        report = verify_export(export_lines(service.ledger, form.party, period),
                               service.trust)
    except NotFoundError:
        return None, visitor.t("audit.error.unknown", party=form.party), 404
    return report, None, 200


@router.get("/audit")
def audit(request: Request, party: str = "", start: str = Query("", alias="from"),
          end: str = Query("", alias="to"), check: str = "",
          visitor: Visitor = page(*EXPORTERS)) -> Response:
    """The form; with ``check=1``, the verification of the chosen export below it."""
    form = _form(visitor, party, start, end)
    if not check:
        return _page(request, visitor, form)
    report, problem, status = _checked(request, visitor, form)
    return _page(request, visitor, form, status=status, report=report, source="service",
                 problem=problem)


@router.get("/audit/export")
def download(request: Request, party: str = "", start: str = Query("", alias="from"),
             end: str = Query("", alias="to"), visitor: Visitor = page(*EXPORTERS)
             ) -> Response:
    """The export itself, exactly as ``GET /v1/parties/{party}/export`` answers it."""
    form = _form(visitor, party, start, end)
    try:
        period = form.period()
    except _BadDay as exc:
        return _page(request, visitor, form, status=422, problem=visitor.t(exc.key))
    except InputError:
        return _page(request, visitor, form, status=422,
                     problem=visitor.t("audit.error.period"))
    if not form.party:
        return _page(request, visitor, form, status=422,
                     problem=visitor.t("audit.error.party"))
    try:
        return export_response(service_of(request), visitor.caller, form.party, period)
    except NotFoundError:
        return _page(request, visitor, form, status=404,
                     problem=visitor.t("audit.error.unknown", party=form.party))


def _lines(upload: Any) -> Any:
    """The uploaded file's lines, read as they are checked (bounded memory)."""
    upload.seek(0)
    yield from upload


@router.post("/audit/verify")
async def verify_upload(request: Request, export: UploadFile | None = File(None),
                        visitor: Visitor = page(*EXPORTERS)) -> Response:
    """Verify an uploaded export file under the service's trust file."""
    form = _form(visitor, "", "", "")
    if export is None or not export.filename:
        return _page(request, visitor, form, status=422,
                     problem=visitor.t("audit.error.no_file"))
    service = service_of(request)
    report = await run_in_threadpool(verify_export, _lines(export.file), service.trust)
    return _page(request, visitor, form, report=report, source=export.filename[:200])
