"""The landing page (what the service is, one entry per user, example shipments) and the
stylesheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from fastapi import APIRouter, Request, Response

from ledger.api.access import Caller, public
from ledger.api.context import Service
from ledger.api.routes.common import service_of
from ledger.web.access import Visitor, anyone
from ledger.web.rendering import PageRoute, render

__all__ = ["ExampleShipment", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_STYLESHEET = (files("ledger.web") / "static" / "web.css").read_bytes()
_EXAMPLES = 12


@dataclass(frozen=True, slots=True)
class ExampleShipment:
    """A logged shipment the landing page links to."""

    digest: str
    shipment: str
    good: str
    party: str


def recent_shipments(service: Service, limit: int = _EXAMPLES) -> list[ExampleShipment]:
    """The latest tokens of the ledger's parties, newest first (``TMEC_WEB_EXAMPLES``).

    Only when the operator turns it on (the demo does): in production a public list of
    shipments would tell anyone who ships what.
    """
    store = service.ledger.store
    parties = sorted({key.party_id for key in store.all_keys()})
    rows = [row for party in parties for row in store.party_tokens(party, limit=limit)]
    rows.sort(key=lambda row: row.index, reverse=True)
    shown = []
    for row in rows[:limit]:
        subject = service.ledger.token(row.digest).get("credentialSubject", {})
        good = subject.get("good", {}) if isinstance(subject, dict) else {}
        exporter = subject.get("exporter") or subject.get("certifier") or {}
        shown.append(ExampleShipment(
            row.digest, str(subject.get("shipmentId", "")),
            str(good.get("description", "")) if isinstance(good, dict) else "",
            str(exporter.get("name", "")) if isinstance(exporter, dict) else row.party_id))
    return shown


@router.get("/")
def landing(request: Request, visitor: Visitor = anyone()) -> Response:
    """What the service is, one entry per user, and the example shipments."""
    service = service_of(request)
    examples = recent_shipments(service) if service.settings.web_examples else []
    return render(visitor, "landing.html", examples=examples)


@router.get("/static/web.css")
def stylesheet(caller: Caller = public()) -> Response:
    """The pages' one stylesheet (no framework, no build step)."""
    del caller
    return Response(_STYLESHEET, media_type="text/css", headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
