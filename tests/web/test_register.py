"""The SME's register-a-shipment page and its certificate, through the real app.

A BOM in each format gives the determination the API gives (`POST /v1/determinations`),
read as a person reads it in the page's language: the known answers are the brake
caliper's (examples/brake-caliper-mx.json: net cost 965.25, VNM 255.70, so under the 70 %
net-cost threshold of Table B in force since 2023-07-01 the headroom is
965.25 x 30 % - 255.70 = 33.875, and under the 80 % transaction-value threshold
1222.00 x 20 % - 255.70 = -11.30). Errors stand beside the file and line they name; the
token is issued exactly as over the API; the downloads are read back (the PDF's text and
the QR code decoded from its image).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from xml.etree import ElementTree

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from markupsafe import escape
from openpyxl import load_workbook
from PIL import Image

from ledger.api.accounts import AccountStore, Role
from ledger.token import CERTIFICATION_STATEMENT, supplier_token_digests
from ledger.verify import Decision
from ledger.web.credentials import CredentialStore
from ledger.web.i18n import LANGUAGES, catalogue
from origin_rules import determine_origin, parse_bom_json
from origin_rules.explain import render
from tests.conftest import ROOT
from tests.web.conftest import Pages, csrf_of, words
from tests.web.pdf_reading import folded, pdf_qr_codes, pdf_text

EXAMPLES = ROOT / "examples"
CALIPER = EXAMPLES / "brake-caliper-mx.json"
TABLES = EXAMPLES / "tables"
PRODUCER = "frenos-bajio.producer"
HURON = "huron-powertrain.producer"
BROKER = "laredo-brokers.broker"
NBSP = "\u00a0"

#: The caliper's headroom per method, as each locale writes the engine's exact amount.
HEADROOM = {"es": f"MXN{NBSP}33.875", "en": f"MXN{NBSP}33.875", "fr": f"33,875{NBSP}MXN"}
SHORTFALL = {"es": f"MXN{NBSP}11.30", "en": f"MXN{NBSP}11.30", "fr": f"11,30{NBSP}MXN"}
RVC_NC = {"es": f"73.50{NBSP}%", "en": f"73.50{NBSP}%", "fr": f"73,50{NBSP}%"}


def _caliper(**changes: Any) -> dict[str, Any]:
    document = json.loads(CALIPER.read_text("utf-8"))
    document.update(changes)
    return document


def _json_file(document: dict[str, Any]) -> dict[str, tuple[str, bytes, str]]:
    return {"bom": ("caliper.json", json.dumps(document).encode("utf-8"), "application/json")}


def _csv_files(items: str | None = None) -> dict[str, tuple[str, bytes, str]]:
    parts = {name: (TABLES / f"brake-caliper-mx.{name}.csv").read_text("utf-8")
             for name in ("items", "lines", "document")}
    if items is not None:
        parts["items"] = items
    return {name: (f"brake-caliper-mx.{name}.csv", text.encode("utf-8"), "text/csv")
            for name, text in parts.items()}


def _xlsx_file(data: bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    data = data if data is not None else (TABLES / "brake-caliper-mx.xlsx").read_bytes()
    return {"bom": ("brake-caliper-mx.xlsx", data, "application/octet-stream")}


def _upload(browser: TestClient, files: dict[str, Any], lang: str = "en") -> Any:
    form = browser.get(f"/register?lang={lang}")
    assert form.status_code == 200, form.text
    return browser.post("/register", data={"csrf": csrf_of(form.text)}, files=files)


def _draft(html: str) -> str:
    found = re.search(r'name="draft" value="([^"]+)"', html)
    assert found is not None, "the page has no issue form"
    return found.group(1)


def _issue(browser: TestClient, html: str, **fields: str) -> Any:
    data = {"csrf": csrf_of(html), "draft": _draft(html), "role": "producer",
            "scope": "single", **fields}
    return browser.post("/register/issue", data=data)


def _field_error(html: str, name: str) -> str:
    found = re.search(rf'<(p|div) class="field-error[^"]*" id="{re.escape(name)}-error"'
                      rf'[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, f"no error beside {name}"
    return found.group(2)


def _issued(pages: Pages, browser: TestClient, shipment: str, **fields: str) -> str:
    """Upload the caliper, issue its token for `shipment`; the token digest."""
    page = _upload(browser, _json_file(_caliper()))
    response = _issue(browser, page.text, shipment=shipment, **fields)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/certificates/")
    assert location.endswith("?issued=1")
    return location.split("/")[2].split("?")[0]


# ---------------------------------------------------------------------------------------
# The determination as a person reads it


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_json_bom_reads_as_originating_with_its_headroom_in_each_language(
        pages: Pages, lang: str) -> None:
    browser = pages.signed_in(PRODUCER)
    response = _upload(browser, _json_file(_caliper()), lang)
    assert response.status_code == 200, response.text
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert 'data-originating="yes"' in html
    assert words(lang, "sme.result.originating") in html
    assert words(lang, "sme.result.criterion",
                 criterion=f"B — {catalogue(lang)['criterion.B']}") in html
    assert words(lang, "sme.method.rvc_against", rvc=RVC_NC[lang],
                 threshold=f"70{NBSP}%") in html
    assert words(lang, "sme.headroom.room", amount=HEADROOM[lang]) in html
    assert words(lang, "sme.headroom.short", amount=SHORTFALL[lang]) in html
    assert words(lang, "sme.method.meets") in html
    assert words(lang, "sme.method.falls_short") in html
    # Every reason of the engine, rendered in the page's language, with its reference.
    determination = determine_origin(parse_bom_json(CALIPER.read_bytes()))
    for reason in determination.reasons:
        assert str(escape(render(reason, lang))) in html, reason.code
    assert "SOR/2020-155 s.14(15); HTSUS GN11(k)(iii)(D); s.14(14)" in html
    assert words(lang, "sme.rule.product_specific") in html
    # The materials that weigh most, largest first.
    table = html.split('id="materials-net_cost"')[1].split("</table>")[0]
    order = [table.index(item) for item in ("housing-casting", "seal-kit", "guide-pin")]
    assert order == sorted(order)


def test_the_page_says_what_the_api_determines(pages: Pages) -> None:
    world = pages.world
    api = world.client.post("/v1/determinations", headers=world.auth(PRODUCER),
                            files=_xlsx_file()).json()
    html = _upload(pages.signed_in(PRODUCER), _xlsx_file()).text
    assert api["originating"] is True
    assert 'data-originating="yes"' in html
    for result in api["results"]:
        sentence = "sme.headroom.room" if result["pass"] else "sme.headroom.short"
        amount = result["headroom"].lstrip("-")
        assert words("en", sentence, amount=f"MXN{NBSP}{amount}") in html, result["method"]
    assert [r["headroom"] for r in api["results"]] == ["33.875", "-11.30"]


def test_the_csv_pair_and_the_workbook_give_the_same_page_as_the_json(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)

    def body(response: Any) -> str:
        assert response.status_code == 200, response.text
        main = response.text.split('<main id="main">')[1].split("</main>")[0]
        return re.sub(r'name="(csrf|draft)" value="[^"]*"', "", main)

    as_json = body(_upload(browser, _json_file(_caliper())))
    assert body(_upload(browser, _csv_files())) == as_json
    assert body(_upload(browser, _xlsx_file())) == as_json


def test_the_chart_is_an_accessible_svg_of_the_engines_figures(pages: Pages) -> None:
    html = _upload(pages.signed_in(PRODUCER), _json_file(_caliper())).text
    svg = html.split('<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-net_cost"'
                     )[1].split("</svg>")[0]
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-net_cost-title chart-net_cost-desc"' in svg
    assert '<title id="chart-net_cost-title">' in svg
    desc = svg.split('<desc id="chart-net_cost-desc">')[1].split("</desc>")[0]
    assert f"MXN{NBSP}255.70" in desc
    assert f"70{NBSP}%" in desc
    assert f"MXN{NBSP}709.55" in svg  # originating value: 965.25 - 255.70
    assert 'fill="url(#chart-net_cost-hatch)"' in svg  # not colour alone: hatched
    assert 'stroke-dasharray="5 3"' in svg  # the threshold, dashed
    for item in ("housing-casting (7325.10)", "seal-kit (4016.93)", "guide-pin (7318.15)"):
        assert item in svg
    assert "style=" not in svg
    assert "<script" not in svg


def test_text_from_the_document_is_escaped_in_the_page_and_the_chart(pages: Pages) -> None:
    document = _caliper()
    casting = next(i for i in document["items"] if i["id"] == "housing-casting")
    casting["description"] = "<script>alert('casting')</script>"
    for item in document["items"]:
        if item["id"] == "seal-kit":
            item["id"] = "seal<b>kit</b>"
    for line in document["lines"]:
        if line["child"] == "seal-kit":
            line["child"] = "seal<b>kit</b>"
    html = _upload(pages.signed_in(PRODUCER), _json_file(document)).text
    assert "<script>alert" not in html
    assert "<b>kit" not in html
    assert "&lt;script&gt;alert(&#39;casting&#39;)&lt;/script&gt;" in html
    assert "seal&lt;b&gt;kit&lt;/b&gt; (4016.93)" in html  # in the chart too


def test_a_good_that_is_not_originating_gets_no_issue_form(pages: Pages) -> None:
    document = _caliper()
    for item in document["items"]:
        if item.get("origin") == "originating":
            item["origin"] = "non_originating"
    html = _upload(pages.signed_in(PRODUCER), _json_file(document), "es").text
    assert 'data-originating="no"' in html
    assert words("es", "sme.result.not_originating") in html
    assert 'id="cannot-issue"' in html
    assert 'id="issue-form"' not in html


def test_a_party_whose_key_the_service_does_not_hold_is_told_how_to_get_one(
        pages: Pages) -> None:
    engine = pages.world.service.ledger.store.engine
    account = AccountStore(engine).create_account(Role.EXPORTER, "nuevo-exportador",
                                                  "Nuevo Exportador")
    CredentialStore(engine).set_password(account.account_id, "a long enough password")
    pages.passwords[account.account_id] = "a long enough password"
    html = _upload(pages.signed_in(account.account_id), _json_file(_caliper())).text
    assert 'data-originating="yes"' in html
    assert words("en", "sme.cert.no_key") in html
    assert 'id="issue-form"' not in html


# ---------------------------------------------------------------------------------------
# Errors beside the file and the line they name


def test_a_csv_error_stands_beside_the_items_file_with_its_line(pages: Pages) -> None:
    rows = list(csv.reader(io.StringIO((TABLES / "brake-caliper-mx.items.csv").read_text(
        "utf-8"))))
    column = rows[0].index("unit_value")
    number = next(n for n, row in enumerate(rows) if row[0] == "seal-kit")
    rows[number][column] = "-36.80"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    response = _upload(pages.signed_in(PRODUCER), _csv_files(out.getvalue()))
    assert response.status_code == 422
    html = response.text
    assert words("en", "sme.upload.error.bom") in html
    beside = _field_error(html, "items")
    assert "must not be negative" in beside
    assert words("en", "sme.where.table.items") in beside
    assert words("en", "sme.where.line", number=number) in beside  # data lines from 1
    assert words("en", "sme.where.field", field="unit_value") in beside
    bad = re.findall(r'<tr class="bad"><th scope="row">([^<]+)</th><td>([^<]+)', beside)
    assert bad == [("unit_value", "-36.80 ")]
    assert re.search(r'<input id="items"[^>]*aria-describedby="items-hint items-error"'
                     r'[^>]*aria-invalid="true"', html)
    assert 'id="lines-error"' not in html
    assert 'id="bom-error"' not in html


def test_a_json_error_names_the_line_of_the_lines_table(pages: Pages) -> None:
    document = _caliper()
    document["lines"][3]["child"] = "rotor"
    response = _upload(pages.signed_in(PRODUCER), _json_file(document), "fr")
    assert response.status_code == 422
    beside = _field_error(response.text, "bom")
    assert "rotor" in beside
    assert words("fr", "sme.where.table.lines") in beside
    assert words("fr", "sme.where.line", number=4) in beside
    assert re.search(r'<tr class="bad"><th scope="row">child</th><td>rotor', beside)


def test_a_workbook_error_in_the_document_sheet_names_the_field(pages: Pages) -> None:
    book = load_workbook(TABLES / "brake-caliper-mx.xlsx")
    for row in book["document"].iter_rows():
        if row[0].value == "as_of":
            row[1].value = "2026-13-45"
    out = io.BytesIO()
    book.save(out)
    response = _upload(pages.signed_in(PRODUCER), _xlsx_file(out.getvalue()), "es")
    assert response.status_code == 422
    beside = _field_error(response.text, "bom")
    assert "as_of" in beside
    assert words("es", "sme.where.table.document") in beside


def test_an_upload_without_a_file_or_with_both_kinds_is_refused(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    page = browser.get("/register?lang=en")
    empty = browser.post("/register", data={"csrf": csrf_of(page.text)},
                         files={"bom": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422
    assert words("en", "sme.upload.error.none") in empty.text
    both = _upload(browser, {**_xlsx_file(), **_csv_files()})
    assert both.status_code == 422
    assert words("en", "sme.upload.error.both") in both.text


# ---------------------------------------------------------------------------------------
# Certify and issue


def test_an_sme_issues_a_token_that_verifies_clear(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    page = _upload(browser, _json_file(_caliper()), "es")
    html = page.text
    assert 'id="issue-form"' in html
    # Prefilled from the party's profile (the one the service holds with its key).
    for value in ("Ana Lucía Ortega", "Gerente de Comercio Exterior",
                  "Av. Industrial 410, Celaya, Gto., MX", "cumplimiento@frenosbajio.example"):
        assert value in html
    for n in range(1, 10):
        assert words("es", f"element.{n}") in html
    response = _issue(browser, html, shipment="WEB-PED-26-0001", invoice="FBA-W-0001",
                      importer_name="Brake Parts Distribution LLC",
                      importer_address="4100 Commerce Dr, Laredo, TX", importer_country="US")
    assert response.status_code == 303, response.text
    digest = response.headers["location"].split("/")[2].split("?")[0]
    certificate = browser.get(response.headers["location"])
    assert certificate.status_code == 200
    assert words("es", "sme.certificate.issued") in certificate.text
    assert "WEB-PED-26-0001" in certificate.text
    token = pages.world.client.get(f"/v1/tokens/{digest}",
                                   headers=pages.world.auth(PRODUCER)).json()
    subject = token["credentialSubject"]
    assert subject["shipmentId"] == "WEB-PED-26-0001"
    assert subject["good"]["invoiceNumber"] == "FBA-W-0001"
    assert subject["importer"]["name"] == "Brake Parts Distribution LLC"
    assert subject["certifier"]["name"] == "Ana Lucía Ortega"
    assert subject["authorizedSignature"]["statement"] == CERTIFICATION_STATEMENT
    verified = pages.world.client.get(f"/v1/verify/{digest}").json()
    assert verified["decision"] == "clear", verified


def test_a_blanket_certification_needs_its_period(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    html = _upload(browser, _json_file(_caliper())).text
    missing = _issue(browser, html, shipment="WEB-BLANKET-1", scope="blanket")
    assert missing.status_code == 422
    assert words("en", "sme.field.required") in _field_error(missing.text, "period_start")
    assert words("en", "sme.field.required") in _field_error(missing.text, "period_end")
    assert 'value="WEB-BLANKET-1"' in missing.text  # what was typed stays
    done = _issue(browser, missing.text, shipment="WEB-BLANKET-1", scope="blanket",
                  period_start="2026-07-01", period_end="2027-06-30")
    assert done.status_code == 303, done.text
    digest = done.headers["location"].split("/")[2].split("?")[0]
    token = pages.world.client.get(f"/v1/tokens/{digest}",
                                   headers=pages.world.auth(PRODUCER)).json()
    assert token["credentialSubject"]["blanketPeriod"] == {"start": "2026-07-01",
                                                           "end": "2027-06-30"}


def test_issue_errors_stand_beside_their_fields(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    html = _upload(browser, _json_file(_caliper()), "fr").text
    before = len(pages.world.service.ledger.store.party_tokens("frenos-bajio"))
    response = _issue(browser, html, shipment="", invoice="x" * 101,
                      importer_name="Importateur", importer_country="U")
    assert response.status_code == 422
    page = response.text
    assert words("fr", "sme.field.required") in _field_error(page, "shipment")
    assert words("fr", "sme.field.too_long", maximum=100) in _field_error(page, "invoice")
    assert words("fr", "sme.field.too_short", minimum=2) in _field_error(
        page, "importer_country")
    assert words("fr", "sme.field.required") in _field_error(page, "importer_address")
    assert re.search(r'<input id="shipment"[^>]*aria-invalid="true"', page)
    assert 'id="issue-errors"' in page
    assert len(pages.world.service.ledger.store.party_tokens("frenos-bajio")) == before


def test_a_second_token_for_the_same_shipment_is_refused_above_the_form(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    _issued(pages, browser, "WEB-TWICE")
    html = _upload(browser, _json_file(_caliper())).text
    again = _issue(browser, html, shipment="WEB-TWICE")
    assert again.status_code == 409
    problem = again.text.split('id="issue-problem">')[1].split("</div>")[0]
    assert words("en", "sme.issue.error.refused") in problem
    assert "WEB-TWICE" in problem or "active token" in problem


def _lash_row(html: str) -> str:
    found = re.search(r'<label for="(evidence_\d+)">[^<]*hydraulic-lash', html)
    assert found is not None
    return found.group(1)


def test_a_supplier_token_linked_as_evidence_is_cited_by_the_new_token(pages: Pages) -> None:
    browser = pages.signed_in(HURON)
    bom = EXAMPLES / "cylinder-head-us.json"
    html = _upload(browser, {"bom": ("head.json", bom.read_bytes(), "application/json")}).text
    field = _lash_row(html)
    lash = pages.token("lash-adjusters-us")
    response = _issue(browser, html, **{"shipment": "WEB-HEAD-1", field: lash[:16]})
    assert response.status_code == 303, response.text
    digest = response.headers["location"].split("/")[2].split("?")[0]
    token = pages.world.client.get(f"/v1/tokens/{digest}",
                                   headers=pages.world.auth(HURON)).json()
    assert supplier_token_digests(token) == [lash]
    assert pages.world.client.get(f"/v1/verify/{digest}").json()["decision"] == "clear"


def test_a_supplier_token_that_does_not_back_the_material_is_shown_beside_it(
        pages: Pages) -> None:
    browser = pages.signed_in(HURON)
    bom = EXAMPLES / "cylinder-head-us.json"
    html = _upload(browser, {"bom": ("head.json", bom.read_bytes(), "application/json")}).text
    field = _lash_row(html)
    wheel = pages.token("steel-wheel-ca")  # certifies HS 8708.70, not 8409.91
    wrong = _issue(browser, html, **{"shipment": "WEB-HEAD-2", field: wheel})
    assert wrong.status_code == 422
    beside = _field_error(wrong.text, field)
    assert "8708.70" in beside
    assert "8409.91" in beside
    not_hex = _issue(browser, html, **{"shipment": "WEB-HEAD-2", field: "not-a-digest"})
    assert words("en", "sme.evidence.error.digest") in _field_error(not_hex.text, field)
    unknown = _issue(browser, html, **{"shipment": "WEB-HEAD-2", field: "0" * 64})
    assert "not in the ledger" in _field_error(unknown.text, field)


def test_a_draft_is_only_taken_back_unaltered_and_in_its_session(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    html = _upload(browser, _json_file(_caliper())).text
    before = len(pages.world.service.ledger.store.party_tokens("frenos-bajio"))
    draft = _draft(html)
    payload, mac = draft.rsplit(".", 1)
    flipped = payload[:-5] + ("A" if payload[-5] != "A" else "B") + payload[-4:]
    altered = browser.post("/register/issue", data={
        "csrf": csrf_of(html), "draft": f"{flipped}.{mac}", "shipment": "WEB-ALTERED",
        "role": "producer", "scope": "single"})
    assert altered.status_code == 422
    assert words("en", "sme.issue.error.draft") in altered.text
    other = pages.signed_in(PRODUCER)  # the same account, another session
    elsewhere = other.post("/register/issue", data={
        "csrf": csrf_of(other.get("/register").text), "draft": draft,
        "shipment": "WEB-ELSEWHERE", "role": "producer", "scope": "single"})
    assert elsewhere.status_code == 422
    assert words("es", "sme.issue.error.draft") in elsewhere.text  # its own language
    assert len(pages.world.service.ledger.store.party_tokens("frenos-bajio")) == before


# ---------------------------------------------------------------------------------------
# Downloads


def test_the_bundle_and_the_qr_codes_download(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    digest = _issued(pages, browser, "WEB-DOWNLOADS")
    url = f"{pages.world.service.settings.public_url}/v/{digest}"
    bundle = browser.get(f"/certificates/{digest}/bundle.json")
    assert bundle.status_code == 200
    assert bundle.headers["content-disposition"] == \
        'attachment; filename="WEB-DOWNLOADS.bundle.json"'
    verified = pages.world.service.verify(bundle.content)
    assert verified.decision is Decision.CLEAR
    assert verified.token_digest == digest
    png = browser.get(f"/certificates/{digest}/qr.png")
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [code.text for code in decoded] == [url]
    svg = browser.get(f"/certificates/{digest}/qr.svg?download=1")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "attachment" in svg.headers["content-disposition"]
    root = ElementTree.fromstring(svg.content)
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None
    assert title.text == catalogue("en")["sme.qr.title"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_certificate_pdf_reads_back_in_its_language_with_its_qr_code(
        pages: Pages, lang: str) -> None:
    browser = pages.signed_in(PRODUCER)
    digest = _issued(pages, browser, f"WEB-PDF-{lang}", invoice=f"INV-{lang}")
    response = browser.get(f"/certificates/{digest}/certificate.pdf?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == \
        f'attachment; filename="WEB-PDF-{lang}.certificate-{lang}.pdf"'
    text = pdf_text(response.content)
    said = catalogue(lang)
    for key in ("sme.pdf.title", "verify.elements", "sme.pdf.statement",
                *(f"element.{n}" for n in range(1, 10))):
        assert folded(said[key]) in text, key
    for value in (f"WEB-PDF-{lang}", f"INV-{lang}", digest, "Frenos del Bajío S.A. de C.V.",
                  "Ana Lucía Ortega", "8708.30", folded(said["criterion.B"]),
                  folded(said["certifier_role.producer"])):
        assert value in text, value
    for other in LANGUAGES:
        if other != lang:
            assert folded(catalogue(other)["sme.pdf.statement"]) not in text
    url = f"{pages.world.service.settings.public_url}/v/{digest}"
    assert pdf_qr_codes(response.content) == [url]


def test_the_certificate_page_links_every_download_and_shows_the_qr(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    digest = _issued(pages, browser, "WEB-LINKS")
    html = browser.get(f"/certificates/{digest}?lang=fr").text
    for path in ("certificate.pdf?lang=fr", "certificate.pdf?lang=es",
                 "certificate.pdf?lang=en", "bundle.json", "qr.png", "qr.svg?download=1"):
        assert f'href="/certificates/{digest}/{path}"' in html, path
    assert f'<img src="/certificates/{digest}/qr.svg"' in html
    assert f'href="/v/{digest}"' in html
    assert len(re.findall(r"<dt><span class=\"number\">", html)) == 9


# ---------------------------------------------------------------------------------------
# Who may, and the form's CSRF token


def test_a_signed_out_visitor_is_sent_to_sign_in(pages: Pages) -> None:
    visitor = pages.visitor()
    response = visitor.get("/register")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fregister"
    digest = pages.token("brake-caliper-mx")
    for path in (f"/certificates/{digest}", f"/certificates/{digest}/certificate.pdf"):
        assert visitor.get(path).headers["location"].startswith("/signin")


def test_a_broker_cannot_reach_the_sme_pages(pages: Pages) -> None:
    digest = _issued(pages, pages.signed_in(PRODUCER), "WEB-NOT-GIVEN")  # not given to them
    broker = pages.signed_in(BROKER)
    assert broker.get("/register").status_code == 403
    csrf = csrf_of(broker.get("/precheck").text)
    refused = broker.post("/register", data={"csrf": csrf}, files=_json_file(_caliper()))
    assert refused.status_code == 403
    roles = ", ".join(catalogue("es")[f"role.{r}"] for r in sorted(
        ("exporter", "producer", "importer", "supplier")))
    assert words("es", "error.role", roles=roles) in refused.text
    for path in (f"/certificates/{digest}", f"/certificates/{digest}/certificate.pdf",
                 f"/certificates/{digest}/bundle.json"):
        assert broker.get(path).status_code == 403, path


def _given_to_the_broker(pages: Pages, browser: TestClient, digest: str) -> None:
    """The SME gives its token to the demo's customs broker on its shipment page."""
    token = csrf_of(browser.get(f"/shipments/{digest}").text)
    given = browser.post(f"/shipments/{digest}/grants",
                         data={"csrf": token, "party": "laredo-brokers"})
    assert given.status_code == 303, given.text


