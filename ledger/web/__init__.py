"""The web pages of the ledger: server-rendered HTML over the API's own service.

Mounted in the API's app (`ledger.api.app.create_app` includes `ledger.web.pages.ROUTERS`):
the same `ledger.api.context.Service`, the same accounts and access rules, no logic of
its own (design/architecture.md: ``ledger.web`` is an adapter, like ``ledger.api``, which it
may import). Jinja templates with autoescaping, message catalogues in Spanish, English
and French (`ledger.web.i18n`), sign-in with a password and a session cookie
(`ledger.web.credentials`, `ledger.web.access`).

This package module imports nothing, so `ledger.web.credentials` (what ``tmec demo``
uses to give the demo accounts passwords) loads without the templates' libraries.
"""
