"""An SME uploads a BOM in any of its three formats and reads the determination."""

from __future__ import annotations

import json

import pytest

from ledger.api.routes.determinations import XLSX_MEDIA
from origin_rules import determine_origin, parse_bom_json
from tests.api.conftest import World, problem
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
TABLES = EXAMPLES / "tables"
SME = "frenos-bajio.producer"


def _expected() -> dict[str, object]:
    bom = parse_bom_json((EXAMPLES / "brake-caliper-mx.json").read_bytes())
    return determine_origin(bom).to_dict()


def test_a_json_bom_gives_the_engines_determination(world: World) -> None:
    response = world.client.post("/v1/determinations", headers=world.auth(SME),
                                 content=(EXAMPLES / "brake-caliper-mx.json").read_bytes(),
                                 params={}, )
    problem(response, 415, "api.unsupported_media_type")  # no content type given
    response = world.client.post("/v1/determinations", headers={
        **world.auth(SME), "content-type": "application/json"},
        content=(EXAMPLES / "brake-caliper-mx.json").read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == _expected()
    assert body["originating"] is True
    assert {r["method"] for r in body["results"]} == {"net_cost", "transaction_value"}
    assert all("headroom" in r and "reference" in r for r in body["results"])


def test_the_excel_and_csv_forms_give_the_same_answer(sqlite_world: World) -> None:
    world = sqlite_world
    auth = world.auth(SME)
    workbook = (TABLES / "brake-caliper-mx.xlsx").read_bytes()
    raw = world.client.post("/v1/determinations", content=workbook,
                            headers={**auth, "content-type": XLSX_MEDIA})
    form = world.client.post("/v1/determinations", headers=auth,
                             files={"bom": ("caliper.xlsx", workbook, XLSX_MEDIA)})
    csv = world.client.post("/v1/determinations", headers=auth, files={
        name: (f"brake-caliper-mx.{name}.csv", (TABLES / f"brake-caliper-mx.{name}.csv")
               .read_bytes(), "text/csv") for name in ("items", "lines", "document")})
    as_json = world.client.post("/v1/determinations", headers=auth, files={
        "bom": ("b.json", (EXAMPLES / "brake-caliper-mx.json").read_bytes(),
                "application/json")})
    answers = [r.json() for r in (raw, form, csv, as_json)]
    for response in (raw, form, csv, as_json):
        assert response.status_code == 200, response.text
    assert all(a["originating"] is True for a in answers)
    assert len({json.dumps(a["results"], sort_keys=True) for a in answers}) == 1


def test_query_options_override_the_document(sqlite_world: World) -> None:
    response = sqlite_world.client.post(
        "/v1/determinations", params={"method": "net_cost"},
        headers={**sqlite_world.auth(SME), "content-type": "application/json"},
        content=(EXAMPLES / "brake-caliper-mx.json").read_bytes())
    assert [r["method"] for r in response.json()["results"]] == ["net_cost"]
    problem(sqlite_world.client.post(
        "/v1/determinations", params={"as_of": "2026-13-01"},
        headers={**sqlite_world.auth(SME), "content-type": "application/json"},
        content=b"{}"), 422, "api.request_invalid")


@pytest.mark.parametrize(("body", "words"), [
    (b'{"format": "tmec-bom/1"}', "'good' is required"),
    (b"not json", "JSON"),
    (b'{"format": "tmec-bom/2", "items": []}', "format"),
])
def test_a_bad_bom_is_a_problem_naming_what_is_wrong(sqlite_world: World, body: bytes,
                                                     words: str) -> None:
    response = sqlite_world.client.post(
        "/v1/determinations", content=body,
        headers={**sqlite_world.auth(SME), "content-type": "application/json"})
    found = problem(response, 422, "rules.bom_invalid")
    assert words.lower() in found["detail"].lower()


def test_a_multipart_bom_needs_its_parts(sqlite_world: World) -> None:
    auth = sqlite_world.auth(SME)
    found = problem(sqlite_world.client.post("/v1/determinations", headers=auth, files={
        "items": ("x.items.csv", b"id,kind\n", "text/csv")}), 422, "rules.bom_invalid")
    assert "lines" in found["detail"]
    problem(sqlite_world.client.post("/v1/determinations", headers=auth, files={
        "photo": ("x.png", b"\x89PNG", "image/png")}), 422, "api.request_invalid")


def test_an_excel_bomb_is_refused_with_the_limit_named(sqlite_world: World) -> None:
    response = sqlite_world.client.post(
        "/v1/determinations", content=b"PK\x03\x04" + b"\x00" * 1000,
        headers={**sqlite_world.auth(SME), "content-type": XLSX_MEDIA})
    assert response.status_code in (413, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
