"""The SME's shipments: its tokens listed and searched, one shipment's record, corrections.

The list is ``GET /v1/tokens`` (`ledger.api.routes.tokens.party_token_page`: the party's
tokens in log order, a page at a time, searched by shipment id, HS code or digest prefix
and by standing). Revoking and superseding call the API's own route functions
(``POST /v1/tokens/{digest}/revoke`` and ``/supersede``, `ledger.api.routes.issue`): the
same checks (only the issuing party; the service signs with the key it holds for it) and
the same log entries. Nothing here decides anything.

The shipment's page also says which customs brokers see it (``api_grants``), gives it to
another broker and withdraws it from one, through the API's routes
(``POST /v1/tokens/{digest}/grants``, ``DELETE .../grants/{party}``): a broker's pre-check
and its list show only what it is given.

A revocation cannot be undone, so it takes two steps: the shipment's page links to a
confirmation page that says what will happen and asks for the reason, and only its form
revokes. A correction (supersede) names a later token of the same party: the corrected
shipment is registered first, then offered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import SMES
from ledger.api.problems import ApiProblem
from ledger.api.routes import issue
from ledger.api.routes import tokens as token_routes
from ledger.api.routes.common import service_of
from ledger.api.routes.tokens import TokenLine, TokenSearch, party_token_page, token_line
from ledger.canonical import parse_json
from ledger.errors import NotFoundError
from ledger.status import TokenState
from ledger.web.access import PageProblem, Visitor, page
from ledger.web.i18n import Translator
from ledger.web.rendering import PageRoute, render

__all__ = ["PAGE_SIZE", "Event", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
"""Shipments per page of the list."""
_SYMBOL = {TokenState.ACTIVE: "✓", TokenState.REVOKED: "✗", TokenState.SUPERSEDED: "↻"}


@dataclass(frozen=True, slots=True)
class Event:
    """A line of a shipment's record in the log: logged, revoked, superseded."""

    kind: str  # token | revoke | supersede
    index: int
    time: str
    reason: str
    other: str  # supersede: the correcting token's digest


def _hs(code: str | None) -> str:
    return f"{code[:4]}.{code[4:]}" if code and len(code) == 6 else code or ""


def _standing(line: TokenLine, t: Translator) -> dict[str, str]:
    state = line.status.value
    return {"state": state, "symbol": _SYMBOL[line.status], "word": t(f"shipments.status.{state}")}


def _status_filter(status: str) -> TokenState | None:
    if not status:
        return None
    try:
        return TokenState(status)
    except ValueError:
        raise PageProblem(422, "shipments.error.status") from None


@router.get("/shipments")
def shipments(request: Request, q: str = "", status: str = "", after: int = -1,
              visitor: Visitor = page(*SMES)) -> Response:
    """The party's shipments, newest last, a page at a time, searched or not."""
    account = visitor.caller.require()
    wanted = _status_filter(status)
    found = party_token_page(service_of(request), account.party_id, after=max(after, -1),
                             limit=PAGE_SIZE, search=TokenSearch(q[:100], wanted))
    more = None
    if found.next is not None:
        more = "/shipments?" + urlencode({k: v for k, v in (
            ("q", q), ("status", status), ("after", str(found.next))) if v})
    first = ("/shipments?" + urlencode({k: v for k, v in (("q", q), ("status", status)) if v})
             if after >= 0 else None)
    rows = [{"line": line, "hs": _hs(line.hs_code), **_standing(line, visitor.t)}
            for line in found.lines]
    return render(visitor, "shipments.html", rows=rows, q=q[:100], status_filter=status,
                  statuses=[s.value for s in TokenState], more=more, first=first,
                  searched=bool(q.strip() or wanted))


def _events(request: Request, digest: str) -> list[Event]:
    """The token's own entries of the log: logged, and any revocation or supersession."""
    store = service_of(request).ledger.store
    events = []
    for record in store.find(token_digest=digest):
        if record.kind not in ("token", "revoke", "supersede"):
            continue  # status statements: the registrar's, many, and said by the standing
        statement = parse_json(record.body)
        if not isinstance(statement, dict):  # pragma: no cover - the log holds objects
            continue
        events.append(Event(record.kind, record.index, str(statement.get("time", "")),
                            str(statement.get("reason", "")),
                            str(statement.get("newTokenDigest", ""))))
    return events


def _one(request: Request, visitor: Visitor, digest: str) -> TokenLine:
    """The line of one of the visitor's party's tokens (403 another's, 404 unknown)."""
    service = service_of(request)
    return token_line(service, service.issued_by(visitor.caller, digest))


@router.get("/shipments/{digest}")
def shipment(digest: str, request: Request, done: str = "",
             visitor: Visitor = page(*SMES)) -> Response:
    """One shipment: its good, standing and record in the log, and what can be done."""
    line = _one(request, visitor, digest)
    notice = done if done in ("revoked", "superseded") and line.status.value == done else ""
    if done in ("granted", "withdrawn"):
        notice = done
    standing = _standing(line, visitor.t)
    accounts = service_of(request).accounts
    shown = accounts.grantees(line.digest)
    names = {b.party_id: b.name for b in accounts.brokers()}
    return render(visitor, "shipment.html", line=line, hs=_hs(line.hs_code),
                  events=_events(request, line.digest), notice=notice,
                  state=standing["state"], symbol=standing["symbol"], word=standing["word"],
                  grantees=[(party, names.get(party, party)) for party in shown],
                  brokers=[(party, name) for party, name in names.items()
                           if party not in shown])


