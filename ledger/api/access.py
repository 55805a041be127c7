"""Who may call each route, declared on the route itself; anything undeclared is refused.

Every route takes exactly one `Access` dependency, built by `allow(...)` (named roles, with
a key) or `public()` (anyone, no key needed: the verification routes, the log's tiles).
`ledger.api.app.create_app` refuses to build an app in which some route declares neither,
so a route cannot be added without saying who it is for; the test suite generates its
role x route matrix from these declarations.

What a caller may *see* inside a route (its own tokens, the shipments given to it) is
decided in the route from the `Caller` this dependency returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ledger.api.accounts import Account, AccountStore, Role
from ledger.api.problems import ApiProblem

__all__ = ["Access", "Caller", "allow", "declared_access", "public"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tmec"'}


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated account behind a request (None on a public route without a key)."""

    account: Account | None

    @property
    def role(self) -> Role | None:
        """The caller's role, or None for the public."""
        return None if self.account is None else self.account.role

    @property
    def party_id(self) -> str | None:
        """The ledger party the caller acts for, or None for the public."""
        return None if self.account is None else self.account.party_id

    def require(self) -> Account:
        """The account (routes that declared roles always have one)."""
        if self.account is None:  # pragma: no cover - allow() never lets this through
            raise ApiProblem("api.unauthenticated", "this route needs an API key",
                             headers=_CHALLENGE)
        return self.account


@dataclass(frozen=True)
class Access:
    """The declaration a route carries: which roles, or the public."""

    roles: frozenset[Role]
    public: bool

    def describe(self) -> str:
        """For the OpenAPI description: who may call."""
        if self.public:
            return "Public: no API key needed."
        return "Roles: " + ", ".join(sorted(r.value for r in self.roles)) + "."


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiProblem("api.unauthenticated", "the Authorization header must be "
                         "'Bearer KEY'", headers=_CHALLENGE)
    return key.strip()


def _dependency(access: Access) -> Callable[[Request], Awaitable[Caller]]:
    async def check(request: Request) -> Caller:
        key = _bearer(request)
        account: Account | None = None
        if key is not None:
            accounts: AccountStore = request.app.state.accounts
            # On SQLite on the event loop (`ledger.api.routes.common.run_on_store`: one
            # short local query costs less than the thread hop); a server in a thread.
            account = (accounts.authenticate(key) if accounts.is_local
                       else await run_in_threadpool(accounts.authenticate, key))
            if account is None:
                raise ApiProblem("api.unauthenticated", "the API key is unknown or revoked",
                                 headers=_CHALLENGE)
        if access.public:
            return Caller(account)
        if account is None:
            raise ApiProblem("api.unauthenticated", "this route needs an API key "
                             "(Authorization: Bearer KEY)", headers=_CHALLENGE)
        if account.role not in access.roles:
            raise ApiProblem("api.forbidden.role", f"a {account.role.value} account may not "
                             f"call this route ({access.describe()})",
                             allowedRoles=sorted(r.value for r in access.roles))
        return Caller(account)

    check.access = access  # type: ignore[attr-defined]
    return check


def allow(*roles: Role) -> Any:
    """The dependency of a route callable by these roles, with a valid API key."""
    if not roles:
        raise ValueError("allow() needs at least one role; use public() for everyone")
    return Depends(_dependency(Access(frozenset(roles), public=False)))


def public() -> Any:
    """The dependency of a route anyone may call (a key, if sent, must still be valid)."""
    return Depends(_dependency(Access(frozenset(), public=True)))




def declared_access(route: APIRoute) -> Access | None:
    """The `Access` a route declared, or None (the app refuses such a route)."""
    found = [getattr(d.call, "access", None) for d in route.dependant.dependencies]
    declared = [a for a in found if isinstance(a, Access)]
    return declared[0] if len(declared) == 1 else None
