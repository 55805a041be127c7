"""Who may open each page, declared on the page itself, with the API's own `Access`.

Every page route takes exactly one dependency built by `page(...)` (the roles, signed in)
or `anyone()` (everyone, signed in or not). It carries the same `ledger.api.access.Access`
declaration as an API route, so `ledger.api.app.create_app` refuses an undeclared page
exactly as it refuses an undeclared API route, and `tests/web/test_page_access.py` walks
the role x page matrix. What a visitor may *see* on a page (a token, a disclosure) is
decided by the API's `Service` (`may_read`, `require_read`): the pages have no rules of
their own.

The dependency also does what every page needs before it runs:

* **who**: the session cookie (HttpOnly, SameSite=Lax, Secure over https) opens the
  account (`ledger.web.credentials`); a page that needs one sends a signed-out visitor to
  the sign-in page (303), and a signed-in visitor of another role gets 403;
* **CSRF**: every form carries a token derived from the browser's cookie (the session's,
  or before sign-in a random browser cookie); a POST without the right one is refused
  (403) before the page runs, whatever the page: a form cannot forget it;
* **language**: `ledger.web.i18n.choose_language`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ledger.api.access import Access, Caller
from ledger.api.accounts import Account, Role
from ledger.web.credentials import CredentialStore, csrf_token
from ledger.web.i18n import Translator, choose_language, translator

__all__ = ["BROWSER_COOKIE", "LANGUAGE_COOKIE", "SESSION_COOKIE", "PageProblem",
           "SignInRequired", "Visitor", "anyone", "credentials_of", "page",
           "visitor_language"]

SESSION_COOKIE = "tmec_session"
BROWSER_COOKIE = "tmec_browser"
LANGUAGE_COOKIE = "tmec_lang"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):  # noqa: N818 - a redirect, not an error
    """A signed-out visitor asked for a page that needs an account."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class PageProblem(Exception):  # noqa: N818 - a page telling what went wrong
    """An error of the pages themselves: `message` is a catalogue key, `status` the HTTP one."""

    def __init__(self, status: int, message: str, **values: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.values = values


@dataclass
class Visitor:
    """The person behind a page request: account (or None), language, CSRF token."""

    account: Account | None
    t: Translator
    csrf: str
    path: str
    secure: bool
    set_cookies: dict[str, str] = field(default_factory=dict)  # name -> value, set on reply

    @property
    def caller(self) -> Caller:
        """The same `Caller` the API's routes receive, for `Service`'s access rules."""
        return Caller(self.account)

    @property
    def role(self) -> Role | None:
        """The visitor's role, None when signed out."""
        return None if self.account is None else self.account.role


def credentials_of(request: Request) -> CredentialStore:
    """The sign-in tables of the worker's ledger database."""
    found: CredentialStore | None = getattr(request.app.state, "credentials", None)
    if found is None:
        found = CredentialStore(request.app.state.service.ledger.store.engine)
        request.app.state.credentials = found
    return found


def visitor_language(request: Request) -> str:
    """The language of the page for this request (see `ledger.web.i18n`)."""
    return choose_language(request.query_params.get("lang"),
                           request.cookies.get(LANGUAGE_COOKIE),
                           request.headers.get("accept-language"))


def _is_https(request: Request) -> bool:
    public: str = request.app.state.service.settings.public_url
    return public.startswith("https://")


async def _visitor(request: Request) -> Visitor:
    language = visitor_language(request)
    secret = request.cookies.get(SESSION_COOKIE)
    account = None
    if secret:
        account = await run_in_threadpool(credentials_of(request).session, secret)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    visitor = Visitor(account, translator(language), "", path, _is_https(request))
    if account is not None and secret:
        visitor.csrf = csrf_token(secret)
    else:
        browser = request.cookies.get(BROWSER_COOKIE, "")
        if not 20 <= len(browser) <= 100:
            browser = secrets.token_urlsafe(32)
            visitor.set_cookies[BROWSER_COOKIE] = browser
        visitor.csrf = csrf_token(browser)
    if request.query_params.get("lang") == language:
        visitor.set_cookies[LANGUAGE_COOKIE] = language
    return visitor


def _dependency(access: Access) -> Callable[[Request], Awaitable[Visitor]]:
    async def check(request: Request) -> Visitor:
        visitor = await _visitor(request)
        if request.method not in _SAFE:
            form = await request.form()
            sent = form.get("csrf")
            if not isinstance(sent, str) or not hmac.compare_digest(sent, visitor.csrf):
                raise PageProblem(403, "error.csrf")
        if access.public:
            return visitor
        if visitor.account is None:
            raise SignInRequired(visitor.path if request.method in _SAFE else "/")
        if visitor.account.role not in access.roles:
            raise PageProblem(403, "error.role", roles=", ".join(
                visitor.t(f"role.{r.value}") for r in sorted(access.roles)))
        return visitor

    check.access = access  # type: ignore[attr-defined]
    return check


def page(*roles: Role) -> Any:
    """The dependency of a page for signed-in visitors in these roles."""
    if not roles:
        raise ValueError("page() needs at least one role; use anyone() for everyone")
    return Depends(_dependency(Access(frozenset(roles), public=False)))


def anyone() -> Any:
    """The dependency of a page anyone may open, signed in or not."""
    return Depends(_dependency(Access(frozenset(), public=True)))
