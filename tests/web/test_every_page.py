"""Every page, in each language, through the real app: its title and its words come from
that language's catalogue, and no page is left out (a new page without a line here fails).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.web import pages as web_pages
from ledger.web.i18n import LANGUAGES
from tests.api.conftest import build_world
from tests.web.conftest import Pages, demo_passwords, words

#: GET page -> (who opens it, the catalogue keys its page shows). "{digest}" is the
#: demo's brake caliper token, which the producer issued.
PAGES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "/": (None, ("landing.title", "landing.sme.title", "nav.verify", "nav.sign_in")),
    "/signin": (None, ("signin.title", "signin.account", "signin.password")),
    "/v": (None, ("verify.form_title", "verify.digest", "verify.submit")),
    "/v/{digest}": (None, ("verify.kicker", "verdict.clear", "verify.elements")),
    "/precheck": ("laredo-brokers.broker", ("precheck.title", "precheck.shipments",
                                            "precheck.submit", "nav.sign_out")),
    "/shipments": ("frenos-bajio.producer", ("shipments.title", "shipments.search",
                                             "shipments.status.active")),
    "/shipments/{digest}": ("frenos-bajio.producer", ("shipments.record",
                                                      "shipments.meaning.active",
                                                      "shipments.revoke")),
    "/shipments/{digest}/revoke": ("frenos-bajio.producer", ("shipments.revoke_title",
                                                             "shipments.revoke_warning",
                                                             "shipments.reason_field")),
    "/shipments/{digest}/supersede": ("frenos-bajio.producer", ("shipments.supersede_title",
                                                                "shipments.no_candidates")),
    "/register": ("frenos-bajio.producer", ("sme.register.title", "sme.upload.bom",
                                            "sme.upload.submit")),
    "/certificates/{digest}": ("frenos-bajio.producer", ("sme.certificate.title",
                                                         "sme.certificate.downloads",
                                                         "sme.certificate.pdf")),
    "/audit": ("norte-audit.auditor", ("audit.title", "audit.party", "audit.upload_title")),
    "/account/password": ("cbp.customs", ("password.title", "password.current",
                                          "password.new")),
    "/accounts/password": ("registrar.registrar", ("password.set_title", "signin.account",
                                                   "password.set_submit")),
}
#: GET routes of the pages that answer with something else than a page.
NOT_PAGES = {"/static/web.css", "/audit/export", "/certificates/{digest}/bundle.json",
             "/certificates/{digest}/qr.png", "/certificates/{digest}/qr.svg",
             "/certificates/{digest}/certificate.pdf"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    """One demo for the module: these pages only read (and sign in)."""
    tmp = tmp_path_factory.mktemp("every-page")
    for world in build_world(tmp, f"sqlite:///{tmp / 'demo' / 'ledger' / 'ledger.db'}"):
        yield Pages(world, demo_passwords(world.out))


def test_every_get_page_is_in_the_table() -> None:
    routes = {r.path for r in web_pages.page_routes() if "GET" in (r.methods or ())}
    assert routes - NOT_PAGES == set(PAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_in_each_language(site: Pages, path: str, lang: str) -> None:
    account, keys = PAGES[path]
    browser = site.signed_in(account) if account else site.visitor()
    url = path.replace("{digest}", site.token("brake-caliper-mx"))
    response = browser.get(f"{url}?lang={lang}")
    assert response.status_code == 200, response.text[:300]
    html = response.text
    assert f'<html lang="{lang}">' in html
    for key in (*keys, "site.name", "site.footer", "nav.language"):
        assert words(lang, key) in html, key
    assert f'<strong aria-current="true" lang="{lang}">' in html  # the switcher
    for other in set(LANGUAGES) - {lang}:
        assert f'hreflang="{other}"' in html
