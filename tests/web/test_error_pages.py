"""An address or a method no route takes: a page in the visitor's language outside the
API's paths, RFC 9457 problem+json under them.
"""

from __future__ import annotations

import pytest

from ledger.web.i18n import LANGUAGES
from tests.web.conftest import Pages, words


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_page_is_a_page_in_the_visitors_language(pages: Pages, lang: str) -> None:
    browser = pages.visitor()
    for path in ("/nothing-here", "/shipments/abc/nothing", "/static/nothing.css"):
        response = browser.get(f"{path}?lang={lang}")
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in response.text
        assert words(lang, "error.http.not_found") in response.text
        assert words(lang, "error.back") in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
    hostile = browser.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code == 404
    assert "<script>alert" not in hostile.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_method_a_page_does_not_take_is_405_with_allow(pages: Pages, lang: str) -> None:
    response = pages.visitor().delete(f"/signin?lang={lang}")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert words(lang, "error.http.method", method="DELETE") in response.text
    landing = pages.visitor().post(f"/?lang={lang}")
    assert landing.status_code == 405
    assert words(lang, "error.http.method", method="POST") in landing.text


def test_the_api_keeps_its_problems(pages: Pages) -> None:
    client = pages.world.client
    for method, path, status in (("GET", "/v1/nothing", 404), ("GET", "/tile/9/x", 404),
                                 ("DELETE", "/v1/trust", 405), ("POST", "/checkpoint", 405),
                                 ("GET", "/ns/nothing", 404)):
        response = client.request(method, path)
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["status"] == status
