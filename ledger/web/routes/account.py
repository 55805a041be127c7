"""Passwords: a signed-in person changes theirs; the registrar sets one for an account.

Both write a new row of ``web_passwords`` (`ledger.web.credentials.CredentialStore`: the
newest row is the password) and end the account's other sessions, so a password changed
because it leaked shuts out whoever had it. Changing one's own password asks for the
current one first, as an attempt to sign in would (the same limits on guessing: a stolen
session cannot be used to try passwords). The registrar, who admits the accounts
(``POST /v1/accounts``), gives an account its first password or a new one when it is lost;
``tmec accounts password`` does the same on the server, for the first registrar.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import Role
from ledger.errors import InputError, NotFoundError
from ledger.web.access import SESSION_COOKIE, Visitor, credentials_of, page
from ledger.web.credentials import MIN_PASSWORD
from ledger.web.rendering import PageRoute, render
from ledger.web.routes.signin import EVERY_ROLE, client_of, refused

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_MAX = 256


def _own(visitor: Visitor, *, status: int = 200, problem: str | None = None,
         done: bool = False) -> Response:
    return render(visitor, "password.html", status=status, problem=problem, done=done,
                  minimum=MIN_PASSWORD)


@router.get("/account/password")
def password_form(visitor: Visitor = page(*EVERY_ROLE)) -> Response:
    """The form: current password, new password twice."""
    return _own(visitor)


@router.post("/account/password")
async def change_password(request: Request, current: str = Form(""), new: str = Form(""),
                          repeat: str = Form(""), visitor: Visitor = page(*EVERY_ROLE)
                          ) -> Response:
    """Check the current password (within the sign-in limits), then set the new one."""
    account = visitor.caller.require()
    t = visitor.t
    if new != repeat:
        return _own(visitor, status=422, problem=t("password.error.repeat"))
    if not MIN_PASSWORD <= len(new) <= _MAX:
        return _own(visitor, status=422, problem=t("password.error.length",
                                                    minimum=MIN_PASSWORD, maximum=_MAX))
    credentials = credentials_of(request)
    outcome = await run_in_threadpool(credentials.attempt, account.account_id,
                                      current[:_MAX + 1], client_of(request))
    if outcome.retry_after is not None:
        return refused(_own(visitor, status=429, problem=t(
            "signin.limit.locked", minutes=-(-outcome.retry_after // 60))), outcome.retry_after)
    if outcome.account is None:
        return _own(visitor, status=422, problem=t("password.error.current"))
    await run_in_threadpool(credentials.set_password, account.account_id, new)
    await run_in_threadpool(credentials.end_other_sessions, account.account_id,
                            request.cookies.get(SESSION_COOKIE))
    return _own(visitor, done=True)


def _registrar(visitor: Visitor, *, status: int = 200, problem: str | None = None,
               done: str = "", account_id: str = "") -> Response:
    return render(visitor, "set_password.html", status=status, problem=problem, done=done,
                  account_id=account_id, minimum=MIN_PASSWORD)


@router.get("/accounts/password")
def set_password_form(visitor: Visitor = page(Role.REGISTRAR)) -> Response:
    """The registrar's form: which account, and its new password twice."""
    return _registrar(visitor)


@router.post("/accounts/password")
async def set_password(request: Request, account: str = Form(""), new: str = Form(""),
                       repeat: str = Form(""), visitor: Visitor = page(Role.REGISTRAR)
                       ) -> Response:
    """Give `account` a new password and end its sessions."""
    t = visitor.t
    wanted = account.strip()[:200]
    if new != repeat:
        return _registrar(visitor, status=422, problem=t("password.error.repeat"),
                          account_id=wanted)
    credentials = credentials_of(request)
    try:
        await run_in_threadpool(credentials.set_password, wanted, new)
    except NotFoundError:
        return _registrar(visitor, status=404, account_id=wanted,
                          problem=t("password.error.account", account=wanted))
    except InputError:
        return _registrar(visitor, status=422, account_id=wanted, problem=t(
            "password.error.length", minimum=MIN_PASSWORD, maximum=_MAX))
    await run_in_threadpool(credentials.end_other_sessions, wanted,
                            request.cookies.get(SESSION_COOKIE), "password set by the registrar")
    return _registrar(visitor, done=wanted)
