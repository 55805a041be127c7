"""Customs verification over HTTP gives exactly what `tmec verify` gives offline.

`POST /v1/verify` and the offline `verify()` are run on the same bytes, under the trust
file `GET /v1/trust` returns, at the same moment: the decision and every check agree, on
every demo bundle and on tampered ones. `GET /v1/verify/{digest}` builds the bundle itself
and shows the nine data elements of the certificate, and nothing else of the token.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from ledger.api.context import CERTIFICATE_ELEMENTS
from ledger.verify import TrustFile, verify
from tests.api.conftest import World, problem

BUNDLES = ("brake-caliper-mx", "steel-wheel-ca", "cylinder-head-us", "lash-adjusters-us",
           "brake-caliper-mx.customs")


def _at(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _tampered(data: bytes, how: str) -> bytes:
    bundle = json.loads(data)
    if how == "origin criterion":
        bundle["token"]["credentialSubject"]["originCriterion"] = "A"
    elif how == "checkpoint":
        lines = bundle["log"]["checkpoint"].split("\n")
        lines[1] = str(int(lines[1]) + 1)
        bundle["log"]["checkpoint"] = "\n".join(lines)
    elif how == "proof":
        proof = bundle["log"]["token"]["proof"]
        proof[0] = proof[0][::-1] if proof else "AAAA"
    elif how == "status":
        bundle["log"]["status"]["statement"]["token"] = "revoked"
    return json.dumps(bundle).encode()


def test_the_endpoint_agrees_with_offline_verify_on_every_demo_bundle(world: World) -> None:
    trust = TrustFile.from_json(world.client.get("/v1/trust").content)
    moment = int(time.time())
    for name in BUNDLES:
        data = world.bundle_bytes(name)
        online = world.client.post(f"/v1/verify?at={_at(moment)}", content=data,
                                   headers={"content-type": "application/json"})
        assert online.status_code == 200, online.text
        offline = verify(data, trust, now=moment).to_dict()
        assert online.json() == offline, name
        assert online.json()["decision"] == "clear", name


@pytest.mark.parametrize("how", ["origin criterion", "checkpoint", "proof", "status"])
def test_a_tampered_bundle_is_rejected_the_same_way(sqlite_world: World, how: str) -> None:
    world = sqlite_world
    trust = TrustFile.from_json(world.client.get("/v1/trust").content)
    moment = int(time.time())
    data = _tampered(world.bundle_bytes("cylinder-head-us"), how)
    online = world.client.post(f"/v1/verify?at={_at(moment)}", content=data,
                               headers={"content-type": "application/json"}).json()
    assert online == verify(data, trust, now=moment).to_dict()
    assert online["decision"] == "reject"
    assert any(c["outcome"] == "fail" for c in online["checks"])


def test_malformed_bundles_are_a_reject_not_an_error(sqlite_world: World) -> None:
    for body in (b"", b"{", b"[]", b'{"format": 1}', b"\xff\xfe", b"[" * 100_000):
        response = sqlite_world.client.post("/v1/verify", content=body,
                                            headers={"content-type": "application/json"})
        assert response.status_code == 200, body[:20]
        assert response.json()["decision"] == "reject"


def test_a_bundle_must_be_sent_as_json(sqlite_world: World) -> None:
    response = sqlite_world.client.post("/v1/verify", content=b"{}",
                                        headers={"content-type": "text/plain"})
    problem(response, 415, "api.unsupported_media_type")


def test_verify_by_digest_builds_the_bundle_and_shows_only_the_certificate(world: World
                                                                            ) -> None:
    for name, digest in world.tokens.items():
        response = world.client.get(f"/v1/verify/{digest[:12]}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["decision"] == "clear", (name, body["checks"])
        assert body["tokenDigest"] == digest
        shown = body["certificate"]
        assert set(shown) <= {*CERTIFICATE_ELEMENTS, "shipmentId"}
        assert {"certifierRole", "certifier", "good", "originCriterion",
                "authorizedSignature"} <= set(shown)
        assert "determination" not in json.dumps(shown)
        assert "partsRoot" not in json.dumps(shown)


def test_verify_by_digest_of_an_unknown_token_is_not_found(sqlite_world: World) -> None:
    problem(sqlite_world.client.get("/v1/verify/" + "ab" * 32), 404, "ledger.not_found")
    problem(sqlite_world.client.get("/v1/verify/zz"), 422, "ledger.input_invalid")


def test_a_revoked_token_verifies_as_reject_from_the_next_request(world: World) -> None:
    digest = world.tokens["brake-caliper-mx"]
    assert world.client.get(f"/v1/verify/{digest}").json()["decision"] == "clear"
    world.service.ledger.revoke_token(digest, signer=None, reason="wrong BOM")
    after = world.client.get(f"/v1/verify/{digest}").json()
    assert after["decision"] == "reject"
    assert any(c["outcome"] == "fail" and "revoked" in c["detail"] for c in after["checks"])


def test_the_trust_file_is_the_workspaces(sqlite_world: World) -> None:
    served = sqlite_world.client.get("/v1/trust").json()
    # The demo's file predates did:web issuers: the service adds its own did:web host
    # (TMEC_PUBLIC_URL), which a did:web token's token.issuer check needs; nothing else.
    assert served.pop("did_web_host") == "127.0.0.1%3A8000"
    assert served == sqlite_world.service.workspace.trust().to_json()
    assert served == json.loads((sqlite_world.out / "trust.json").read_text("utf-8"))


def test_verifications_are_reused_until_some_standing_changes(sqlite_world: World,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    world = sqlite_world
    built: list[str] = []
    original = world.service.bundle

    def counting(digest: str, **options: object) -> dict[str, object]:
        built.append(digest)
        return original(digest, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(world.service, "bundle", counting)
    caliper, wheel = world.tokens["brake-caliper-mx"], world.tokens["steel-wheel-ca"]
    for _ in range(3):
        assert world.client.get(f"/v1/verify/{caliper}").json()["decision"] == "clear"
    assert built == [caliper]
    # A revocation anywhere in the log (here: another token) invalidates every entry.
    world.service.ledger.revoke_token(wheel, signer=None, reason="recalled")
    assert world.client.get(f"/v1/verify/{caliper}").json()["decision"] == "clear"
    assert built == [caliper, caliper]
    assert world.client.get(f"/v1/verify/{wheel}").json()["decision"] == "reject"


def test_the_tokens_context_is_served_at_its_path_and_defines_every_term(sqlite_world: World
                                                                         ) -> None:
    from urllib.parse import urlsplit

    from ledger.token import TOKEN_CONTEXT

    world = sqlite_world
    response = world.client.get(urlsplit(TOKEN_CONTEXT).path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    context = response.json()["@context"]
    assert context["@protected"] is True
    assert "@vocab" not in context
    vc_terms = {"id", "type", "name", "description"}  # defined by the VC 2.0 context

    def terms(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {t for v in value.values() for t in terms(v)}
        if isinstance(value, list):
            return {t for v in value for t in terms(v)}
        return set()

    for digest in world.tokens.values():
        token = world.service.ledger.token(digest)
        used = terms(token["credentialSubject"])
        assert used - vc_terms <= set(context), sorted(used - vc_terms - set(context))
        assert "UsmcaOriginToken" in context


def test_a_cached_qr_answer_skips_the_framework_and_is_the_same_bytes(
        sqlite_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ledger.api.qr_fast_path`: the second GET of a QR digest is answered in front of the
    app, byte for byte as the route answers; ``?at=``, prefixes and a changed standing
    still go to the app."""
    from ledger.api.qr_fast_path import QrFastPath

    world = sqlite_world
    served: list[bool] = []
    original = QrFastPath._cached

    def spying(scope: dict[str, object], digest: str) -> bytes | None:
        answer = original(scope, digest)
        served.append(answer is not None)
        return answer

    monkeypatch.setattr(QrFastPath, "_cached", staticmethod(spying))
    caliper, wheel = world.tokens["brake-caliper-mx"], world.tokens["steel-wheel-ca"]
    first = world.client.get(f"/v1/verify/{caliper}")  # the app builds and caches it
    second = world.client.get(f"/v1/verify/{caliper}")  # the fast path answers
    assert served == [False, True]
    assert second.status_code == 200
    assert second.headers["content-type"] == "application/json"
    assert second.content == first.content
    assert second.json()["certificate"]["originCriterion"]
    world.client.get(f"/v1/verify/{caliper}?at=2026-12-01T12:00:00Z")
    world.client.get(f"/v1/verify/{caliper[:16]}")
    assert served == [False, True]  # neither went through the fast path
    world.service.ledger.revoke_token(caliper, signer=None, reason="wrong BOM")
    after = world.client.get(f"/v1/verify/{caliper}")
    assert served == [False, True, False]  # the watermark moved: the app answers
    assert after.json()["decision"] == "reject"
    assert world.client.get(f"/v1/verify/{wheel}").json()["decision"] == "clear"


