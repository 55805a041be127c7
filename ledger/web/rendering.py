"""Pages as HTML: the Jinja environment, the answer every page gives, and its errors.

Templates are server-rendered with autoescaping always on: every value from a token, a
bundle or a form is shown as text, never as markup (a shipment id ``<script>`` is printed,
not run). No build step and no framework: one small stylesheet (`ledger/web/static`).

`PageRoute` is the route class of every page: an error of the ledger, the origin engine or
the pages becomes a page in the visitor's language with the right status, and a signed-out
visitor is sent to sign in; never a traceback, never a problem+json document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined

from ledger.api.problems import ApiProblem, BodyTooLarge, status_for
from ledger.errors import LedgerError
from ledger.web.access import (
    LANGUAGE_COOKIE,
    PageProblem,
    SignInRequired,
    Visitor,
    visitor_language,
)
from ledger.web.i18n import LANGUAGES, translator
from origin_rules.errors import OriginRulesError

__all__ = ["PageRoute", "environment", "error_page", "render"]

log = logging.getLogger(__name__)

_HEADERS = {
    # Nothing runs but our own files; no page may be framed (clickjacking).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def environment() -> Environment:
    """The templates of `ledger/web/templates`, autoescaped, strict about missing names."""
    return Environment(loader=PackageLoader("ledger.web", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _switcher(path: str) -> list[tuple[str, str]]:
    """(language, link) for the language switcher: the same page in each language."""
    base, _, query = path.partition("?")
    kept = "&".join(p for p in query.split("&") if p and not p.startswith("lang="))
    return [(lang, f"{base}?{kept + '&' if kept else ''}lang={lang}") for lang in LANGUAGES]


def render(visitor: Visitor, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` for `visitor`, with the cookies the visit needs."""
    html = environment().get_template(template).render(
        t=visitor.t, lang=visitor.t.language, visitor=visitor, account=visitor.account,
        csrf=visitor.csrf, languages=_switcher(visitor.path), **context)
    response = HTMLResponse(html, status_code=status, headers=_HEADERS)
    for name, value in visitor.set_cookies.items():
        set_cookie(response, visitor, name, value,
                   max_age=365 * 86400 if name == LANGUAGE_COOKIE else None)
    return response


def set_cookie(response: Response, visitor: Visitor, name: str, value: str, *,
               max_age: int | None = None) -> None:
    """A cookie as every cookie of the pages is: HttpOnly, SameSite=Lax, Secure on https."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="lax", secure=visitor.secure)


def error_page(request: Request, status: int, message: str,
               values: Mapping[str, object] | None = None, detail: str = "") -> HTMLResponse:
    """A page saying what went wrong in the visitor's language (`message`: catalogue key)."""
    t = translator(visitor_language(request))
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    visitor = Visitor(None, t, "", path, False)
    return render(visitor, "error.html", status=status, title=HTTPStatus(status).phrase,
                  message=t(message, **dict(values or {})), detail=detail)


def _code_message(code: str) -> str:
    """The catalogue key of an error code: the longest dotted prefix with a message."""
    t = translator("en")
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        key = "error.code." + "_".join(parts[:n])
        if t.has(key):
            return key
    return "error.unexpected"


class PageRoute(APIRoute):
    """A page: errors become pages, a signed-out visitor goes to the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with the pages' error handling."""
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return RedirectResponse(f"/signin?next={quote(exc.back_to, safe='')}", 303)
            except PageProblem as exc:
                return error_page(request, exc.status, exc.message, exc.values)
            except ApiProblem as exc:
                return error_page(request, status_for(exc.code), _code_message(exc.code),
                                  detail=exc.detail)
            except (LedgerError, OriginRulesError) as exc:
                status = status_for(exc.code)
                if status >= 500:
                    log.error("ledger error %s: %s", exc.code, exc)
                return error_page(request, status, _code_message(exc.code),
                                  detail=str(exc)[:600] if status < 500 else "")
            except RequestValidationError:
                return error_page(request, 422, "error.request")
            except BodyTooLarge:
                raise
            except Exception:
                log.exception("unexpected error on page %s", request.url.path)
                return error_page(request, 500, "error.unexpected")

        return page_handler
