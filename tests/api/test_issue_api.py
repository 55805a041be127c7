"""An SME registers shipments over HTTP: token out, corrections, keys held or its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ledger.api import ApiSettings, create_app
from ledger.crypto import seal, unseal
from ledger.errors import EncodingError, SignatureError
from ledger.installation import PartyKey
from ledger.statements import sign_statement
from tests.api.conftest import World, problem
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
SME = "frenos-bajio.producer"


def _caliper(**changes: Any) -> dict[str, Any]:
    document = json.loads((EXAMPLES / "brake-caliper-mx.json").read_text("utf-8"))
    document.update(changes)
    return document


def _issue(world: World, account: str, shipment: str, **extra: Any) -> Any:
    return world.client.post("/v1/tokens", headers=world.auth(account),
                             json={"shipmentId": shipment, "bom": _caliper(), **extra})


def test_an_sme_issues_a_token_that_customs_then_clears(world: World) -> None:
    response = _issue(world, SME, "FBA-PED-26-3807-7000001", invoiceNumber="FBA-7000001")
    assert response.status_code == 201, response.text
    body = response.json()
    digest = body["tokenDigest"]
    assert body["token"]["credentialSubject"]["shipmentId"] == "FBA-PED-26-3807-7000001"
    assert body["token"]["credentialSubject"]["good"]["invoiceNumber"] == "FBA-7000001"
    assert body["links"]["verify"].endswith(f"/v1/verify/{digest}")
    held = world.service.vault.held_kids("frenos-bajio")
    assert body["token"]["proof"]["verificationMethod"] == held[0]
    answer = world.client.get(f"/v1/verify/{digest}")
    verified = answer.json()
    assert verified.get("decision") == "clear", answer.text
    status = world.client.get(f"/v1/tokens/{digest}/status", headers=world.auth(SME)).json()
    assert status["token"] == "active"


def test_an_excel_bom_issues_the_same_way(sqlite_world: World) -> None:
    world = sqlite_world
    workbook = (EXAMPLES / "tables" / "brake-caliper-mx.xlsx").read_bytes()
    response = world.client.post("/v1/tokens", headers=world.auth(SME), files={
        "bom": ("caliper.xlsx", workbook, "application/octet-stream"),
        "issue": (None, json.dumps({"shipmentId": "XLSX-1", "role": "producer"}))})
    assert response.status_code == 201, response.text
    digest = response.json()["tokenDigest"]
    answer = world.client.get(f"/v1/verify/{digest}")
    assert answer.json().get("decision") == "clear", answer.text


def test_one_active_token_per_shipment_and_corrections(world: World) -> None:
    first = _issue(world, SME, "SHP-ONE").json()["tokenDigest"]
    problem(_issue(world, SME, "SHP-ONE"), 409, "ledger.conflict")
    second = _issue(world, SME, "SHP-ONE", supersedes=first[:12])
    assert second.status_code == 201, second.text
    assert second.json()["supersedes"] == first
    status = world.client.get(f"/v1/tokens/{first}/status", headers=world.auth(SME)).json()
    assert status["token"] == "superseded"
    assert status["supersededBy"] == second.json()["tokenDigest"]


def test_revocation_by_the_issuer_or_the_registrar_only(sqlite_world: World) -> None:
    world = sqlite_world
    digest = _issue(world, SME, "SHP-REV").json()["tokenDigest"]
    problem(world.client.post(f"/v1/tokens/{digest}/revoke",
                              headers=world.auth("huron-powertrain.producer"),
                              json={"reason": "mischief"}), 403, "api.forbidden")
    problem(world.client.post(f"/v1/tokens/{digest}/revoke",
                              headers=world.auth("cbp.customs"),
                              json={"reason": "x"}), 403, "api.forbidden.role")
    revoked = world.client.post(f"/v1/tokens/{digest}/revoke", headers=world.auth(SME),
                                json={"reason": "wrong supplier on line 4"})
    assert revoked.status_code == 200, revoked.text
    assert world.client.get(f"/v1/verify/{digest}").json()["decision"] == "reject"
    other = _issue(world, SME, "SHP-REV-2").json()["tokenDigest"]
    by_registrar = world.client.post(f"/v1/tokens/{other}/revoke",
                                     headers=world.auth("registrar.registrar"),
                                     json={"reason": "party asked by phone"})
    assert by_registrar.status_code == 200


def test_supersede_route(sqlite_world: World) -> None:
    world = sqlite_world
    old = _issue(world, SME, "SHP-S1").json()["tokenDigest"]
    new = _issue(world, SME, "SHP-S2").json()["tokenDigest"]
    done = world.client.post(f"/v1/tokens/{old}/supersede", headers=world.auth(SME),
                             json={"newToken": new, "reason": "merged shipments"})
    assert done.status_code == 200, done.text
    backwards = world.client.post(f"/v1/tokens/{new}/supersede", headers=world.auth(SME),
                                  json={"newToken": old, "reason": "undo"})
    assert backwards.status_code == 409


def test_a_good_that_does_not_qualify_gets_no_token(sqlite_world: World) -> None:
    world = sqlite_world
    bom = _caliper()
    for item in bom["items"]:
        if item.get("origin") == "originating":
            item["origin"] = "non_originating"
    response = world.client.post("/v1/tokens", headers=world.auth(SME),
                                 json={"shipmentId": "SHP-NO", "bom": bom})
    found = problem(response, 422, "ledger.token_invalid")
    assert "originating" in found["detail"]


def test_bad_issue_requests(sqlite_world: World) -> None:
    world = sqlite_world
    auth = world.auth(SME)
    problem(world.client.post("/v1/tokens", headers=auth, json={"shipmentId": "X"}), 422,
            "api.request_invalid")
    problem(world.client.post("/v1/tokens", headers=auth,
                              json={"shipmentId": "X", "bom": {}, "colour": "red"}), 422,
            "api.request_invalid")
    problem(world.client.post("/v1/tokens", content=b"{nope",
                              headers={**auth, "content-type": "application/json"}), 422,
            "api.request_invalid")
    problem(world.client.post("/v1/tokens", headers=auth, json={
        "shipmentId": "X", "bom": _caliper(), "blanketPeriod": {
            "start": "2026-01-01", "end": "2027-06-30"}}), 422, "ledger.token_invalid")


def test_the_service_holds_keys_sealed_and_rotates_them(world: World) -> None:
    registrar = world.auth("registrar.registrar")
    made = world.client.post("/v1/accounts", headers=registrar, json={
        "role": "supplier", "party": "bajio-forge", "name": "Forja del Bajío"}).json()
    auth = {"Authorization": f"Bearer {made['apiKey']}"}
    profile = {"name": "Forja del Bajío S.A.", "country": "MX",
               "address": "Calle 5 No. 12, León, Gto., MX", "email": "origen@forja.example",
               "phone": "+52 477 555 0101", "contact": "Luis Pérez", "title": "Director"}
    first = world.client.post("/v1/signing-keys", headers=auth, json=profile)
    assert first.status_code == 201, first.text
    assert first.json()["replaces"] is None
    second = world.client.post("/v1/signing-keys", headers=auth, json=profile).json()
    assert second["replaces"] == first.json()["kid"]
    issued = world.client.post("/v1/tokens", headers=auth, json={
        "shipmentId": "FORJA-1", "bom": _caliper()}).json()
    assert issued["token"]["proof"]["verificationMethod"] == second["kid"]
    engine = world.service.ledger.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sealed, kid FROM api_party_keys")).all()
    assert len(rows) == 6  # four demo parties, and the two keys above
    for party_file in (world.home / "keys").glob("*.json"):
        seed = PartyKey.load(party_file).key.seed
        assert all(seed not in bytes(row.sealed) for row in rows)
    assert "sealed" not in first.text
    assert "secret" not in first.text


def test_a_party_whose_key_the_service_does_not_hold(sqlite_world: World) -> None:
    world = sqlite_world
    registrar = world.auth("registrar.registrar")
    made = world.client.post("/v1/accounts", headers=registrar, json={
        "role": "exporter", "party": "lakeshore-valvetrain", "name": "Lakeshore as exporter"
    }).json()
    # The demo handed Lakeshore's key to the service: it issues as exporter too...
    assert made["account"]["party"] == "lakeshore-valvetrain"
    as_exporter = world.client.post("/v1/tokens", headers={
        "Authorization": f"Bearer {made['apiKey']}"}, json={
        "shipmentId": "LSV-EXP-1", "role": "exporter",
        "bom": json.loads((EXAMPLES / "lash-adjusters-us.json").read_text("utf-8"))})
    assert as_exporter.status_code == 201, as_exporter.text
    # ...but a party that registered through the CLI only cannot get a service key.
    from ledger.crypto import SigningKey
    own = SigningKey.generate()
    world.service.ledger.register_key(own, {"id": "cli-only", "name": "CLI Only",
                                            "country": "US"})
    cli = world.client.post("/v1/accounts", headers=registrar, json={
        "role": "producer", "party": "cli-only", "name": "CLI Only"}).json()
    cli_auth = {"Authorization": f"Bearer {cli['apiKey']}"}
    problem(world.client.post("/v1/tokens", headers=cli_auth, json={
        "shipmentId": "C-1", "bom": _caliper()}), 404, "ledger.not_found")
    problem(world.client.post("/v1/signing-keys", headers=cli_auth, json={
        "name": "CLI Only", "country": "US", "address": "1 Main St, Austin, TX, US",
        "email": "a@b.example", "phone": "+1 512 555 0100"}), 409, "ledger.conflict")


def test_without_a_key_encryption_key_the_service_holds_no_keys(sqlite_world: World,
                                                                tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    settings = ApiSettings(ledger=sqlite_world.service.settings.ledger)
    with TestClient(create_app(settings, checkpointer=False),
                    raise_server_exceptions=False) as client:
        found = problem(client.post("/v1/tokens", headers=sqlite_world.auth(SME), json={
            "shipmentId": "K-1", "bom": _caliper()}), 503, "ledger.not_configured")
        assert "TMEC_KEY_ENCRYPTION_KEY" in found["detail"]
    del tmp_path


def test_a_party_submits_statements_it_signed_itself(sqlite_world: World) -> None:
    world = sqlite_world
    digest = _issue(world, SME, "SHP-OWN").json()["tokenDigest"]
    mine = PartyKey.load(world.home / "keys" / "frenos-bajio.json")
    statement = sign_statement({"v": 1, "type": "revoke", "target": "token",
                                "time": "2026-12-01T15:00:00Z", "tokenDigest": digest,
                                "reason": "signed at the plant"}, mine.key, mine.kid)
    theirs = PartyKey.load(world.home / "keys" / "huron-powertrain.json")
    forged = sign_statement({k: v for k, v in statement.items() if k != "signature"},
                            theirs.key, theirs.kid)
    problem(world.client.post("/v1/statements", headers=world.auth(SME), json=forged), 403,
            "api.forbidden")
    tampered = {**statement, "reason": "changed after signing"}
    problem(world.client.post("/v1/statements", headers=world.auth(SME), json=tampered), 422,
            "ledger.signature_invalid")
    done = world.client.post("/v1/statements", headers=world.auth(SME), json=statement)
    assert done.status_code == 201, done.text
    status = world.client.get(f"/v1/tokens/{digest}/status", headers=world.auth(SME)).json()
    assert status["token"] == "revoked"
    problem(world.client.post("/v1/statements", headers=world.auth(SME),
                              json={"v": 1, "type": "status"}), 422, "ledger.input_invalid")


def test_sealing_is_bound_to_its_key_and_context() -> None:
    key, other = bytes(range(32)), bytes(32)
    sealed = seal(key, b"seed bytes", b"kid-1")
    assert unseal(key, sealed, b"kid-1") == b"seed bytes"
    assert sealed != seal(key, b"seed bytes", b"kid-1")  # a fresh nonce every time
    for wrong_key, context, data in ((other, b"kid-1", sealed), (key, b"kid-2", sealed),
                                     (key, b"kid-1", sealed[:-1] + bytes([sealed[-1] ^ 1]))):
        with pytest.raises(SignatureError):
            unseal(wrong_key, data, context)
    with pytest.raises(EncodingError):
        seal(b"short", b"x", b"")


def test_issued_tokens_carry_a_bitstring_status_list_entry_kept_with_the_log(
        world: World) -> None:
    from ledger.status_list import decode_status_list
    from ledger.token import verify_credential

    body = _issue(world, SME, "SHP-STATUS").json()
    entry = body["token"]["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    index = int(entry["statusListIndex"])
    url = entry["statusListCredential"]
    path = url.removeprefix(world.service.settings.public_url)

    def bit() -> int:
        response = world.client.get(path)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        credential = response.json()
        verify_credential(credential)  # eddsa-jcs-2022, issuer = the log's did:key
        assert "BitstringStatusListCredential" in credential["type"]
        bits = decode_status_list(credential["credentialSubject"]["encodedList"])
        assert len(bits) * 8 >= 131_072
        return (bits[index // 8] >> (7 - index % 8)) & 1

    assert bit() == 0
    other = _issue(world, SME, "SHP-STATUS-2").json()
    assert int(other["token"]["credentialStatus"]["statusListIndex"]) == index + 1
    world.client.post(f"/v1/tokens/{body['tokenDigest']}/revoke", headers=world.auth(SME),
                      json={"reason": "withdrawn"})
    assert bit() == 1
    assert world.client.get(f"/v1/verify/{body['tokenDigest']}").json()["decision"] == "reject"


def test_status_list_encoding_round_trips() -> None:
    from ledger.status_list import decode_status_list, encode_status_list

    encoded = encode_status_list([0, 7, 8, 131_071])
    assert encoded.startswith("u")
    assert "=" not in encoded
    bits = decode_status_list(encoded)
    assert len(bits) == 16_384
    assert bits[0] == 0b1000_0001
    assert bits[1] == 0b1000_0000
    assert bits[-1] == 0b0000_0001
    assert sum(bin(b).count("1") for b in bits) == 4


def test_tokens_name_the_context_the_operator_configured(sqlite_world: World,
                                                         tmp_path: Path) -> None:
    from ledger.token import verify_token

    world = sqlite_world
    world.service.ledger.token_context = "http://127.0.0.1:8000/ns/origin-token/v1"
    issued = _issue(world, SME, "SHP-CONTEXT").json()
    assert issued["token"]["@context"][1] == "http://127.0.0.1:8000/ns/origin-token/v1"
    verify_token(issued["token"])  # an operator's host is as good as the default
    verified = world.client.get(f"/v1/verify/{issued['tokenDigest']}").json()
    assert verified["decision"] == "clear"
    del tmp_path


def test_registrations_in_flight_land_together_and_one_shipment_has_one_token(
        world: World) -> None:
    """Concurrent registrations are appended through the worker's sequencer: every
    distinct shipment gets its own durable index; of three racing for one shipment, the
    log keeps exactly one (Art. 5.2: one certification per shipment, corrections
    supersede) and refuses the others with a problem, their tokens written nowhere."""
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    def tokens_stored() -> int:
        with world.service.ledger.store.engine.connect() as connection:  # type: ignore[attr-defined]
            return int(connection.execute(sa.text("SELECT count(*) FROM log_blobs")).scalar())

    before = tokens_stored()
    shipments = [f"SHP-RACE-{n}" for n in range(6)] + ["SHP-RACE-SAME"] * 3
    with ThreadPoolExecutor(len(shipments)) as pool:
        answers = list(pool.map(lambda s: _issue(world, SME, s), shipments))
    distinct = answers[:6]
    assert all(a.status_code == 201 for a in distinct), [a.text for a in distinct]
    indices = [a.json()["index"] for a in distinct]
    assert len(set(indices)) == 6
    racing = answers[6:]
    assert sorted(a.status_code for a in racing) == [201, 409, 409], [a.text for a in racing]
    for refused in (a for a in racing if a.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
    store = world.service.ledger.store
    for answer in distinct + [a for a in racing if a.status_code == 201]:
        digest = answer.json()["tokenDigest"]
        assert store.get_blob(digest) is not None
        assert store.get_disclosures(digest) is not None
    assert tokens_stored() == before + 7
    assert world.service.sequencer is not None
    assert world.service.sequencer.batches >= 1


def _signed_here(world: World, shipment: str) -> dict[str, Any]:
    """What `tmec remote issue --key` sends: signed with the party's own key file."""
    import base64

    from cli.files import read_bom
    from ledger.installation import PartyKey
    from ledger.service import sign_token, utc_now
    from ledger.token import CertifierRole

    key = PartyKey.load(world.home / "keys" / "frenos-bajio.json")
    bom = read_bom(str(EXAMPLES / "brake-caliper-mx.json"))
    now = utc_now()
    prepared = sign_token(bom, key.certification(CertifierRole.PRODUCER, bom.producer,
                                                 signed_on=now.date()),
                          shipment_id=shipment, key=key.key,
                          created=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    ((_, records),) = prepared.disclosures
    return {"token": prepared.token, "statement": prepared.statement,
            "disclosureRecords": base64.b64encode(records).decode("ascii")}


def test_a_token_signed_by_its_party_is_checked_whole_before_it_is_logged(
        world: World) -> None:
    """POST /v1/tokens/signed: the token, its statement and its disclosure records must
    belong together (a mismatch is refused, nothing written); then customs sees the
    disclosed lines of it as of a token the service signed."""
    import base64

    size = world.service.ledger.store.size()
    good = _signed_here(world, "SIGNED-API-1")
    other = _signed_here(world, "SIGNED-API-2")
    mixed = {**good, "statement": other["statement"]}
    wrong_records = {**good, "disclosureRecords": other["disclosureRecords"]}
    junk_records = {**good, "disclosureRecords": base64.b64encode(b"not records").decode()}
    for body, expected in ((mixed, "does not describe this token"),
                          (wrong_records, "not the ones the token commits to"),
                          (junk_records, "the disclosure records")):
        refused = world.client.post("/v1/tokens/signed", headers=world.auth(SME), json=body)
        assert refused.status_code == 422, refused.text
        assert expected in refused.json()["detail"]
    tampered = json.loads(json.dumps(good))
    tampered["token"]["credentialSubject"]["shipmentId"] = "SIGNED-API-X"
    refused = world.client.post("/v1/tokens/signed", headers=world.auth(SME), json=tampered)
    assert refused.status_code in (403, 409, 422), refused.text
    assert world.service.ledger.store.size() == size  # nothing was logged
    stranger = world.client.post("/v1/tokens/signed", headers=world.auth(
        "huron-powertrain.producer"), json=good)
    assert stranger.status_code == 403, stranger.text

    logged = world.client.post("/v1/tokens/signed", headers=world.auth(SME), json=good)
    assert logged.status_code == 201, logged.text
    digest = logged.json()["tokenDigest"]
    answer = world.client.get(f"/v1/verify/{digest}")
    assert answer.json().get("decision") == "clear", answer.text
    disclosed = world.client.post(f"/v1/tokens/{digest}/disclosures",
                                  headers=world.auth(SME), json={"authority": "cbp",
                                                                 "lines": [0]})
    assert disclosed.status_code in (200, 201), disclosed.text
