"""The compliance page through the real app: the API's export downloaded, verified here
by `verify_export` (what ``tmec audit verify`` runs), of a period, or an uploaded file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ledger.audit_export import verify_export
from ledger.verify import TrustFile
from ledger.web.i18n import LANGUAGES
from tests.conftest import ROOT
from tests.web.conftest import Pages, csrf_of, words

AUDITOR = "norte-audit.auditor"
PRODUCER = "frenos-bajio.producer"


def _issue_on(pages: Pages, moment: datetime, shipment: str) -> str:
    ledger = pages.world.service.ledger
    clock = ledger.now
    ledger.now = lambda: moment
    try:
        document = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
        issued = pages.world.client.post("/v1/tokens", headers=pages.world.auth(PRODUCER),
                                         json={"shipmentId": shipment, "bom": document})
    finally:
        ledger.now = clock
    assert issued.status_code == 201, issued.text
    pages.world.service.ledger.publish_checkpoint()
    return str(issued.json()["tokenDigest"])


def _tokens(html: str) -> str:
    return html.split('id="report-tokens">')[1].split("<")[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_auditor_checks_a_partys_export_in_each_language(pages: Pages, lang: str) -> None:
    browser = pages.signed_in(AUDITOR)
    form = browser.get(f"/audit?lang={lang}")
    assert form.status_code == 200
    for key in ("audit.title", "audit.party", "audit.period", "audit.from", "audit.to",
                "audit.download", "audit.check", "audit.upload_title", "audit.file"):
        assert words(lang, key) in form.text, key
    for party in ("frenos-bajio", "huron-powertrain", "great-lakes-wheel"):
        assert f'<option value="{party}">' in form.text  # the parties to pick from
    checked = browser.get(f"/audit?lang={lang}&party=frenos-bajio&check=1")
    assert checked.status_code == 200
    html = checked.text
    assert 'data-ok="yes"' in html
    assert words(lang, "audit.verified") in html  # in words, not only colour
    assert words(lang, "audit.source_service") in html
    assert _tokens(html) == "1"


def test_the_download_is_the_apis_export_of_the_period(pages: Pages) -> None:
    winter = _issue_on(pages, datetime(2026, 2, 10, 12, tzinfo=UTC), "FBA-Q1-0001")
    browser = pages.signed_in(AUDITOR)
    query = {"party": "frenos-bajio", "from": "2026-01-01", "to": "2026-03-31"}
    download = browser.get("/audit/export", params=query)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/jsonl")
    assert "attachment" in download.headers["content-disposition"]
    api = pages.world.client.get("/v1/parties/frenos-bajio/export", headers=pages.world.auth(
        AUDITOR), params={"from": "2026-01-01", "to": "2026-03-31"})
    assert download.content == api.content
    trust = TrustFile.from_json(pages.world.client.get("/v1/trust").content)
    report = verify_export(download.content.splitlines(), trust)
    assert report.ok, report.problem
    tokens = [json.loads(line)["digest"] for line in download.content.splitlines()
              if json.loads(line)["type"] == "token"]
    assert tokens == [winter]
    checked = browser.get("/audit", params={**query, "check": "1", "lang": "fr"}).text
    assert 'data-ok="yes"' in checked
    assert _tokens(checked) == "1"
    assert words("fr", "audit.period") in checked
    everything = browser.get("/audit?party=frenos-bajio&check=1&lang=fr").text
    assert _tokens(everything) == "2"


def test_an_uploaded_export_is_verified_and_a_damaged_one_names_its_line(pages: Pages
                                                                        ) -> None:
    browser = pages.signed_in(AUDITOR)
    data = browser.get("/audit/export?party=huron-powertrain").content
    token = csrf_of(browser.get("/audit?lang=en").text)
    good = browser.post("/audit/verify?lang=en", data={"csrf": token},
                        files={"export": ("huron.jsonl", data, "application/jsonl")})
    assert good.status_code == 200
    assert 'data-ok="yes"' in good.text
    assert words("en", "audit.source_file", name="huron.jsonl") in good.text
    lines = data.decode().splitlines()
    objects = [json.loads(line) for line in lines]
    where = next(n for n, o in enumerate(objects) if o["type"] == "token")
    objects[where]["token"]["credentialSubject"]["originCriterion"] = "A"
    damaged = "\n".join(json.dumps(o) for o in objects).encode()
    bad = browser.post("/audit/verify?lang=en", data={"csrf": token},
                       files={"export": ("<b>huron</b>.jsonl", damaged, "application/jsonl")})
    assert bad.status_code == 200
    assert 'data-ok="no"' in bad.text
    assert words("en", "audit.fails") in bad.text
    assert words("en", "audit.problem", line=where + 1) in bad.text
    assert "&lt;b&gt;huron&lt;/b&gt;.jsonl" in bad.text  # the file's name, as text
    none = browser.post("/audit/verify?lang=en", data={"csrf": token})
    assert none.status_code == 422
    assert words("en", "audit.error.no_file") in none.text
    forged = browser.post("/audit/verify", files={"export": ("x.jsonl", data, "text/plain")})
    assert forged.status_code == 403


def test_an_sme_exports_its_own_records_only(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    form = browser.get("/audit?lang=es").text
    assert 'id="own-party">frenos-bajio<' in form
    assert 'id="party"' not in form  # nothing to choose: its own party
    checked = browser.get("/audit?party=frenos-bajio&check=1&lang=es").text
    assert 'data-ok="yes"' in checked
    assert browser.get("/audit/export").status_code == 200  # its own, without naming it
    theirs = browser.get("/audit?party=huron-powertrain&check=1&lang=es")
    assert theirs.status_code == 403
    assert browser.get("/audit/export?party=huron-powertrain").status_code == 403


@pytest.mark.parametrize(("query", "status", "key"), [
    ({"party": "frenos-bajio", "from": "2026-13-01"}, 422, "audit.error.from"),
    ({"party": "frenos-bajio", "to": "31/03/2026"}, 422, "audit.error.to"),
    ({"party": "frenos-bajio", "from": "2026-04-01", "to": "2026-03-01"}, 422,
     "audit.error.period"),
    ({"party": ""}, 422, "audit.error.party"),
    ({"party": "nobody"}, 404, "audit.error.unknown"),
])
def test_bad_choices_are_said_on_the_form(pages: Pages, query: dict[str, str], status: int,
                                         key: str) -> None:
    browser = pages.signed_in(AUDITOR)
    for path in ("/audit", "/audit/export"):
        response = browser.get(path, params={**query, "check": "1", "lang": "en"})
        assert response.status_code == status, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        assert words("en", key, party=query.get("party", "")) in response.text
        assert 'id="audit-form"' in response.text
