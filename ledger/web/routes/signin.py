"""Sign-in and sign-out for every role: an account id and its password, then a session.

Repeated failures are limited per account and per client address
(`ledger.web.credentials.SignInLimits`): past the limit the form says how long to wait,
with status 429 and ``Retry-After`` (RFC 6585 s.4), and the password is not even checked.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import SMES, Role
from ledger.web.access import BROWSER_COOKIE, SESSION_COOKIE, Visitor, anyone, credentials_of, page
from ledger.web.credentials import SESSION_LIFETIME
from ledger.web.rendering import PageRoute, render, set_cookie

__all__ = ["EVERY_ROLE", "client_of", "home_of", "refused", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EVERY_ROLE = tuple(Role)

# Where each role starts: an SME at its shipments (with the way to register one), a
# broker at the pre-check, customs at the verification form, an auditor at the export.
_HOME = {Role.BROKER: "/precheck", Role.CUSTOMS: "/v", **dict.fromkeys(SMES, "/shipments")}


def home_of(role: Role) -> str:
    """Where a role lands after signing in: its main task (the landing page otherwise)."""
    return _HOME.get(role, "/")


_HOME[Role.AUDITOR] = "/audit"


def client_of(request: Request) -> str:
    """The client's address, as the server saw it (uvicorn applies ``--proxy-headers``
    from trusted proxies only), for the per-address limit on failed sign-ins.
    """
    return request.client.host if request.client else "unknown"


def refused(response: Response, retry_after: int) -> Response:
    """`response` (a 429 page) with the seconds to wait in ``Retry-After``."""
    response.headers["Retry-After"] = str(retry_after)
    return response


def _safe_next(target: str) -> str | None:
    """`target` if it is a path of this site (no open redirect to another host)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and \
            target.isprintable() and len(target) <= 500:
        return target
    return None


@router.get("/signin")
def signin_form(next: str = "", visitor: Visitor = anyone()) -> Response:
    """The sign-in form (account id and password)."""
    return render(visitor, "signin.html", next=_safe_next(next) or "", failed=False,
                  locked="", account_id="")


@router.post("/signin")
async def signin(request: Request, account: str = Form(""), password: str = Form(""),
                 next: str = Form(""), visitor: Visitor = anyone()
                 ) -> Response:
    """Open a session when the password is the account's, else show the form again, saying
    so (200: a page, not an HTTP authentication challenge).
    """
    credentials = credentials_of(request)
    outcome = await run_in_threadpool(credentials.attempt, account.strip(), password,
                                      client_of(request))
    found = outcome.account
    if outcome.retry_after is not None:
        minutes = -(-outcome.retry_after // 60)
        return refused(render(visitor, "signin.html", status=429, next=_safe_next(next) or "",
                              failed=False, account_id=account.strip()[:200],
                              locked=visitor.t("signin.limit.locked", minutes=minutes)),
                       outcome.retry_after)
    if found is None:
        return render(visitor, "signin.html", next=_safe_next(next) or "",
                      failed=True, locked="", account_id=account.strip()[:200])
    session = await run_in_threadpool(credentials.start_session, found)
    response = RedirectResponse(_safe_next(next) or home_of(found.role), 303)
    set_cookie(response, visitor, SESSION_COOKIE, session.secret,
               max_age=int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(BROWSER_COOKIE, path="/")
    return response


@router.post("/signout")
async def signout(request: Request, visitor: Visitor = page(*EVERY_ROLE)) -> Response:
    """End the session (a row in the store) and forget the cookie."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(credentials_of(request).end_session, secret)
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=visitor.secure)
    return response
