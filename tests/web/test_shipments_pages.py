"""The SME's shipments through the real app: the list (the API's own), search, one
shipment's record, revoking after a confirmation, superseding with a later token.

Expected words come from the catalogues (`words`); what the pages did is checked through
the API (``GET /v1/tokens/{digest}/status``) and the verification page.
"""

from __future__ import annotations

import json
import re

import pytest

from ledger.web.i18n import LANGUAGES, catalogue
from ledger.web.routes import shipments as shipment_pages
from tests.conftest import ROOT
from tests.web.conftest import Pages, csrf_of, words

PRODUCER = "frenos-bajio.producer"
CALIPER = "FBA-PED-26-3807-6001842"


def issue(pages: Pages, shipment: str, account: str = PRODUCER) -> str:
    """A new token of the producer's party over the API (what the register page does)."""
    document = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    issued = pages.world.client.post("/v1/tokens", headers=pages.world.auth(account),
                                     json={"shipmentId": shipment, "bom": document})
    assert issued.status_code == 201, issued.text
    return str(issued.json()["tokenDigest"])


def standing(pages: Pages, digest: str) -> dict[str, object]:
    answer = pages.world.client.get(f"/v1/tokens/{digest}/status",
                                    headers=pages.world.auth(PRODUCER))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def listed(html: str) -> list[str]:
    return re.findall(r'<li class="shipment" data-digest="([0-9a-f]{64})"', html)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_my_shipments_lists_the_partys_tokens_in_each_language(pages: Pages, lang: str
                                                                ) -> None:
    browser = pages.signed_in(PRODUCER)
    response = browser.get(f"/shipments?lang={lang}")
    assert response.status_code == 200
    html = response.text
    for key in ("shipments.title", "shipments.search", "shipments.status_filter",
                "shipments.status.any", "shipments.status.active", "nav.pages.shipments",
                "nav.pages.audit", "nav.pages.password"):
        assert words(lang, key) in html, key
    assert words(lang, "shipments.listed", count=1) in html
    assert listed(html) == [pages.token("brake-caliper-mx")]  # its own party's only
    assert CALIPER in html
    assert words(lang, "element.hs", code="8708.30") in html
    # The list is the API's: the same tokens as GET /v1/tokens for the account.
    api = pages.world.client.get("/v1/tokens", headers=pages.world.auth(PRODUCER)).json()
    assert [t["tokenDigest"] for t in api["tokens"]] == listed(html)