def _precheck_row(html: str, digest: str) -> str:
    found = re.search(rf'<tr class="[^"]*"[^>]*>(?:(?!</tr>).)*?/v/{digest}(?:(?!</tr>).)*</tr>',
                      html, re.S)
    assert found is not None, f"no pre-check row for {digest[:16]}"
    return found.group(0)


def test_a_broker_given_the_token_opens_its_certificate_and_downloads(pages: Pages) -> None:
    producer = pages.signed_in(PRODUCER)
    digest = _issued(pages, producer, "WEB-GIVEN-TO-BROKER")
    broker = pages.signed_in(BROKER)
    assert broker.get(f"/certificates/{digest}").status_code == 403  # not yet given
    _given_to_the_broker(pages, producer, digest)
    page_ = broker.get(f"/certificates/{digest}?lang=en")
    assert page_.status_code == 200, page_.text
    assert f'<code class="digest" id="digest">{digest}</code>' in page_.text
    assert '<dd id="shipment">WEB-GIVEN-TO-BROKER</dd>' in page_.text
    assert 'id="again"' not in page_.text  # registering is the SME's, not the broker's
    assert 'id="again"' in producer.get(f"/certificates/{digest}").text
    pdf = broker.get(f"/certificates/{digest}/certificate.pdf?lang=en")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    bundle = broker.get(f"/certificates/{digest}/bundle.json")
    assert bundle.status_code == 200
    assert json.loads(bundle.content)["token"]["credentialSubject"]["shipmentId"] == (
        "WEB-GIVEN-TO-BROKER")