@router.post("/shipments/{digest}/grants")
async def give_to_broker(digest: str, request: Request, party: str = Form(""),
                         visitor: Visitor = page(*SMES)) -> Response:
    """Give the shipment to a broker, as ``POST /v1/tokens/{digest}/grants`` does."""
    line = await run_in_threadpool(_one, request, visitor, digest)
    try:
        body = token_routes.GrantRequest(party=party.strip())
        await run_in_threadpool(token_routes.grant, line.digest, body, request,
                                visitor.caller)
    except (ValidationError, ApiProblem):  # empty, too long, or not a broker's party
        raise PageProblem(422, "shipments.error.broker") from None
    return RedirectResponse(f"/shipments/{line.digest}?done=granted#brokers", 303)


@router.post("/shipments/{digest}/grants/{party}/withdraw")
async def withdraw_from_broker(digest: str, party: str, request: Request,
                               visitor: Visitor = page(*SMES)) -> Response:
    """Withdraw it, as ``DELETE /v1/tokens/{digest}/grants/{party}`` does (kept on record)."""
    line = await run_in_threadpool(_one, request, visitor, digest)
    try:
        await run_in_threadpool(token_routes.withdraw_grant, line.digest, party, request,
                                visitor.caller)
    except ApiProblem:  # a party id longer than any
        raise PageProblem(422, "shipments.error.broker") from None
    return RedirectResponse(f"/shipments/{line.digest}?done=withdrawn#brokers", 303)


def _active(request: Request, visitor: Visitor, digest: str) -> TokenLine:
    """One of the party's active tokens, when the service can sign its correction."""
    line = _one(request, visitor, digest)
    if line.status is not TokenState.ACTIVE:
        raise PageProblem(409, f"shipments.error.already_{line.status.value}")
    try:  # the API would refuse later, and in words about the API
        service_of(request).held_key(visitor.caller)
    except NotFoundError:
        raise PageProblem(409, "shipments.error.no_held_key") from None
    return line


@router.get("/shipments/{digest}/revoke")
def revoke_form(digest: str, request: Request, visitor: Visitor = page(*SMES)) -> Response:
    """The confirmation step: what revoking does, and the reason to give."""
    line = _active(request, visitor, digest)
    return render(visitor, "revoke.html", line=line, hs=_hs(line.hs_code), reason="",
                  problem=None)


@router.post("/shipments/{digest}/revoke")
async def revoke(digest: str, request: Request, reason: str = Form(""),
                 visitor: Visitor = page(*SMES)) -> Response:
    """Revoke, as ``POST /v1/tokens/{digest}/revoke`` does; then the shipment's page."""
    line = await run_in_threadpool(_active, request, visitor, digest)
    try:
        body = issue.Reason(reason=reason.strip())
    except ValidationError:
        return render(visitor, "revoke.html", status=422, line=line, hs=_hs(line.hs_code),
                      reason=reason[:500], problem=visitor.t("shipments.error.reason"))
    await run_in_threadpool(issue.revoke_token, line.digest, body, request, visitor.caller)
    return RedirectResponse(f"/shipments/{line.digest}?done=revoked", 303)


def _candidates(request: Request, visitor: Visitor, line: TokenLine) -> list[TokenLine]:
    """The party's active tokens logged after `line`: what may supersede it."""
    assert line.index is not None
    found = party_token_page(service_of(request), visitor.caller.require().party_id,
                             after=line.index, limit=200,
                             search=TokenSearch("", TokenState.ACTIVE))
    return found.lines


@router.get("/shipments/{digest}/supersede")
def supersede_form(digest: str, request: Request, visitor: Visitor = page(*SMES)
                   ) -> Response:
    """Choose the later token that corrects this one, and say why."""
    line = _active(request, visitor, digest)
    return render(visitor, "supersede.html", line=line, hs=_hs(line.hs_code), reason="",
                  chosen="", candidates=_candidates(request, visitor, line), problem=None)


@router.post("/shipments/{digest}/supersede")
async def supersede(digest: str, request: Request, new_token: str = Form(""),
                    reason: str = Form(""), visitor: Visitor = page(*SMES)) -> Response:
    """Supersede, as ``POST /v1/tokens/{digest}/supersede`` does; then the shipment's page."""
    line = await run_in_threadpool(_active, request, visitor, digest)
    try:
        body = issue.Supersede.model_validate({"newToken": new_token.strip(),
                                               "reason": reason.strip()})
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        key = "shipments.error.new_token" if "newToken" in fields else "shipments.error.reason"
        candidates = await run_in_threadpool(_candidates, request, visitor, line)
        return render(visitor, "supersede.html", status=422, line=line, hs=_hs(line.hs_code),
                      reason=reason[:500], chosen=new_token[:64], candidates=candidates,
                      problem=visitor.t(key))
    await run_in_threadpool(issue.supersede_token, line.digest, body, request, visitor.caller)
    return RedirectResponse(f"/shipments/{line.digest}?done=superseded", 303)