def test_the_search_is_the_apis(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    north = issue(pages, "NORTE-2026-0001")
    south = issue(pages, "SUR-2026-0002")
    mine = pages.token("brake-caliper-mx")
    revoked = pages.world.client.post(f"/v1/tokens/{north}/revoke", json={
        "reason": "wrong invoice"}, headers=pages.world.auth(PRODUCER))
    assert revoked.status_code == 200

    def found(**query: str) -> list[str]:
        response = browser.get("/shipments", params={"lang": "en", **query})
        assert response.status_code == 200
        api = pages.world.client.get("/v1/tokens", headers=pages.world.auth(PRODUCER),
                                     params={k: v for k, v in query.items() if v})
        assert listed(response.text) == [t["tokenDigest"] for t in api.json()["tokens"]]
        return listed(response.text)

    assert found() == [mine, north, south]
    assert found(q="sur-2026") == [south]
    assert found(q="8708.30") == [mine, north, south]
    assert found(q=mine[:10]) == [mine]
    assert found(status="revoked") == [north]
    assert found(q="NORTE", status="active") == []
    empty = browser.get("/shipments?lang=en&q=NORTE&status=active").text
    assert words("en", "shipments.none_found") in empty
    assert words("en", "shipments.found", count=0) in empty
    with_status = browser.get("/shipments?lang=en&status=revoked").text
    assert words("en", "shipments.status.revoked") in with_status
    assert 'data-status="revoked"' in with_status
    bad = browser.get("/shipments?lang=en&status=lost")
    assert bad.status_code == 422
    assert words("en", "shipments.error.status") in bad.text


def test_the_list_goes_page_by_page(pages: Pages, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shipment_pages, "PAGE_SIZE", 1)
    second = issue(pages, "FBA-PAGE-2")
    browser = pages.signed_in(PRODUCER)
    first_page = browser.get("/shipments?lang=fr").text
    assert listed(first_page) == [pages.token("brake-caliper-mx")]
    link = re.search(r'href="(/shipments\?after=\d+)" id="next-page"', first_page)
    assert link is not None
    assert words("fr", "shipments.next_page") in first_page
    following = browser.get(link.group(1) + "&lang=fr").text
    assert listed(following) == [second]
    assert 'id="first-page"' in following


@pytest.mark.parametrize("lang", LANGUAGES)
def test_revoking_takes_a_confirmation_and_a_reason(pages: Pages, lang: str) -> None:
    digest = issue(pages, f"FBA-REVOKE-{lang}")
    browser = pages.signed_in(PRODUCER)
    detail = browser.get(f"/shipments/{digest[:16]}?lang={lang}")
    assert detail.status_code == 200
    assert words(lang, "shipments.status.active") in detail.text
    assert words(lang, "shipments.meaning.active") in detail.text
    assert words(lang, "shipments.event.token", index=standing(pages, digest)["index"]) \
        in detail.text
    assert f'href="/shipments/{digest}/revoke"' in detail.text
    confirm = browser.get(f"/shipments/{digest}/revoke?lang={lang}")
    assert confirm.status_code == 200
    assert words(lang, "shipments.revoke_warning") in confirm.text
    assert words(lang, "shipments.revoke_confirm") in confirm.text
    token = csrf_of(confirm.text)
    # No reason: the form again, saying so, and nothing logged.
    empty = browser.post(f"/shipments/{digest}/revoke?lang={lang}",
                         data={"csrf": token, "reason": "  "})
    assert empty.status_code == 422
    assert words(lang, "shipments.error.reason") in empty.text
    assert standing(pages, digest)["token"] == "active"
    # Without the form's token: refused before anything happens.
    forged = browser.post(f"/shipments/{digest}/revoke", data={"reason": "forged"})
    assert forged.status_code == 403
    assert standing(pages, digest)["token"] == "active"
    done = browser.post(f"/shipments/{digest}/revoke?lang={lang}",
                        data={"csrf": token, "reason": "wrong BOM <revision>"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/shipments/{digest}?done=revoked"
    status = standing(pages, digest)
    assert status["token"] == "revoked"
    after = browser.get(done.headers["location"] + f"&lang={lang}").text
    assert words(lang, "shipments.done.revoked") in after
    assert words(lang, "shipments.status.revoked") in after
    assert words(lang, "shipments.event.revoke", index=status["revocation"]) in after
    assert "wrong BOM &lt;revision&gt;" in after  # the reason, as text
    assert f'href="/shipments/{digest}/revoke"' not in after
    verdict = pages.visitor().get(f"/v/{digest}?lang={lang}").text
    assert 'data-decision="reject"' in verdict
    again = browser.get(f"/shipments/{digest}/revoke?lang={lang}")
    assert again.status_code == 409
    assert words(lang, "shipments.error.already_revoked") in again.text


def test_superseding_names_a_later_token_of_the_party(pages: Pages) -> None:
    old = issue(pages, "FBA-OLD-1")
    other = issue(pages, "FBA-OTHER-1")
    browser = pages.signed_in(PRODUCER)
    form = browser.get(f"/shipments/{old}/supersede?lang=es")
    assert form.status_code == 200
    assert words("es", "shipments.supersede_text") in form.text
    offered = re.findall(r'<option value="([0-9a-f]{64})"', form.text)
    assert offered == [other]  # later and in force: not the old one, not the demo's earlier
    token = csrf_of(form.text)
    missing = browser.post(f"/shipments/{old}/supersede?lang=es",
                           data={"csrf": token, "new_token": "", "reason": "costs"})
    assert missing.status_code == 422
    assert words("es", "shipments.error.new_token") in missing.text
    theirs = pages.token("cylinder-head-us")  # another party's token: the API refuses
    refused = browser.post(f"/shipments/{old}/supersede?lang=es",
                           data={"csrf": token, "new_token": theirs, "reason": "costs"})
    assert refused.status_code == 403
    assert standing(pages, old)["token"] == "active"
    done = browser.post(f"/shipments/{old}/supersede?lang=es",
                        data={"csrf": token, "new_token": other, "reason": "costs corrected"})
    assert done.status_code == 303
    status = standing(pages, old)
    assert status["token"] == "superseded"
    assert status["supersededBy"] == other
    after = browser.get(f"/shipments/{old}?done=superseded&lang=es").text
    assert words("es", "shipments.done.superseded") in after
    assert f'href="/shipments/{other}"' in after
    assert words("es", "shipments.event.supersede", index=status["revocation"]) in after
    none_left = browser.get(f"/shipments/{other}/supersede?lang=es").text
    assert words("es", "shipments.no_candidates") in none_left
    assert 'id="supersede-form"' not in none_left
    assert 'href="/register"' in none_left  # the register-a-shipment page issues it


def test_another_partys_shipment_is_not_shown(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    theirs = pages.token("cylinder-head-us")
    for path in (f"/shipments/{theirs}", f"/shipments/{theirs}/revoke",
                 f"/shipments/{theirs}/supersede"):
        response = browser.get(path + "?lang=en")
        assert response.status_code == 403, path
        assert words("en", "error.code.api_forbidden") in response.text
    missing = browser.get("/shipments/" + "ab" * 32 + "?lang=en")
    assert missing.status_code == 404
    assert words("en", "error.code.ledger_not_found") in missing.text


def test_no_correction_is_offered_without_a_held_key(pages: Pages,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.errors import NotFoundError

    def not_held(*_: object, **__: object) -> None:
        raise NotFoundError("the service holds no valid signing key for party frenos-bajio")

    monkeypatch.setattr(pages.world.service.vault, "current", not_held)
    browser = pages.signed_in(PRODUCER)
    digest = pages.token("brake-caliper-mx")
    response = browser.get(f"/shipments/{digest}/revoke?lang=fr")
    assert response.status_code == 409
    assert catalogue("fr")["shipments.error.no_held_key"].split(";")[0] in \
        response.text.replace("&#39;", "'")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_sme_gives_a_shipment_to_its_broker_and_withdraws_it(pages: Pages, lang: str
                                                                 ) -> None:
    digest = issue(pages, f"FBA-BROKER-{lang}")
    browser = pages.signed_in(PRODUCER)
    broker = pages.world.auth("laredo-brokers.broker")

    def broker_sees() -> bool:
        answer = pages.world.client.get(f"/v1/tokens/{digest}/status", headers=broker)
        assert answer.status_code in (200, 403), answer.text
        return answer.status_code == 200

    page_ = browser.get(f"/shipments/{digest}?lang={lang}")
    assert words(lang, "shipments.no_brokers") in page_.text
    assert '<option value="laredo-brokers">' in page_.text
    token = csrf_of(page_.text)
    assert not broker_sees()
    forged = browser.post(f"/shipments/{digest}/grants", data={"party": "laredo-brokers"})
    assert forged.status_code == 403
    assert not broker_sees()
    unknown = browser.post(f"/shipments/{digest}/grants?lang={lang}",
                           data={"csrf": token, "party": "norte-audit"})  # not a broker
    assert unknown.status_code == 422
    assert words(lang, "shipments.error.broker") in unknown.text
    given = browser.post(f"/shipments/{digest}/grants?lang={lang}",
                         data={"csrf": token, "party": "laredo-brokers"})
    assert given.status_code == 303
    assert given.headers["location"] == f"/shipments/{digest}?done=granted#brokers"
    assert broker_sees()
    after = browser.get(f"/shipments/{digest}?done=granted&lang={lang}").text
    assert words(lang, "shipments.done.granted") in after
    assert '<li data-party="laredo-brokers">' in after
    assert '<option value="laredo-brokers">' not in after  # given already
    withdrawn = browser.post(f"/shipments/{digest}/grants/laredo-brokers/withdraw",
                             data={"csrf": token})
    assert withdrawn.status_code == 303
    assert not broker_sees()
    final = browser.get(f"/shipments/{digest}?done=withdrawn&lang={lang}").text
    assert words(lang, "shipments.done.withdrawn") in final
    assert words(lang, "shipments.no_brokers") in final
    # Another SME cannot give or withdraw this party's shipment.
    other = pages.signed_in("huron-powertrain.producer")
    stranger = other.post(f"/shipments/{digest}/grants",
                          data={"csrf": csrf_of(other.get("/shipments").text),
                                "party": "laredo-brokers"})
    assert stranger.status_code == 403
    assert not broker_sees()
