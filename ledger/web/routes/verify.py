"""The customs verification page, ``/v/{digest}``: what the certificate's QR code opens.

The same verification as ``GET /v1/verify/{digest}`` (`Service.verify_logged`: the token's
bundle built by the service, verified offline under its trust file), shown for a phone at
the bridge: CLEAR / REVIEW / REJECT in large type, why, every check in plain words, the
nine Annex 5-A data elements, the checkpoint and which authorities cosigned it. Public, as
the API route is; a signed-in customs officer also sees the BOM lines the issuer disclosed
to that officer's authority (as ``GET /v1/tokens/{digest}/bundle`` gives them).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ledger.api.accounts import Role
from ledger.api.routes.common import service_of
from ledger.web.access import Visitor, anyone
from ledger.web.rendering import PageRoute, render
from ledger.web.views import checkpoint_view, disclosed_lines, elements, verification_view

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/v")
def verify_form(digest: str = "", visitor: Visitor = anyone()) -> Response:
    """A form for a token digest (what to type when there is no QR code to scan)."""
    wanted = digest.strip()
    if wanted:
        return RedirectResponse(f"/v/{quote(wanted[:100], safe='')}", 303)
    return render(visitor, "verify_form.html")


@router.get("/v/{digest}")
def verification(digest: str, request: Request, visitor: Visitor = anyone()) -> Response:
    """The verdict, why, every check, the nine data elements and the checkpoint."""
    service = service_of(request)
    full = service.ledger.resolve_token(digest)
    verified = service.verify_logged(full)
    t = visitor.t
    lines: list[tuple[int, list[tuple[str, str]]]] | None = None
    authority = None
    if visitor.account is not None and visitor.account.role is Role.CUSTOMS:
        authority = visitor.account.party_id
        disclosed = service.accounts.disclosed_lines(full, authority)
        lines = disclosed_lines(service.bundle(full, disclose_lines=disclosed)) \
            if disclosed else []
    return render(visitor, "verification.html",
                  view=verification_view(verified.verification, t),
                  elements=elements(verified.bundle["token"], t),
                  checkpoint=checkpoint_view(verified.bundle, service.trust, t),
                  lines=lines, authority=authority, digest=full)
