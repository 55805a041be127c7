"""Compliance export over HTTP: a party's records, streamed, verifiable offline.

``GET /v1/parties/{party}/export`` streams `ledger.audit_export`'s JSON Lines (checkpoints,
consistency proofs, the party's entries with inclusion proofs, its tokens) in bounded
memory; ``tmec audit verify EXPORT --trust trust.json`` checks the file anywhere. An
auditor exports any party, the registrar too; an SME exports its own party. ``?from=`` and
``?to=`` (ISO dates, both included, either optional) export the tokens logged in that
period (`ledger.audit_export.ExportPeriod`); the export states the period and verifies
the same way. The compliance page (`ledger.web.routes.audit`) downloads exactly this
answer (`export_response`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from ledger.api.access import Caller, allow
from ledger.api.accounts import SME_ROLES, SMES, Role
from ledger.api.context import Service
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of
from ledger.audit_export import ExportPeriod, export_lines

__all__ = ["EXPORTERS", "export_filename", "export_response", "require_export", "router"]

EXPORTERS = (Role.AUDITOR, Role.REGISTRAR, *SMES)
"""Who may export: auditors and the registrar any party, an SME its own."""

router = api_router(prefix="/v1", tags=["compliance"])


@router.get("/parties/{party}/export", summary="A party's records, verifiable offline",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/jsonl": {
                "example": '{"type":"header","format":"tmec-audit-export/1",...}\n'
                           '{"type":"checkpoint","size":14,"text":"..."}\n'
                           '{"type":"end","checkpoints":7,"entries":3,"tokens":1}\n'}}}})
def export(party: str, request: Request,
           start: date | None = Query(None, alias="from", description="First day (UTC) "
                                      "of the period: tokens logged on or after it."),
           end: date | None = Query(None, alias="to", description="Last day (UTC) of the "
                                    "period: tokens logged on or before it."),
           caller: Caller = allow(*EXPORTERS)) -> StreamingResponse:
    """JSON Lines: header, checkpoints, consistency proofs, entries, tokens, end."""
    return export_response(service_of(request), caller, party, ExportPeriod(start, end))


def require_export(caller: Caller, party: str) -> None:
    """Refuse (403) an SME's export of another party's records."""
    account = caller.require()
    if account.role in SME_ROLES and account.party_id != party:
        raise ApiProblem("api.forbidden", "an SME exports only its own records")


def export_filename(party: str, period: ExportPeriod) -> str:
    """The download's file name: the party, and the period when there is one."""
    span = ""
    if period.bounded:
        bounds = period.to_dict()
        span = f".{bounds['from'] or 'start'}_{bounds['to'] or 'now'}"
    return f"{party}{span}.tmec-export.jsonl"


def export_response(service: Service, caller: Caller, party: str, period: ExportPeriod
                    ) -> StreamingResponse:
    """The export of `party` for `period`, streamed; who may and errors first."""
    require_export(caller, party)
    lines = export_lines(service.ledger, party, period)
    first = next(lines)  # errors (unknown party, no checkpoint) before the 200 goes out

    def stream() -> Iterator[str]:
        yield first
        yield from lines

    return StreamingResponse(stream(), media_type="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="{export_filename(party, period)}"'})
