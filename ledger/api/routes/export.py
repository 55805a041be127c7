"""Compliance export over HTTP: a party's records, streamed, verifiable offline.

``GET /v1/parties/{party}/export`` streams `ledger.audit_export`'s JSON Lines (checkpoints,
consistency proofs, the party's entries with inclusion proofs, its tokens) in bounded
memory; ``tmec audit verify EXPORT --trust trust.json`` checks the file anywhere. An
auditor exports any party, the registrar too; an SME exports its own party.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from ledger.api.access import Caller, allow
from ledger.api.accounts import SME_ROLES, SMES, Role
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of
from ledger.audit_export import export_lines

__all__ = ["router"]

router = api_router(prefix="/v1", tags=["compliance"])


@router.get("/parties/{party}/export", summary="A party's records, verifiable offline",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/jsonl": {
                "example": '{"type":"header","format":"tmec-audit-export/1",...}\n'
                           '{"type":"checkpoint","size":14,"text":"..."}\n'
                           '{"type":"end","checkpoints":7,"entries":3,"tokens":1}\n'}}}})
def export(party: str, request: Request,
           caller: Caller = allow(Role.AUDITOR, Role.REGISTRAR, *SMES)) -> StreamingResponse:
    """JSON Lines: header, checkpoints, consistency proofs, entries, tokens, end."""
    account = caller.require()
    if account.role in SME_ROLES and account.party_id != party:
        raise ApiProblem("api.forbidden", "an SME exports only its own records")
    lines = export_lines(service_of(request).ledger, party)
    first = next(lines)  # errors (unknown party, no checkpoint) before the 200 goes out

    def stream() -> Iterator[str]:
        yield first
        yield from lines

    return StreamingResponse(stream(), media_type="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="{party}.tmec-export.jsonl"'})
