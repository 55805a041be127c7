"""A logged token's certificate page and its downloads: bundle, QR code, PDF.

``/certificates/{digest}`` is where the register page lands once the token is logged; it
shows the nine data elements as the token has them and links the downloads:

* the **bundle** (JSON): what ``GET /v1/tokens/{digest}/bundle`` gives the issuing SME
  (`Service.bundle`: the token, its log proofs under a fresh status and checkpoint, the
  supplier bundles), to hand to a broker or to verify offline;
* the **QR code** (PNG or SVG) of the token's verification page, ``/v/{digest}``;
* the **certification of origin** as a PDF in Spanish, English or French (the page's
  language, or the one asked for), with the nine Annex 5-A data elements and the QR code
  (`ledger.web.certificate`).

Whoever may read the token through the API, as it decides (`Service.readable`): the
issuing party's SMEs, a broker the party gave the token to (the broker files the entry
with this certification), customs, auditors and the registrar. Another party's digest,
or one not given to the broker, is refused with 403; an unknown one is 404.
"""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ledger.api.routes.common import service_of
from ledger.service import utc_now
from ledger.web.access import Visitor, page
from ledger.web.certificate import certificate_pdf, qr_png, qr_svg, verification_url
from ledger.web.rendering import PageRoute, render
from ledger.web.routes.signin import EVERY_ROLE
from ledger.web.views import elements

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def _file_stem(shipment: object, digest: str) -> str:
    """A file name from the shipment id (what a clerk files it under), else the digest."""
    text = _UNSAFE.sub("-", shipment).strip("-.")[:80] if isinstance(shipment, str) else ""
    return text or digest[:16]


def _shipment(token: dict[str, object]) -> object:
    subject = token.get("credentialSubject")
    return subject.get("shipmentId") if isinstance(subject, dict) else None


@router.get("/certificates/{digest}")
def certificate_page(digest: str, request: Request, issued: str = "",
                     visitor: Visitor = page(*EVERY_ROLE)) -> Response:
    """The token's certificate: the nine data elements, the QR code, the downloads."""
    service = service_of(request)
    full = service.readable(visitor.caller, digest)
    token = service.ledger.token(full)
    return render(visitor, "certificate.html", digest=full, issued=issued == "1",
                  shipment=_shipment(token), elements=elements(token, visitor.t),
                  url=verification_url(service.settings.public_url, full),
                  standing=service.ledger.status(full).token.value)


@router.get("/certificates/{digest}/bundle.json")
def bundle_download(digest: str, request: Request, visitor: Visitor = page(*EVERY_ROLE)
                    ) -> Response:
    """The token's offline verification bundle (as ``GET /v1/tokens/{digest}/bundle``)."""
    service = service_of(request)
    full = service.readable(visitor.caller, digest)
    bundle = service.bundle(full)
    data = json.dumps(bundle, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")
    stem = _file_stem(_shipment(bundle["token"]), full)
    return _download(data, "application/json", f"{stem}.bundle.json")


@router.get("/certificates/{digest}/qr.png")
def qr_png_download(digest: str, request: Request, visitor: Visitor = page(*EVERY_ROLE)
                    ) -> Response:
    """The QR code of the token's verification page, as a PNG."""
    service = service_of(request)
    full = service.readable(visitor.caller, digest)
    url = verification_url(service.settings.public_url, full)
    return _download(qr_png(url), "image/png", f"{full[:16]}.qr.png")


@router.get("/certificates/{digest}/qr.svg")
def qr_svg_download(digest: str, request: Request, download: str = "",
                    visitor: Visitor = page(*EVERY_ROLE)) -> Response:
    """The QR code as SVG (shown on the certificate page; ``?download=1`` to save it)."""
    service = service_of(request)
    full = service.readable(visitor.caller, digest)
    svg = qr_svg(verification_url(service.settings.public_url, full), visitor.t)
    if download == "1":
        return _download(svg, "image/svg+xml", f"{full[:16]}.qr.svg")
    return Response(svg, media_type="image/svg+xml", headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.get("/certificates/{digest}/certificate.pdf")
async def certificate_download(digest: str, request: Request,
                               visitor: Visitor = page(*EVERY_ROLE)) -> Response:
    """The certification of origin as a PDF in the page's language (``?lang=es|en|fr``)."""
    service = service_of(request)

    def run() -> tuple[str, bytes, object]:
        full = service.readable(visitor.caller, digest)
        token = service.ledger.token(full)
        pdf = certificate_pdf(token, full, verification_url(service.settings.public_url, full),
                              visitor.t, printed_on=utc_now().date())
        return full, pdf, _shipment(token)

    full, pdf, shipment = await run_in_threadpool(run)
    stem = _file_stem(shipment, full)
    return _download(pdf, "application/pdf", f"{stem}.certificate-{visitor.t.language}.pdf")