def test_the_pre_check_links_the_certificates_the_broker_may_open(pages: Pages) -> None:
    producer = pages.signed_in(PRODUCER)
    given = _issued(pages, producer, "WEB-PRECHECK-GIVEN")
    _given_to_the_broker(pages, producer, given)
    kept = _issued(pages, producer, "WEB-PRECHECK-KEPT")
    kept_bundle = producer.get(f"/certificates/{kept}/bundle.json").content
    broker = pages.signed_in(BROKER)
    form = broker.get("/precheck?lang=en").text
    result = broker.post("/precheck?lang=en", data={"csrf": csrf_of(form), "shipments": given},
                         files={"files": ("kept.bundle.json", kept_bundle, "application/json")})
    assert result.status_code == 200, result.text
    link = f'<a href="/certificates/{given}" class="certificate">'
    assert link + words("en", "precheck.certificate") + "</a>" in _precheck_row(result.text, given)
    # A bundle the broker was handed, of a token not given to their account: checked, but
    # its certificate page stays the SME's.
    assert "/certificates/" not in _precheck_row(result.text, kept)
    customs = pages.signed_in("cbp.customs")
    assert customs.get(f"/certificates/{kept}").status_code == 200  # customs reads any token


def test_another_party_cannot_open_a_certificate_and_an_unknown_one_is_404(
        pages: Pages) -> None:
    other = pages.signed_in(HURON)
    caliper = pages.token("brake-caliper-mx")
    for suffix in ("", "/certificate.pdf", "/bundle.json", "/qr.png"):
        assert other.get(f"/certificates/{caliper}{suffix}").status_code == 403, suffix
    assert other.get(f"/certificates/{'0' * 64}").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(pages: Pages) -> None:
    browser = pages.signed_in(PRODUCER)
    upload = browser.post("/register", files=_json_file(_caliper()))
    assert upload.status_code == 403
    assert words("es", "error.csrf") in upload.text
    html = _upload(browser, _json_file(_caliper())).text
    before = len(pages.world.service.ledger.store.party_tokens("frenos-bajio"))
    issue = browser.post("/register/issue", data={
        "draft": _draft(html), "shipment": "WEB-NO-CSRF", "role": "producer",
        "scope": "single"})
    assert issue.status_code == 403
    assert len(pages.world.service.ledger.store.party_tokens("frenos-bajio")) == before


def test_the_landing_page_and_the_menu_lead_smes_here(pages: Pages) -> None:
    assert 'href="/register"' in pages.visitor().get("/").text
    menu = pages.signed_in(PRODUCER).get("/v").text
    assert f'<a href="/register">{words("es", "sme.nav.register")}</a>' in menu
    assert 'href="/register"' not in pages.signed_in(BROKER).get("/v").text.split(
        "</header>")[0]


def test_every_text_of_these_pages_is_in_every_catalogue() -> None:
    keys = {k for k in catalogue("en") if k.startswith("sme.")}
    assert len(keys) > 100
    for lang in LANGUAGES:
        assert keys <= set(catalogue(lang)), lang
    assert catalogue("en")["sme.pdf.statement"] == CERTIFICATION_STATEMENT


def test_the_example_workbook_is_the_caliper() -> None:
    # The browser test uploads the workbook; its known answers are the JSON's.
    from origin_rules import parse_bom_xlsx

    assert parse_bom_xlsx((TABLES / "brake-caliper-mx.xlsx").read_bytes()) == parse_bom_json(
        CALIPER.read_bytes())
