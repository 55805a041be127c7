"""Every router of the pages, in the order `ledger.api.app.create_app` mounts them."""

from __future__ import annotations

from fastapi.routing import APIRoute

from ledger.web.routes import certificates, home, precheck, register, signin, verify

__all__ = ["ROUTERS", "page_routes"]

ROUTERS = (home.router, signin.router, verify.router, precheck.router,
           register.router, certificates.router)


def page_routes() -> list[APIRoute]:
    """Every page route (what the access check and the role x page matrix walk)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
