"""The pages through the real app (ASGI client): what each shows, sign-in, CSRF, errors.

Expected words come from the catalogues (`words`), never typed here, so a test checks that
the page says what the catalogue says in the visitor's language.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from ledger.web.i18n import LANGUAGES, catalogue
from tests.web.conftest import Pages, csrf_of, words

BROKER = "laredo-brokers.broker"
PRODUCER = "frenos-bajio.producer"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_landing_page_in_each_language(pages: Pages, lang: str) -> None:
    response = pages.visitor().get(f"/?lang={lang}")
    assert response.status_code == 200
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert words(lang, "landing.title") in html
    for user in ("sme", "broker", "customs", "compliance"):
        assert words(lang, f"landing.{user}.title") in html
    for name, digest in pages.world.tokens.items():  # the example shipments, linked
        assert f'href="/v/{digest}"' in html, name
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "tmec_lang=" + lang in response.headers["set-cookie"]


def test_the_language_comes_from_accept_language_then_sticks(pages: Pages) -> None:
    browser = pages.visitor()
    html = browser.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).text
    assert '<html lang="fr">' in html
    browser.get("/?lang=en")
    again = browser.get("/v", headers={"Accept-Language": "fr-CA"}).text
    assert '<html lang="en">' in again  # the choice made with ?lang is remembered
    for lang in ("es", "fr"):  # the switcher links to this page in the other languages
        assert f'href="/v?lang={lang}"' in again
    assert '<strong aria-current="true" lang="en">' in again


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_verification_page_says_clear_and_shows_the_nine_elements(
        pages: Pages, lang: str) -> None:
    digest = pages.token("brake-caliper-mx")
    response = pages.visitor().get(f"/v/{digest[:16]}?lang={lang}")
    assert response.status_code == 200
    html = response.text
    assert 'data-decision="clear"' in html
    assert words(lang, "verdict.clear") in html
    assert words(lang, "why.clear") in html
    for n in range(1, 10):
        assert words(lang, f"element.{n}") in html
    assert "FBA-PED-26-3807-6001842" in html
    assert "Frenos del Bajío S.A. de C.V." in html
    assert words(lang, "check.token_signature") in html
    cosigners = html.split('id="cosigners">')[1].split("<")[0]
    assert sum(words(lang, f"authority.{a}") in cosigners for a in ("cbp", "cbsa", "anam")) >= 2
    # The same decision and checks as the API's GET /v1/verify/{digest}.
    api = pages.world.client.get(f"/v1/verify/{digest}").json()
    assert api["decision"] == "clear"
    assert html.count('class="check ') == len(api["checks"])
    assert "lines disclosed" not in html
    assert 'id="disclosed"' not in html


def test_a_revoked_token_is_rejected_with_the_reason(pages: Pages) -> None:
    digest = pages.token("brake-caliper-mx")
    revoked = pages.world.client.post(f"/v1/tokens/{digest}/revoke",
                                      json={"reason": "wrong BOM revision"},
                                      headers=pages.world.auth(PRODUCER))
    assert revoked.status_code == 200, revoked.text
    html = pages.visitor().get(f"/v/{digest}?lang=es").text
    assert 'data-decision="reject"' in html
    assert words("es", "verdict.reject") in html
    assert words("es", "why.failed", check=catalogue("es")["check.status_token"]) in html


def test_the_verifiers_english_details_are_marked_as_english_on_other_pages(
        pages: Pages) -> None:
    """The checks' titles are in the page's language; the verifier's technical detail is
    its own English text, marked so (WCAG 2.2 s.3.1.2, language of parts) that a screen
    reader reads it as English on a Spanish or French page.
    """
    digest = pages.token("brake-caliper-mx")
    html = pages.visitor().get(f"/v/{digest}?lang=es").text
    details = re.findall(r"<details><summary>[^<]*</summary><code([^>]*)>", html)
    assert details
    assert set(details) == {' lang="en"'}
    bundle = json.loads(pages.world.bundle_bytes("brake-caliper-mx"))
    bundle["token"]["credentialSubject"]["shipmentId"] = "FBA-PED-26-3807-6009999"
    broker = pages.signed_in(BROKER)
    form = broker.get("/precheck?lang=fr").text
    result = broker.post("/precheck?lang=fr", data={"csrf": csrf_of(form),
                                                    "shipments": json.dumps(bundle)}).text
    assert words("fr", "check.token_signature") in result
    spans = re.findall(r'<span class="detail"([^>]*)>', result)
    assert spans
    assert set(spans) == {' lang="en"'}


def test_a_customs_officer_sees_the_lines_disclosed_to_that_authority_only(
        pages: Pages) -> None:
    digest = pages.token("brake-caliper-mx")
    disclosed = pages.world.client.post(f"/v1/tokens/{digest}/disclosures",
                                        json={"authority": "cbp", "lines": [0, 1]},
                                        headers=pages.world.auth(PRODUCER))
    assert disclosed.status_code == 200, disclosed.text
    cbp = pages.signed_in("cbp.customs").get(f"/v/{digest}?lang=en").text
    assert 'id="disclosed"' in cbp
    assert cbp.count(words("en", "verify.line", number=0)) == 1
    assert words("en", "verify.line", number=1) in cbp
    assert words("en", "verify.line", number=2) not in cbp
    cbsa = pages.signed_in("cbsa.customs").get(f"/v/{digest}?lang=en").text
    assert 'id="no-disclosures"' in cbsa
    assert words("en", "verify.line", number=0) not in cbsa
    broker = pages.signed_in(BROKER).get(f"/v/{digest}?lang=en").text
    assert 'id="disclosed"' not in broker


def test_bad_references_are_pages_with_a_message_never_a_traceback(pages: Pages) -> None:
    browser = pages.visitor()
    missing = browser.get("/v/" + "ab" * 32 + "?lang=fr")
    assert missing.status_code == 404
    assert words("fr", "error.code.ledger_not_found") in missing.text
    hostile = browser.get("/v/%3Cscript%3Ealert(1)%3C%5Cscript%3E")
    assert hostile.status_code in (404, 422)
    assert "<script>" not in hostile.text  # shown as text, never markup
    assert "&lt;script&gt;alert(1)" in hostile.text
    assert hostile.headers["content-type"].startswith("text/html")
    for response in (missing, hostile):
        assert "Traceback" not in response.text


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session_everywhere(
        pages: Pages) -> None:
    browser = pages.visitor()
    form = browser.get("/signin?lang=en")
    wrong = browser.post("/signin", data={"csrf": csrf_of(form.text), "account": BROKER,
                                          "password": "not the password", "next": ""})
    assert wrong.status_code == 200
    assert words("en", "signin.failed") in wrong.text
    assert "tmec_session" not in wrong.headers.get("set-cookie", "")
    right = browser.post("/signin", data={"csrf": csrf_of(form.text), "account": BROKER,
                                          "password": pages.passwords[BROKER],
                                          "next": "/v?lang=en"})
    assert right.status_code == 303
    assert right.headers["location"] == "/v?lang=en"
    cookie = next(c for c in right.headers.get_list("set-cookie")
                  if c.startswith("tmec_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # served over http here (TMEC_PUBLIC_URL is http)
    secret = cookie.split(";")[0].split("=", 1)[1]
    page = browser.get("/precheck")
    assert page.status_code == 200
    other_worker = pages.visitor()  # another browser holding the same cookie
    other_worker.cookies.set("tmec_session", secret)
    assert other_worker.get("/precheck").status_code == 200
    out = browser.post("/signout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert other_worker.get("/precheck").status_code == 303  # ended for everyone


def test_sign_in_never_redirects_to_another_site(pages: Pages) -> None:
    browser = pages.visitor()
    form = browser.get("/signin")
    response = browser.post("/signin", data={
        "csrf": csrf_of(form.text), "account": BROKER, "password": pages.passwords[BROKER],
        "next": "//evil.example/phish"})
    assert response.headers["location"] == "/precheck"


def test_each_role_starts_on_its_own_page(pages: Pages) -> None:
    for account, home in (("frenos-bajio.producer", "/shipments"), (BROKER, "/precheck"),
                          ("cbp.customs", "/v"), ("norte-audit.auditor", "/audit")):
        browser = pages.visitor()
        form = browser.get("/signin")
        response = browser.post("/signin", data={
            "csrf": csrf_of(form.text), "account": account,
            "password": pages.passwords[account]})
        assert response.status_code == 303, account
        assert response.headers["location"] == home, account


def test_a_signed_out_visitor_is_sent_to_sign_in(pages: Pages) -> None:
    response = pages.visitor().get("/precheck?lang=fr")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fprecheck%3Flang%3Dfr"


def test_every_form_is_refused_without_its_csrf_token(pages: Pages) -> None:
    anonymous = pages.visitor()
    anonymous.get("/signin")
    no_token = anonymous.post("/signin", data={"account": BROKER,
                                               "password": pages.passwords[BROKER]})
    assert no_token.status_code == 403
    assert "tmec_session" not in no_token.headers.get("set-cookie", "")
    broker = pages.signed_in(BROKER)
    digest = pages.token("brake-caliper-mx")
    for data in ({"shipments": digest}, {"shipments": digest, "csrf": "0" * 64}):
        refused = broker.post("/precheck?lang=en", data=data)
        assert refused.status_code == 403
        assert words("en", "error.csrf") in refused.text
    signout = broker.post("/signout", data={})
    assert signout.status_code == 403
    assert broker.get("/precheck").status_code == 200  # still signed in


def test_a_form_token_from_another_browser_is_refused(pages: Pages) -> None:
    mine = pages.signed_in(BROKER)
    theirs = pages.signed_in(BROKER)
    token = csrf_of(theirs.get("/precheck").text)
    assert mine.post("/precheck", data={"csrf": token, "shipments": "abcdef12"}
                     ).status_code == 403


def _precheck(pages: Pages, **data: str) -> tuple[int, str]:
    broker = pages.signed_in(BROKER)
    token = csrf_of(broker.get("/precheck").text)
    response = broker.post("/precheck?lang=en", data={"csrf": token, **data})
    return response.status_code, response.text


def test_the_precheck_table_says_go_for_the_demo_shipments(pages: Pages) -> None:
    digests = "\n".join(d[:16] for d in pages.world.tokens.values())
    status, html = _precheck(pages, shipments=digests, tolerance="0")
    assert status == 200
    assert html.count('data-go="go"') == len(pages.world.tokens)
    assert words("en", "precheck.results", go=len(pages.world.tokens), no_go=0) in html


def test_a_tampered_bundle_pasted_into_the_precheck_is_no_go(pages: Pages) -> None:
    bundle = json.loads(pages.world.bundle_bytes("brake-caliper-mx"))
    bundle["token"]["credentialSubject"]["shipmentId"] = "FBA-PED-26-3807-6009999"
    status, html = _precheck(pages, shipments=json.dumps(bundle))
    assert status == 200
    assert html.count('data-go="no-go"') == 1
    assert 'data-go="go"' not in html
    assert words("en", "check.token_signature") in html
    original = json.loads(pages.world.bundle_bytes("brake-caliper-mx"))
    status, html = _precheck(pages, shipments=json.dumps([original]))
    assert html.count('data-go="go"') == 1


def test_the_precheck_csv_has_one_row_per_shipment_and_no_formulas(pages: Pages) -> None:
    broker = pages.signed_in(BROKER)
    token = csrf_of(broker.get("/precheck").text)
    digest = pages.token("steel-wheel-ca")
    bad = json.loads(pages.world.bundle_bytes("brake-caliper-mx"))
    bad["token"]["credentialSubject"]["shipmentId"] = "=HYPERLINK(\"http://x\")"
    response = broker.post("/precheck?lang=es", data={
        "csrf": token, "shipments": digest, "export": "csv"},
        files=[("files", ("tampered.json", json.dumps(bad).encode(), "application/json"))])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == catalogue("es")["precheck.csv.number"]
    assert len(rows) == 3
    assert rows[1][3] == catalogue("es")["precheck.go"]
    assert rows[2][3] == catalogue("es")["precheck.no_go"]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(("data", "key"), [
    ({"shipments": "not-a-digest"}, "precheck.error.digest"),
    ({"shipments": "{\"format\": "}, "precheck.error.json"),
    ({"shipments": "[1, 2]"}, "precheck.error.not_bundle"),
    ({"shipments": ""}, "precheck.error.empty"),
    ({"shipments": "abcdef12", "tolerance": "lots"}, "precheck.error.tolerance"),
    ({"shipments": " ".join(["abcdef12"] * 201)}, "precheck.error.too_many"),
])
def test_bad_precheck_input_is_a_message_on_the_form(pages: Pages, data: dict[str, str],
                                                     key: str) -> None:
    status, html = _precheck(pages, **data)
    assert status == 422
    assert 'id="precheck-problem"' in html
    first = catalogue("en")[key].split("{")[0].strip()
    assert first in html.replace("&#39;", "'")
    assert 'id="precheck-form"' in html  # the form is still there, with what was typed


def test_cookies_are_secure_when_the_public_url_is_https() -> None:
    from fastapi import Response

    from ledger.web.access import Visitor
    from ledger.web.i18n import translator
    from ledger.web.rendering import set_cookie

    for secure in (True, False):
        response = Response()
        set_cookie(response, Visitor(None, translator("es"), "", "/", secure), "tmec_session",
                   "x" * 43)
        header = response.headers["set-cookie"]
        assert "HttpOnly" in header
        assert "samesite=lax" in header.lower()
        assert ("Secure" in header) is secure