def test_a_plain_bundle_is_verified_in_front_of_the_framework_as_the_route_would(
        sqlite_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ledger.api.verify_fast_path`: ``POST /v1/verify`` of a plain bundle without key or
    query is answered before the framework, with the route's answer; a key, ``?at=``, a
    JOSE pair or another media type still go to the route."""
    from ledger.api import verify_fast_path
    from ledger.api.routes.common import FastJSON

    world = sqlite_world
    served: list[int] = []

    class Spy(FastJSON):
        def render(self, content: object) -> bytes:
            served.append(1)
            return super().render(content)

    monkeypatch.setattr(verify_fast_path, "FastJSON", Spy)
    json_type = {"content-type": "application/json; charset=utf-8"}
    data = world.bundle_bytes("cylinder-head-us")
    fast = world.client.post("/v1/verify", content=data, headers=json_type)
    assert served == [1]
    assert fast.status_code == 200
    assert fast.headers["content-type"] == "application/json"
    assert fast.json()["decision"] == "clear"
    keyed = world.client.post("/v1/verify", content=data, headers={
        **json_type, **world.auth("cbp.customs")})
    assert served == [1]  # a key goes to the app, which checks it
    assert keyed.content == fast.content
    problem(world.client.post("/v1/verify", content=data, headers={
        **json_type, "Authorization": "Bearer nope"}), 401, "api.unauthenticated")
    tampered = _tampered(data, "origin criterion")
    rejected = world.client.post("/v1/verify", content=tampered, headers=json_type)
    assert served == [1, 1]
    assert rejected.json()["decision"] == "reject"
    assert rejected.content == world.client.post(
        "/v1/verify", content=tampered,
        headers={**json_type, **world.auth("cbp.customs")}).content
    world.client.post(f"/v1/verify?at={_at(int(time.time()))}", content=data,
                      headers=json_type)
    jose = json.dumps({"bundle": json.loads(data), "jwt": "x.y.z"}).encode()
    assert world.client.post("/v1/verify", content=jose, headers=json_type).json()[
        "decision"] == "reject"
    problem(world.client.post("/v1/verify", content=data,
                              headers={"content-type": "text/plain"}),
            415, "api.unsupported_media_type")
    assert served == [1, 1]  # none of these went through the fast path


def test_requests_for_one_token_at_once_build_its_bundle_once(
        sqlite_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Single flight per token in a worker: a pre-check's threads asking for the same
    token wait for the first build (a fresh status and checkpoint), not one each."""
    import threading
    import time as clock

    world = sqlite_world
    built: list[str] = []
    original = world.service.bundle

    def slow(digest: str, **options: object) -> dict[str, object]:
        built.append(digest)
        clock.sleep(0.2)  # long enough for every thread to arrive meanwhile
        return original(digest, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(world.service, "bundle", slow)
    caliper = world.tokens["brake-caliper-mx"]
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(
        world.service.verify_logged(caliper).verification.decision.value)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["clear"] * 6
    assert built == [caliper]
