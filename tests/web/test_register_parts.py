"""The register page's parts on their own: formats, the draft, error locations, the chart,
the PDF without its font.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.web.bom_problems import Location, bom_problem, locate
from ledger.web.certificate import certificate_pdf, verification_url
from ledger.web.chart import method_chart
from ledger.web.determination_view import determination_view, money, percent
from ledger.web.drafts import (
    MAX_DRAFT_BYTES,
    DraftError,
    document_of,
    open_draft,
    seal_draft,
)
from ledger.web.i18n import translator
from origin_rules import determine_origin, parse_bom_json
from origin_rules.errors import BomError, DesignationError
from tests.conftest import ROOT
from tests.web.pdf_reading import folded, pdf_qr_codes, pdf_text

CALIPER = ROOT / "examples" / "brake-caliper-mx.json"
NBSP = "\u00a0"
SECRET = "a-session-secret-of-forty-three-characters1"


def test_money_is_the_engines_exact_amount_with_the_iso_code() -> None:
    amount = Decimal("1234567.875")
    assert money(translator("es"), amount, "MXN") == f"MXN{NBSP}1,234,567.875"
    assert money(translator("en"), amount, "USD") == f"USD{NBSP}1,234,567.875"
    assert money(translator("fr"), amount, "CAD") in (f"1{NBSP}234{NBSP}567,875{NBSP}CAD",
                                                      f"1\u202f234\u202f567,875{NBSP}CAD")
    assert money(translator("en"), Decimal("11.3"), "MXN") == f"MXN{NBSP}11.30"
    assert money(translator("en"), Decimal("0"), "MXN") == f"MXN{NBSP}0.00"


def test_a_percentage_is_truncated_never_rounded_up() -> None:
    t = translator("en")
    assert percent(t, Decimal("69.999999")) == f"69.99{NBSP}%"  # fails a 70 % threshold
    assert percent(t, Decimal("73.509453")) == f"73.50{NBSP}%"
    assert percent(translator("fr"), Decimal("73.509453")) == f"73,50{NBSP}%"
    assert percent(t, Decimal("62.5"), exact=True) == f"62.5{NBSP}%"
    assert percent(t, Decimal("70"), exact=True) == f"70{NBSP}%"


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=6))
def test_a_shown_percentage_never_exceeds_the_exact_one(value: Decimal) -> None:
    shown = percent(translator("en"), value).removesuffix(f"{NBSP}%").replace(",", "")
    assert Decimal(shown) <= value
    assert value - Decimal(shown) < Decimal("0.01")


def test_the_caliper_reads_with_its_known_headroom() -> None:
    determination = determine_origin(parse_bom_json(CALIPER.read_bytes()))
    view = determination_view(determination, translator("en"))
    net_cost, transaction_value = view.methods
    assert (net_cost.passed, transaction_value.passed) == (True, False)
    # 965.25 x (100 - 70) % - 255.70 and 1222.00 x (100 - 80) % - 255.70
    assert net_cost.headroom_amount == f"MXN{NBSP}33.875"
    assert net_cost.has_room
    assert transaction_value.headroom_amount == f"MXN{NBSP}11.30"
    assert not transaction_value.has_room
    assert net_cost.originating_value == f"MXN{NBSP}709.55"
    assert view.criterion.startswith("B — ")


# --------------------------------------------------------------------------- drafts


def _document() -> dict[str, object]:
    return document_of(parse_bom_json(CALIPER.read_bytes()))


def test_a_draft_comes_back_as_the_same_bom() -> None:
    bom = parse_bom_json(CALIPER.read_bytes())
    field = seal_draft(document_of(bom), SECRET)
    assert parse_bom_json(open_draft(field, SECRET)) == bom


def test_a_draft_keeps_the_documents_extensions() -> None:
    document = json.loads(CALIPER.read_text("utf-8"))
    document["psr_goods"] = "any other good"
    bom = parse_bom_json(json.dumps(document))
    assert bom.extensions == {"psr_goods": "any other good"}
    again = parse_bom_json(open_draft(seal_draft(document_of(bom), SECRET), SECRET))
    assert again.extensions == bom.extensions
    assert again == bom


@pytest.mark.parametrize("change", ["other secret", "altered", "no mac", "empty"])
def test_a_draft_not_made_for_this_session_is_refused(change: str) -> None:
    field = seal_draft(_document(), SECRET)
    payload, mac = field.rsplit(".", 1)
    secret = SECRET
    if change == "other secret":
        secret = SECRET[:-1] + "2"
    elif change == "altered":
        field = f"{payload[:10]}{'B' if payload[10] == 'A' else 'A'}{payload[11:]}.{mac}"
    elif change == "no mac":
        field = payload
    else:
        field = ""
    with pytest.raises(DraftError):
        open_draft(field, secret)


def test_a_draft_that_inflates_past_the_bound_is_refused_unread() -> None:
    import hmac

    bomb = zlib.compress(b" " * (MAX_DRAFT_BYTES + 10), 9)
    payload = base64.urlsafe_b64encode(bomb).decode("ascii")
    key = hmac.new(SECRET.encode(), b"tmec-web-draft/1", hashlib.sha256).digest()
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()
    with pytest.raises(DraftError, match="inflates"):
        open_draft(f"{payload}.{mac}", SECRET)


def test_a_draft_too_large_for_a_form_field_is_not_made() -> None:
    document = _document()
    noise = b"".join(hashlib.sha256(str(n).encode()).digest() for n in range(30_000))
    document["notes"] = base64.b64encode(noise).decode("ascii")  # ~1.3 MB, incompressible
    with pytest.raises(DraftError):
        seal_draft(document, SECRET)


# --------------------------------------------------------------------------- locations


@pytest.mark.parametrize(("path", "expected"), [
    ("items[3].unit_value", Location("items", index=3, field="unit_value")),
    ("items[2].costs.excluded.royalties",
     Location("items", index=2, field="costs.excluded.royalties")),
    ("lines[7].child", Location("lines", index=7, field="child")),
    ("items.caliper", Location("items", item="caliper")),
    ("items.caliper.transaction_value", Location("items", item="caliper",
                                                 field="transaction_value")),
    ("lines", Location("lines")),
    ("as_of", Location("document", field="as_of")),
    (None, None),
])
def test_an_error_path_names_its_table_line_and_field(path: str | None,
                                                      expected: Location | None) -> None:
    assert locate(BomError("x", path=path)) == expected


def test_a_designation_error_names_its_item() -> None:
    assert locate(DesignationError("x", item="housing")) == Location("items", item="housing")


def test_the_named_line_is_shown_as_uploaded_with_the_faulty_field_marked() -> None:
    document = json.loads(CALIPER.read_text("utf-8"))
    document["items"][4]["unit_value"] = "-1"
    data = json.dumps(document).encode("utf-8")
    with pytest.raises(BomError) as caught:
        parse_bom_json(data)
    problem = bom_problem(caught.value, {"bom": ("caliper.json", data)})
    assert problem.upload_field == "bom"
    assert ("unit_value", "-1", True) in problem.line
    assert ("id", "bracket-forged", False) in problem.line


def test_a_line_of_an_unreadable_file_is_not_shown() -> None:
    problem = bom_problem(BomError("bad", path="items[0].id"),
                          {"bom": ("x.json", b"{not json")})
    assert problem.line == ()
    assert problem.location == Location("items", index=0, field="id")


# --------------------------------------------------------------------------- chart


def test_the_chart_escapes_the_documents_text() -> None:
    determination = determine_origin(parse_bom_json(CALIPER.read_bytes()))
    view = determination_view(determination, translator("en"))
    method = view.methods[0]
    hostile = replace(method, contributors=(replace(method.contributors[0],
                                                    item='"><script>x</script>'),))
    svg = str(method_chart(hostile, translator("en"), "MXN", "chart-x"))
    assert "<script>" not in svg
    assert "&#34;&gt;&lt;script&gt;x&lt;/script&gt;" in svg
    assert svg.count("<svg") == 1
    assert svg.endswith("</svg>")


# --------------------------------------------------------------------------- the PDF


def _token() -> dict[str, object]:
    return {"credentialSubject": {
        "shipmentId": "PDF-ŁÓDŹ-1", "certifierRole": "exporter",
        "certifier": {"name": "Zoë Łukasiewicz", "title": "Director", "address": "Calle 1",
                      "country": "MX", "phone": "+52 1 555 0100", "email": "z@example.com"},
        "exporter": {"name": "Exportadora Ñandú", "address": "Calle 1", "country": "MX"},
        "producer": "AVAILABLE UPON REQUEST",
        "good": {"description": "Caliper — front", "hsCode": "870830"},
        "originCriterion": "B",
        "authorizedSignature": {"date": "2026-03-16", "statement": "As signed."}}}


def test_the_pdf_prints_every_character_in_dejavu() -> None:
    url = verification_url("https://ledger.example/", "ab" * 32)
    assert url == f"https://ledger.example/v/{'ab' * 32}"
    pdf = certificate_pdf(_token(), "ab" * 32, url, translator("en"),
                          printed_on=date(2026, 3, 16))
    text = pdf_text(pdf)
    for value in ("PDF-ŁÓDŹ-1", "Zoë Łukasiewicz", "Exportadora Ñandú", "Caliper — front",
                  "As signed.", folded("Printed on March 16, 2026.")):
        assert value in text, value
    assert pdf_qr_codes(pdf) == [url]


def test_without_dejavu_the_pdf_falls_back_to_latin_1(tmp_path: Path) -> None:
    url = verification_url("http://127.0.0.1:8000", "cd" * 32)
    pdf = certificate_pdf(_token(), "cd" * 32, url, translator("es"),
                          printed_on=date(2026, 3, 16), font_directories=(tmp_path,))
    text = pdf_text(pdf)
    assert "Exportadora Ñandú" in text  # Latin-1 prints as written
    assert "PDF-?ÓD?-1" in text
    assert "Zoë ?ukasiewicz" in text
    assert "Caliper ? front" in text
    assert pdf_qr_codes(pdf) == [url]
